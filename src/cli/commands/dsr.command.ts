// `sealpost dsr …`: the operator's side of data subject requests, where Sealpost is the
// controller (docs/privacy.md, "Subject requests"). Whoever runs the CLI holds the server's
// configuration and database, i.e. is the operator; every step is recorded with `cli:<user>`.
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { SUBJECT_REQUEST_KINDS, SUBJECT_REQUEST_STATUSES, type SubjectRequest, type SubjectRequestDetail, type SubjectRequestStatus } from '../../privacy/requests/request.model.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, processIo, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

const ALL = { operator: true } as const;

/** The operator as a request actor. */
function operator(): { type: 'operator'; id: string } {
  return { type: 'operator', id: operatorActor().id ?? 'cli:unknown' };
}

const MonthsSchema = z.coerce.number().int().min(1).max(2);

function parseStatuses(value: string | undefined): SubjectRequestStatus[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of list) {
    if (!(SUBJECT_REQUEST_STATUSES as readonly string[]).includes(s)) throw errors.invalid('invalid_status', `--status: expected a comma-separated list of ${SUBJECT_REQUEST_STATUSES.join(', ')}`, { field: 'status' });
  }
  return list as SubjectRequestStatus[];
}

/** One line per request for the queue. */
function queueLine(r: SubjectRequest): string {
  const due = r.dueOn ? `due ${r.dueOn}${r.daysLeft !== null ? ` (${r.overdue ? `OVERDUE by ${-r.daysLeft}` : `${r.daysLeft}`} day${Math.abs(r.daysLeft ?? 0) === 1 ? '' : 's'}${r.overdue ? '' : ' left'})` : ''}` : 'no clock (awaiting identity)';
  return `${r.id}  ${r.kind.padEnd(22)} ${r.status.padEnd(18)} ${r.email}  ${due}`;
}

function showRequest(io: CliIo, r: SubjectRequestDetail, json: boolean | undefined): void {
  if (json) return print(io, r, true);
  const { events, routings, ...fields } = r;
  print(io, fields, false);
  io.out('');
  io.out('history:');
  for (const e of events) io.out(`  ${e.at.toISOString()}  ${e.event.padEnd(24)} ${e.actorType}${e.actorId ? ` ${e.actorId}` : ''}${Object.keys(e.details).length ? `  ${JSON.stringify(e.details)}` : ''}`);
  if (routings.length > 0) {
    io.out('routed to (controllers of Content about the person):');
    for (const x of routings) io.out(`  ${x.tenantName} (${x.tenantId}): ${x.messages} message(s), ${x.notified} administrator(s) told`);
  }
}

/** Registers `sealpost dsr`. */
export function registerDsrCommands(program: Command, io: CliIo = processIo): Command {
  const dsr = program
    .command('dsr')
    .description('Data subject requests (access and portability, rectification, erasure, restriction, objection to marketing): open, verify, run, export, list, show, extend, pause, resume, reject, complete');

  dsr
    .command('open')
    .description("Open a request on someone's behalf; a one-time code is emailed to their address (enter it with `dsr verify`)")
    .addOption(new Option('--kind <kind>', 'what they ask for').choices([...SUBJECT_REQUEST_KINDS]).makeOptionMandatory())
    .requiredOption('--email <address>', 'the address of the person the request is about')
    .option('--name <name>', 'their name')
    .option('--details <text>', 'what they ask for in their words (required for rectification)')
    .option('--lift', 'restriction: lift an earlier restriction')
    .option('--json', 'print JSON')
    .action(async (o: { kind: string; email: string; name?: string; details?: string; lift?: boolean; json?: boolean }) => {
      await withRuntime(async (rt) => {
        const receipt = await rt.subjectRequests.service.submit({ kind: o.kind, email: o.email, name: o.name, details: o.details, lift: o.lift }, { via: 'operator', actor: operator() });
        print(io, o.json ? receipt : { ...receipt, next: `sealpost dsr verify ${receipt.requestId} <code>` }, o.json);
      });
    });

  dsr
    .command('verify <id> <code>')
    .description('Confirm a request with the code the person received (they read it to you); the one-month clock starts today')
    .option('--json', 'print JSON')
    .action(async (id: string, code: string, o: { json?: boolean }) => {
      await withRuntime(async (rt) => print(io, await rt.subjectRequests.service.verify(id, code, { actor: operator() }), o.json));
    });

  dsr
    .command('code <id>')
    .description('Email a new code for a request awaiting confirmation')
    .action(async (id: string) => {
      await withRuntime(async (rt) => print(io, await rt.subjectRequests.service.resendCode(id), false));
    });

  dsr
    .command('list')
    .description('The queue by due date, with days left and overdue flagged (default: requests still needing work)')
    .option('--status <list>', `comma-separated statuses (${SUBJECT_REQUEST_STATUSES.join(', ')}); "all" for every status`)
    .option('--json', 'print JSON')
    .action(async (o: { status?: string; json?: boolean }) => {
      await withRuntime(async (rt) => {
        const statuses = o.status === 'all' ? undefined : (parseStatuses(o.status) ?? ['awaiting_identity', 'open', 'in_progress']);
        const requests = await rt.subjectRequests.service.list(ALL, statuses ? { statuses } : {});
        if (o.json) return print(io, requests, true);
        if (requests.length === 0) io.out('no requests');
        for (const r of requests) io.out(queueLine(r));
      });
    });

  dsr
    .command('show <id>')
    .description('One request with its history and routings')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.get(ALL, id), o.json));
    });

  dsr
    .command('run <id>')
    .description('Carry out a confirmed request: access (emails a one-time download link), erasure (verified clean), restriction, objection; rectification waits for `dsr complete`')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.run(id, operator(), ALL), o.json));
    });

  dsr
    .command('export <id>')
    .description('Write the access ZIP of a confirmed access request to a file (instead of emailing a link), and close the request')
    .requiredOption('--out <file>', 'where to write the ZIP (created; an existing file is not overwritten)')
    .action(async (id: string, o: { out: string }) => {
      await withRuntime(async (rt) => {
        const { zip, request } = await rt.subjectRequests.service.exportToCaller(id, operator());
        // 'wx': never overwrite, and owner-only: the file holds someone's personal data.
        await writeFile(o.out, zip, { flag: 'wx', mode: 0o600 });
        io.out(`wrote ${zip.length} bytes to ${o.out}; request ${request.id} is ${request.status}`);
      });
    });

  dsr
    .command('extend <id>')
    .description('Extend the time limit once by 1 or 2 months; the person is emailed the reason and the new date')
    .requiredOption('--months <n>', '1 or 2')
    .requiredOption('--reason <text>', 'why more time is needed (sent to the person)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { months: string; reason: string; json?: boolean }) => {
      const months = MonthsSchema.safeParse(o.months);
      if (!months.success) throw errors.invalid('invalid_months', '--months: 1 or 2', { field: 'months' });
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.extend(ALL, id, { months: months.data, reason: o.reason }, operator()), o.json));
    });

  dsr
    .command('pause <id>')
    .description('Pause the clock while waiting for the person to clarify; they are emailed what is needed')
    .requiredOption('--reason <text>', 'what you need from the person (sent to them)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { reason: string; json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.pause(ALL, id, { reason: o.reason }, operator()), o.json));
    });

  dsr
    .command('resume <id>')
    .description('Restart a paused clock; the due date moves by the days it was paused')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.resume(ALL, id, operator()), o.json));
    });

  dsr
    .command('reject <id>')
    .description('Refuse a request with a reason; the person is told, with their right to complain')
    .requiredOption('--reason <text>', 'the reason (sent to the person)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { reason: string; json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.reject(ALL, id, { reason: o.reason }, operator()), o.json));
    });

  dsr
    .command('complete <id>')
    .description('Mark a rectification done with a note of what was corrected (sent to the person)')
    .requiredOption('--note <text>', 'what was corrected')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { note: string; json?: boolean }) => {
      await withRuntime(async (rt) => showRequest(io, await rt.subjectRequests.service.completeRectification(ALL, id, { note: o.note }, operator()), o.json));
    });

  return dsr;
}
