// Subject handling for the model: topic tokens and a conversation key. Subjects are metadata the
// model learns from; bodies are never learned from (they may be read at check time only).

// Words that say nothing about a topic: reply/forward markers and the commonest function words.
const STOP_WORDS = new Set(
  're fw fwd aw wg tr sv the and of to for in on at by with is from a an it this that be are was you your we our me my please fyi'.split(' '),
);

/** Lower-case letter/digit runs of two or more characters, minus stop words, each once. */
export function topicTokens(text: string, limit = 24): string[] {
  const out = new Set<string>();
  for (const t of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (t.length < 2 || t.length > 40 || STOP_WORDS.has(t)) continue;
    out.add(t);
    if (out.size >= limit) break;
  }
  return [...out];
}

/**
 * The conversation a message belongs to: its thread id when the mail system gave one, otherwise
 * its subject without reply/forward prefixes (how people recognise a conversation in an inbox).
 * Empty subjects have no conversation.
 */
export function conversationKey(subject: string, threadId?: string | null): string | null {
  if (threadId) return `t:${threadId}`;
  let s = subject.toLowerCase().trim();
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/^\s*(re|fw|fwd|aw|wg|tr|sv)\s*(\[\d+\])?\s*:\s*/u, '');
  }
  s = s.replace(/\s+/gu, ' ').trim();
  return s ? `s:${s}` : null;
}

/** The domain part of an address ('' when there is none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1);
}
