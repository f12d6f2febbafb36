// Inviting users by email: the user and a one-time sign-in link are made by the accounts
// capability; this sends the link to the invitee in the organisation's branding. The link is
// never returned to the administrator and never stored or logged here (only its hash exists).
import type { Role, SignInLink, User } from '../accounts/account.model.ts';
import { auditContext } from '../accounts/credential.issuer.ts';
import type { AccountActor, UserService } from '../accounts/user.service.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { brandedEmail } from '../mail/branded-email.ts';
import type { Mailer } from '../mail/mailer.ts';
import { errors } from '../shared/app-error.ts';
import type { Database } from '../storage/database/database.ts';
import { loadEmailBranding } from '../tenants/email-branding.ts';

/** Who sends the invitation, as the email names them. */
export interface Inviter {
  actor: AccountActor;
  displayName: string;
  email: string;
}

/** What the administrator learns about a sent invitation (never the link itself). */
export interface InvitationSent {
  sentTo: string;
  expiresAt: Date;
  emailed: boolean;
}

type Ctx = { ip?: string; userAgent?: string };

/** Email invitations. */
export class InvitationService {
  constructor(private readonly deps: { db: Database; users: UserService; mailer: Mailer }) {}

  /**
   * Creates the user and emails them their sign-in link. When the mail relay refuses, the user
   * still exists and `emailed` is false: the administrator can resend.
   */
  async invite(inviter: Inviter, tenantId: string, input: { email: string; displayName: string; role: Role | string }, ctx: Ctx = {}): Promise<{ user: User; invitation: InvitationSent }> {
    const invited = await this.deps.users.create(inviter.actor, { ...input, tenantId }, ctx);
    const emailed = await this.send(inviter, invited.user, invited.signInLink, ctx);
    return { user: invited.user, invitation: { sentTo: invited.user.email, expiresAt: invited.signInLink.expiresAt, emailed } };
  }

  /** Emails a new sign-in link to an existing user (earlier unused links stop working); 503 'invitation_email_failed' when the relay refuses. */
  async resend(inviter: Inviter, tenantId: string, userId: string, ctx: Ctx = {}): Promise<Omit<InvitationSent, 'emailed'>> {
    const user = await this.deps.users.get(tenantId, userId);
    const link = await this.deps.users.issueSignInLink(inviter.actor, tenantId, userId, ctx);
    if (!(await this.send(inviter, user, link, ctx))) {
      throw errors.unavailable('invitation_email_failed', 'the mail relay did not accept the invitation email; try again later');
    }
    return { sentTo: user.email, expiresAt: link.expiresAt };
  }

  private async send(inviter: Inviter, user: User, link: SignInLink, ctx: Ctx): Promise<boolean> {
    const branding = await loadEmailBranding(this.deps.db, user.tenantId);
    const firstTime = !user.hasPassword;
    const lines = [
      firstTime
        ? `${inviter.displayName} (${inviter.email}) has invited you to ${branding.displayName} on Sealpost, for sending and receiving secure messages.`
        : `${inviter.displayName} (${inviter.email}) has sent you a new sign-in link for ${branding.displayName} on Sealpost.`,
      '',
      `${firstTime ? 'Sign in and choose your password' : 'Sign in'} here: ${link.url}`,
      '',
      `The link works once, until ${link.expiresAt.toUTCString()}. If you did not expect this email, you can ignore it.`,
    ];
    let error: string | null = null;
    try {
      await this.deps.mailer.send({
        to: user.email,
        subject: firstTime ? `You are invited to ${branding.displayName} on Sealpost` : `Your sign-in link for ${branding.displayName} on Sealpost`,
        ...brandedEmail(branding, { lines, action: { url: link.url, label: firstTime ? 'Accept the invitation' : 'Sign in' } }),
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    } catch (err) {
      error = (err as { code?: string }).code ?? 'send_failed';
    }
    await appendAuditEvent(this.deps.db, {
      tenantId: user.tenantId,
      actor: inviter.actor,
      action: 'user.invitation_emailed',
      target: { type: 'user', id: user.id },
      outcome: error ? 'failure' : 'success',
      ...auditContext(ctx),
      details: error ? { error } : {},
    });
    return error === null;
  }
}
