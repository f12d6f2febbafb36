// `sealpost privacy disclosures add|update|list|show|export|report` (the operator's disclosure log)
// and `sealpost privacy stats <report>` (anonymous aggregate statistics, installation-wide).
import { Command, Option } from 'commander';
import { csvRow } from '../../privacy/csv.ts';
import { DisclosureService, disclosuresToCsv } from '../../privacy/disclosures/disclosure.service.ts';
import { DISCLOSURE_STATUSES, REQUESTER_KINDS } from '../../privacy/disclosures/disclosure.model.ts';
import { REPORTS, reportToCsvRows, StatisticsService } from '../../privacy/statistics/statistics.service.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, processIo, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
const textOrNull = (v: string) => (v.trim() === '' ? null : v);

function date(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw errors.invalid('invalid_date', `${name}: "${value.slice(0, 40)}" is not a date; use e.g. 2026-01-31`);
  return d;
}

function write(io: CliIo, text: string): void {
  if (io === processIo) process.stdout.write(text); // byte-exact: CSV ends in CRLF
  else io.out(text.replace(/\r?\n$/, ''));
}

type Opts = Record<string, string | boolean | undefined>;

/** Options given on the command line as a patch for the service (absent options left out). */
function patchOf(o: Opts): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  for (const k of ['requesterKind', 'authority', 'legalBasis', 'requested', 'status', 'receivedAt', 'decidedAt', 'disclosedAt', 'customerNotifiedAt', 'subjectNotifiedAt', 'gagUntil']) if (str(k) !== undefined) p[k] = str(k);
  for (const k of ['jurisdiction', 'contact', 'tenant', 'disclosedDescription', 'decisionReason', 'approvedBy', 'notes']) if (str(k) !== undefined) p[k === 'tenant' ? 'tenantId' : k] = textOrNull(str(k)!);
  for (const k of ['requestedCategories', 'disclosedCategories']) if (str(k) !== undefined) p[k] = list(str(k)!);
  if (o.gag === true) p.gag = true;
  if (o.gag === false) p.gag = false;
  return p;
}

function fields(cmd: Command): Command {
  return cmd
    .option('--requester-kind <kind>', REQUESTER_KINDS.join(', '))
    .option('--authority <name>', 'the organisation that asked (e.g. a police force)')
    .option('--jurisdiction <text>', 'country or legal system ("" clears)')
    .option('--contact <text>', 'contact at the authority ("" clears)')
    .option('--legal-basis <text>', 'the legal basis cited (statute, order, warrant)')
    .option('--tenant <id>', 'the customer whose data was asked about ("" clears)')
    .option('--requested <text>', 'what was requested')
    .option('--requested-categories <list>', 'content,crm,smart,system')
    .option('--received-at <date>', 'when the request arrived (default now)')
    .option('--gag', 'a non-disclosure order forbids telling the customer or person')
    .option('--no-gag', 'no (longer a) non-disclosure order')
    .option('--gag-until <date>', 'when the order ends')
    .option('--notes <text>', 'operator notes ("" clears)')
    .option('--json', 'print JSON');
}

/** Registers the disclosure log and statistics under `sealpost privacy`. */
export function registerDisclosureCommands(privacy: Command, io: CliIo): void {
  const d = privacy.command('disclosures').description('the disclosure log: requests from law enforcement and other third parties, decisions, and what was disclosed');

  fields(d.command('add').description('record a request as received (needs --requester-kind, --authority, --legal-basis, --requested)')).action(async (o: Opts) => {
    const patch = patchOf(o);
    print(io, await withRuntime((rt) => new DisclosureService(rt.db).add(operatorActor(), patch)), o.json === true);
  });

  fields(d.command('update <reference>').description('record a decision, the disclosure, notices or corrections'))
    .addOption(new Option('--status <status>', 'new status').choices([...DISCLOSURE_STATUSES]))
    .option('--approved-by <name>', 'who approved or refused it')
    .option('--decision-reason <text>', 'why')
    .option('--decided-at <date>', 'when decided (default now)')
    .option('--disclosed-categories <list>', 'categories disclosed: content,crm,smart,system')
    .option('--disclosed-description <text>', 'what was disclosed, described (never the data)')
    .option('--disclosed-at <date>', 'when disclosed (default now)')
    .option('--customer-notified-at <date>', 'when the customer was told')
    .option('--subject-notified-at <date>', 'when the person was told')
    .action(async (reference: string, o: Opts) => {
      const patch = patchOf(o);
      print(io, await withRuntime((rt) => new DisclosureService(rt.db).update(operatorActor(), reference, patch)), o.json === true);
    });

  d.command('list')
    .description('requests received, oldest first')
    .option('--from <date>', 'received on or after')
    .option('--to <date>', 'received before')
    .addOption(new Option('--status <status>').choices([...DISCLOSURE_STATUSES]))
    .option('--json', 'print JSON')
    .action(async (o: { from?: string; to?: string; status?: string; json?: boolean }) => {
      const entries = await withRuntime((rt) => new DisclosureService(rt.db).list({ ...(o.from ? { from: date(o.from, 'from')! } : {}), ...(o.to ? { to: date(o.to, 'to')! } : {}), ...(o.status ? { status: o.status } : {}) }));
      if (o.json) return print(io, entries, true);
      if (entries.length === 0) io.out('No disclosure requests recorded.');
      for (const e of entries) io.out(`${e.reference}  ${e.receivedAt.toISOString().slice(0, 10)}  ${e.status.padEnd(10)} ${e.authority} (${e.requesterKind})${e.gag ? '  [gag]' : ''}`);
    });

  d.command('show <reference>')
    .option('--json', 'print JSON')
    .action(async (reference: string, o: { json?: boolean }) => print(io, await withRuntime((rt) => new DisclosureService(rt.db).get(reference)), o.json));

  d.command('export')
    .description('the whole log (or a period) for records or a regulator')
    .addOption(new Option('--format <format>').choices(['csv', 'json']).default('csv'))
    .option('--from <date>', 'received on or after')
    .option('--to <date>', 'received before')
    .action(async (o: { format: 'csv' | 'json'; from?: string; to?: string }) => {
      const entries = await withRuntime((rt) => new DisclosureService(rt.db).list({ ...(o.from ? { from: date(o.from, 'from')! } : {}), ...(o.to ? { to: date(o.to, 'to')! } : {}) }));
      write(io, o.format === 'csv' ? disclosuresToCsv(entries) : `${JSON.stringify(entries, null, 2)}\n`);
    });

  d.command('report <half>')
    .description('transparency report for a half-year (e.g. 2025-H1): requests by authority and status, small counts suppressed')
    .option('--threshold <n>', 'smallest count published (default 10, at least 2)')
    .addOption(new Option('--format <format>').choices(['json', 'csv']).default('json'))
    .action(async (half: string, o: { threshold?: string; format: 'json' | 'csv' }) => {
      const r = await withRuntime((rt) => new DisclosureService(rt.db).transparencyReport({ half, ...(o.threshold ? { threshold: o.threshold } : {}) }));
      if (o.format === 'json') return print(io, r, true);
      write(io, csvRow([r.rowsAre, ...r.columns]) + r.rows.map((row, i) => csvRow([row, ...r.cells[i]!.map((c) => (c === null ? `<${r.threshold}` : c))])).join(''));
    });

  privacy
    .command('stats <report>')
    .description(`anonymous aggregate statistics over the whole installation: ${REPORTS.join(', ')}; cells below the threshold are suppressed, no totals`)
    .option('--from <date>', 'start (moved back to the start of its week or month)')
    .option('--to <date>', 'end (moved forward to the end of its week or month)')
    .option('--threshold <n>', 'smallest count published (default 10, at least 2)')
    .addOption(new Option('--format <format>').choices(['json', 'csv']).default('json'))
    .action(async (report: string, o: { from?: string; to?: string; threshold?: string; format: 'json' | 'csv' }) => {
      const r = await withRuntime((rt) =>
        new StatisticsService(rt.db).run({ report, ...(o.from ? { from: date(o.from, 'from')! } : {}), ...(o.to ? { to: date(o.to, 'to')! } : {}), ...(o.threshold ? { threshold: o.threshold } : {}) }),
      );
      if (o.format === 'json') return print(io, r, true);
      write(io, reportToCsvRows(r).map((row) => csvRow(row)).join(''));
    });
}
