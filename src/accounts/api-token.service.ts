// A signed-in user's own personal API tokens: list, create (the secret is shown once), revoke.
import { appendAuditEvent } from '../audit/audit.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { errors } from '../shared/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import type { ApiTokenInfo, CreatedApiToken, Principal, RequestContext } from './account.model.ts';
import type { AccountSettings } from './account.settings.ts';
import { listUserApiTokens, revokeUserApiToken } from './credential.repository.ts';
import { auditContext, issueApiToken } from './credential.issuer.ts';

/** What ApiTokenService needs. */
export interface ApiTokenServiceDeps {
  db: Database;
  clock: Clock;
  settings: AccountSettings;
  publicUrl: string;
}

/** Personal API tokens of the signed-in user; nobody manages another user's tokens here. */
export class ApiTokenService {
  constructor(private readonly deps: ApiTokenServiceDeps) {}

  /** The principal's tokens, newest first, revoked ones included (never the secrets). */
  async list(principal: Principal): Promise<ApiTokenInfo[]> {
    return listUserApiTokens(this.deps.db, principal.user.id);
  }

  /** Creates a token for the principal; the returned `token` is the only copy there will ever be. */
  async create(principal: Principal, input: { name: string; expiresInDays?: number | undefined }, ctx: RequestContext): Promise<CreatedApiToken> {
    const now = this.deps.clock();
    return this.deps.db.transaction((tx) => issueApiToken(tx, this.deps, principal.user, input, now, { type: 'user', id: principal.user.id }, ctx));
  }

  /** Revokes one of the principal's tokens; another user's token is 'api_token_not_found', as if it did not exist. */
  async revoke(principal: Principal, tokenId: string, ctx: RequestContext): Promise<ApiTokenInfo> {
    const { user } = principal;
    if (!isUuid(tokenId)) throw errors.notFound('api_token_not_found', 'you have no API token with this id');
    const now = this.deps.clock();
    return this.deps.db.transaction(async (tx) => {
      const revoked = await revokeUserApiToken(tx, user.id, tokenId, now);
      if (!revoked) throw errors.notFound('api_token_not_found', 'you have no API token with this id');
      await appendAuditEvent(tx, {
        tenantId: user.tenantId,
        actor: { type: 'user', id: user.id },
        action: 'api_token.revoked',
        target: { type: 'api_token', id: tokenId },
        outcome: 'success',
        ...auditContext(ctx),
        details: { reason: 'revoked_by_owner', prefix: revoked.prefix },
      });
      return revoked;
    });
  }
}
