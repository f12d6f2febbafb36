// The subject-data engine: finds, exports, erases and restricts everything held about a person,
// by walking the reachability map (subject-map.ts) that covers every table the category registry
// says holds personal data. The request workflow (src/privacy/requests/) drives it through the
// SubjectEngine contract (subject.model.ts). What each operation does per category is in
// docs/privacy.md ("Subject data").
import type { AuditEventRow } from '../../audit/audit.repository.ts';
import { strToU8, zipSync } from 'fflate';
import { appendAuditEvent } from '../../audit/audit.service.ts';
import { computeAuditHash } from '../../audit/audit.chain.ts';
import { insertPseudonymisations, PSEUDONYMISED_ACTION, pseudonymisationDigest, type PseudonymisedRow } from '../../audit/audit.pseudonyms.ts';
import type { JsonObject } from '../../audit/audit.model.ts';
import { sha256Hex } from '../../crypto/hash.ts';
import { isUuid, toHex } from '../../crypto/format/bytes.ts';
import type { KeyProvider } from '../../crypto/key-provider.ts';
import { randomId } from '../../crypto/keys.ts';
import type { ContentStore } from '../../content/content.service.ts';
import { decodeEnvelope } from '../../messages/envelope.ts';
import { errors, isAppError } from '../../shared/app-error.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Region } from '../../shared/regions.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { REGISTRY, type DataCategory } from '../../storage/database/registry.ts';
import { csvRow } from '../csv.ts';
import { loadMasker, type Masker } from './masking-key.ts';
import { SUBJECT_MAP, type TableReach } from './subject-map.ts';
import type {
  ControllerRouting,
  ErasureReport,
  ErasureVerification,
  SubjectEngine,
  SubjectFootprint,
  SubjectIdentifiers,
  TableFootprint,
} from './subject.model.ts';

/** The part of Prevent the engine uses (PreventService implements it). */
export interface PreventRights {
  erasePerson(tenantId: string, address: string): Promise<{ observations: number; decisions: number }>;
  restrictPerson(tenantId: string, address: string, lift?: boolean): Promise<void>;
}

/** What the engine needs. */
export interface SubjectEngineDeps {
  db: Database;
  /** Shredded objects' blobs are deleted through it, each from its own region's store. */
  content: ContentStore;
  /** Holds the root key that wraps the installation's masking key. */
  provider: KeyProvider;
  prevent: PreventRights;
  clock?: Clock;
}

/** The engine, with `resolve` for callers that need the identifiers it works from. */
export interface SubjectDataEngine extends SubjectEngine {
  /** Normalised addresses, the user ids they own (and any given), and those users' display names. */
  resolve(subject: SubjectIdentifiers): Promise<SubjectIdentifiers>;
}

// Rate-limit scopes whose key is an address, a user id or a recipient id (see *.settings.ts and
// the services' RATE_LIMITS); the counters are stored as SHA-256(scope ‖ 0 ‖ key).
const RATE_LIMIT_SCOPES = ['sign_in_account', 'access_request_address', 'recipient_code_request', 'recipient_reply', 'recipient_upload'];

const ZERO = (): Record<DataCategory, number> => ({ content: 0, crm: 0, smart: 0, system: 0 });
const EMAIL = /^[^\s@]+@[^\s@]+$/;
// An identifier audit_events.detail_refs surely holds as a whole token (migration 0016): a
// lower-case UUID, or a lower-case ASCII address not ending in a dot. Anything else (non-ASCII,
// whose lower-casing could differ between JavaScript and the database's locale) is matched as text.
const DETAIL_REF = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]*[a-z0-9-])$/;

/** Bound identifiers for the map's tokens (see subject-map.ts). */
interface Bound {
  emails: string[];
  userIds: string[];
  ids: string[];
  patterns: string[];
  rateKeys: string[];
  /** Patterns of the ids audit_events.detail_refs cannot hold as a whole token (usually none). */
  detailsOdd: string[];
}

interface Resolved extends SubjectIdentifiers {
  names: string[];
  recipientIds: string[];
}

/** Builds the engine. */
export function createSubjectEngine(deps: SubjectEngineDeps): SubjectDataEngine {
  const { db } = deps;
  const now = deps.clock ?? systemClock;
  let masker: Promise<Masker> | undefined;
  const getMasker = () => {
    masker ??= loadMasker(db, deps.provider, now);
    masker.catch(() => (masker = undefined));
    return masker;
  };

  async function resolve(subject: SubjectIdentifiers): Promise<Resolved> {
    if (!subject || !Array.isArray(subject.emails) || !Array.isArray(subject.userIds)) {
      throw errors.invalid('subject_invalid', 'subject must have emails and userIds arrays');
    }
    const emails = [...new Set(subject.emails.map((e) => String(e).trim().toLowerCase()))];
    for (const e of emails) {
      if (e.length < 3 || e.length > 320 || !EMAIL.test(e)) throw errors.invalid('subject_email_invalid', `subject.emails: "${e.slice(0, 40)}" is not an email address`);
    }
    const given = subject.userIds.map((u) => String(u).toLowerCase());
    for (const u of given) if (!isUuid(u)) throw errors.invalid('subject_user_id_invalid', 'subject.userIds: each must be a user id (UUID)');
    if (emails.length === 0 && given.length === 0) throw errors.invalid('subject_empty', 'subject: give at least one email address or user id');
    const { rows } = await db.query<{ id: string; email: string; display_name: string }>(
      'SELECT id, email, display_name FROM users WHERE email = ANY($1::text[]) OR id = ANY($2::uuid[])',
      [emails, given],
    );
    const allEmails = [...new Set([...emails, ...rows.map((r) => r.email)])];
    const userIds = [...new Set([...given, ...rows.map((r) => r.id)])];
    const names = [...new Set([...(subject.names ?? []), ...rows.map((r) => r.display_name)].filter((n) => n.trim().length >= 3))];
    const rec = await db.query<{ id: string }>('SELECT id FROM message_recipients WHERE email = ANY($1::text[])', [allEmails]);
    return { emails: allEmails, userIds, names, recipientIds: rec.rows.map((r) => r.id) };
  }

  function bound(s: Resolved): Bound {
    // Audit actors and targets name a person by address, user id or (as a recipient) recipient id.
    const ids = [...s.emails, ...s.userIds, ...s.recipientIds];
    const rateKeys = RATE_LIMIT_SCOPES.flatMap((scope) => ids.map((k) => sha256Hex(`${scope}\u0000${k}`)));
    const detailsOdd = ids.filter((id) => !DETAIL_REF.test(id)).map(likePattern);
    return { emails: s.emails, userIds: s.userIds, ids, patterns: ids.map(likePattern), rateKeys, detailsOdd };
  }

  /** The SQL condition and parameters selecting a table's rows about the person. */
  function condition(reach: TableReach, b: Bound, params: unknown[]): string {
    const bind = (where: string, address?: string) =>
      where.replace(/:(emails|userIds|ids|patterns|rateKeys|detailsOdd|address|recipientEntry|addressList)\b/g, (_, token: string) => {
        switch (token) {
          case 'detailsOdd':
            // A constant false drops out of the OR, so the other terms can use their indexes.
            if (b.detailsOdd.length === 0) return 'false';
            params.push(b.detailsOdd);
            return `details::text ILIKE ANY($${params.length}::text[])`;
          case 'emails':
          case 'ids':
          case 'patterns':
          case 'rateKeys':
            params.push(b[token as 'emails']);
            return `$${params.length}::text[]`;
          case 'userIds':
            params.push(b.userIds);
            return `$${params.length}::uuid[]`;
          case 'address':
            params.push(address ?? '');
            return `$${params.length}::text`;
          case 'recipientEntry':
            params.push(JSON.stringify([{ a: address ?? '' }]));
            return `$${params.length}::jsonb`;
          default:
            params.push(JSON.stringify([address ?? '']));
            return `$${params.length}::jsonb`;
        }
      });
    const where = reach.where!;
    if (!reach.perAddress) return `(${bind(where)})`;
    // With no address the per-address terms must match nothing (the user-id terms still may).
    const addresses = b.emails.length > 0 ? b.emails : [''];
    return `(${addresses.map((a) => `(${bind(where, a)})`).join(' OR ')})`;
  }

  const reachable = () => Object.entries(SUBJECT_MAP).filter(([, r]) => r.where !== null);
  const contentHeld = (table: string, reach: TableReach) => REGISTRY[table]!.category === 'content' && reach.tenantColumn !== undefined;

  async function customersOf(s: Resolved, b: Bound): Promise<ControllerRouting[]> {
    const params: unknown[] = [];
    const cond = condition(SUBJECT_MAP['messages']!, b, params);
    params.push(s.emails);
    const { rows } = await db.query<{ id: string; name: string; messages: string }>(
      `SELECT t.id, t.name, count(*) AS messages FROM tenants t JOIN (
         SELECT id, tenant_id FROM messages WHERE ${cond}
         UNION SELECT m.id, m.tenant_id FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE r.email = ANY($${params.length}::text[])
       ) m ON m.tenant_id = t.id WHERE t.plan = 'business' GROUP BY t.id, t.name ORDER BY t.name, t.id`,
      params,
    );
    return rows.map((r) => ({ tenantId: r.id, tenantName: r.name, messages: Number(r.messages) }));
  }

  async function locate(subject: SubjectIdentifiers): Promise<SubjectFootprint> {
    const s = await resolve(subject);
    const b = bound(s);
    const tables: TableFootprint[] = [];
    for (const [table, reach] of reachable()) {
      const params: unknown[] = [];
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${condition(reach, b, params)}`, params);
      tables.push({ table, category: REGISTRY[table]!.category, rows: Number(rows[0]!.n) });
    }
    return { identifiers: publicIdentifiers(s), tables, customers: await customersOf(s, b) };
  }

  async function exportAccess(subject: SubjectIdentifiers): Promise<{ zip: Uint8Array; footprint: SubjectFootprint }> {
    const s = await resolve(subject);
    const b = bound(s);
    const files: Record<string, Uint8Array> = {};
    const tables: TableFootprint[] = [];
    const contentFiles: string[] = [];
    let ownMessages: Array<{ id: string; tenant_id: string; envelope_object_id: string }> = [];
    for (const [table, reach] of reachable()) {
      const params: unknown[] = [];
      let where = condition(reach, b, params);
      // Content held for a business customer is the customer's to answer for (routed, not exported).
      if (contentHeld(table, reach)) where += ` AND ${reach.tenantColumn} IN (SELECT id FROM tenants WHERE plan = 'free')`;
      const { rows } = await db.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE ${where}`, params);
      tables.push({ table, category: REGISTRY[table]!.category, rows: rows.length });
      if (rows.length === 0) continue;
      const withheld = new Set(Object.keys(reach.withheld ?? {}));
      const columns = Object.keys(rows[0]!).filter((c) => !withheld.has(c));
      const out = rows.map((r) => Object.fromEntries(columns.map((c) => [c, exportValue(r[c])])));
      const category = REGISTRY[table]!.category;
      files[`${category}/${table}.json`] = strToU8(JSON.stringify(out, null, 2));
      files[`${category}/${table}.csv`] = strToU8(csvRow(columns) + out.map((r) => csvRow(columns.map((c) => csvValue(r[c])))).join(''));
      if (table === 'messages') {
        const mine = new Set(s.userIds);
        const emails = new Set(s.emails);
        const recipients = new Set(s.recipientIds);
        ownMessages = (rows as Array<{ id: string; tenant_id: string; envelope_object_id: string; sender_user_id: string | null; sender_email: string; sender_recipient_id: string | null }>).filter(
          (m) => (m.sender_user_id !== null && mine.has(m.sender_user_id)) || emails.has(m.sender_email) || (m.sender_recipient_id !== null && recipients.has(m.sender_recipient_id)),
        );
      }
    }
    // The Content the person sent where Sealpost is controller (free accounts), decrypted.
    for (const m of ownMessages) {
      const dir = `content/${m.id}`;
      try {
        const envelope = decodeEnvelope(await deps.content.openBytes(m.tenant_id, m.envelope_object_id));
        files[`${dir}/message.json`] = strToU8(JSON.stringify({ subject: envelope.subject, text: envelope.text, html: envelope.html, attachments: envelope.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })) }, null, 2));
        for (const [i, a] of envelope.attachments.entries()) {
          files[`${dir}/attachments/${i + 1}-${safeName(a.filename)}`] = new Uint8Array(await deps.content.openBytes(m.tenant_id, a.objectId));
        }
        contentFiles.push(dir);
      } catch (err) {
        // Erased (shredded) Content cannot be exported; anything else is a real failure.
        if (!isAppError(err, 'content_shredded')) throw err;
        files[`${dir}/ERASED.txt`] = strToU8('This message was erased (crypto-shredded) before the export was made; its content no longer exists.\n');
      }
    }
    const footprint: SubjectFootprint = { identifiers: publicIdentifiers(s), tables, customers: await customersOf(s, b) };
    files['README.txt'] = strToU8(readme(footprint, now(), contentFiles.length));
    files['footprint.json'] = strToU8(JSON.stringify(footprint, null, 2));
    return { zip: zipSync(files, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') }), footprint };
  }

  async function erase(subject: SubjectIdentifiers, opts: { instructedBy?: string[]; requestId?: string } = {}): Promise<ErasureReport> {
    const instructed = (opts.instructedBy ?? []).map((t) => String(t).toLowerCase());
    for (const t of instructed) if (!isUuid(t)) throw errors.invalid('instructed_by_invalid', 'instructedBy: each must be a tenant id (UUID)');
    if (opts.requestId !== undefined && !isUuid(opts.requestId)) throw errors.invalid('request_id_invalid', 'requestId must be a UUID');
    const s = await resolve(subject);
    const b = bound(s);
    const mask = await getMasker();
    const report: ErasureReport = { deleted: ZERO(), masked: ZERO(), shredded: 0, routedTo: [], identifiers: publicIdentifiers(s) };
    const count = (kind: 'deleted' | 'masked', table: string, n: number) => (report[kind][REGISTRY[table]!.category] += n);

    // A legal hold preserves evidence for legal claims (Art. 17(3)(e)): erasure waits until whoever
    // placed it releases it, rather than destroying what the hold protects.
    const { rows: holds } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM legal_holds WHERE released_at IS NULL AND (
         (scope = 'user' AND user_id = ANY($1::uuid[]))
         OR (scope = 'tenant' AND tenant_id IN (
           SELECT tenant_id FROM users WHERE id = ANY($1::uuid[])
           UNION SELECT id FROM tenants WHERE id = ANY($3::uuid[])
           UNION SELECT tenant_id FROM messages WHERE sender_user_id = ANY($1::uuid[]) OR sender_email = ANY($2::text[])
           UNION SELECT tenant_id FROM message_recipients WHERE email = ANY($2::text[])))
         OR (scope = 'message' AND message_id IN (
           SELECT id FROM messages WHERE sender_user_id = ANY($1::uuid[]) OR sender_email = ANY($2::text[])
           UNION SELECT message_id FROM message_recipients WHERE email = ANY($2::text[]))))`,
      [s.userIds, s.emails, instructed],
    );
    if (Number(holds[0]!.n) > 0) {
      throw errors.conflict('legal_hold_in_force', `a legal hold covers this person's data (${holds[0]!.n} in force); erasure is refused until it is released`);
    }

    // Smart Data first, per tenant, through Prevent (it also excludes the person from learning).
    // Each call is its own transaction and idempotent: a failure later is finished by a re-run.
    for (const tenantId of await tenantsOf(s, b)) {
      for (const email of s.emails) {
        const r = await deps.prevent.erasePerson(tenantId, email);
        count('deleted', 'prevent_observations', r.observations);
        count('deleted', 'prevent_decisions', r.decisions);
      }
    }

    // Tenants whose Content is erased: free accounts (Sealpost is controller) and instructing customers.
    const { rows: plans } = await db.query<{ id: string; plan: string }>(
      `SELECT id, plan FROM tenants WHERE plan = 'free' AND id IN (
         SELECT tenant_id FROM messages WHERE sender_user_id = ANY($1::uuid[]) OR sender_email = ANY($2::text[])
         UNION SELECT tenant_id FROM message_recipients WHERE email = ANY($2::text[])
         UNION SELECT tenant_id FROM users WHERE id = ANY($1::uuid[]))
       UNION SELECT id, plan FROM tenants WHERE id = ANY($3::uuid[])`,
      [s.userIds, s.emails, instructed],
    );
    const scope = plans.map((p) => p.id);

    // Content: the messages the person sent there, and (on a customer's instruction) the ones they received.
    const msgParams: unknown[] = [];
    const sent = condition(SUBJECT_MAP['messages']!, b, msgParams);
    msgParams.push(instructed, s.emails, scope);
    const n = msgParams.length;
    const { rows: objects } = await db.query<{ id: string }>(
      `WITH erased AS (
         SELECT id, envelope_object_id FROM messages WHERE (${sent}) AND tenant_id = ANY($${n}::uuid[])
         UNION SELECT m.id, m.envelope_object_id FROM messages m JOIN message_recipients r ON r.message_id = m.id
           WHERE r.email = ANY($${n - 1}::text[]) AND m.tenant_id = ANY($${n - 2}::uuid[]))
       SELECT envelope_object_id AS id FROM erased
       UNION SELECT a.object_id FROM message_attachments a JOIN erased e ON e.id = a.message_id
       UNION SELECT object_id FROM pending_uploads WHERE (user_id = ANY($${n + 1}::uuid[]) OR recipient_id IN (SELECT id FROM message_recipients WHERE email = ANY($${n - 1}::text[]))) AND tenant_id = ANY($${n}::uuid[])`,
      [...msgParams, s.userIds],
    );
    const objectIds = objects.map((o) => o.id);

    // Three transactions, which PostgreSQL runs side by side (PGlite one after another, in this
    // order): the Content shred (A), the audit pseudonymisation (C), and everything else (B). B
    // commits only after A and C have committed, and fails if either failed: once B has masked
    // the addresses and deleted the accounts, a re-run could no longer find the person's messages
    // or the events that name their account, so what those reach must be done first. If B fails
    // after A and C committed, the person is erased in part and a re-run finishes the job (every
    // step is idempotent; the request stays open until verifyErased finds nothing). B appends its
    // own event only after A and C are done, so no transaction waits for a chain lock that a
    // transaction waiting for it holds.
    const shredding = db.transaction(async (tx) => {
      const { rows: shredded } = await tx.query<{ tenant_id: string; n: string }>(
        `WITH s AS (UPDATE sealed_objects SET wrapped_key = NULL, shredded_at = $2 WHERE id = ANY($1::uuid[]) AND shredded_at IS NULL RETURNING tenant_id)
         SELECT tenant_id, count(*) AS n FROM s GROUP BY tenant_id ORDER BY tenant_id`,
        [objectIds, now()],
      );
      for (const t of shredded) {
        report.shredded += Number(t.n);
        await appendAuditEvent(tx, {
          tenantId: t.tenant_id,
          actor: { type: 'system' },
          action: 'content.shredded',
          target: opts.requestId ? { type: 'subject_request', id: opts.requestId } : undefined,
          outcome: 'success',
          details: { objects: Number(t.n), reason: 'subject_erasure' },
        });
      }
      const { rows: blobs } = await tx.query<{ region: Region; blob_key: string }>('SELECT region, blob_key FROM sealed_objects WHERE id = ANY($1::uuid[])', [objectIds]);
      return blobs;
    });
    const pseudonymising = db.transaction((tx) => pseudonymiseAudit(tx, s, b, mask, opts.requestId));
    const firstParts = Promise.all([shredding, pseudonymising]);
    // Who the person's Content is routed to, read meanwhile (B changes none of what it counts).
    const routing = customersOf(s, b);
    firstParts.catch(() => undefined);
    routing.catch(() => undefined);
    let blobKeys: Array<{ region: Region; blob_key: string }>;
    try {
      blobKeys = await db.transaction(async (tx) => {
        // Accounts that other rows still refer to get a tombstone with a fresh id (the rows are rekeyed below).
        const accounts: string[] = [];
        const tombstones = new Map<string, string>();
        for (const userId of s.userIds) {
          const { rows: u } = await tx.query<{ tenant_id: string; email: string }>('SELECT tenant_id, email FROM users WHERE id = $1', [userId]);
          if (!u[0]) continue;
          accounts.push(userId);
          const { rows: refs } = await tx.query<{ referred: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM messages WHERE sender_user_id = $1) OR EXISTS (SELECT 1 FROM pending_uploads WHERE user_id = $1)
                    OR EXISTS (SELECT 1 FROM access_requests WHERE decided_by = $1) OR EXISTS (SELECT 1 FROM prevent_settings WHERE updated_by = $1) AS referred`,
            [userId],
          );
          if (!refs[0]!.referred) continue;
          const tombstone = randomId();
          await tx.query(
            `INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, $3, 'Erased user', 'disabled', $4, $4)`,
            [tombstone, u[0].tenant_id, mask.address(u[0].email), now()],
          );
          tombstones.set(userId, tombstone);
          count('masked', 'users', 1);
        }

        // The messages they sent: the address masked where their Content is erased, the account
        // rekeyed to its tombstone; one pass over the rows (each row rewritten once, not twice).
        const { rows: rewritten } = await tx.query<{ masked: boolean; rekeyed: boolean }>(
          // Each row is found through its own indexes and rewritten in place; the replacements come
          // from the two small arrays (a join of the rows back to themselves made PostgreSQL scan
          // the whole table, bench:privacy).
          `UPDATE messages m
              SET sender_email = CASE WHEN m.tenant_id = ANY($5::uuid[])
                                      THEN COALESCE((SELECT e.masked FROM unnest($1::text[], $2::text[]) AS e(email, masked) WHERE e.email = m.sender_email), m.sender_email)
                                      ELSE m.sender_email END,
                  sender_user_id = COALESCE((SELECT k.new_id FROM unnest($3::uuid[], $4::uuid[]) AS k(old_id, new_id) WHERE k.old_id = m.sender_user_id), m.sender_user_id)
            WHERE (m.sender_email = ANY($1::text[]) AND m.tenant_id = ANY($5::uuid[])) OR m.sender_user_id = ANY($3::uuid[])
           RETURNING m.tenant_id = ANY($5::uuid[]) AND m.sender_email = ANY($2::text[]) AS masked, m.sender_user_id = ANY($4::uuid[]) AS rekeyed`,
          [s.emails, s.emails.map((e) => mask.address(e)), [...tombstones.keys()], [...tombstones.values()], scope],
        );
        count('masked', 'messages', rewritten.filter((r) => r.masked).length + rewritten.filter((r) => r.rekeyed).length);

        for (const email of s.emails) {
          const masked = mask.address(email);
          count(
            'masked',
            'message_recipients',
            (
              await tx.query(
                `UPDATE message_recipients SET email = $1, disclaimer_accepted_at = NULL, first_opened_at = NULL, last_opened_at = NULL,
                   revoked_at = COALESCE(revoked_at, $4), link_token_wrapped = NULL, link_kek_id = NULL
                 WHERE email = $2 AND tenant_id = ANY($3::uuid[])`,
                [masked, email, scope, now()],
              )
            ).rowCount,
          );
        }
        const del = async (table: string, sql: string, params: unknown[]) => count('deleted', table, (await tx.query(sql, params)).rowCount);
        // Security data about the person as a recipient, in every tenant (Sealpost is controller of it).
        await del('recipient_challenges', 'DELETE FROM recipient_challenges WHERE recipient_id = ANY($1::uuid[])', [s.recipientIds]);
        await del('recipient_sessions', 'DELETE FROM recipient_sessions WHERE recipient_id = ANY($1::uuid[])', [s.recipientIds]);
        await del('access_requests', 'DELETE FROM access_requests WHERE email = ANY($1::text[]) AND tenant_id = ANY($2::uuid[])', [s.emails, scope]);
        await del('pending_uploads', 'DELETE FROM pending_uploads WHERE object_id = ANY($1::uuid[])', [objectIds]);
        await del('prevent_decisions', 'DELETE FROM prevent_decisions WHERE user_id = ANY($1::uuid[])', [s.userIds]);
        await del('sessions', 'DELETE FROM sessions WHERE user_id = ANY($1::uuid[])', [s.userIds]);
        await del('api_tokens', 'DELETE FROM api_tokens WHERE user_id = ANY($1::uuid[])', [s.userIds]);
        await del('sign_in_links', 'DELETE FROM sign_in_links WHERE user_id = ANY($1::uuid[])', [s.userIds]);
        await del('rate_limits', "DELETE FROM rate_limits WHERE encode(key_hash, 'hex') = ANY($1::text[])", [b.rateKeys]);
        await del('subject_restrictions', 'DELETE FROM subject_restrictions WHERE email = ANY($1::text[])', [s.emails]);

        // Tables erased by declaration alone (subject-map.ts deleteWhere).
        for (const [table, reach] of Object.entries(SUBJECT_MAP)) {
          if (!reach.deleteWhere) continue;
          const params: unknown[] = [];
          await del(table, `DELETE FROM ${table} WHERE ${condition({ ...reach, where: reach.deleteWhere }, b, params)}`, params);
        }

        // The person's own free accounts: the name is masked, branding deleted.
        const { rows: own } = await tx.query<{ id: string }>("SELECT id FROM tenants WHERE plan = 'free' AND id IN (SELECT tenant_id FROM users WHERE id = ANY($1::uuid[]))", [s.userIds]);
        for (const t of own) count('masked', 'tenants', (await tx.query('UPDATE tenants SET name = $1 WHERE id = $2', [`Erased account ${mask.mac('tenant', t.id, 12)}`, t.id])).rowCount);
        await del('tenant_settings', 'DELETE FROM tenant_settings WHERE tenant_id = ANY($1::uuid[])', [own.map((t) => t.id)]);

        // Accounts: the rest of the rows that refer to one move to its tombstone; then it is deleted.
        for (const userId of accounts) {
          const tombstone = tombstones.get(userId);
          if (tombstone !== undefined) {
            await tx.query('UPDATE pending_uploads SET user_id = $1 WHERE user_id = $2', [tombstone, userId]);
            await tx.query('UPDATE access_requests SET decided_by = $1 WHERE decided_by = $2', [tombstone, userId]);
            await tx.query('UPDATE prevent_settings SET updated_by = $1 WHERE updated_by = $2', [tombstone, userId]);
          }
          await del('users', 'DELETE FROM users WHERE id = $1', [userId]);
        }

        // Who did something to records about other people (registers, requests, disclosures): a pseudonym.
        for (const [table, reach] of Object.entries(SUBJECT_MAP)) {
          if (table === 'audit_events') continue;
          for (const [column, rule] of Object.entries(reach.columns)) {
            if (rule.action !== 'pseudonymise') continue;
            for (const id of b.ids) count('masked', table, (await tx.query(`UPDATE ${table} SET ${column} = $1 WHERE ${column} = $2`, [mask.pseudonym(id), id])).rowCount);
          }
        }

        // B commits only after A and C have: its masking (invisible to them until then) would hide
        // what a re-run needs to find their rows.
        const [keys, pseudonymised] = await firstParts;
        count('masked', 'audit_events', pseudonymised);

        await appendAuditEvent(tx, {
          actor: { type: 'system' },
          action: 'subject.erased',
          target: opts.requestId ? { type: 'subject_request', id: opts.requestId } : undefined,
          outcome: 'success',
          // Counts only: the log must not name the person it has just forgotten.
          details: { deleted: report.deleted, masked: report.masked, shredded: report.shredded, tenants_in_scope: scope.length },
        });
        return keys;
      });
    } finally {
      // Never leave a part running behind a failure.
      await Promise.allSettled([firstParts, routing]);
    }

    // After commit: the data keys are gone, so a blob that fails to delete can never be opened.
    // Deleted a few at a time (each is a round trip to the blob store).
    const queue = [...blobKeys];
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let b = queue.pop(); b !== undefined; b = queue.pop()) await deps.content.deleteBlob(b.region, b.blob_key).catch(() => undefined);
    }));
    report.routedTo = (await routing).filter((c) => !instructed.includes(c.tenantId));
    return report;
  }

  /** Replaces the person's identifiers in audit rows by pseudonyms, keeping every chain verifiable. */
  async function pseudonymiseAudit(tx: Sql, s: Resolved, b: Bound, mask: Masker, requestId?: string): Promise<number> {
    const params: unknown[] = [];
    const cond = condition(SUBJECT_MAP['audit_events']!, b, params);
    const { rows } = await tx.query<AuditRow>(`SELECT * FROM audit_events WHERE ${cond} AND action <> '${PSEUDONYMISED_ACTION}' ORDER BY chain, chain_seq`, params);
    if (rows.length === 0) return 0;
    const ids = [...b.ids].sort((x, y) => y.length - x.length);
    const replace = (text: string): string => {
      let out = text;
      for (const id of ids) out = out.replace(new RegExp(escapeRegExp(id), 'gi'), mask.pseudonym(id));
      return out;
    };
    const updates: Array<{ row: AuditRow; actor: string | null; target: string | null; ip: string | null; ua: string | null; details: JsonObject }> = [];
    for (const row of rows) {
      const actorIsSubject = row.actor_id !== null && ids.some((id) => id.toLowerCase() === row.actor_id!.toLowerCase());
      const next = {
        row,
        actor: row.actor_id === null ? null : replace(row.actor_id),
        target: row.target_id === null ? null : replace(row.target_id),
        // Their device's address and software are not needed to prove what happened.
        ip: actorIsSubject ? null : row.ip,
        ua: actorIsSubject ? null : row.user_agent,
        details: mapStrings(row.details, replace) as JsonObject,
      };
      if (next.actor === row.actor_id && next.target === row.target_id && next.ip === row.ip && next.ua === row.user_agent && JSON.stringify(next.details) === JSON.stringify(row.details)) continue;
      updates.push(next);
    }
    if (updates.length === 0) return 0;
    await tx.query(
      `UPDATE audit_events a SET actor_id = u.actor, target_id = u.target, ip = u.ip, user_agent = u.ua, details = u.details::jsonb
       FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(chain, seq, actor, target, ip, ua, details)
       WHERE a.chain = u.chain AND a.chain_seq = u.seq`,
      [
        updates.map((u) => u.row.chain),
        updates.map((u) => u.row.chain_seq),
        updates.map((u) => u.actor),
        updates.map((u) => u.target),
        updates.map((u) => u.ip),
        updates.map((u) => u.ua),
        updates.map((u) => JSON.stringify(u.details)),
      ],
    );
    const byChain = new Map<string, PseudonymisedRow[]>();
    for (const u of updates) {
      const r = u.row;
      const redactedHash = computeAuditHash(r.prev_hash, {
        chain: r.chain,
        chainSeq: String(r.chain_seq),
        id: r.id,
        tenantId: r.tenant_id,
        occurredAt: r.occurred_at,
        actorType: r.actor_type,
        actorId: u.actor,
        action: r.action,
        targetType: r.target_type,
        targetId: u.target,
        outcome: r.outcome,
        ip: u.ip,
        userAgent: u.ua,
        details: JSON.parse(JSON.stringify(u.details)) as JsonObject,
      });
      const list = byChain.get(r.chain) ?? [];
      list.push({ chainSeq: String(r.chain_seq), redactedHash });
      byChain.set(r.chain, list);
    }
    for (const [chain, list] of byChain) {
      const event = await appendAuditEvent(tx, {
        tenantId: chain === 'system' ? undefined : chain,
        actor: { type: 'system' },
        action: PSEUDONYMISED_ACTION,
        target: requestId ? { type: 'subject_request', id: requestId } : undefined,
        outcome: 'success',
        details: { rows: list.length, digest: pseudonymisationDigest(list), reason: 'subject_erasure' },
      });
      await insertPseudonymisations(tx, chain, event.id, list, now());
    }
    return updates.length;
  }

  /** Tenants whose Smart Data, accounts or mail mention the person. */
  async function tenantsOf(s: Resolved, b: Bound): Promise<string[]> {
    const p1: unknown[] = [];
    const obs = condition(SUBJECT_MAP['prevent_observations']!, b, p1);
    const p2: unknown[] = [];
    const dec = condition(SUBJECT_MAP['prevent_decisions']!, b, p2);
    const [a, c, d] = await Promise.all([
      db.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM prevent_observations WHERE ${obs}`, p1),
      db.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM prevent_decisions WHERE ${dec}`, p2),
      db.query<{ tenant_id: string }>(
        'SELECT tenant_id FROM users WHERE id = ANY($1::uuid[]) UNION SELECT tenant_id FROM message_recipients WHERE email = ANY($2::text[])',
        [s.userIds, s.emails],
      ),
    ]);
    return [...new Set([...a.rows, ...c.rows, ...d.rows].map((r) => r.tenant_id))].sort();
  }

  async function verifyErased(subject: SubjectIdentifiers): Promise<ErasureVerification> {
    const s = await resolve(subject);
    const needles = [...s.emails, ...s.userIds].map(likePattern);
    // A name counts only as whole words: "Ann Lee" is not in "Ann Leeson" (another person).
    const names = s.names.map(namePattern);
    const remaining: ErasureVerification['remaining'] = [];
    const kept: NonNullable<ErasureVerification['kept']> = [];
    const heldForCustomers: NonNullable<ErasureVerification['heldForCustomers']> = [];
    for (const [table, reach] of Object.entries(SUBJECT_MAP)) {
      const held = contentHeld(table, reach) ? `${reach.tenantColumn} IN (SELECT id FROM tenants WHERE plan = 'business')` : 'false';
      const columns = Object.entries(reach.columns).filter(([column]) => REGISTRY[table]!.columns[column]!.personal !== 'none');
      if (columns.length === 0) continue;
      // One scan of the table for all its personal columns (a full scan on purpose: the check must
      // not rely on the indexes that erasure used to find the rows).
      const { rows: [counts] } = await db.query<Record<string, string>>(
        `SELECT ${columns.map((_, i) => `count(*) FILTER (WHERE m${i} AND NOT held) AS o${i}, count(*) FILTER (WHERE m${i} AND held) AS h${i}`).join(', ')}
           FROM (SELECT ${columns.map(([column], i) => `(${column}::text ILIKE ANY($1::text[]) OR ${column}::text ~* ANY($2::text[])) AS m${i}`).join(', ')}, (${held}) AS held FROM ${table}) AS scanned`,
        [needles, names],
      );
      for (const [i, [column, rule]] of columns.entries()) {
        const other = Number(counts![`o${i}`]);
        const heldRows = Number(counts![`h${i}`]);
        if (heldRows > 0) heldForCustomers.push({ table, column, rows: heldRows });
        if (other === 0) continue;
        if (rule.action === 'keep') kept.push({ table, column, rows: other, reason: rule.reason });
        else remaining.push({ table, column, rows: other });
      }
    }
    return { clean: remaining.length === 0, remaining, kept, heldForCustomers };
  }

  async function restrict(subject: SubjectIdentifiers, opts: { lift?: boolean; requestId?: string } = {}): Promise<void> {
    if (opts.requestId !== undefined && !isUuid(opts.requestId)) throw errors.invalid('request_id_invalid', 'requestId must be a UUID');
    const s = await resolve(subject);
    if (s.emails.length === 0) throw errors.invalid('subject_email_required', 'restriction is kept by address: give at least one email address');
    const tenants = await tenantsOf(s, bound(s));
    await db.transaction(async (tx) => {
      if (opts.lift) await tx.query('DELETE FROM subject_restrictions WHERE email = ANY($1::text[])', [s.emails]);
      else {
        await tx.query(
          `INSERT INTO subject_restrictions (email, request_id, restricted_at) SELECT e, $2, $3 FROM unnest($1::text[]) AS e ON CONFLICT (email) DO NOTHING`,
          [s.emails, opts.requestId ?? null, now()],
        );
      }
      await appendAuditEvent(tx, {
        actor: { type: 'system' },
        action: opts.lift ? 'subject.restriction_lifted' : 'subject.restricted',
        target: opts.requestId ? { type: 'subject_request', id: opts.requestId } : undefined,
        outcome: 'success',
        details: { tenants: tenants.length },
      });
    });
    // Prevent keeps its own per-tenant exclusion (a keyed hash); idempotent, so a re-run finishes a failure here.
    for (const t of tenants) for (const e of s.emails) await deps.prevent.restrictPerson(t, e, opts.lift ?? false);
  }

  async function isRestricted(email: string): Promise<boolean> {
    const e = String(email).trim().toLowerCase();
    if (!EMAIL.test(e)) throw errors.invalid('subject_email_invalid', 'email must be an email address');
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM subject_restrictions WHERE email = $1', [e]);
    return Number(rows[0]!.n) > 0;
  }

  return { resolve: async (subject) => publicIdentifiers(await resolve(subject)), locate, exportAccess, erase, verifyErased, restrict, isRestricted };
}

/** An audit_events row (the stored hash is not needed here). */
type AuditRow = Omit<AuditEventRow, 'hash'>;

function publicIdentifiers(s: Resolved): SubjectIdentifiers {
  return { emails: s.emails, userIds: s.userIds, names: s.names };
}

/** An ILIKE pattern matching `value` anywhere, with its own % _ \ taken literally. */
function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A case-insensitive PostgreSQL regular expression matching `name` as whole words: not preceded
 * or followed by a letter or digit. Everything but letters, digits and spaces is escaped.
 */
function namePattern(name: string): string {
  return `(?<![[:alnum:]])${name.replace(/[^\p{L}\p{N} ]/gu, (c) => `\\${c}`)}(?![[:alnum:]])`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

function exportValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${toHex(v)}`;
  if (v instanceof Date) return v.toISOString();
  return v;
}

function csvValue(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return v as string | number | boolean;
}

function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return cleaned.length > 0 ? cleaned : 'attachment';
}

function readme(f: SubjectFootprint, at: Date, contentCount: number): string {
  const lines: string[] = [];
  lines.push('Everything Sealpost holds about you', '===================================', '');
  lines.push(`Made ${at.toISOString()} for: ${f.identifiers.emails.join(', ')}`, '');
  lines.push('Each table that holds data about you is in a folder named after its data category, as JSON and as CSV:');
  lines.push('  crm/     your account and organisation records (Sealpost is controller)');
  lines.push('  system/  security, usage and audit records (Sealpost is controller)');
  lines.push('  smart/   what Prevent learned from mail metadata, per organisation (processed for that organisation)');
  lines.push('  content/ message metadata, and under content/<message id>/ the messages you sent from a free account, decrypted');
  lines.push('Binary values are written as hex:<hex digits>. footprint.json lists every table searched and how many rows were found.', '');
  lines.push('Rows found per table:');
  for (const t of f.tables) lines.push(`  ${t.category.padEnd(7)} ${t.table.padEnd(28)} ${t.rows}`);
  lines.push('', `Messages included with their content: ${contentCount}.`, '');
  lines.push('How each table was searched:');
  for (const [table, reach] of Object.entries(SUBJECT_MAP)) lines.push(`  ${table}: ${reach.path}`);
  lines.push('', 'Hashes you will see', '-------------------');
  lines.push('smart/prevent_observations.terms: the words of your message subjects are never stored; only keyed hashes (HMAC-SHA-256 under');
  lines.push("  the organisation's own key) are, so that Prevent can compare topics. They cannot be turned back into words.");
  lines.push('system/rate_limits.key_hash: SHA-256 of a rate-limit scope and your address or id; counters of recent attempts.');
  lines.push("Prevent's exclusion list (prevent_exclusions) holds your address only as a keyed hash; it is not exported because it");
  lines.push('  cannot be matched to you without that key, and it exists only to keep you out of learning.', '');
  lines.push('Withheld columns', '----------------');
  lines.push('These are credentials or key material; exporting them would help nobody and could let someone sign in or read mail:');
  for (const [table, reach] of Object.entries(SUBJECT_MAP)) {
    for (const [col, why] of Object.entries(reach.withheld ?? {})) lines.push(`  ${table}.${col}: ${why}`);
  }
  lines.push('', 'Content held for organisations', '------------------------------');
  if (f.customers.length === 0) lines.push('None.');
  else {
    lines.push('These organisations use Sealpost as their processor and are the controllers of the messages between you and them;');
    lines.push('your request about those messages has been passed to them:');
    for (const c of f.customers) lines.push(`  ${c.tenantName} (${c.messages} messages)`);
  }
  return `${lines.join('\n')}\n`;
}
