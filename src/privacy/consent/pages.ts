// The small public pages of consent: confirm a subscription, one-click unsubscribe, and the
// answer to the subscribe form. GET pages only show a button: mail scanners follow links, so a
// GET must never change anything (RFC 8058 §3.2).
import { maskAddress } from '../../messages/addresses.ts';
import { escapeHtml, page } from '../html.ts';
import type { CommunicationKind } from './consent.model.ts';

/** How each kind is named to people. */
export const KIND_LABELS: Record<CommunicationKind, string> = {
  marketing: 'marketing email',
  product_updates: 'product update email',
  subprocessor_changes: 'alerts about changes to our sub-processors',
};

const form = (action: string, label: string, hidden = '') =>
  `<form method="post" action="${escapeHtml(action)}">${hidden}<button type="submit">${escapeHtml(label)}</button></form>`;

/** GET of an unsubscribe link. */
export function unsubscribePage(action: string, link: { kind: CommunicationKind; email: string; subscribed: boolean } | undefined): string {
  if (!link) return page('Unsubscribe', '<h1>Unsubscribe</h1><p>This unsubscribe link is not valid or has expired. You can change what you receive in your account, or ask the operator of this service.</p>');
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe</h1>
<p>Stop ${escapeHtml(KIND_LABELS[link.kind])} to ${escapeHtml(maskAddress(link.email))}?${link.subscribed ? '' : ' (You are not receiving them now.)'}</p>
${form(action, 'Unsubscribe', '<input type="hidden" name="List-Unsubscribe" value="One-Click">')}`,
  );
}

/** After an unsubscribe. */
export function unsubscribedPage(kind: CommunicationKind): string {
  return page('Unsubscribed', `<h1>Unsubscribed</h1><p>You will receive no more ${escapeHtml(KIND_LABELS[kind])}. This took effect immediately.</p>`);
}

/** GET of a confirmation link. */
export function confirmPage(action: string, c: { kind: CommunicationKind; email: string; confirmed: boolean } | undefined): string {
  if (!c) return page('Confirm', '<h1>Confirm your subscription</h1><p>This confirmation link is not valid or has expired. You can ask again at <a href="/subprocessors">/subprocessors</a>.</p>');
  if (c.confirmed) return confirmedPage(c.kind);
  return page('Confirm', `<h1>Confirm your subscription</h1><p>Send ${escapeHtml(KIND_LABELS[c.kind])} to ${escapeHtml(maskAddress(c.email))}?</p>${form(action, 'Confirm')}`);
}

/** After a confirmation. */
export function confirmedPage(kind: CommunicationKind): string {
  return page('Subscribed', `<h1>Subscribed</h1><p>You will receive ${escapeHtml(KIND_LABELS[kind])}. Every one of them has a link to unsubscribe.</p><p><a href="/subprocessors">Back to the list</a></p>`);
}

/** After the subscribe form: the same words whatever the address. */
export function subscribeRequestedPage(message: string): string {
  return page('Check your inbox', `<h1>Check your inbox</h1><p>${escapeHtml(message)}</p><p><a href="/subprocessors">Back to the list</a></p>`);
}

/** The subscribe form shown on /subprocessors. */
export function subscribeForm(action: string): string {
  return `<section><h2>Get alerts</h2><p>Get an email before a sub-processor is added or removed. We send a link to confirm first; every alert has a one-click unsubscribe.</p>
<form method="post" action="${escapeHtml(action)}"><label>Email address <input type="email" name="email" required maxlength="254" autocomplete="email"></label> <button type="submit">Subscribe</button></form></section>`;
}
