// Lifetimes and limits of sign-in credentials. Documented in docs/api.md ("Accounts and
// sign-in"); change both together. Tests pass their own values through createAccounts().
import type { RateLimitRule } from '../rate-limit/rate-limiter.ts';

/** Every lifetime and limit the accounts services apply. */
export interface AccountSettings {
  /** A session ends after this long without a request. */
  sessionIdleSeconds: number;
  /** A session ends this long after sign-in, however active. */
  sessionAbsoluteSeconds: number;
  /** Lifetime of one-time sign-in links (first start, invitations, recovery). */
  signInLinkSeconds: number;
  /** Default and longest lifetime of personal API tokens. */
  apiTokenDefaultDays: number;
  apiTokenMaxDays: number;
  /** last_seen_at / last_used_at are written at most this often (one write per request would be too many). */
  touchIntervalSeconds: number;
  /** Password attempts per account (by email address, whether or not it exists). */
  signInPerAccount: RateLimitRule;
  /** Password attempts per client IP address; higher, because offices share one address. */
  signInPerIp: RateLimitRule;
  /** Sign-in link redemptions per client IP address. */
  signInLinkPerIp: RateLimitRule;
}

/** What Sealpost runs with. */
export const DEFAULT_ACCOUNT_SETTINGS: AccountSettings = {
  sessionIdleSeconds: 30 * 60,
  sessionAbsoluteSeconds: 12 * 60 * 60,
  signInLinkSeconds: 24 * 60 * 60,
  apiTokenDefaultDays: 90,
  apiTokenMaxDays: 365,
  touchIntervalSeconds: 60,
  signInPerAccount: { scope: 'sign_in_account', limit: 10, windowSeconds: 15 * 60 },
  signInPerIp: { scope: 'sign_in_ip', limit: 50, windowSeconds: 15 * 60 },
  signInLinkPerIp: { scope: 'sign_in_link_ip', limit: 20, windowSeconds: 15 * 60 },
};
