// `sealpost privacy …`: the operator's side of the processing register — read and edit purposes,
// sub-processors and controller details (every edit recorded with who, when and what), and
// generate the record of processing (`privacy ropa --format json|csv|html`) and the notice.
// The CLI is the register's only edit path: whoever runs it has the server's configuration and
// database, i.e. is the operator of the installation (docs/privacy.md, "Who may edit").
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { privacyNoticeToHtml } from '../../privacy/privacy-notice.ts';
import { recordToCsv, recordToHtml } from '../../privacy/record-of-processing.ts';
import { formatBases, formatCategories } from '../../privacy/register/purpose.model.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, processIo, withRuntime } from '../context.ts';
import { registerDisclosureCommands } from './disclosures.command.ts';
import { operatorActor } from './operator.ts';

/** A comma-separated list; an empty string is the empty list. */
const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Free text; an empty string clears the field. */
const textOrNull = (value: string): string | null => (value.trim() === '' ? null : value);

function parseDate(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw errors.invalid('invalid_date', `"${value.slice(0, 40)}" is not a date; use e.g. 2027-01-31 or 2027-01-31T09:00:00Z`);
  return d;
}

interface PurposeOptions {
  groupKey?: string;
  groupTitle?: string;
  position?: string;
  name?: string;
  reasons?: string;
  basisIndividual?: string;
  basisBusiness?: string;
  categories?: string;
  dataSubjects?: string;
  recipients?: string;
  retention?: string;
  transfers?: string;
  transferSafeguards?: string;
  notes?: string;
  json?: boolean;
}

/** Options of `purpose add|update` as a patch; absent options are left out. */
function purposePatch(o: PurposeOptions): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (o.groupKey !== undefined) patch.groupKey = o.groupKey;
  if (o.groupTitle !== undefined) patch.groupTitle = o.groupTitle;
  if (o.position !== undefined) patch.position = Number(o.position);
  if (o.name !== undefined) patch.name = o.name;
  if (o.reasons !== undefined) patch.reasons = textOrNull(o.reasons);
  if (o.basisIndividual !== undefined) patch.basisIndividual = list(o.basisIndividual);
  if (o.basisBusiness !== undefined) patch.basisBusiness = list(o.basisBusiness);
  if (o.categories !== undefined) patch.categories = list(o.categories);
  // Data subjects are sentences that may hold commas: separated by ";".
  if (o.dataSubjects !== undefined) patch.dataSubjects = o.dataSubjects.split(';').map((s) => s.trim()).filter((s) => s !== '');
  if (o.recipients !== undefined) patch.recipients = list(o.recipients);
  if (o.retention !== undefined) patch.retentionRules = o.retention === 'registry' ? null : list(o.retention);
  if (o.transfers !== undefined) patch.transfers = textOrNull(o.transfers);
  if (o.transferSafeguards !== undefined) patch.transferSafeguards = textOrNull(o.transferSafeguards);
  if (o.notes !== undefined) patch.notes = textOrNull(o.notes);
  return patch;
}

function purposeOptions(cmd: Command): Command {
  return cmd
    .option('--group-key <key>', 'group of purposes (a-z, 0-9, _)')
    .option('--group-title <title>', 'title of the group in the notice')
    .option('--position <n>', 'order in the register')
    .option('--name <text>', 'what the data is used for')
    .option('--reasons <text>', 'why ("" clears)')
    .option('--basis-individual <list>', 'lawful bases where the data subject is an individual: consent,contract,legal_obligation,vital_interests,public_task,legitimate_interests or not_applicable')
    .option('--basis-business <list>', 'lawful bases where the data subject is a business')
    .option('--categories <list>', 'data categories: content,crm,smart,system')
    .option('--data-subjects <list>', 'categories of data subjects, separated by ";"')
    .option('--recipients <list>', 'sub-processor keys (see "sealpost privacy subprocessors")')
    .option('--retention <list>', 'retention rules of the registry, or "registry" to follow the rules declared for the categories')
    .option('--transfers <text>', 'transfers outside the country or region ("" clears)')
    .option('--transfer-safeguards <text>', 'safeguards for those transfers, e.g. standard contractual clauses ("" clears)')
    .option('--notes <text>', 'remarks ("" clears)')
    .option('--json', 'print JSON');
}

interface SubprocessorOptions {
  kind?: string;
  position?: string;
  name?: string;
  purpose?: string;
  basisIndividual?: string;
  basisBusiness?: string;
  categories?: string;
  categoriesNote?: string;
  location?: string;
  regions?: string;
  transferSafeguards?: string;
  effective?: string;
  json?: boolean;
}

function subprocessorPatch(o: SubprocessorOptions): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (o.kind !== undefined) patch.kind = o.kind;
  if (o.position !== undefined) patch.position = Number(o.position);
  if (o.name !== undefined) patch.name = o.name;
  if (o.purpose !== undefined) patch.purpose = o.purpose;
  if (o.basisIndividual !== undefined) patch.basisIndividual = list(o.basisIndividual);
  if (o.basisBusiness !== undefined) patch.basisBusiness = list(o.basisBusiness);
  if (o.categories !== undefined) patch.categories = list(o.categories);
  if (o.categoriesNote !== undefined) patch.categoriesNote = textOrNull(o.categoriesNote);
  if (o.location !== undefined) patch.location = textOrNull(o.location);
  if (o.regions !== undefined) patch.regions = list(o.regions);
  if (o.transferSafeguards !== undefined) patch.transferSafeguards = textOrNull(o.transferSafeguards);
  return patch;
}

function subprocessorOptions(cmd: Command): Command {
  return cmd
    .option('--kind <kind>', 'sub_processor, group_company or authority')
    .option('--position <n>', 'order in the list')
    .option('--name <text>', 'name of the organisation')
    .option('--purpose <text>', 'what it does for us')
    .option('--basis-individual <list>', 'lawful bases where the data subject is an individual')
    .option('--basis-business <list>', 'lawful bases where the data subject is a business')
    .option('--categories <list>', 'data categories it receives: content,crm,smart,system')
    .option('--categories-note <text>', 'qualification, e.g. "Limited CRM Information" ("" clears)')
    .option('--location <text>', 'where it processes the data ("" clears)')
    .option('--regions <list>', 'regions the location names: uk,eea,us (empty when elsewhere or variable)')
    .option('--transfer-safeguards <text>', 'safeguards for transfers to it ("" clears)')
    .option('--effective <date>', 'when the change takes effect (a later date gives advance notice)')
    .option('--json', 'print JSON');
}

function printPurpose(io: CliIo, p: Awaited<ReturnType<import('../../privacy/privacy.ts').Privacy['purposes']>>[number], json?: boolean): void {
  if (json) return print(io, p, true);
  print(io, {
    key: p.key,
    group: p.groupTitle,
    name: p.name,
    reasons: p.reasons ?? '(not stated)',
    basisIndividual: formatBases(p.basisIndividual) || '(not stated)',
    basisBusiness: formatBases(p.basisBusiness) || '(not stated)',
    categories: formatCategories(p.categories) || '(not stated)',
    dataSubjects: p.dataSubjects.join('; ') || '(not stated)',
    recipients: p.recipients.join(', ') || '(none linked)',
    retention: p.retentionRules?.join(', ') ?? '(as the registry declares)',
    transfers: p.transfers ?? '(not stated)',
    transferSafeguards: p.transferSafeguards ?? '(not stated)',
    notes: p.notes ?? '',
    status: p.retiredAt ? `retired ${p.retiredAt.toISOString()}` : p.editedAt ? `edited ${p.editedAt.toISOString()}` : `as ${p.source === 'seed' ? 'seeded' : 'added'}`,
  }, false);
}

/** Registers `sealpost privacy …`. */
export function registerPrivacyCommands(program: Command, io: CliIo): void {
  const privacy = program.command('privacy').description('processing register, record of processing (GDPR Art. 30), privacy notice and sub-processors');

  privacy
    .command('ropa')
    .description('generate the record of processing activities (Art. 30(1) controller and 30(2) processor records), with gaps flagged')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'html']).default('json'))
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--tenant <id>', 'list only this customer as controller in the processor record')
    .action(async (opts: { format: 'json' | 'csv' | 'html'; out?: string; tenant?: string }) => {
      const ropa = await withRuntime((rt) => rt.privacy.recordOfProcessing(opts.tenant ? { tenantId: opts.tenant } : {}));
      const text = opts.format === 'csv' ? recordToCsv(ropa) : opts.format === 'html' ? recordToHtml(ropa) : `${JSON.stringify(ropa, null, 2)}\n`;
      if (opts.out) {
        await writeFile(opts.out, text);
        io.err(`wrote ${opts.out} (${ropa.gaps.length} gap(s) flagged)`);
      } else if (io === processIo) process.stdout.write(text); // byte-exact: CSV ends in CRLF
      else io.out(text.replace(/\r?\n$/, ''));
    });

  privacy
    .command('notice')
    .description('print the public privacy notice (as served at /privacy)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'html']).default('json'))
    .action(async (opts: { format: 'json' | 'html' }) => {
      const notice = await withRuntime((rt) => rt.privacy.notice());
      if (opts.format === 'html') io.out(privacyNoticeToHtml(notice));
      else print(io, notice, true);
    });

  privacy
    .command('purposes')
    .description('list the purposes of processing')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const purposes = await withRuntime((rt) => rt.privacy.purposes());
      if (opts.json) return print(io, purposes, true);
      for (const p of purposes) {
        io.out(`${p.retiredAt ? '(retired) ' : ''}${p.key}`);
        io.out(`  ${p.name.slice(0, 110)}`);
        io.out(`  individual: ${formatBases(p.basisIndividual) || '(not stated)'} · business: ${formatBases(p.basisBusiness) || '(not stated)'} · ${formatCategories(p.categories) || '(categories not stated)'}`);
      }
    });

  const purpose = privacy.command('purpose').description('show, add, edit, retire or restore one purpose');
  purpose
    .command('show <key>')
    .option('--json', 'print JSON')
    .action(async (key: string, opts: { json?: boolean }) => {
      const p = (await withRuntime((rt) => rt.privacy.purposes())).find((x) => x.key === key);
      if (!p) throw errors.notFound('purpose_not_found', `no purpose with key ${key}; list them with "sealpost privacy purposes"`);
      printPurpose(io, p, opts.json);
    });
  purposeOptions(purpose.command('update <key>').description('change fields of a purpose (recorded in the history)')).action(async (key: string, opts: PurposeOptions) => {
    const patch = purposePatch(opts);
    if (Object.keys(patch).length === 0) throw errors.invalid('nothing_to_change', 'name at least one field to change, e.g. --transfer-safeguards "EU SCCs"');
    printPurpose(io, await withRuntime((rt) => rt.privacy.register.updatePurpose(operatorActor(), key, patch)), opts.json);
  });
  purposeOptions(purpose.command('add <key>').description('add a purpose of your own (needs --group-key, --group-title and --name)')).action(async (key: string, opts: PurposeOptions) => {
    printPurpose(io, await withRuntime((rt) => rt.privacy.register.addPurpose(operatorActor(), { key, ...purposePatch(opts) })), opts.json);
  });
  for (const [name, retired] of [['retire', true], ['restore', false]] as const) {
    purpose
      .command(`${name} <key>`)
      .description(retired ? 'withdraw a purpose (kept in the history, left out of the record and notice)' : 'bring a retired purpose back')
      .option('--json', 'print JSON')
      .action(async (key: string, opts: { json?: boolean }) => printPurpose(io, await withRuntime((rt) => rt.privacy.register.setPurposeRetired(operatorActor(), key, retired)), opts.json));
  }

  privacy
    .command('settings')
    .description('show or change the controller details of the record (without options: show them)')
    .option('--controller-name <text>', 'name of the organisation operating this installation ("" clears)')
    .option('--controller-contact <text>', 'its contact details ("" clears)')
    .option('--dpo-contact <text>', 'contact of the data protection officer ("" clears)')
    .option('--representative <text>', 'Art. 27 representative, where needed ("" clears)')
    .option('--organisational-measures <text>', 'organisational security measures ("" clears)')
    .option('--transfer-statement <text>', 'general statement on transfers shown in the notice ("" clears)')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const fields = ['controllerName', 'controllerContact', 'dpoContact', 'representative', 'organisationalMeasures', 'transferStatement'] as const;
      const patch = Object.fromEntries(fields.filter((f) => typeof opts[f] === 'string').map((f) => [f, textOrNull(opts[f] as string)]));
      const settings = await withRuntime((rt) => (Object.keys(patch).length > 0 ? rt.privacy.register.updateSettings(operatorActor(), patch) : rt.privacy.settings()));
      print(io, settings, opts.json === true);
    });

  privacy
    .command('subprocessors')
    .description('list sub-processors and other recipients, with planned changes')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withRuntime((rt) => rt.privacy.publicSubprocessors());
      if (opts.json) return print(io, list, true);
      for (const s of list.current) io.out(`${s.key.padEnd(22)} ${s.name} · ${s.informationTypes} · ${s.location ?? '(location not stated)'}`);
      for (const p of list.planned) io.out(`planned ${p.effectiveAt.slice(0, 10)}: ${p.change === 'addition' ? 'add' : 'remove'} ${p.key} (${p.name})`);
    });

  const sub = privacy.command('subprocessor').description('add, edit or remove a sub-processor (changes are recorded and published with their effective date)');
  subprocessorOptions(sub.command('add <key>').description('add a sub-processor (needs --name and --purpose; --effective in the future announces it in advance)')).action(async (key: string, opts: SubprocessorOptions) => {
    const s = await withRuntime((rt) => rt.privacy.register.addSubprocessor(operatorActor(), { key, ...subprocessorPatch(opts), ...(opts.effective ? { effectiveFrom: parseDate(opts.effective) } : {}) }));
    print(io, s, opts.json);
  });
  subprocessorOptions(sub.command('update <key>').description('change fields of a sub-processor')).action(async (key: string, opts: SubprocessorOptions) => {
    const patch = subprocessorPatch(opts);
    if (Object.keys(patch).length === 0) throw errors.invalid('nothing_to_change', 'name at least one field to change, e.g. --transfer-safeguards "EU SCCs"');
    print(io, await withRuntime((rt) => rt.privacy.register.updateSubprocessor(operatorActor(), key, patch, opts.effective ? parseDate(opts.effective) : undefined)), opts.json);
  });
  sub
    .command('remove <key>')
    .description('stop using a sub-processor (--effective in the future announces it in advance)')
    .option('--effective <date>', 'when it stops being used (default: now)')
    .option('--json', 'print JSON')
    .action(async (key: string, opts: { effective?: string; json?: boolean }) => {
      print(io, await withRuntime((rt) => rt.privacy.register.removeSubprocessor(operatorActor(), key, opts.effective ? parseDate(opts.effective) : undefined)), opts.json);
    });

  privacy
    .command('history')
    .description('every change to the registers: who, when, what, effective when')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const changes = await withRuntime((rt) => rt.privacy.history());
      if (opts.json) return print(io, changes, true);
      for (const c of changes) io.out(`${c.recordedAt.toISOString()}  ${(c.actorId ?? c.actorType).padEnd(16)} ${c.summary}${c.effectiveAt.getTime() !== c.recordedAt.getTime() ? ` (effective ${c.effectiveAt.toISOString().slice(0, 10)})` : ''}`);
    });

  registerDisclosureCommands(privacy, io);
}
