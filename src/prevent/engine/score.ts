// The benchmark engine contract (../shared/bench/prevent/README.md): train one tenant's model on
// a history file, score every recipient of every input message, and write one line per message
// with the recipients the sender would be warned about under the default nudge policy.
import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { errors } from '../../shared/app-error.ts';
import type { Draft } from '../prevent.model.ts';
import { readMessageFile, type MessageLine } from './history-file.ts';
import { SmartModel, type FitSummary } from './smart-model.ts';
import { domainOf } from './text.ts';

/** Inputs of {@link scoreFiles}. */
export interface ScoreOptions {
  history: string;
  input: string;
  output: string;
  /** The tenant's own domains; default: the domains the history's messages were sent from. */
  tenantDomains?: string[];
}

/** What a run did, for the command's summary on stderr. */
export interface ScoreReport {
  historyMessages: number;
  inputMessages: number;
  warned: number;
  buildSeconds: number;
  scoreSeconds: number;
  fit: FitSummary;
}

/** One output line of the contract. */
export interface ScoredLine {
  id: string;
  recipients: { address: string; risk: number }[];
  warn: string[];
}

/** Trains on `history`, scores `input`, writes `output` (whole file or nothing). */
export async function scoreFiles(opts: ScoreOptions): Promise<ScoreReport> {
  const history = await readMessageFile(opts.history);
  if (!history.length) throw errors.invalid('prevent_history_empty', `${opts.history}: no messages to learn from`);
  const input = await readMessageFile(opts.input);
  const t0 = performance.now();
  const tenantDomains = opts.tenantDomains?.length ? opts.tenantDomains : [...new Set(history.map((m) => domainOf(m.observation.from)).filter(Boolean))];
  const model = SmartModel.fromHistory(history.map((m) => m.observation), { tenantDomains });
  const t1 = performance.now();
  const lines = input.map((m) => scoreLine(model, m));
  const t2 = performance.now();
  const tmp = `${opts.output}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));
    await rename(tmp, opts.output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw errors.invalid('prevent_output_unwritable', `cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return {
    historyMessages: history.length,
    inputMessages: input.length,
    warned: lines.filter((l) => l.warn.length).length,
    buildSeconds: (t1 - t0) / 1000,
    scoreSeconds: (t2 - t1) / 1000,
    fit: model.fitSummary!,
  };
}

/** Scores one message as a draft about to be sent at its date. */
export function scoreLine(model: SmartModel, m: MessageLine): ScoredLine {
  const o = m.observation;
  const draft: Draft = {
    from: o.from,
    recipients: [...o.to.map((address) => ({ address, role: 'to' as const })), ...o.cc.map((address) => ({ address, role: 'cc' as const })), ...o.bcc.map((address) => ({ address, role: 'bcc' as const }))],
    subject: o.subject,
    body: m.body,
    labelRank: null,
    threadId: o.threadId ?? null,
    at: o.at,
  };
  const recipients = model.scoreRecipients(draft);
  const warn = model.learnedWarnings(draft, recipients).filter((w) => w.check === 'unusual_recipient').flatMap((w) => w.recipients);
  return { id: o.id, recipients, warn };
}
