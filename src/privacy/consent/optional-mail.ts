// Email that is not strictly necessary (sub-processor alerts, any marketing) goes out through
// here: only to people who opted in and are not restricted, and always with a one-click
// unsubscribe (RFC 8058: List-Unsubscribe with an HTTPS URI that takes a POST, and
// List-Unsubscribe-Post). Strictly necessary email (message notifications, one-time codes,
// sign-in links, double opt-in confirmations) never carries these headers: it cannot be
// unsubscribed from, and pretending otherwise would mislead.
import type { Mailer, OutboundMail } from '../../mail/mailer.ts';
import type { Database } from '../../storage/database/database.ts';
import type { CommunicationKind } from './consent.model.ts';
import type { ConsentService } from './consent.service.ts';

/** Path of the one-click unsubscribe page and endpoint; the token follows. */
export const UNSUBSCRIBE_PATH = '/u/';

/** The unsubscribe URL for `token`. */
export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl}${UNSUBSCRIBE_PATH}${token}`;
}

/** RFC 2369 / RFC 8058 headers: the HTTPS link first, a mailto: when the operator has a mailbox for it. */
export function listUnsubscribeHeaders(publicUrl: string, token: string, mailto?: string): Record<string, string> {
  const targets = [`<${unsubscribeUrl(publicUrl, token)}>`];
  if (mailto) targets.push(`<mailto:${mailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}>`);
  return { 'List-Unsubscribe': targets.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * Sends one optional email of `kind` to `to` if they may receive it; returns false (and sends
 * nothing) when they may not. `build` gets the unsubscribe URL to show in the text.
 */
export async function sendOptionalMail(
  deps: { db: Database; consent: ConsentService; mailer: Mailer; publicUrl: string; unsubscribeMailto?: string },
  to: string,
  kind: CommunicationKind,
  build: (unsubscribe: string) => Omit<OutboundMail, 'to'>,
): Promise<boolean> {
  if (!(await deps.consent.maySend(to, kind))) return false;
  const token = await deps.consent.issueUnsubscribeToken(deps.db, to, kind);
  const mail = build(unsubscribeUrl(deps.publicUrl, token));
  await deps.mailer.send({ ...mail, to, headers: { ...mail.headers, ...listUnsubscribeHeaders(deps.publicUrl, token, deps.unsubscribeMailto) } });
  return true;
}
