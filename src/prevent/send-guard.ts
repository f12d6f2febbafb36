// Plugs Prevent into sending (messages' SendGuard): every send by a user is checked against the
// tenant's policy, and every message written — by a user or a replying recipient — is learned.
import { z } from 'zod';
import type { Author, GuardedMessage, SendGuard, Sender } from '../messages/message.service.ts';
import { errors } from '../shared/app-error.ts';
import { bodyText } from './draft-input.ts';
import { CHECK_KINDS, type Draft } from './prevent.model.ts';
import type { PreventService, SendDecision } from './prevent.service.ts';

const decisionSchema = z
  .object({
    acknowledged: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'a warning id (64 hex characters)')).max(200).optional(),
    justification: z.string().max(1000).optional(),
    resolved: z
      .array(z.object({ check: z.enum(CHECK_KINDS), recipients: z.array(z.string().max(254)).min(1).max(50) }).strict())
      .max(100)
      .optional(),
  })
  .strict();

/** Validates the `prevent` field of a send request. */
export function parseSendDecision(input: unknown): SendDecision {
  if (input === undefined || input === null) return {};
  const parsed = decisionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['prevent', ...issue.path.map(String)].join('.');
    throw errors.invalid('invalid_prevent_decision', `${field}: ${issue.message}`, { field });
  }
  return parsed.data as SendDecision;
}

/** A check draft from a message about to be sent. */
export function draftOf(from: string, m: GuardedMessage): Draft {
  return {
    from: from.toLowerCase(),
    recipients: m.recipients.map((r) => ({ address: r.email, role: r.kind })),
    subject: m.subject,
    body: bodyText(m.text, m.html),
    labelRank: m.labelRank,
    threadId: m.threadId,
    at: m.at,
  };
}

/** Prevent as the messages capability's SendGuard. */
export function preventSendGuard(prevent: PreventService): SendGuard {
  return {
    async review(sender: Sender, m: GuardedMessage, decision: unknown) {
      return prevent.reviewSend(sender.tenantId, sender.userId, draftOf(sender.email, m), parseSendDecision(decision));
    },
    async learn(author: Author, m: GuardedMessage) {
      const byRole = (kind: string) => m.recipients.filter((r) => r.kind === kind).map((r) => r.email);
      return prevent.prepareObservation(author.tenantId, {
        source: author.kind === 'user' ? 'sent' : 'received',
        at: m.at,
        from: author.email,
        to: byRole('to'),
        cc: byRole('cc'),
        bcc: byRole('bcc'),
        subject: m.subject,
        threadId: m.threadId,
        labelRank: m.labelRank,
      });
    },
  };
}
