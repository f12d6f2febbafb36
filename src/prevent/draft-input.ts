// Turns a draft as the API or CLI gives it (address strings, label name, message replied to)
// into the Draft the checks read. Looser than sending on purpose: an address the send path
// would refuse (e.g. one with a Cyrillic letter) is still checked, so the sender learns why.
import { getLabel, findLabelByName, DEFAULT_LABEL_NAME } from '../messages/labels.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { errors } from '../shared/app-error.ts';
import type { Sql } from '../storage/database/database.ts';
import type { Draft, DraftRecipient, RecipientRole } from './prevent.model.ts';

/** A draft as clients send it for checking. */
export interface DraftInput {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  html?: string | null;
  label?: string;
  inReplyTo?: string;
}

// "Name <local@domain>" or a bare address; the display name may be quoted.
const NAMED = /^\s*(?:"([^"]*)"|([^<>"]*?))\s*<([^<>\s]+)>\s*$/u;
const LOOSE_ADDRESS = /^[^\s@<>()",;:\\[\]\u0000-\u001f]{1,64}@[^\s@<>()",;:\\[\]\u0000-\u001f]{1,253}$/u;

/** Parses "Name <address>" or "address"; throws invalid naming the field when neither. */
export function parseRecipient(input: string, role: RecipientRole, field: string): DraftRecipient {
  const m = NAMED.exec(input);
  const raw = (m ? m[3]! : input).trim().normalize('NFC').toLowerCase();
  const name = m ? (m[1] ?? m[2] ?? '').trim() : '';
  if (raw.length > 254 || !LOOSE_ADDRESS.test(raw)) throw errors.invalid('invalid_address', `${field}: "${input.slice(0, 100)}" is not an email address`, { field });
  return name ? { address: raw, name, role } : { address: raw, role };
}

/** Builds the check draft: recipients parsed (To wins over Cc over Bcc), label and thread resolved in the sender's tenant. */
export async function resolveDraft(sql: Sql, sender: { tenantId: string; userId: string; email: string }, input: DraftInput, at: Date): Promise<Draft> {
  const seen = new Set<string>();
  const recipients: DraftRecipient[] = [];
  for (const role of ['to', 'cc', 'bcc'] as const) {
    for (const [i, raw] of (input[role] ?? []).entries()) {
      const r = parseRecipient(raw, role, `${role}[${i}]`);
      if (seen.has(r.address)) continue;
      seen.add(r.address);
      recipients.push(r);
    }
  }
  if (recipients.length === 0) throw errors.invalid('no_recipients', 'to: at least one recipient is needed', { field: 'to' });

  let threadId: string | null = null;
  let labelName = input.label;
  if (input.inReplyTo !== undefined) {
    // Only a message the sender sent or received in their tenant; anything else is the same error.
    const { rows } = isUuid(input.inReplyTo)
      ? await sql.query<{ thread_id: string; label_id: string }>(
          `SELECT m.thread_id, m.label_id FROM messages m
            WHERE m.id = $1 AND m.tenant_id = $2
              AND (m.sender_user_id = $3 OR EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.email = $4 AND r.removed_at IS NULL))`,
          [input.inReplyTo, sender.tenantId, sender.userId, sender.email],
        )
      : { rows: [] };
    if (!rows[0]) throw errors.invalid('in_reply_to_not_found', 'inReplyTo: no message with this id that you sent or received', { field: 'inReplyTo' });
    threadId = rows[0].thread_id;
    if (labelName === undefined) labelName = (await getLabel(sql, sender.tenantId, rows[0].label_id)).name;
  }
  const label = await findLabelByName(sql, sender.tenantId, labelName ?? DEFAULT_LABEL_NAME);
  return {
    from: sender.email.toLowerCase(),
    recipients,
    subject: input.subject,
    body: bodyText(input.text, input.html ?? null),
    labelRank: label.rank,
    threadId,
    at,
  };
}

/** The plain text a check reads: the text body, or the HTML body's text when there is none. */
export function bodyText(text: string, html: string | null): string {
  if (text.trim() || !html) return text;
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
