// npm run bench:privacy — the subject-data engine (src/privacy/subjects/) on a large PostgreSQL
// database, against raw SQL doing the same reads and writes in the same run. Ends with one JSON
// line: {"people","messages","access_export_s","erasure_s","retention_rows_per_s", ...}.
// Targets (issue 6): access export <= 2 s, erasure <= 2 s, retention >= 20,000 rows/s.
//
// Set-up (untimed): a scratch database sealpost_bench_privacy_<random> on the server named by
// DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres:postgres@127.0.0.1:5432/postgres
// (dropped at the end). BENCH_PEOPLE (default 100,000) people: a fifth are users of 1,000
// business tenants (and 100 free ones), the rest external correspondents; BENCH_MESSAGES
// (default 1,000,000) messages with Zipf-like (log-uniform rank) senders, so a handful of
// senders have tens of thousands of messages and most a few; two recipients each (Zipf-like
// too), an envelope sealed object per message and an attachment on every fifth, a Prevent
// observation and an audit event per message. Bulk-loaded with INSERT … SELECT generate_series.
// Sealed objects carry random bytes as wrapped keys and their blobs do not exist: the bench
// measures the database paths (a real erasure also unlinks one blob per object).
// The KEKs are real (KeyService), so Prevent can derive its per-tenant term keys.
//
// Measured for a heavy subject (the users with the fewest messages >= 5,000):
// - access_export_s: engine.exportAccess (every table in the map, JSON + CSV + ZIP);
//   raw_export_s: the same SELECTs straight through node-postgres, nothing else.
// - erasure_s: engine.erase with the customer's instruction (so their Content is shredded too);
//   raw_erasure_s: the same UPDATEs and DELETEs in one transaction, rolled back, just before.
// - erasure_verification_s: engine.verifyErased afterwards (what a request runs before it is
//   complete): every personal column of every mapped table scanned as text, one scan per table.
// - *_before_index_s: the same on another heavy subject with migration 0010's indexes dropped.
// - retention_rows_per_s: afterwards, one retention run over the whole database with the default
//   policies (System logs 13 months, Smart Data 12 months; the messages are up to 700 days old),
//   rows removed per second (src/privacy/retention/; bench:retention measures it on its own).
// Detail and the load average go to stderr; BENCH_PROFILE=1 adds the time per statement kind.
// BENCH_DATABASE=name keeps the database and its root key for the next run with the same name,
// which skips the build (each run erases two more heavy subjects; there are about 20).
// Nothing is asserted.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { ContentStore } from '../src/content/content.service.ts';
import { KeyService } from '../src/keys/key.service.ts';
import { createPrevent } from '../src/prevent/prevent.ts';
import { createRetention } from '../src/privacy/retention/retention.ts';
import { createSubjectEngine } from '../src/privacy/subjects/subject-engine.ts';
import { FsBlobStore } from '../src/storage/blob/fs-blob-store.ts';
import { migrate } from '../src/storage/database/migrate.ts';
import { openPostgresDatabase } from '../src/storage/database/postgres-database.ts';
import { profiledDatabase } from './support/sql-profile.ts';

const SERVER_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 100_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const BUSINESS_TENANTS = 1000;
const FREE_TENANTS = 100;
const USERS = Math.floor(PEOPLE / 5);
const EXTERNALS = PEOPLE - USERS;
const ENGINE_INDEXES = [
  'messages_sender_email ON messages (sender_email)',
  'messages_sender_user ON messages (sender_user_id) WHERE sender_user_id IS NOT NULL',
  'audit_events_actor ON audit_events (actor_id) WHERE actor_id IS NOT NULL',
  'audit_events_target ON audit_events (target_id) WHERE target_id IS NOT NULL',
  'access_requests_email ON access_requests (email)',
  'access_requests_decided_by ON access_requests (decided_by) WHERE decided_by IS NOT NULL',
  'pending_uploads_user ON pending_uploads (user_id) WHERE user_id IS NOT NULL',
  'prevent_observations_sender_any ON prevent_observations (sender)',
  'prevent_decisions_user ON prevent_decisions (user_id) WHERE user_id IS NOT NULL',
];

const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, (performance.now() - t) / 1000];
}

/** BENCH_DATABASE=name keeps the database (and its root key) for the next run, which reuses it instead of building. */
const KEEP = process.env.BENCH_DATABASE;
if (KEEP !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(KEEP)) throw new Error('BENCH_DATABASE must be a plain lower-case database name');
const name = KEEP ?? `sealpost_bench_privacy_${Math.random().toString(16).slice(2, 10)}`;
const admin = new pg.Client({ connectionString: SERVER_URL });
await admin.connect();
const reused = KEEP !== undefined && (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [KEEP])).rowCount === 1;
if (!reused) await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(SERVER_URL);
url.pathname = `/${name}`;
const dir = KEEP ? path.join(os.tmpdir(), `sealpost-bench-privacy-${KEEP}`) : await mkdtemp(path.join(os.tmpdir(), 'sealpost-bench-privacy-'));
await mkdir(dir, { recursive: true });
const db = await openPostgresDatabase(url.toString(), { max: 4 });
try {
  await migrate(db);
  const provider = await LocalKeyProvider.open(path.join(dir, 'root-keys.json'), { create: true });
  const keys = new KeyService(db, provider);
  const blobs = new FsBlobStore(path.join(dir, 'blobs'));
  const content = new ContentStore(db, blobs, keys);
  // The timed use cases run on the profiled Database (the same one unless BENCH_PROFILE is set).
  const profiler = profiledDatabase(db);
  const prevent = createPrevent({ db: profiler.db, keys });
  const engine = createSubjectEngine({ db: profiler.db, content, provider, prevent: prevent.service });

  log(reused ? `bench:privacy: reusing ${name} (load ${load()})` : `bench:privacy: building ${PEOPLE} people, ${MESSAGES} messages in ${name} (load ${load()})`);
  const [, buildS] = await timed(async () => {
    if (reused) return;
    await db.query(
      `INSERT INTO tenants (id, name, region, plan, created_at)
       SELECT gen_random_uuid(), 'Tenant ' || i, 'uk', CASE WHEN i <= $1 THEN 'business' ELSE 'free' END, now() - interval '2 years'
       FROM generate_series(1, $2::int) i`,
      [BUSINESS_TENANTS, BUSINESS_TENANTS + FREE_TENANTS],
    );
    const { rows: tenants } = await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id');
    for (const t of tenants) await keys.activeKek(t.id, 'uk');
    await db.query(`INSERT INTO labels (id, tenant_id, name, rank, auth_level, is_default) SELECT gen_random_uuid(), id, 'internal', 1, 'email_code', true FROM tenants`);
    // Users: user u belongs to tenant u mod (tenants); the free tenants' owners are users 0..FREE-1 of the free tail.
    await db.query(
      `WITH t AS (SELECT id, row_number() OVER (ORDER BY plan, id) - 1 AS ix FROM tenants)
       INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at)
       SELECT md5('user' || u)::uuid, t.id, 'user' || u || '@org' || (u % $2) || '.example', 'User Number ' || u, 'author', now(), now()
       FROM generate_series(0, $1::int - 1) u JOIN t ON t.ix = u % $2`,
      [USERS, BUSINESS_TENANTS + FREE_TENANTS],
    );
    // Messages: sender rank log-uniform over the users (P(rank <= x) = ln(x+1)/ln(USERS)).
    await db.query(
      `CREATE UNLOGGED TABLE bench_msg AS
       SELECT m, md5('msg' || m)::uuid AS id, md5('obj' || m)::uuid AS env,
              LEAST($2::int - 1, floor(exp(random() * ln($2::float8))) - 1)::int AS sender,
              LEAST($3::int - 1, floor(exp(random() * ln($3::float8))) - 1)::int AS r1,
              floor(random() * $3)::int AS r2
       FROM generate_series(1, $1::int) m`,
      [MESSAGES, USERS, EXTERNALS],
    );
    // Two different recipients per message (so no conflict handling is needed while loading).
    await db.query('UPDATE bench_msg SET r2 = (r2 + 1) % $1 WHERE r2 = r1', [EXTERNALS]);
    await db.query(`ALTER TABLE bench_msg ADD COLUMN e1 text, ADD COLUMN e2 text`);
    await db.query(
      `UPDATE bench_msg SET e1 = 'person' || r1 || '@partner' || (r1 % 5000) || '.example', e2 = 'person' || r2 || '@partner' || (r2 % 5000) || '.example'`,
    );
    await db.query(
      `INSERT INTO sealed_objects (id, tenant_id, region, key_id, kek_id, wrapped_key, blob_key, format_version, segment_size, plaintext_length, created_at)
       SELECT o.id, u.tenant_id, 'uk', gen_random_uuid(), k.id, sha256(convert_to(o.id::text, 'UTF8')), replace(o.id::text, '-', ''), 1, 1048576, 2048, now() - (o.m % 700) * interval '1 day'
       FROM (SELECT m, sender, env AS id FROM bench_msg UNION ALL SELECT m, sender, md5('att' || m)::uuid FROM bench_msg WHERE m % 5 = 0) o
       JOIN users u ON u.id = md5('user' || o.sender)::uuid
       JOIN key_encryption_keys k ON k.tenant_id = u.tenant_id AND k.state = 'active'`,
    );
    await db.query(
      `INSERT INTO messages (id, tenant_id, thread_id, sender_user_id, sender_email, label_id, envelope_object_id, attachment_count, created_at)
       SELECT b.id, u.tenant_id, b.id, u.id, u.email, l.id, b.env, CASE WHEN b.m % 5 = 0 THEN 1 ELSE 0 END, now() - (b.m % 700) * interval '1 day'
       FROM bench_msg b JOIN users u ON u.id = md5('user' || b.sender)::uuid JOIN labels l ON l.tenant_id = u.tenant_id`,
    );
    await db.query(`INSERT INTO message_attachments (message_id, position, object_id) SELECT id, 0, md5('att' || m)::uuid FROM bench_msg WHERE m % 5 = 0`);
    await db.query(
      `INSERT INTO message_recipients (id, message_id, tenant_id, email, kind, link_token_hash, delivery_status, added_at)
       SELECT md5('rcp' || b.m || '.' || k)::uuid, b.id, m.tenant_id, CASE k WHEN 1 THEN b.e1 ELSE b.e2 END,
              CASE k WHEN 1 THEN 'to' ELSE 'cc' END, sha256(convert_to(b.m || '.' || k, 'UTF8')), 'sent', m.created_at
       FROM bench_msg b JOIN messages m ON m.id = b.id CROSS JOIN generate_series(1, 2) k`,
    );
    await db.query(
      `INSERT INTO prevent_observations (tenant_id, message_id, source, observed_at, sender, recipients, terms, thread_key, label_rank)
       SELECT m.tenant_id, m.id, 'sent', m.created_at, m.sender_email,
              jsonb_build_array(jsonb_build_object('a', b.e1, 'r', 'to'), jsonb_build_object('a', b.e2, 'r', 'cc')),
              jsonb_build_array(substr(md5(m.id::text), 1, 16)), m.thread_id::text, 1
       FROM bench_msg b JOIN messages m ON m.id = b.id`,
    );
    await db.query(
      `INSERT INTO audit_events (chain, chain_seq, id, tenant_id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, details, prev_hash, hash)
       SELECT m.tenant_id::text, COALESCE(h.seq, 0) + row_number() OVER (PARTITION BY m.tenant_id ORDER BY m.created_at, m.id), gen_random_uuid(), m.tenant_id,
              date_trunc('milliseconds', m.created_at), 'user', m.sender_user_id::text, 'message.sent', 'message', m.id::text, 'success', '198.51.100.1',
              jsonb_build_object('recipients', 2), sha256(convert_to(m.id::text, 'UTF8')), sha256(convert_to(m.id::text || 'h', 'UTF8'))
       FROM messages m LEFT JOIN (SELECT chain, max(chain_seq) AS seq FROM audit_events GROUP BY chain) h ON h.chain = m.tenant_id::text`,
    );
    await db.query('DROP TABLE bench_msg');
    await db.query('ANALYZE');
  });
  const { rows: counts } = await db.query<{ people: string; messages: string }>(
    `SELECT (SELECT count(*) FROM users) + (SELECT count(DISTINCT email) FROM message_recipients) AS people, (SELECT count(*) FROM messages) AS messages`,
  );
  const people = Number(counts[0]!.people);
  const messages = Number(counts[0]!.messages);
  log(`built in ${buildS.toFixed(1)} s: ${people} people, ${messages} messages (load ${load()})`);

  const { rows: heavy } = await db.query<{ id: string; email: string; tenant_id: string; n: string }>(
    `SELECT u.id, u.email, u.tenant_id, count(*) AS n FROM messages m JOIN users u ON u.id = m.sender_user_id JOIN tenants t ON t.id = u.tenant_id
     WHERE t.plan = 'business' AND u.role <> 'disabled' GROUP BY u.id HAVING count(*) >= 5000 ORDER BY count(*) LIMIT 2`,
  );
  if (heavy.length < 2) throw new Error('fewer than two subjects with >= 5,000 messages; raise BENCH_MESSAGES');
  const [after, before] = heavy as [(typeof heavy)[0], (typeof heavy)[0]];

  /** The same reads as the export, straight SQL. */
  const rawExport = async (s: { id: string; email: string }) => {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    const [, secs] = await timed(async () => {
      const ids = [s.email, s.id];
      await c.query('SELECT * FROM users WHERE id = $1', [s.id]);
      await c.query('SELECT * FROM messages WHERE sender_user_id = $1 OR sender_email = $2', [s.id, s.email]);
      await c.query('SELECT * FROM message_recipients WHERE email = $1', [s.email]);
      await c.query('SELECT * FROM audit_events WHERE actor_id = ANY($1::text[]) OR target_id = ANY($1::text[])', [ids]);
      await c.query('SELECT * FROM prevent_observations WHERE sender = $1 OR recipients @> $2::jsonb', [s.email, JSON.stringify([{ a: s.email }])]);
      await c.query('SELECT * FROM sessions WHERE user_id = $1', [s.id]);
    });
    await c.end();
    return secs;
  };
  /** The same writes as the erasure (instructed), in one transaction, rolled back. */
  const rawErase = async (s: { id: string; email: string; tenant_id: string }) => {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    const [, secs] = await timed(async () => {
      await c.query('BEGIN');
      await c.query('DELETE FROM prevent_observations WHERE tenant_id = $1 AND (sender = $2 OR recipients @> $3::jsonb)', [s.tenant_id, s.email, JSON.stringify([{ a: s.email }])]);
      await c.query(
        `UPDATE sealed_objects SET wrapped_key = NULL, kek_id = NULL, shredded_at = now() WHERE id IN (
           SELECT envelope_object_id FROM messages WHERE sender_user_id = $1 UNION SELECT a.object_id FROM message_attachments a JOIN messages m ON m.id = a.message_id WHERE m.sender_user_id = $1)`,
        [s.id],
      );
      await c.query("UPDATE messages SET sender_email = 'erased@erased.invalid' WHERE sender_email = $1", [s.email]);
      await c.query("UPDATE audit_events SET actor_id = 'pseud:x', ip = NULL WHERE actor_id = $1", [s.id]);
      await c.query('DELETE FROM sessions WHERE user_id = $1', [s.id]);
      await c.query('ROLLBACK');
    });
    await c.end();
    return secs;
  };
  const measure = async (s: (typeof heavy)[0]) => {
    const subject = { emails: [s.email], userIds: [] };
    const rawExportS = await rawExport(s);
    profiler.reset();
    const [exp, exportS] = await timed(() => engine.exportAccess(subject));
    profiler.report((l) => log(`  export ${l}`));
    const rawEraseS = await rawErase(s);
    profiler.reset();
    const [report, eraseS] = await timed(() => engine.erase(subject, { instructedBy: [s.tenant_id] }));
    profiler.report((l) => log(`  erase  ${l}`));
    // The request workflow then proves nothing identifying is left: every personal column, as text.
    const [verification, verifyS] = await timed(() => engine.verifyErased(report.identifiers!));
    log(`subject with ${s.n} messages: export ${exportS.toFixed(3)} s (${exp.zip.length} bytes; raw ${rawExportS.toFixed(3)} s), erasure ${eraseS.toFixed(3)} s, verification ${verifyS.toFixed(3)} s (${verification.remaining.length} columns with rows left) (shredded ${report.shredded}, masked ${JSON.stringify(report.masked)}, deleted ${JSON.stringify(report.deleted)}; raw ${rawEraseS.toFixed(3)} s) (load ${load()})`);
    return { exportS, eraseS, verifyS, rawExportS, rawEraseS };
  };

  for (const ix of ENGINE_INDEXES) await db.query(`DROP INDEX ${ix.split(' ')[0]}`);
  await db.query('ANALYZE');
  log('without migration 0010 indexes:');
  const noIx = await measure(before);
  for (const ix of ENGINE_INDEXES) await db.query(`CREATE INDEX ${ix}`);
  await db.query('ANALYZE');
  log('with migration 0010 indexes:');
  const withIx = await measure(after);

  // Retention over everything, default policies (blob deletion is a no-op: there are no blobs).
  const retention = createRetention({ db: profiler.db, deleteBlob: async () => {}, prevent: prevent.service });
  profiler.reset();
  const [run, retentionS] = await timed(() => retention.runRetention({ dryRun: false }));
  profiler.report((l) => log(`  retention ${l}`));
  log(`retention: removed ${run.totalRemoved} rows in ${retentionS.toFixed(1)} s ${JSON.stringify(run.tables)} (load ${load()})`);

  const summary = {
    people,
    messages,
    subject_messages: Number(after.n),
    access_export_s: round(withIx.exportS),
    erasure_s: round(withIx.eraseS),
    erasure_verification_s: round(withIx.verifyS),
    retention_rows_per_s: Math.round(run.totalRemoved / retentionS),
    retention_rows_removed: run.totalRemoved,
    raw_export_s: round(withIx.rawExportS),
    raw_erasure_s: round(withIx.rawEraseS),
    access_export_before_index_s: round(noIx.exportS),
    erasure_before_index_s: round(noIx.eraseS),
    subject_messages_before_index: Number(before.n),
    build_s: reused ? null : round(buildS, 1),
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
  console.log(JSON.stringify(summary));
} finally {
  await db.close();
  if (KEEP === undefined) {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) => log(`could not drop ${name}: ${String(err)}`));
    await rm(dir, { recursive: true, force: true });
  } else log(`kept ${name} and its root key in ${dir} (BENCH_DATABASE)`);
  await admin.end();
}
