// Retention throughput on PostgreSQL: a scratch database with BENCH_RETENTION_MESSAGES old
// messages (each with one recipient and a sealed envelope: shredded, then the three rows deleted),
// as many old audit events and old Smart Data observations, then one timed run (after a timed dry
// run). Prints one JSON line: rows removed per second (deleted rows + shredded objects).
// Blob deletion is a no-op here (the seeded objects have no ciphertext): it measures the database.
// DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres:postgres@127.0.0.1:5432/postgres.
import os from 'node:os';
import pg from 'pg';
import { createRetention } from '../src/privacy/retention/retention.ts';
import { createPrevent } from '../src/prevent/prevent.ts';
import { KeyService } from '../src/keys/key.service.ts';
import { LocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { migrate } from '../src/storage/database/migrate.ts';
import { openPostgresDatabase } from '../src/storage/database/postgres-database.ts';
import { profiledDatabase } from './support/sql-profile.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';

const SERVER_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const MESSAGES = Number(process.env.BENCH_RETENTION_MESSAGES ?? 50_000);
const BATCH = Number(process.env.BENCH_RETENTION_BATCH ?? 20_000);
const log = (line: string) => process.stderr.write(`${line}\n`);

const name = `sealpost_bench_retention_${Math.random().toString(16).slice(2, 10)}`;
const admin = new pg.Client({ connectionString: SERVER_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(SERVER_URL);
url.pathname = `/${name}`;
const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-bench-retention-'));
const db = await openPostgresDatabase(url.toString(), { max: 4 });
try {
  await migrate(db);
  const tenant = crypto.randomUUID();
  const old = new Date(Date.now() - 3 * 366 * 86_400_000);
  await db.query(`INSERT INTO tenants (id, name, region) VALUES ($1, 'Bench Ltd', 'uk')`, [tenant]);
  const kek = crypto.randomUUID();
  await db.query(`INSERT INTO key_encryption_keys (id, tenant_id, region, version, state, root_key_id, wrapped_key) VALUES ($1, $2, 'uk', 1, 'active', 'bench', '\\x00')`, [kek, tenant]);
  const label = crypto.randomUUID();
  await db.query(`INSERT INTO labels (id, tenant_id, name, rank, auth_level) VALUES ($1, $2, 'internal', 0, 'email_code')`, [label, tenant]);
  const user = crypto.randomUUID();
  await db.query(`INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, 'bench@bench.example', 'Bench', 'author', now(), now())`, [user, tenant]);
  log(`seeding ${MESSAGES} messages (+ recipients, envelopes), ${MESSAGES} audit events, ${MESSAGES} observations…`);
  const t0 = performance.now();
  await db.query(
    `INSERT INTO sealed_objects (id, tenant_id, region, key_id, kek_id, wrapped_key, blob_key, format_version, segment_size, plaintext_length, created_at)
     SELECT md5('o' || i)::uuid, $1, 'uk', md5('k' || i)::uuid, $2, '\\x01', 'blob-' || i, 1, 65536, 100, $3 FROM generate_series(1, $4) i`,
    [tenant, kek, old, MESSAGES],
  );
  await db.query(
    `INSERT INTO messages (id, tenant_id, thread_id, sender_user_id, sender_email, label_id, envelope_object_id, attachment_count, created_at)
     SELECT md5('m' || i)::uuid, $1, md5('m' || i)::uuid, $2, 'bench@bench.example', $3, md5('o' || i)::uuid, 0, $4 FROM generate_series(1, $5) i`,
    [tenant, user, label, old, MESSAGES],
  );
  await db.query(
    `INSERT INTO message_recipients (id, message_id, tenant_id, email, kind, link_token_hash, added_at)
     SELECT md5('r' || i)::uuid, md5('m' || i)::uuid, $1, 'r' || (i % 5000) || '@partner.example', 'to', decode(md5('t' || i), 'hex'), $2 FROM generate_series(1, $3) i`,
    [tenant, old, MESSAGES],
  );
  // Audit rows are not a valid chain here (hashes are filler); retention only deletes a prefix.
  await db.query(
    `INSERT INTO audit_events (chain, chain_seq, id, tenant_id, occurred_at, actor_type, action, outcome, prev_hash, hash)
     SELECT $1::text, i, md5('a' || i)::uuid, $1::uuid, $2, 'system', 'bench.event', 'success', decode(md5('p' || i) || md5('p' || i), 'hex'), decode(md5('h' || i) || md5('h' || i), 'hex')
       FROM generate_series(1, $3) i`,
    [tenant, new Date(Date.now() - 8 * 366 * 86_400_000), MESSAGES],
  );
  await db.query(
    `INSERT INTO prevent_observations (tenant_id, source, observed_at, sender, recipients, terms)
     SELECT $1, 'import', $2, 'bench@bench.example', '[{"a":"x@partner.example","r":"to"}]', '[]' FROM generate_series(1, $3)`,
    [tenant, old, MESSAGES],
  );
  await db.query(`ANALYZE`);
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const provider = await LocalKeyProvider.open(path.join(dir, 'root-keys.json'), { create: true });
  const prevent = createPrevent({ db, keys: new KeyService(db, provider) });
  // BENCH_PROFILE=1: time spent per statement kind, printed to stderr.
  const profiler = profiledDatabase(db);
  const retention = createRetention({ db: profiler.db, deleteBlob: async () => {}, prevent: prevent.service });
  await retention.service.setPolicy({ type: 'operator', id: 'cli:bench' }, tenant, 'content', 'P2Y');

  let t = performance.now();
  const dry = await retention.runRetention({ dryRun: true, tenantId: tenant, batchSize: BATCH });
  const drySeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const real = await retention.runRetention({ dryRun: false, tenantId: tenant, batchSize: BATCH });
  const seconds = (performance.now() - t) / 1000;
  const rows = real.totalRemoved;
  const deleted = Object.values(real.tables).reduce((n, c) => n + c.deleted, 0);
  log(JSON.stringify(real.tables));
  profiler.report(log);
  process.stdout.write(
    `${JSON.stringify({ messages: MESSAGES, batch: BATCH, rows_removed: rows, rows_deleted: deleted, deleted_rows_per_s: Math.round(deleted / seconds), seconds: Math.round(seconds * 100) / 100, retention_rows_per_s: Math.round(rows / seconds), dry_run_s: Math.round(drySeconds * 100) / 100, dry_equals_real: JSON.stringify(dry.tables) === JSON.stringify(real.tables), load: os.loadavg().map((x) => x.toFixed(2)).join(' ') })}\n`,
  );
} finally {
  await db.close();
  await admin.query(`DROP DATABASE ${name}`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
