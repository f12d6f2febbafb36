// The load generator of `npm run bench:api`, forked as its own process so that neither
// autocannon nor the raw-SQL loop shares the server's event loop. It takes one job at a time
// over IPC and answers with what it measured; see bench/api.bench.ts.
import autocannon from 'autocannon';
import { RawOpenLoop, type RawOpenOptions } from './raw-open.ts';

/** An HTTP scenario: one request shape, optionally with a recipient session per request (round robin). */
export interface HttpJob {
  kind: 'http';
  /** Several URLs (server processes of one installation) share the connections round robin. */
  url: string | string[];
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  seconds: number;
  /** Sent as X-Recipient-Session, the next one for every request. */
  sessions?: string[];
}

/** One window of the raw-SQL scenario (the pool stays open between windows). */
export interface SqlJob {
  kind: 'sql';
  options: RawOpenOptions;
  seconds: number;
}

/** What one window measured: every latency, so windows can be pooled into one distribution. */
export interface Window {
  seconds: number;
  /** Successful operations (2xx responses, or completed raw key releases). */
  ok: number;
  /** Latency of every operation in ms, failures included (as autocannon counts them). */
  latencies: number[];
  failed: number;
  statusCodes: Record<string, number>;
}

export type DriverReply = { ok: true; window: Window } | { ok: false; error: string };

async function runHttp(job: HttpJob): Promise<Window> {
  let next = 0;
  const sessions = job.sessions;
  const latencies: number[] = [];
  const options: autocannon.Options = {
    // autocannon takes an array of URLs too, giving each connection the next one (its types say string).
    url: (Array.isArray(job.url) ? job.url.map((u) => `${u}${job.path}`) : `${job.url}${job.path}`) as string,
    connections: job.connections,
    pipelining: 1,
    duration: job.seconds,
    method: job.method,
    headers: job.headers,
    body: job.body,
    ...(sessions
      ? {
          requests: [
            {
              setupRequest: (req) => {
                req.headers = { ...req.headers, 'x-recipient-session': sessions[next++ % sessions.length]! };
                return req;
              },
            },
          ],
        }
      : {}),
  };
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, n] of Object.entries((r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) statusCodes[code] = n.count;
  return { seconds: r.duration, ok: r['2xx'], latencies, failed: r.non2xx + r.errors + r.timeouts, statusCodes };
}

let raw: RawOpenLoop | undefined;

process.on('message', (job: HttpJob | SqlJob) => {
  const work = job.kind === 'http' ? runHttp(job) : (raw ??= new RawOpenLoop(job.options)).run(job.seconds);
  work.then(
    (window) => process.send!({ ok: true, window } satisfies DriverReply),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies DriverReply),
  );
});
process.on('disconnect', () => void (raw?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
