// The version of the privacy notice a person was shown when they changed a preference: the
// first 16 hex digits of the SHA-256 of the notice as published (GET /api/v1/privacy/notice),
// without its "last changed" date. Any change to what the notice says — a purpose, a recipient,
// a retention rule, the controller's details — gives a new version; the register's history
// (GET /api/v1/privacy/history) shows what changed and when.
import { sha256Hex } from '../../crypto/hash.ts';
import type { PrivacyNotice } from '../privacy-notice.ts';

/** The version of `notice`. */
export function noticeVersionOf(notice: PrivacyNotice): string {
  const { updatedAt: _updatedAt, ...content } = notice;
  return sha256Hex(JSON.stringify(content)).slice(0, 16);
}
