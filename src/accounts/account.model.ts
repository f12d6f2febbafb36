// Vocabulary of accounts: roles, users, credentials and the principal a request acts as.

/** What a user may do; `disabled` users cannot sign in and their credentials stop working. */
export const ROLES = ['administrator', 'author', 'auditor', 'read_only', 'disabled'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** Roles that may sign in (every role but `disabled`). */
export const ACTIVE_ROLES = ROLES.filter((r): r is Exclude<Role, 'disabled'> => r !== 'disabled');

/** A person who signs in to a tenant. Never carries the password hash. */
export interface User {
  id: string;
  tenantId: string;
  /** Lower-cased; unique across the installation. */
  email: string;
  displayName: string;
  role: Role;
  /** False until the user has set a password (invited users sign in with a link first). */
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** How a browser session was opened. */
export const SESSION_METHODS = ['password', 'sign_in_link'] as const;

/** One of {@link SESSION_METHODS}. */
export type SessionMethod = (typeof SESSION_METHODS)[number];

/** Why a one-time sign-in link was issued. */
export const SIGN_IN_LINK_PURPOSES = ['first_start', 'invitation', 'recovery'] as const;

/** One of {@link SIGN_IN_LINK_PURPOSES}. */
export type SignInLinkPurpose = (typeof SIGN_IN_LINK_PURPOSES)[number];

/** Who a request acts as, and through which credential. */
export type Principal =
  | {
      via: 'session';
      user: User;
      sessionId: string;
      sessionMethod: SessionMethod;
      /** The synchronizer token unsafe cookie requests must echo in `x-csrf-token`. */
      csrfToken: string;
      expiresAt: Date;
    }
  | { via: 'api_token'; user: User; tokenId: string };

/** Where a request came from, for the audit log and rate limits. */
export interface RequestContext {
  ip?: string;
  userAgent?: string;
}

/** A personal API token as listed to its owner (never the secret). */
export interface ApiTokenInfo {
  id: string;
  name: string;
  /** `sp_` and the next 6 characters of the token, to tell tokens apart. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** A newly created API token: the secret is in `token`, shown this once. */
export interface CreatedApiToken extends ApiTokenInfo {
  token: string;
}

/** A one-time sign-in link as handed to its user (the token is inside `url`). */
export interface SignInLink {
  url: string;
  expiresAt: Date;
}

/** A signed-in browser session, as handed to the HTTP layer to set the cookie. */
export interface OpenedSession {
  user: User;
  /** The cookie value; stored only as its SHA-256. */
  sessionToken: string;
  csrfToken: string;
  expiresAt: Date;
}
