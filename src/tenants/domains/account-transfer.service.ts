// Free accounts into business accounts (issue #6 §8). The seed policy (002, "Free user account
// information") says: when the organisation that owns the domain of a free account's address
// wants the account in its business account, "we'll transfer your account into its business
// account and certain information concerning your free user account and your past use of it
// may become accessible to that organisation and its administrator". So:
//
// - verifying a domain makes an offer for each free account on it, and the person is emailed a
//   notice saying what will change (the organisation becomes controller of the account and its
//   Content; their past messages, files, recipients and replies move with it and its
//   administrators can see them; they are signed out and become an author);
// - the move happens when the person accepts, or at the end of the notice period
//   (TRANSFER_NOTICE_DAYS) — the seed does not let the person refuse, but the notice period lets
//   them take a copy or have the account erased first (a subject request), which cancels the move;
// - the move re-wraps every data key of the account's Content under the business tenant's KEK
//   (payloads are not touched; Content stored in another region is first copied, unchanged,
//   into the organisation's region store), moves the rows, and is audited in both tenants' chains.
import { getTenant } from '../../accounts/tenant.repository.ts';
import type { ContentStore } from '../../content/content.service.ts';
import type { Region } from '../../shared/regions.ts';
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { randomId, unwrapKey, wrapContext, wrapKey } from '../../crypto/keys.ts';
import { enqueueJob, type Job } from '../../jobs/job.queue.ts';
import type { JobHandler } from '../../jobs/job.runner.ts';
import { dataKeyContext, type KeyService, type UnwrappedKek } from '../../keys/key.service.ts';
import { brandedEmail } from '../../mail/branded-email.ts';
import type { Mailer } from '../../mail/mailer.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { REGISTRY } from '../../storage/database/registry.ts';
import { loadEmailBranding } from '../email-branding.ts';
import * as repo from './domain.repository.ts';
import type { AccountTransfer, TenantDomain } from './domain.repository.ts';

/** Days between the notice and the move when the person does not accept earlier. */
export const TRANSFER_NOTICE_DAYS = 30;

/** Job kinds. */
export const TRANSFER_NOTICE_JOB = 'account_transfer_notice';
export const TRANSFER_DUE_JOB = 'account_transfer_due';

/** Who acts. */
export type TransferActor = AuditEventInput['actor'];

/**
 * What happens to each tenant-scoped table's rows of the free tenant when its account moves.
 * Fail closed: a table with a tenant_id column that is not listed here makes the move refuse
 * (when it holds rows of the free tenant), and account-transfer.test.ts fails for any such
 * table, so whoever adds one decides.
 */
export const TRANSFER_PLAN: Record<string, 'move' | 'stay' | 'delete' | 'block_if_active'> = {
  // Moved to the business tenant (Content re-wrapped under its KEK).
  users: 'move',
  sealed_objects: 'move',
  messages: 'move',
  message_recipients: 'move',
  pending_uploads: 'move',
  access_requests: 'move',
  api_tokens: 'move', // and revoked: tokens were issued by the free account's own authority
  // Ended: the person signs in again under the business tenant.
  sessions: 'delete',
  sign_in_links: 'delete',
  // Smart Data learned for the free account: it does not move (its term hashes are keyed per
  // tenant); the business tenant's model learns from the moved messages' future use only.
  prevent_observations: 'delete',
  prevent_decisions: 'delete',
  prevent_exclusions: 'delete',
  prevent_keys: 'delete',
  prevent_settings: 'delete',
  // Kept with the (now empty) free tenant as its history or configuration.
  tenants: 'stay',
  audit_events: 'stay', // hash-chained: never moved; the move is recorded in both chains
  key_encryption_keys: 'stay', // destroyed after the move: they protect nothing any more
  labels: 'stay', // copied into the business tenant where its messages need them
  tenant_settings: 'stay',
  subject_requests: 'stay',
  subject_request_routings: 'stay',
  retention_policies: 'stay',
  retention_runs: 'stay',
  retention_run_tenants: 'stay',
  tenant_domains: 'stay',
  privacy_disclosures: 'stay',
  // A legal hold on the free tenant must follow its data: refuse until the operator moves or releases it.
  legal_holds: 'block_if_active',
};

/** Tables of the registry that are scoped by tenant_id. */
export function tenantScopedTables(): string[] {
  return Object.entries(REGISTRY)
    .filter(([, t]) => Object.hasOwn(t.columns, 'tenant_id'))
    .map(([name]) => name);
}

// Must stay equal to message.service.ts's link-token wrapping context.
const linkContext = (tenantId: string, recipientId: string) => wrapContext('sealpost/link/v1', tenantId, recipientId);

/** Offers, notices, acceptance and the move itself. */
export class AccountTransferService {
  private readonly now: Clock;

  constructor(
    private readonly db: Database,
    private readonly deps: { keys: KeyService; content: ContentStore; mailer: Mailer; publicUrl: string; onEnqueued?: () => void },
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** The job handlers the server's runner needs. */
  get jobs(): Record<string, JobHandler> {
    return {
      [TRANSFER_NOTICE_JOB]: { run: (job: Job) => this.sendNotice(String(job.payload.transferId)) },
      [TRANSFER_DUE_JOB]: { run: (job: Job) => this.completeIfDue(String(job.payload.transferId)) },
    };
  }

  /** Offers every free account on a just-verified domain; in the verification's transaction. */
  async offerAll(tx: Sql, domain: TenantDomain, actor: TransferActor): Promise<number> {
    const now = this.now();
    const dueAt = new Date(now.getTime() + TRANSFER_NOTICE_DAYS * 86_400_000);
    const accounts = await repo.freeAccountsOn(tx, domain.domain);
    for (const a of accounts) {
      const id = randomId();
      await repo.insertTransfer(tx, { id, userId: a.userId, fromTenantId: a.tenantId, toTenantId: domain.tenantId, domainId: domain.id, offeredAt: now, dueAt });
      await enqueueJob(tx, { kind: TRANSFER_NOTICE_JOB, payload: { transferId: id } });
      await enqueueJob(tx, { kind: TRANSFER_DUE_JOB, payload: { transferId: id }, runAt: dueAt, maxAttempts: 20 });
      for (const tenantId of [domain.tenantId, a.tenantId]) {
        await appendAuditEvent(tx, { tenantId, actor, action: 'account_transfer.offered', target: { type: 'user', id: a.userId }, outcome: 'success', details: { transferId: id, domain: domain.domain, dueAt: dueAt.toISOString() } });
      }
    }
    if (accounts.length > 0) this.deps.onEnqueued?.();
    return accounts.length;
  }

  /** Cancels open offers made because of a domain (released, or its verification withdrawn). */
  async cancelForDomain(tx: Sql, domainId: string, reason: string, actor: TransferActor): Promise<void> {
    const { rows } = await tx.query<{ id: string; user_id: string; from_tenant_id: string; to_tenant_id: string }>(
      `UPDATE account_transfers SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3 WHERE domain_id = $1 AND status = 'offered' RETURNING id, user_id, from_tenant_id, to_tenant_id`,
      [domainId, this.now(), reason],
    );
    for (const r of rows) {
      for (const tenantId of [r.to_tenant_id, r.from_tenant_id]) {
        await appendAuditEvent(tx, { tenantId, actor, action: 'account_transfer.cancelled', target: { type: 'user', id: r.user_id }, outcome: 'success', details: { transferId: r.id, reason } });
      }
    }
  }

  /** Emails the notice (a job: retried until the relay accepts it). */
  async sendNotice(transferId: string): Promise<void> {
    const t = await repo.findTransfer(this.db, transferId);
    if (!t || t.status !== 'offered' || t.noticeSentAt) return;
    const business = await getTenant(this.db, t.toTenantId);
    const branding = await loadEmailBranding(this.db, t.fromTenantId);
    const due = t.dueAt.toISOString().slice(0, 10);
    const body = brandedEmail(branding, {
      lines: [
        `${business.name} has verified that it owns the domain of your address (${t.email}) and is taking your free Sealpost account into its business account.`,
        '',
        'What will change:',
        `- ${business.name} becomes responsible (the controller) for your account and for the messages and files in it; Sealpost will process them on its behalf.`,
        `- Your past messages, files, their recipients, replies and access history move with your account, and ${business.name}'s administrators will be able to see them.`,
        `- You will be signed out and can sign in again with the same address as a member of ${business.name}; personal API tokens stop working.`,
        '',
        `The move happens when you accept it, or on ${due} if you do nothing.`,
        `To accept now, sign in at ${this.deps.publicUrl} and accept the transfer (API: POST /api/v1/account/transfer/accept).`,
        '',
        `Before ${due} you can ask for a copy of your data, or for your account to be erased, which stops the move: see ${this.deps.publicUrl}/privacy.`,
      ],
    });
    await this.deps.mailer.send({ to: t.email, subject: `Your Sealpost account is moving to ${business.name}`, ...body });
    await this.db.transaction(async (tx) => {
      await repo.updateTransfer(tx, t.id, { noticeSentAt: this.now() });
      await appendAuditEvent(tx, { tenantId: t.fromTenantId, actor: { type: 'system' }, action: 'account_transfer.notice_sent', target: { type: 'user', id: t.userId }, outcome: 'success', details: { transferId: t.id, dueAt: t.dueAt.toISOString() } });
    });
  }

  /** The open offer for a signed-in user, or null. */
  async openOffer(userId: string): Promise<AccountTransfer | null> {
    return repo.openTransferOf(this.db, userId);
  }

  /** Transfers into a tenant, for its administrators. */
  async listInto(tenantId: string): Promise<AccountTransfer[]> {
    return repo.transfersInto(this.db, tenantId);
  }

  /** The person accepts: the move happens now. */
  async accept(userId: string): Promise<AccountTransfer> {
    const t = await repo.openTransferOf(this.db, userId);
    if (!t) throw errors.notFound('transfer_not_found', 'there is no transfer offer for your account');
    return this.complete(t.id, { type: 'user', id: userId }, { accepted: true });
  }

  /** Runs a due transfer (the job at the end of the notice period). */
  async completeIfDue(transferId: string): Promise<void> {
    const t = await repo.findTransfer(this.db, transferId);
    if (!t || t.status !== 'offered') return;
    // Not yet due (the clock moved, or the job ran early): leave it for completeDue().
    if (t.dueAt > this.now()) return;
    await this.complete(transferId, { type: 'system' }, { accepted: false });
  }

  /** Completes every open transfer whose notice period has ended (operator command, tests). */
  async completeDue(limit = 100): Promise<AccountTransfer[]> {
    const done: AccountTransfer[] = [];
    for (const id of await repo.dueTransfers(this.db, this.now(), limit)) done.push(await this.complete(id, { type: 'system' }, { accepted: false }));
    return done;
  }

  /** Cancels an open offer (the business's administrator, or the operator). */
  async cancel(actor: TransferActor, tenantId: string, transferId: string, reason = 'withdrawn'): Promise<void> {
    await this.db.transaction(async (tx) => {
      const t = await repo.findTransfer(tx, transferId, true);
      if (!t || t.toTenantId !== tenantId) throw errors.notFound('transfer_not_found', `no transfer ${transferId} into this organisation`);
      if (t.status !== 'offered') throw errors.conflict('transfer_not_open', `the transfer is already ${t.status}`);
      await repo.updateTransfer(tx, t.id, { status: 'cancelled', cancelledAt: this.now(), cancelReason: reason });
      for (const tid of [t.toTenantId, t.fromTenantId]) {
        await appendAuditEvent(tx, { tenantId: tid, actor, action: 'account_transfer.cancelled', target: { type: 'user', id: t.userId }, outcome: 'success', details: { transferId: t.id, reason } });
      }
    });
  }

  /**
   * Moves the account. All or nothing, in one transaction: the free tenant's rows are moved,
   * ended or left as TRANSFER_PLAN says, every data key and link token is re-wrapped under the
   * business tenant's active KEK, and the free tenant's KEKs are destroyed afterwards.
   */
  private async complete(transferId: string, actor: TransferActor, opts: { accepted: boolean }): Promise<AccountTransfer> {
    const t = await repo.findTransfer(this.db, transferId);
    if (!t) throw errors.notFound('transfer_not_found', `no transfer ${transferId}`);
    if (t.status !== 'offered') throw errors.conflict('transfer_not_open', `the transfer is already ${t.status}`);
    const [from, to] = [await getTenant(this.db, t.fromTenantId), await getTenant(this.db, t.toTenantId)];
    // Residency: the account's Content moves into the organisation's region. Each object kept
    // elsewhere is copied (ciphertext as it is, streamed) into that region's store first, outside
    // the transaction; the transaction records the copy with the data key re-wrapped under the
    // organisation's KEK of that region; the old blobs are deleted once it has committed, the
    // copies if it fails. Either way each object is in one region's store at the end.
    const { rows: away } = await this.db.query<{ id: string; region: Region; blob_key: string }>(
      `SELECT id, region, blob_key FROM sealed_objects WHERE tenant_id = $1 AND region <> $2 AND wrapped_key IS NOT NULL`,
      [from.id, to.region],
    );
    const copies = new Map<string, { region: Region; oldKey: string; newKey: string }>();
    const dropCopies = async () => {
      for (const c of copies.values()) await this.deps.content.deleteBlob(to.region, c.newKey).catch(() => undefined);
    };
    try {
      for (const o of away) copies.set(o.id, { region: o.region, oldKey: o.blob_key, newKey: await this.deps.content.copyToRegion({ region: o.region, blobKey: o.blob_key }, to.region) });
    } catch (err) {
      await dropCopies();
      throw err;
    }
    // Unwrapped outside the transaction (KeyService reads through the database handle).
    const target = await this.deps.keys.activeKek(to.id, to.region);
    const { rows: kekIds } = await this.db.query<{ kek_id: string }>(
      `SELECT DISTINCT kek_id FROM sealed_objects WHERE tenant_id = $1 AND wrapped_key IS NOT NULL
       UNION SELECT DISTINCT link_kek_id FROM message_recipients WHERE tenant_id = $1 AND link_kek_id IS NOT NULL`,
      [from.id],
    );
    const sourceKeks = new Map<string, UnwrappedKek>();
    for (const { kek_id } of kekIds) sourceKeks.set(kek_id, await this.deps.keys.kekById(kek_id));

    let moved: Record<string, number>;
    try {
      moved = await this.db.transaction(async (tx) => {
        const current = await repo.findTransfer(tx, transferId, true);
        if (!current || current.status !== 'offered') throw errors.conflict('transfer_not_open', 'the transfer is no longer open');
        const { rows: users } = await tx.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 FOR UPDATE`, [from.id]);
        if (users.length !== 1 || users[0]!.id !== t.userId) {
          throw errors.conflict('free_tenant_shared', 'the free account is not the only user of its tenant; move it by hand');
        }
        await this.checkPlan(tx, from.id);
        const now = this.now();
        const counts: Record<string, number> = {};
        const count = (k: string, n: number) => (counts[k] = (counts[k] ?? 0) + n);

        // Labels: the messages keep their policy. Same name and policy in the business: use it;
        // otherwise an archived copy (it applies to the moved messages, nobody can pick it).
        const labelMap = await this.mapLabels(tx, from.id, to.id, now);
        count('labels_copied', labelMap.copied);

        // Content: re-wrap each data key under the business KEK, bound to the business tenant.
        const { rows: objects } = await tx.query<{ id: string; key_id: string; kek_id: string | null; wrapped_key: Uint8Array | null; region: Region; blob_key: string }>(
          `SELECT id, key_id, kek_id, wrapped_key, region, blob_key FROM sealed_objects WHERE tenant_id = $1 FOR UPDATE`,
          [from.id],
        );
        for (const o of objects) {
          if (o.kek_id && o.wrapped_key) {
            const source = sourceKeks.get(o.kek_id);
            if (!source) throw errors.conflict('transfer_conflict', 'the account changed while it was being moved; try again');
            const dataKey = unwrapKey(source.key, o.wrapped_key, dataKeyContext(from.id, o.id, o.key_id));
            const copy = copies.get(o.id);
            // An object stored elsewhere since the copies were made: the account changed meanwhile.
            if (o.region !== to.region && !copy) throw errors.conflict('transfer_conflict', 'the account changed while it was being moved; try again');
            try {
              await tx.query(`UPDATE sealed_objects SET tenant_id = $2, kek_id = $3, wrapped_key = $4, region = $5, blob_key = $6 WHERE id = $1`, [
                o.id,
                to.id,
                target.id,
                wrapKey(target.key, dataKey, dataKeyContext(to.id, o.id, o.key_id)),
                to.region,
                copy?.newKey ?? o.blob_key,
              ]);
            } finally {
              dataKey.fill(0);
            }
            count('objects_rewrapped', 1);
            if (copy) count('objects_moved_region', 1);
          } else {
            await tx.query(`UPDATE sealed_objects SET tenant_id = $2 WHERE id = $1`, [o.id, to.id]);
            count('objects_shredded_moved', 1);
          }
        }
        // Recipients' link tokens, so links already sent keep working and can be resent.
        const { rows: recipients } = await tx.query<{ id: string; link_kek_id: string | null; link_token_wrapped: Uint8Array | null }>(
          `SELECT id, link_kek_id, link_token_wrapped FROM message_recipients WHERE tenant_id = $1 FOR UPDATE`,
          [from.id],
        );
        for (const r of recipients) {
          if (r.link_kek_id && r.link_token_wrapped) {
            const source = sourceKeks.get(r.link_kek_id);
            if (!source) throw errors.conflict('transfer_conflict', 'the account changed while it was being moved; try again');
            const token = unwrapKey(source.key, r.link_token_wrapped, linkContext(from.id, r.id));
            await tx.query(`UPDATE message_recipients SET tenant_id = $2, link_kek_id = $3, link_token_wrapped = $4 WHERE id = $1`, [r.id, to.id, target.id, wrapKey(target.key, token, linkContext(to.id, r.id))]);
            token.fill(0);
          } else {
            await tx.query(`UPDATE message_recipients SET tenant_id = $2 WHERE id = $1`, [r.id, to.id]);
          }
        }
        count('recipients', recipients.length);
        for (const [oldId, newId] of labelMap.map) await tx.query(`UPDATE messages SET label_id = $3 WHERE tenant_id = $1 AND label_id = $2`, [from.id, oldId, newId]);
        count('messages', (await tx.query(`UPDATE messages SET tenant_id = $2 WHERE tenant_id = $1`, [from.id, to.id])).rowCount);
        count('pending_uploads', (await tx.query(`UPDATE pending_uploads SET tenant_id = $2 WHERE tenant_id = $1`, [from.id, to.id])).rowCount);
        count('access_requests', (await tx.query(`UPDATE access_requests SET tenant_id = $2 WHERE tenant_id = $1`, [from.id, to.id])).rowCount);
        count('api_tokens_revoked', (await tx.query(`UPDATE api_tokens SET tenant_id = $2, revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1`, [from.id, to.id, now])).rowCount);
        count('sessions_ended', (await tx.query(`DELETE FROM sessions WHERE tenant_id = $1`, [from.id])).rowCount);
        await tx.query(`DELETE FROM sign_in_links WHERE tenant_id = $1`, [from.id]);
        for (const table of ['prevent_observations', 'prevent_decisions', 'prevent_exclusions', 'prevent_settings', 'prevent_keys']) {
          count('smart_rows_deleted', (await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [from.id])).rowCount);
        }
        // An administrator of their own free account becomes an author of the business.
        await tx.query(`UPDATE users SET tenant_id = $2, role = CASE WHEN role = 'disabled' THEN role ELSE 'author' END, updated_at = $3 WHERE id = $1`, [t.userId, to.id, now]);

        await repo.updateTransfer(tx, t.id, { status: 'completed', completedAt: now, moved: counts, ...(opts.accepted ? { acceptedAt: now } : {}) });
        for (const tenantId of [to.id, from.id]) {
          await appendAuditEvent(tx, {
            tenantId,
            actor,
            action: 'account_transfer.completed',
            target: { type: 'user', id: t.userId },
            outcome: 'success',
            details: { transferId: t.id, fromTenantId: from.id, toTenantId: to.id, accepted: opts.accepted, moved: counts },
          });
        }
        return counts;
      });
    } catch (err) {
      await dropCopies();
      throw err;
    }
    // The moved objects' old blobs (their keys now exist only under the organisation's KEK).
    for (const c of copies.values()) await this.deps.content.deleteBlob(c.region, c.oldKey).catch(() => undefined);
    // Nothing is wrapped by the free tenant's KEKs any more: destroy them.
    await this.deps.keys.destroyTenantKeys(from.id, { actor });
    return { ...t, status: 'completed', completedAt: this.now(), moved, ...(opts.accepted ? { acceptedAt: this.now() } : {}) };
  }

  /** Refuses when a tenant-scoped table has rows of the free tenant and no decision in TRANSFER_PLAN, or an active legal hold. */
  private async checkPlan(tx: Sql, tenantId: string): Promise<void> {
    for (const table of tenantScopedTables()) {
      const plan = TRANSFER_PLAN[table];
      if (plan === 'move' || plan === 'stay' || plan === 'delete') continue;
      if (plan === 'block_if_active') {
        const { rows } = await tx.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1 AND released_at IS NULL LIMIT 1`, [tenantId]);
        if (rows.length > 0) throw errors.conflict('transfer_blocked_by_hold', 'a legal hold applies to the free account; release or move it before the transfer');
        continue;
      }
      const { rows } = await tx.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1 LIMIT 1`, [tenantId]);
      if (rows.length > 0) throw errors.internal('transfer_plan_incomplete', `table ${table} holds rows of the free account and has no transfer rule; add it to TRANSFER_PLAN`);
    }
  }

  private async mapLabels(tx: Sql, fromId: string, toId: string, now: Date): Promise<{ map: Map<string, string>; copied: number }> {
    const policy = `rank, description, default_expiry_days, auth_level, no_forward, no_download, watermark, hide_subject, disclaimer`;
    const { rows } = await tx.query<{ id: string; name: string; match: string | null }>(
      `SELECT f.id, f.name,
              (SELECT b.id FROM labels b WHERE b.tenant_id = $2 AND b.name = f.name
                  AND (b.rank, b.description, b.default_expiry_days, b.auth_level, b.no_forward, b.no_download, b.watermark, b.hide_subject, b.disclaimer)
                      IS NOT DISTINCT FROM (f.rank, f.description, f.default_expiry_days, f.auth_level, f.no_forward, f.no_download, f.watermark, f.hide_subject, f.disclaimer)) AS match
         FROM labels f WHERE f.tenant_id = $1 AND EXISTS (SELECT 1 FROM messages m WHERE m.label_id = f.id)`,
      [fromId, toId],
    );
    const map = new Map<string, string>();
    let copied = 0;
    for (const r of rows) {
      if (r.match) {
        map.set(r.id, r.match);
        continue;
      }
      const id = randomId();
      const suffix = ' (transferred)';
      let name = `${r.name.slice(0, 64 - suffix.length)}${suffix}`;
      for (let n = 2; (await tx.query(`SELECT 1 FROM labels WHERE tenant_id = $1 AND name = $2`, [toId, name])).rows.length > 0; n++) {
        name = `${r.name.slice(0, 64 - suffix.length - 4)} (transferred ${n})`;
      }
      await tx.query(`INSERT INTO labels (id, tenant_id, name, ${policy}, created_at, archived_at, is_default) SELECT $3, $2, $4, ${policy}, $5, $5, false FROM labels WHERE id = $1`, [r.id, toId, id, name, now]);
      map.set(r.id, id);
      copied++;
    }
    return { map, copied };
  }
}
