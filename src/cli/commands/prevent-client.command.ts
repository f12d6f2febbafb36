// `sealpost prevent check` and `sealpost prevent import`: Prevent through a server's API, as the
// signed-in user (see `sealpost login`). `prevent score` (embedded, for the benchmark) lives
// in prevent.command.ts.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { errors } from '../../shared/app-error.ts';
import { callApi } from '../api-client.ts';
import type { CliIo } from '../context.ts';
import { readCredentials, type StoredCredentials } from '../credentials.ts';

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** A finding as the check API returns it. */
export interface CheckedWarning {
  id: string;
  check: string;
  severity: 'info' | 'warning' | 'critical';
  mode: 'nudge' | 'block';
  recipients: string[];
  reason: string;
  fixes: Array<Record<string, unknown>>;
}

/** One line per finding, for people: severity, what blocks, the reason and the fixes. */
export function formatWarnings(warnings: CheckedWarning[]): string[] {
  return warnings.map((w) => {
    const fixes = w.fixes.map(describeFix).filter(Boolean);
    return `${w.severity.toUpperCase()}${w.mode === 'block' ? ' (blocks sending)' : ''} ${w.check}: ${w.reason}${fixes.length ? ` — suggested: ${fixes.join('; ')}` : ''}`;
  });
}

function describeFix(f: Record<string, unknown>): string {
  switch (f.kind) {
    case 'remove_recipient':
      return `remove ${String(f.address)}`;
    case 'replace_recipient':
      return `replace ${String(f.address)} with ${String(f.replacement)}`;
    case 'move_to_bcc':
      return `move ${(f.addresses as string[]).join(', ')} to Bcc`;
    case 'add_recipient':
      return `add ${String(f.address)}`;
    case 'raise_label':
      return `use a label of rank ${String(f.minimumRank)} or higher`;
    case 'remove_content':
      return `remove ${String(f.description)}`;
    default:
      return '';
  }
}

async function signedIn(): Promise<StoredCredentials> {
  const c = await readCredentials();
  if (!c) throw errors.unauthenticated('not_signed_in', 'sign in first: sealpost login --server <url> --email <address>');
  return c;
}

/** Adds `check` and `import` to the `prevent` command group. */
export function registerPreventClientCommands(prevent: Command, io: CliIo): void {
  prevent
    .command('check')
    .description('check a draft before sending: what would your organisation\'s pre-send check warn about?')
    .option('--to <addresses>', 'recipient, "Name <address>" or address (repeatable or comma-separated)', collect)
    .option('--cc <addresses>', 'Cc recipient (repeatable or comma-separated)', collect)
    .option('--bcc <addresses>', 'Bcc recipient (repeatable or comma-separated)', collect)
    .requiredOption('--subject <text>', 'subject')
    .option('--body-file <file>', 'file with the plain-text body')
    .option('--body <text>', 'plain-text body given inline')
    .option('--label <name>', 'classification label')
    .option('--json', 'print JSON')
    .action(async (opts: { to?: string[]; cc?: string[]; bcc?: string[]; subject: string; bodyFile?: string; body?: string; label?: string; json?: boolean }) => {
      const c = await signedIn();
      if (opts.body !== undefined && opts.bodyFile) throw errors.invalid('body_twice', 'give the body with --body or --body-file, not both');
      const text = opts.body ?? (opts.bodyFile ? await readFile(opts.bodyFile, 'utf8').catch(() => Promise.reject(errors.invalid('file_not_found', `cannot read ${opts.bodyFile}`))) : '');
      const { warnings } = await callApi<{ warnings: CheckedWarning[] }>(c.server, 'POST', '/api/v1/prevent/check', {
        token: c.token,
        body: { to: opts.to ?? [], ...(opts.cc ? { cc: opts.cc } : {}), ...(opts.bcc ? { bcc: opts.bcc } : {}), subject: opts.subject, text, ...(opts.label ? { label: opts.label } : {}) },
      });
      if (opts.json) return io.out(JSON.stringify(warnings, null, 2));
      if (warnings.length === 0) return io.out('No warnings.');
      for (const line of formatWarnings(warnings)) io.out(line);
    });

  prevent
    .command('import')
    .description("import mail history (JSONL as in ../shared/bench/prevent, or an mbox file) into your organisation's Smart Data (administrators)")
    .requiredOption('--file <file>', 'the history file')
    .option('--format <format>', 'jsonl or mbox (default: from the file name, then its first line)')
    .action(async (opts: { file: string; format?: string }) => {
      const c = await signedIn();
      const body = await readFile(opts.file, 'utf8').catch(() => Promise.reject(errors.invalid('file_not_found', `cannot read ${opts.file}`)));
      const format = opts.format ?? (/\.mbox$/i.test(opts.file) || body.startsWith('From ') ? 'mbox' : 'jsonl');
      if (format !== 'jsonl' && format !== 'mbox') throw errors.invalid('invalid_format', `--format must be jsonl or mbox, not "${format}"`);
      const res = await fetch(`${c.server}/api/v1/prevent/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.token}`, 'content-type': format === 'mbox' ? 'application/mbox' : 'application/x-ndjson' },
        body,
      }).catch((err: Error) => Promise.reject(errors.unavailable('server_unreachable', `could not reach ${c.server}: ${err.message}`)));
      const json = (await res.json().catch(() => undefined)) as { imported?: number; skipped?: number; error?: { code: string; message: string } } | undefined;
      if (!res.ok) throw errors.invalid(json?.error?.code ?? 'import_failed', json?.error?.message ?? `${c.server} answered ${res.status}`);
      io.out(`imported ${json!.imported} messages${json!.skipped ? `, skipped ${json!.skipped} older than the 12-month window or without recipients` : ''}`);
    });
}
