// Durable background jobs in the database: enqueued in the same transaction as the change that
// needs them (so a committed send always has its notifications queued, and a rolled-back one
// never does), claimed with FOR UPDATE SKIP LOCKED so several processes can share the work.
import { randomId } from '../crypto/keys.ts';
import type { Sql } from '../storage/database/database.ts';
import { prepared } from '../storage/database/prepared.ts';

/** A queued job as handlers see it. */
export interface Job<P = Record<string, unknown>> {
  id: string;
  kind: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
}

interface JobRow {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
}

/** A job to enqueue. Payloads are System Data: ids only, never secrets or Content. */
export interface JobInput {
  kind: string;
  payload: Record<string, unknown>;
  maxAttempts?: number;
  runAt?: Date;
}

/** Enqueues a job; its id. */
export async function enqueueJob(sql: Sql, input: JobInput): Promise<string> {
  return (await enqueueJobs(sql, [input]))[0]!;
}

/**
 * Enqueues jobs in one statement (a send's notifications, one per recipient); their ids, in
 * order. The rows travel as one JSON parameter, so the statement text is the same for
 * any number of jobs and is prepared once.
 */
export async function enqueueJobs(sql: Sql, inputs: JobInput[]): Promise<string[]> {
  if (inputs.length === 0) return [];
  const rows = inputs.map((input) => ({ id: randomId(), kind: input.kind, payload: input.payload, max_attempts: input.maxAttempts ?? 8, run_at: input.runAt?.toISOString() ?? null }));
  const { rowCount } = await sql.query(
    prepared(`INSERT INTO jobs (id, kind, payload, status, max_attempts, run_at)
      SELECT j.id, j.kind, j.payload, 'queued', j.max_attempts, COALESCE(j.run_at, now())
        FROM jsonb_to_recordset($1::jsonb) AS j(id uuid, kind text, payload jsonb, max_attempts integer, run_at timestamptz)`),
    [JSON.stringify(rows)],
  );
  if (rowCount !== rows.length) throw new Error(`enqueued ${rowCount} of ${rows.length} jobs`);
  return rows.map((r) => r.id);
}

/**
 * Claims up to `limit` due jobs of the given kinds: queued ones whose time has come, and
 * running ones whose lease expired (their process died). The lease is `leaseSeconds`.
 */
export async function claimJobs(sql: Sql, kinds: string[], limit: number, leaseSeconds: number): Promise<Job[]> {
  const { rows } = await sql.query<JobRow>(
    prepared(`UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = now() + make_interval(secs => $3)
      WHERE id IN (
        SELECT id FROM jobs
         WHERE kind = ANY($1::text[]) AND run_at <= now()
           AND (status = 'queued' OR (status = 'running' AND locked_until < now()))
         ORDER BY run_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, payload, attempts, max_attempts`),
    [kinds, limit, leaseSeconds],
  );
  return rows.map((r) => ({ id: r.id, kind: r.kind, payload: r.payload, attempt: r.attempts, maxAttempts: r.max_attempts }));
}

/** Marks jobs done, in one statement. */
export async function completeJobs(sql: Sql, ids: string[]): Promise<void> {
  await sql.query(prepared(`UPDATE jobs SET status = 'done', locked_until = NULL, last_error = NULL, finished_at = now() WHERE id = ANY($1::uuid[])`), [ids]);
}

/**
 * Records a failed attempt: the job is retried after `retryInSeconds`, or marked failed for
 * good when it has used all its attempts. Returns whether it will be retried.
 */
export async function failJob(sql: Sql, job: Job, error: string, retryInSeconds: number): Promise<boolean> {
  const retry = job.attempt < job.maxAttempts;
  if (retry) {
    await sql.query(`UPDATE jobs SET status = 'queued', locked_until = NULL, last_error = $2, run_at = now() + make_interval(secs => $3) WHERE id = $1`, [job.id, error.slice(0, 1000), retryInSeconds]);
  } else {
    await sql.query(`UPDATE jobs SET status = 'failed', locked_until = NULL, last_error = $2, finished_at = now() WHERE id = $1`, [job.id, error.slice(0, 1000)]);
  }
  return retry;
}

/** Exponential backoff with jitter: 5 s, 10 s, 20 s … capped at one hour. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(3600, 5 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
