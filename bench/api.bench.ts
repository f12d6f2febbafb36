// npm run bench:api — the API under load on PostgreSQL, against the database's own limit in
// the same run. Ends with one JSON line:
//   {"open_rps","open_p99_ms","raw_sql_rps","ratio","send_rps","send_p99_ms"}
// Targets (issue 3): ratio = open_rps / raw_sql_rps >= 0.5, open_p99_ms <= 50, send_rps >= 300.
//
// Set-up (untimed): a fresh database sealpost_bench_<random> on PostgreSQL, the real server
// (startServer, as `sealpost serve`) in this process with mail going to the outbox folder; a
// sender with an API token; BENCH_MESSAGES messages (default 64), each with a 4 KiB attachment
// and four recipients (to, cc, two bcc), sent over HTTP; one verified recipient session per
// recipient (256 by default): code requested through the recipient-access service, read back
// from the outbox .eml, verified. (In-process rather than over HTTP only because the API
// rightly limits code requests to 30 per IP address per hour.)
//
// Load comes from bench/support/load-driver.ts in a separate process, 64 connections, a
// warm-up (BENCH_WARMUP_SECONDS, default 3) then BENCH_SECONDS (default 12) measured:
// - open: POST /api/v1/access/open, the next recipient session on every request, one client
//   P-256 public key (the server still does ECDH + HKDF + unwraps + wraps per request).
// - raw_sql: the same statements and transaction per open, straight through node-postgres
//   with a pool of DATABASE_POOL_MAX connections, 64 concurrent workers (bench/support/raw-open.ts).
//   open and raw_sql alternate in BENCH_ROUNDS (default 3) windows each, so that whatever else
//   the machine does touches both alike; latencies are pooled over the windows.
// - send: POST /api/v1/messages with a 1 KiB body to one recipient; the notification job is
//   enqueued and the server's job runner delivers it to the outbox meanwhile. After the window
//   the bench waits until every notification was delivered and prints the CPU per send,
//   notification included (server and PostgreSQL), which does not depend on how the event loop
//   shared itself between sends and jobs.
// Detail goes to stderr, including where the CPU went in each scenario and how busy the
// server's event loop was (bench/support/cpu-shares.ts); BENCH_SAMPLE_DB=1 and
// BENCH_CPU_PROFILE_DIR add diagnostics (see docs/development.md). Nothing is asserted: the figures are what this machine did.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { verifyAuditChains } from '../src/audit/audit.service.ts';
import { loadConfig } from '../src/config/config.ts';
import { createClientKeyPair, openKeyRelease } from '../src/crypto/node/key-release.ts';
import { NOTIFY_RECIPIENT_JOB } from '../src/messages/message.service.ts';
import { startServer, type RunningServer } from '../src/runtime/server.ts';
import { createLogger } from '../src/shared/logger.ts';
import { openPostgresDatabase } from '../src/storage/database/postgres-database.ts';
import { createTestUser } from '../test/support/api-users.ts';
import { CpuShares } from './support/cpu-shares.ts';
import type { DriverReply, HttpJob, SqlJob, Window } from './support/load-driver.ts';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const POOL_MAX = Number(process.env.DATABASE_POOL_MAX ?? 10);
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 64);
/** Server processes of the installation (docs/scaling.md): this one, and the rest forked. */
const PROCESSES = Math.max(1, Number(process.env.BENCH_SERVER_PROCESSES ?? 1));
/** Samples what the database connections are doing (pg_stat_activity, every 100 ms) and prints the shares. */
const SAMPLE_DB = process.env.BENCH_SAMPLE_DB === '1';
/** Writes V8 CPU profiles of the server process during open and send into this folder. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;

const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

async function adminQuery(sql: string): Promise<void> {
  const db = await openPostgresDatabase(ADMIN_URL, { max: 1 });
  try {
    await db.query(sql);
  } finally {
    await db.close();
  }
}

/** One job for the load driver; resolves with what it measured. */
function drive(driver: ChildProcess, job: HttpJob | SqlJob): Promise<Window> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load driver exited (${code})`));
    driver.once('exit', onExit);
    driver.once('message', (reply: DriverReply) => {
      driver.off('exit', onExit);
      if (reply.ok) resolve(reply.window);
      else reject(new Error(`load driver failed: ${reply.error}`));
    });
    driver.send(job);
  });
}

/** Figures of one scenario, pooled over its windows. */
interface Summary {
  rps: number;
  ok: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statusCodes: Record<string, number>;
}

function summarise(windows: Window[]): Summary {
  const latencies = windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * p) - 1)] ?? NaN;
  const statusCodes: Record<string, number> = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const ok = windows.reduce((n, w) => n + w.ok, 0);
  const seconds = windows.reduce((n, w) => n + w.seconds, 0);
  return { rps: ok / seconds, ok, failed: windows.reduce((n, w) => n + w.failed, 0), p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: latencies.at(-1) ?? NaN, statusCodes };
}

const describe = (s: Summary, unit: string) =>
  `${s.rps.toFixed(0)} ${unit}/s, p50 ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms; ${s.ok} ok, ${s.failed} failed${Object.keys(s.statusCodes).length ? ` ${JSON.stringify(s.statusCodes)}` : ''}`;

/** Code of each recipient, from the one-time code emails in the outbox folder (the e2e tests read SMTP the same way). */
async function codesFromOutbox(dir: string): Promise<Map<string, string>> {
  const codes = new Map<string, string>();
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort()) {
    const text = await readFile(path.join(dir, name), 'utf8');
    const split = text.search(/\n\n/);
    const code = /code is (\d{6})/.exec(text.slice(split))?.[1];
    const to = /^To: (.+)$/m.exec(text.slice(0, split))?.[1]?.trim();
    if (code && to) codes.set(to, code);
  }
  return codes;
}

/**
 * Samples pg_stat_activity of the bench database every 100 ms while a labelled phase runs, and
 * reports how many connections of each pool were on average in each state: e.g. 'active
 * Lock:advisory' waits for an audit chain, 'idle in transaction' waits for the application.
 */
class DbSampler {
  private readonly counts = new Map<string, { samples: number; states: Map<string, number> }>();

  constructor(private readonly databaseUrl: string) {}

  async during<T>(label: string, fn: () => Promise<T>): Promise<T> {
    if (!SAMPLE_DB) return fn();
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'sealpost-bench-sampler' });
    await client.connect();
    const entry = this.counts.get(label) ?? { samples: 0, states: new Map<string, number>() };
    this.counts.set(label, entry);
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      client
        .query<{ k: string; n: string }>(
          `SELECT application_name || ' ' || state || ' ' || coalesce(wait_event_type || ':' || wait_event, '') AS k, count(*) AS n
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1`,
        )
        .then(({ rows }) => {
          entry.samples++;
          for (const r of rows) entry.states.set(r.k.trim(), (entry.states.get(r.k.trim()) ?? 0) + Number(r.n));
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 100);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await client.end().catch(() => undefined);
    }
  }

  report(): void {
    for (const [label, { samples, states }] of this.counts) {
      const shares = [...states].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${(n / Math.max(samples, 1)).toFixed(2)} ${k}`);
      log(`  connections during ${label} (mean of ${samples} samples): ${shares.join('; ')}`);
    }
  }
}

/** CPU-profiles the server (this process) while `fn` runs, when BENCH_CPU_PROFILE_DIR is set. */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
    await mkdir(PROFILE_DIR, { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
    log(`cpu profile of the server during ${name}: ${file}`);
  }
}

const dbName = `sealpost_bench_${randomBytes(6).toString('hex')}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-bench-api-'));
let server: RunningServer | undefined;
let driver: ChildProcess | undefined;
/** The other server processes (BENCH_SERVER_PROCESSES > 1). */
const others: ChildProcess[] = [];
let dbCreated = false;
const started = performance.now();
/** open and send calls in progress (counted in the server's services, see below). */
let inFlight = 0;
/**
 * Waits (up to 10 s) until no open or send is in progress: autocannon drops its sockets at the
 * end of a window while the server is still handling their last requests, which must neither
 * spill into the next window nor see the pool closed under them.
 */
async function settled(): Promise<void> {
  for (let i = 0; i < 200 && inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
}
let cleaning: Promise<void> | undefined;
/** Stops the driver and the server (dropping the database under a running server would crash it), then drops the database and the data folder. */
const cleanUp = () =>
  (cleaning ??= (async () => {
    if (driver?.connected) driver.disconnect();
    driver?.kill();
    await Promise.all(
      others.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once('exit', resolve);
            child.send('stop');
            setTimeout(() => child.kill(), 10_000).unref();
          }),
      ),
    );
    // The server's close() does not wait for handlers whose client is gone.
    await settled();
    await Promise.race([server?.close(), new Promise((resolve) => setTimeout(resolve, 10_000))]).catch((err: unknown) => log(`closing the server: ${String(err)}`));
    if (dbCreated) await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err: unknown) => log(`dropping ${dbName}: ${String(err)}`));
    await rm(dataDir, { recursive: true, force: true });
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().then(() => process.exit(130)));
try {
  await adminQuery(`CREATE DATABASE ${dbName} TEMPLATE template0`);
  dbCreated = true;
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${dbName}`;
  const serverEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL: 'http://127.0.0.1:8080',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl.toString(),
    DATABASE_POOL_MAX: String(POOL_MAX),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(serverEnv);
  if (config.mail.kind !== 'outbox') throw new Error('expected the outbox mailer');
  server = await startServer(config, { logger: createLogger('warn') });
  const { url, runtime } = server;
  const { access, messages } = runtime.messaging;
  // Counts calls in progress, so the server is closed only after the last handler is done.
  for (const [service, name] of [[access, 'open'], [messages, 'send']] as const) {
    const original = (service as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!.bind(service);
    (service as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      inFlight++;
      try {
        return await original(...args);
      } finally {
        inFlight--;
      }
    };
  }

  // --- Set-up: a sender, messages with an attachment, verified recipient sessions.
  const sender = await createTestUser(server, { email: 'sender@bench.example', tenantName: 'Bench Ltd' });
  const auth = { authorization: `Bearer ${sender.token}` };
  const body1k = 'Please find the quarterly figures attached. '.repeat(24).slice(0, 1024);
  const sent = await mapLimit(Array.from({ length: MESSAGES }, (_, i) => i), 8, async (i) => {
    const file = randomBytes(4096);
    const up = await fetch(`${url}/api/v1/uploads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(file.length) }, body: new Uint8Array(file) });
    if (up.status !== 201) throw new Error(`upload failed: ${up.status} ${await up.text()}`);
    const { uploadId } = (await up.json()) as { uploadId: string };
    const res = await fetch(`${url}/api/v1/messages`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        to: [`to-${i}@partner.example`],
        cc: [`cc-${i}@partner.example`],
        bcc: [`bcc-a-${i}@partner.example`, `bcc-b-${i}@partner.example`],
        subject: `Figures ${i}`,
        text: body1k,
        label: 'confidential',
        attachments: [{ uploadId, filename: 'figures.bin', contentType: 'application/octet-stream' }],
      }),
    });
    if (res.status !== 201) throw new Error(`send failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; recipients: Array<{ id: string; email: string }> };
  });
  const recipients = sent.flatMap((m) => m.recipients);
  const links = await mapLimit(recipients, 16, async (r) => {
    const link = await messages.linkToken(sender.tenantId, r.id);
    await access.requestCode(link);
    return link;
  });
  const codes = await codesFromOutbox(config.mail.dir);
  const sessions = await mapLimit(recipients, 16, async (r, i) => {
    const code = codes.get(r.email);
    if (!code) throw new Error(`no code in the outbox for ${r.email}`);
    return (await access.verifyCode(links[i]!, code)).sessionToken;
  });
  // The release really opens: checked once, with the key pair every request will use.
  const pair = createClientKeyPair();
  const openBody = JSON.stringify({ clientPublicKey: pair.publicKey });
  const check = await fetch(`${url}/api/v1/access/open`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-recipient-session': sessions[0]! }, body: openBody });
  if (check.status !== 200) throw new Error(`open failed: ${check.status} ${await check.text()}`);
  const released = openKeyRelease(pair, ((await check.json()) as { keyRelease: unknown }).keyRelease);
  // The set-up's notifications are delivered before timing starts, so they do not compete with open.
  const pendingJobs = async () => Number((await runtime.db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')`)).rows[0]!.n);
  for (let i = 0; i < 300 && (await pendingJobs()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  log(
    `set-up: ${MESSAGES} messages (4 KiB attachment each), ${sessions.length} verified recipient sessions, ${released.size} keys per release; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s; PostgreSQL pool ${POOL_MAX}; ${os.availableParallelism()} cores`,
  );

  // The other server processes: the same installation on ports of their own; the load driver
  // shares its connections between all of them.
  const urls = [url];
  for (let i = 1; i < PROCESSES; i++) {
    const child = fork(new URL('./support/server-process.ts', import.meta.url), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SEALPOST_BENCH_SERVER_ENV: JSON.stringify(serverEnv) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    others.push(child);
    urls.push(
      await new Promise<string>((resolve, reject) => {
        child.once('message', (m: { url: string }) => resolve(m.url));
        child.once('exit', (code) => reject(new Error(`server process ${i + 1} exited with ${code} before it listened`)));
      }),
    );
  }
  const target = urls.length === 1 ? url : urls;
  if (PROCESSES > 1) log(`server processes: ${PROCESSES} (this one and ${PROCESSES - 1} forked), connections shared round robin`);

  driver = fork(new URL('./support/load-driver.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // --- open over HTTP and the same statements straight through node-postgres, in alternating
  // windows, so that a change in what else the machine is doing touches both alike.
  const window = SECONDS / ROUNDS;
  const openJob = (seconds: number): HttpJob => ({ kind: 'http', url: target, method: 'POST', path: '/api/v1/access/open', headers: { 'content-type': 'application/json' }, body: openBody, connections: CONNECTIONS, seconds, sessions });
  const rawJob = (seconds: number): SqlJob => ({ kind: 'sql', options: { databaseUrl: databaseUrl.toString(), poolMax: POOL_MAX, workers: CONNECTIONS, sessions, ip: '127.0.0.1' }, seconds });
  log(`open and raw_sql: ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} x (${window.toFixed(1)} s open + ${window.toFixed(1)} s raw_sql), ${CONNECTIONS} connections / workers; load average ${load()}`);
  const openWindows: Window[] = [];
  const rawWindows: Window[] = [];
  const sampler = new DbSampler(databaseUrl.toString());
  const cpu = new CpuShares(() => ({ server: [process.pid, ...others.map((child) => child.pid)], driver: driver?.pid }));
  await profiled('open', async () => {
    if (WARMUP_SECONDS > 0) {
      await drive(driver!, openJob(WARMUP_SECONDS));
      await drive(driver!, rawJob(WARMUP_SECONDS));
    }
    for (let r = 0; r < ROUNDS; r++) {
      await settled();
      openWindows.push(await cpu.during('open', () => sampler.during('open', () => drive(driver!, openJob(window)))));
      await settled();
      rawWindows.push(await cpu.during('raw_sql', () => sampler.during('raw_sql', () => drive(driver!, rawJob(window)))));
      log(`  round ${r + 1}: open ${(openWindows.at(-1)!.ok / openWindows.at(-1)!.seconds).toFixed(0)}/s, raw_sql ${(rawWindows.at(-1)!.ok / rawWindows.at(-1)!.seconds).toFixed(0)}/s; load average ${load()}`);
    }
  });
  const open = summarise(openWindows);
  const raw = summarise(rawWindows);
  log(`  open:    ${describe(open, 'req')}`);
  log(`  raw_sql: ${describe(raw, 'opens')}`);

  // --- send over HTTP.
  log(`send: ${WARMUP_SECONDS} s warm-up + ${SECONDS} s, ${CONNECTIONS} connections; load average ${load()}`);
  const sendJob = (seconds: number): HttpJob => ({
    kind: 'http',
    url: target,
    method: 'POST',
    path: '/api/v1/messages',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ to: ['reader@partner.example'], subject: 'Quarterly figures', text: body1k }),
    connections: CONNECTIONS,
    seconds,
  });
  const jobCounts = async () => {
    const { rows } = await runtime.db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM jobs WHERE kind = $1 GROUP BY status ORDER BY status`, [NOTIFY_RECIPIENT_JOB]);
    return rows.map((j) => `${j.status} ${j.n}`).join(', ');
  };
  // Notifications only: other kinds (a scheduled job set for later) are not the sends' work.
  const unfinishedJobs = async () => Number((await runtime.db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE kind = $1 AND status IN ('queued', 'running')`, [NOTIFY_RECIPIENT_JOB])).rows[0]!.n);
  log(`  notification jobs before: ${await jobCounts()}`);
  // Sends and the job runner share the server's thread and the pool, and the runner falls
  // behind under this load, so send_rps alone flatters whichever side the event loop favoured.
  // The whole cost of a send is measured too: CPU from the first warm-up send until every
  // notification it queued was delivered, divided by the sends.
  let drainSeconds = 0;
  let sends = 0;
  const send = await cpu.during('send, then notifications drained', async () => {
    const measured = await profiled('send', async () => {
      const warm = WARMUP_SECONDS > 0 ? await drive(driver!, sendJob(WARMUP_SECONDS)) : undefined;
      await settled();
      const window = await cpu.during('send', () => sampler.during('send', () => drive(driver!, sendJob(SECONDS))));
      await settled();
      sends = (warm?.ok ?? 0) + window.ok;
      return summarise([window]);
    });
    log(`  send:    ${describe(measured, 'req')}`);
    log(`  notification jobs at the end of the window: ${await jobCounts()}`);
    const t0 = performance.now();
    while ((await unfinishedJobs()) > 0 && performance.now() - t0 < 180_000) await new Promise((resolve) => setTimeout(resolve, 100));
    drainSeconds = (performance.now() - t0) / 1000;
    return measured;
  });
  log(`  notifications: ${await jobCounts()} after ${drainSeconds.toFixed(1)} s more`);
  const perSend = cpu.secondsOf('send, then notifications drained');
  if (perSend && sends > 0) {
    log(`  CPU per send including its notification (${sends} sends, warm-up included): server ${((perSend.get('server') ?? 0) * 1000 / sends).toFixed(2)} ms, postgres ${((perSend.get('postgres') ?? 0) * 1000 / sends).toFixed(2)} ms`);
  }
  sampler.report();
  cpu.report(log);
  // The raw loop appended to the same chain as the API: the whole chain must still verify.
  const t0 = performance.now();
  const verified = await verifyAuditChains(runtime.db, { tenantId: sender.tenantId, pageSize: 5000 });
  log(`audit chain of the tenant: ${verified.chains[0]?.events ?? 0} events, ${verified.ok ? 'verifies' : `${verified.problems.length} PROBLEMS, first ${JSON.stringify(verified.problems[0])}`} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  log(`total ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${load()}`);

  const r1 = (x: number) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify({
      open_rps: Math.round(open.rps),
      open_p99_ms: r1(open.p99),
      raw_sql_rps: Math.round(raw.rps),
      ratio: Math.round((open.rps / raw.rps) * 100) / 100,
      send_rps: Math.round(send.rps),
      send_p99_ms: r1(send.p99),
    }),
  );
} finally {
  await cleanUp();
}
