// Attachment uploads: each file is streamed, sealed and stored on its own request before the
// message is sent, so a failed upload is simply restarted (nothing half-written is kept) and a
// message send never carries file bytes. Uploads are private to their uploader until attached:
// a user, or a verified recipient preparing a secure reply (stored in the original sender's
// tenant, like the reply itself).
import type { Readable } from 'node:stream';
import { appendAuditEvent } from '../audit/audit.service.ts';
import type { ContentStore } from '../content/content.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { errors } from '../shared/app-error.ts';
import type { Region } from '../shared/regions.ts';
import type { Database } from '../storage/database/database.ts';
import type { RequestContext, Sender } from './message.service.ts';

/** Largest attachment accepted (bytes). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 ** 3;

/** Who owns a pending upload: a user, or a recipient (for a reply); always within one tenant. */
export type UploadOwner = Pick<Sender, 'tenantId' | 'userId'> | { tenantId: string; recipientId: string };

function ownerOf(owner: UploadOwner): { column: 'user_id' | 'recipient_id'; id: string; actor: { type: 'user' | 'recipient'; id: string } } {
  return 'userId' in owner ? { column: 'user_id', id: owner.userId, actor: { type: 'user', id: owner.userId } } : { column: 'recipient_id', id: owner.recipientId, actor: { type: 'recipient', id: owner.recipientId } };
}

export class UploadService {
  constructor(
    private readonly db: Database,
    private readonly content: ContentStore,
  ) {}

  /**
   * Seals and stores exactly `length` bytes from `source` as a pending upload of this owner, in
   * `region` (default the tenant's home region; the caller checks the tenant allows it).
   */
  async upload(uploader: UploadOwner, input: { length: number; source: Readable; region?: Region }, ctx: RequestContext = {}): Promise<{ uploadId: string; size: number; region: Region }> {
    if (!Number.isSafeInteger(input.length) || input.length < 0) throw errors.invalid('length_required', 'send the file size as Content-Length');
    if (input.length > MAX_ATTACHMENT_BYTES) throw errors.invalid('attachment_too_large', `attachments may be at most ${MAX_ATTACHMENT_BYTES} bytes`);
    const owner = ownerOf(uploader);
    const object = await this.content.put({ tenantId: uploader.tenantId, plaintextLength: input.length, source: input.source, ...(input.region !== undefined ? { region: input.region } : {}) });
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO pending_uploads (object_id, tenant_id, ${owner.column}) VALUES ($1, $2, $3)`, [object.id, uploader.tenantId, owner.id]);
        await appendAuditEvent(tx, { tenantId: uploader.tenantId, actor: owner.actor, action: 'upload.created', target: { type: 'sealed_object', id: object.id }, outcome: 'success', ...ctx, details: { size: input.length } });
      });
    } catch (err) {
      await this.content.shred(uploader.tenantId, object.id).catch(() => undefined);
      throw err;
    }
    return { uploadId: object.id, size: object.plaintextLength, region: object.region };
  }

  /** Discards a pending upload of this owner (crypto-shredded). */
  async discard(uploader: UploadOwner, uploadId: string): Promise<void> {
    const owner = ownerOf(uploader);
    const { rowCount } = isUuid(uploadId)
      ? await this.db.query(`DELETE FROM pending_uploads WHERE object_id = $1 AND tenant_id = $2 AND ${owner.column} = $3`, [uploadId, uploader.tenantId, owner.id])
      : { rowCount: 0 };
    if (rowCount !== 1) throw errors.notFound('upload_not_found', 'no such pending upload');
    await this.content.shred(uploader.tenantId, uploadId);
  }
}
