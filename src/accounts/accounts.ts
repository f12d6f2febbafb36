// The accounts capability as the runtime wires it: one rate limiter and the three services,
// sharing a clock and settings.
import { RateLimiter } from '../rate-limit/rate-limiter.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import { DEFAULT_ACCOUNT_SETTINGS, type AccountSettings } from './account.settings.ts';
import { ApiTokenService } from './api-token.service.ts';
import { AuthService } from './auth.service.ts';
import { UserService } from './user.service.ts';

/** Sign-in, users and API tokens. */
export interface Accounts {
  auth: AuthService;
  users: UserService;
  tokens: ApiTokenService;
  settings: AccountSettings;
}

/** Builds the accounts services on `db`. `publicUrl` goes into sign-in links. */
export function createAccounts(db: Database, opts: { publicUrl: string; clock?: Clock; settings?: Partial<AccountSettings> }): Accounts {
  const clock = opts.clock ?? systemClock;
  const settings = { ...DEFAULT_ACCOUNT_SETTINGS, ...opts.settings };
  const deps = { db, clock, settings, publicUrl: opts.publicUrl };
  const limiter = new RateLimiter(db, clock);
  return {
    auth: new AuthService({ ...deps, limiter }),
    users: new UserService(deps),
    tokens: new ApiTokenService(deps),
    settings,
  };
}
