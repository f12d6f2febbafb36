// `sealpost jobs run`: delivers what is queued (recipient notifications, subject-request
// notices, sub-processor alerts, …) once, without a server, then exits. A running server does
// this continuously; this is for installations that use the CLI alone, and for scripts that
// must know the queue is empty before going on. Safe next to a running server: jobs are
// claimed with a lease, so each runs once.
import type { Command } from 'commander';
import { type CliIo, withRuntime } from '../context.ts';

export function registerJobCommands(program: Command, io: CliIo): void {
  const jobs = program.command('jobs').description('background jobs (notifications and notices)');
  jobs
    .command('run')
    .description('run every job that is due now, until none is left, then report and exit')
    .action(async () => {
      await withRuntime(async (rt) => {
        let ran = 0;
        for (let n = await rt.jobs.runDue(); n > 0; n = await rt.jobs.runDue()) ran += n;
        // What is left: jobs that failed and wait for their retry, or are not due yet.
        const { rows } = await rt.db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM jobs WHERE status IN ('queued', 'failed') GROUP BY status`);
        const left = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
        io.out(`Ran ${ran} job attempt${ran === 1 ? '' : 's'}; ${left.queued ?? 0} queued for later (retries or not yet due), ${left.failed ?? 0} failed for good.`);
      });
    });
}
