// Managing a tenant's users: list, invite (with a one-time sign-in link), change role or name,
// disable, issue a new sign-in link; and the first start of an embedded installation. Callers
// decide who may do this (administrators over HTTP, operators on the CLI); every method is
// scoped to one tenant, so a user of another tenant is simply not found.
import type { AuditEventInput } from '../audit/audit.model.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { randomId } from '../crypto/keys.ts';
import { errors, isAppError } from '../shared/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import type { Region } from '../shared/regions.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import type { RequestContext, Role, SignInLink, User } from './account.model.ts';
import type { AccountSettings } from './account.settings.ts';
import { deleteUnusedSignInLinks, deleteUserSessions, revokeAllUserApiTokens } from './credential.repository.ts';
import { auditContext, issueSignInLink } from './credential.issuer.ts';
import { createTenant, type Tenant } from './tenant.repository.ts';
import { findUserByEmail, findUserInTenant, insertUser, listUsersOfTenant, lockAdministrators, toUser, updateUserFields } from './user.repository.ts';
import { normaliseDisplayName, normaliseEmail, parseRole } from './user.rules.ts';

/** Who is making a change, for the audit log. */
export type AccountActor = AuditEventInput['actor'];

/** What UserService needs. */
export interface UserServiceDeps {
  db: Database;
  clock: Clock;
  settings: AccountSettings;
  publicUrl: string;
}

/** A new user with the link they sign in with the first time. */
export interface InvitedUser {
  user: User;
  signInLink: SignInLink;
}

/** Users of a tenant. */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  /** The tenant's users, by email. */
  async list(tenantId: string): Promise<User[]> {
    return (await listUsersOfTenant(this.deps.db, tenantId)).map(toUser);
  }

  /** The user with this id in this tenant; 'user_not_found' otherwise (also for other tenants' users). */
  async get(tenantId: string, userId: string): Promise<User> {
    const row = isUuid(userId) ? await findUserInTenant(this.deps.db, tenantId, userId) : null;
    if (!row) throw userNotFound();
    return toUser(row);
  }

  /** The user with this email address, or 'user_not_found'. For operators (CLI), who act across tenants. */
  async getByEmail(email: string): Promise<User> {
    const row = await findUserByEmail(this.deps.db, normaliseEmail(email));
    if (!row) throw userNotFound();
    return toUser(row);
  }

  /** Creates a user in `tenantId` and a one-time sign-in link to hand them; 'email_taken' when the address has an account. */
  async create(actor: AccountActor, input: { tenantId: string; email: string; displayName: string; role: Role | string }, ctx: RequestContext = {}): Promise<InvitedUser> {
    return this.deps.db.transaction((tx) => this.createIn(tx, actor, { ...input, purpose: 'invitation' }, ctx));
  }

  /**
   * Changes a user's role and/or display name. Setting the role to `disabled` ends their
   * sessions, revokes their API tokens and voids unused sign-in links at once. A tenant always
   * keeps at least one administrator ('last_administrator').
   */
  async update(actor: AccountActor, tenantId: string, userId: string, changes: { role?: Role | string | undefined; displayName?: string | undefined }, ctx: RequestContext = {}): Promise<User> {
    if (!isUuid(userId)) throw userNotFound();
    const role = changes.role === undefined ? undefined : parseRole(changes.role);
    const displayName = changes.displayName === undefined ? undefined : normaliseDisplayName(changes.displayName);
    const now = this.deps.clock();
    return this.deps.db.transaction(async (tx) => {
      // Lock the administrators first, then the user: two concurrent demotions of the last two
      // administrators must not both see another administrator left.
      const admins = await lockAdministrators(tx, tenantId);
      const before = await findUserInTenant(tx, tenantId, userId, { forUpdate: true });
      if (!before) throw userNotFound();
      const newRole = role ?? before.role;
      if (before.role === 'administrator' && newRole !== 'administrator' && admins.length <= 1) {
        throw errors.conflict('last_administrator', 'this is the only administrator of the organisation; make someone else an administrator first');
      }
      const after = await updateUserFields(tx, userId, { role: newRole, displayName: displayName ?? before.display_name, now });
      const revoked = { sessions: 0, apiTokens: 0, signInLinks: 0 };
      if (newRole === 'disabled' && before.role !== 'disabled') {
        revoked.sessions = await deleteUserSessions(tx, userId);
        revoked.apiTokens = await revokeAllUserApiTokens(tx, userId, now);
        revoked.signInLinks = await deleteUnusedSignInLinks(tx, userId);
      }
      const changed: Record<string, unknown> = {};
      if (newRole !== before.role) changed.role = { from: before.role, to: newRole };
      if (after.display_name !== before.display_name) changed.displayName = true;
      await appendAuditEvent(tx, {
        tenantId,
        actor,
        action: 'user.updated',
        target: { type: 'user', id: userId },
        outcome: 'success',
        ...auditContext(ctx),
        details: { changed, ...(newRole === 'disabled' && before.role !== 'disabled' ? { ended: revoked } : {}) },
      });
      return toUser(after);
    });
  }

  /** Issues a new one-time sign-in link for a user (lost invitation, forgotten password); earlier unused links stop working. */
  async issueSignInLink(actor: AccountActor, tenantId: string, userId: string, ctx: RequestContext = {}): Promise<SignInLink> {
    if (!isUuid(userId)) throw userNotFound();
    const now = this.deps.clock();
    return this.deps.db.transaction(async (tx) => {
      const row = await findUserInTenant(tx, tenantId, userId);
      if (!row) throw userNotFound();
      if (row.role === 'disabled') throw errors.conflict('account_disabled', 'this account is disabled; give it a role before issuing a sign-in link');
      return issueSignInLink(tx, this.deps, toUser(row), row.password_hash === null ? 'invitation' : 'recovery', now, actor, ctx);
    });
  }

  /**
   * First start of an embedded installation: when there is no tenant at all, creates one and
   * its administrator and returns a one-time sign-in link for them; otherwise returns null. An
   * advisory lock makes two processes starting at once create exactly one.
   */
  async bootstrapFirstStart(input: { tenantName: string; region: Region; adminEmail: string }): Promise<(InvitedUser & { tenant: Tenant }) | null> {
    return this.deps.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sealpost:first_start'))`);
      const { rows } = await tx.query('SELECT 1 FROM tenants LIMIT 1');
      if (rows.length > 0) return null;
      const tenant = await createTenant(tx, { name: input.tenantName, region: input.region });
      const actor: AccountActor = { type: 'system', id: 'first_start' };
      await appendAuditEvent(tx, { tenantId: tenant.id, actor, action: 'tenant.created', target: { type: 'tenant', id: tenant.id }, outcome: 'success', details: { region: tenant.region, reason: 'first_start' } });
      const invited = await this.createIn(tx, actor, { tenantId: tenant.id, email: input.adminEmail, displayName: 'Administrator', role: 'administrator', purpose: 'first_start' }, {});
      return { tenant, ...invited };
    });
  }

  private async createIn(
    tx: Sql,
    actor: AccountActor,
    input: { tenantId: string; email: string; displayName: string; role: Role | string; purpose: 'invitation' | 'first_start' },
    ctx: RequestContext,
  ): Promise<InvitedUser> {
    if (!isUuid(input.tenantId)) throw errors.notFound('tenant_not_found', `no tenant with id ${input.tenantId}`);
    const email = normaliseEmail(input.email);
    const displayName = normaliseDisplayName(input.displayName);
    const role = parseRole(input.role);
    if (role === 'disabled') throw errors.invalid('invalid_role', 'a new user cannot start disabled', { field: 'role' });
    const now = this.deps.clock();
    let row;
    try {
      row = await insertUser(tx, { id: randomId(), tenantId: input.tenantId, email, displayName, role, now });
    } catch (err) {
      if (isAppError(err, 'unique_violation')) throw errors.conflict('email_taken', 'a user with this email address already exists');
      if (isAppError(err, 'foreign_key_violation')) throw errors.notFound('tenant_not_found', `no tenant with id ${input.tenantId}`);
      throw err;
    }
    const user = toUser(row);
    await appendAuditEvent(tx, { tenantId: user.tenantId, actor, action: 'user.created', target: { type: 'user', id: user.id }, outcome: 'success', ...auditContext(ctx), details: { role } });
    const signInLink = await issueSignInLink(tx, this.deps, user, input.purpose, now, actor, ctx);
    return { user, signInLink };
  }
}

function userNotFound() {
  return errors.notFound('user_not_found', 'no such user in your organisation');
}
