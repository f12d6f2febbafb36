// Does a refusal take measurably longer when the thing asked for exists? Issue #3 asks that a
// user of another organisation learn nothing, "no timing or message differences that reveal
// existence". The messages are compared in test/e2e/messages.test.ts; timing cannot be asserted
// in a test, so it is measured here.
//
// The real server on embedded PGlite. A user of organisation B asks, interleaved, for a message
// that exists in organisation A and for a random id that exists nowhere, on several sender
// routes. For each route it reports the
// medians, the difference of medians with a bootstrap 95% interval, and the Mann-Whitney U
// z-score (|z| < 3: no difference distinguishable with this many samples). The machine's own
// limit here is the noise floor: the same comparison between two halves of the missing-id
// samples (A/A), in the same run. BENCH_TIMING_SAMPLES (default 1500 per side and route).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTenant } from '../src/accounts/tenant.repository.ts';
import type { Principal } from '../src/accounts/account.model.ts';
import { loadConfig } from '../src/config/config.ts';
import { startServer } from '../src/runtime/server.ts';
import { createLogger } from '../src/shared/logger.ts';

const SAMPLES = Number(process.env.BENCH_TIMING_SAMPLES ?? 1500);
const log = (line: string) => process.stderr.write(`${line}\n`);

const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-bench-timing-'));
const server = await startServer(loadConfig({ PORT: '0', DATA_DIR: dir }), { logger: createLogger('silent') });
try {
  const rt = server.runtime;
  async function userWithToken(email: string, tenantName: string): Promise<string> {
    const tenant = await createTenant(rt.db, { name: tenantName, region: 'uk' });
    const invited = await rt.accounts.users.create({ type: 'operator', id: 'bench' }, { tenantId: tenant.id, email, displayName: email.split('@')[0]!, role: 'author' });
    const created = await rt.accounts.tokens.create({ via: 'api_token', user: invited.user } as unknown as Principal, { name: 'bench' }, {});
    return created.token;
  }
  const owner = await userWithToken('owner@a.example', 'A Ltd');
  const stranger = await userWithToken('stranger@b.example', 'B Ltd');
  const call = async (token: string | null, method: string, p: string, body?: unknown): Promise<number> => {
    const started = process.hrtime.bigint();
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    await res.arrayBuffer();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };

  const sent = await fetch(`${server.url}/api/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: ['someone@partner.example'], subject: 'Exists', text: 'x' }),
  });
  if (sent.status !== 201) throw new Error(`could not send the message to probe: ${sent.status} ${await sent.text()}`);
  const { id } = (await sent.json()) as { id: string };

  const routes: Array<{ name: string; probe: (target: string) => Promise<number> }> = [
    { name: 'GET /messages/:id', probe: (t) => call(stranger, 'GET', `/api/v1/messages/${t}`) },
    { name: 'GET /messages/:id/audit', probe: (t) => call(stranger, 'GET', `/api/v1/messages/${t}/audit`) },
    { name: 'PATCH /messages/:id', probe: (t) => call(stranger, 'PATCH', `/api/v1/messages/${t}`, { expiresAt: null }) },
  ];

  const results: Record<string, unknown> = {};
  let worstZ = 0;
  for (const route of routes) {
    // Warm-up, then interleave so drift in machine load hits both sides alike.
    for (let i = 0; i < 50; i++) await route.probe(crypto.randomUUID());
    const existing: number[] = [];
    const missing: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (i % 2 === 0) {
        existing.push(await route.probe(id));
        missing.push(await route.probe(crypto.randomUUID()));
      } else {
        missing.push(await route.probe(crypto.randomUUID()));
        existing.push(await route.probe(id));
      }
    }
    const ab = compare(existing, missing);
    const aa = compare(missing.filter((_, i) => i % 2 === 0), missing.filter((_, i) => i % 2 === 1));
    worstZ = Math.max(worstZ, Math.abs(ab.z));
    results[route.name] = { existing_median_ms: ab.medianA, missing_median_ms: ab.medianB, diff_ms: ab.diff, diff_ci95_ms: ab.ci, z: ab.z, noise_aa_z: aa.z, noise_aa_diff_ms: aa.diff };
    log(`${route.name}: existing ${ab.medianA.toFixed(3)} ms, missing ${ab.medianB.toFixed(3)} ms, diff ${ab.diff.toFixed(3)} ms [${ab.ci[0].toFixed(3)}, ${ab.ci[1].toFixed(3)}], z ${ab.z.toFixed(2)} (A/A z ${aa.z.toFixed(2)})`);
  }
  console.log(JSON.stringify({ samples_per_side: SAMPLES, worst_abs_z: round(worstZ), routes: results, loadavg: os.loadavg().map(round) }));
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Medians, their difference with a bootstrap 95% interval, and the Mann-Whitney U z-score. */
function compare(a: number[], b: number[]): { medianA: number; medianB: number; diff: number; ci: [number, number]; z: number } {
  const diffs: number[] = [];
  for (let r = 0; r < 400; r++) {
    const ra = a.map(() => a[Math.floor(Math.random() * a.length)]!);
    const rb = b.map(() => b[Math.floor(Math.random() * b.length)]!);
    diffs.push(median(ra) - median(rb));
  }
  diffs.sort((x, y) => x - y);
  // Mann-Whitney U with average ranks for ties.
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k]!.g === 0) rankSumA += rank;
    i = j;
  }
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const z = (u - (n1 * n2) / 2) / Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  return { medianA: round(median(a)), medianB: round(median(b)), diff: round(median(a) - median(b)), ci: [round(diffs[10]!), round(diffs[389]!)], z: round(z) };
}
