// `npm run bench:prevent`: the misaddressed-recipient benchmark (../shared/bench/prevent) with
// Sealpost's embedded engine (`sealpost prevent score`) next to the built-in cc2007 reference,
// in the same run on the same injected data. Prints the harness's table, then ONE JSON line:
// our figures, cc2007's, the ratios and whether each target of issue #5 is met.
//
// Defaults: --split ../shared/data/enron-internal/history.jsonl --at 0.9 --trials 3. Any harness
// options given after `--` replace the split (e.g. `-- --split FILE --at 0.8`, or
// `-- --history H.jsonl --test T.jsonl` for a strict date cutoff).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const harness = path.resolve(root, '../shared/bench/prevent/run.mjs');
const outDir = path.join(root, '.tmp');
mkdirSync(outDir, { recursive: true });
const json = path.join(outDir, `prevent-bench-${process.pid}.json`);

const extra = process.argv.slice(2);
const split = extra.some((a) => /^--(split|history|test)\b/.test(a)) ? [] : ['--split', path.resolve(root, '../shared/data/enron-internal/history.jsonl'), '--at', '0.9'];
const trials = extra.some((a) => a.startsWith('--trials')) ? [] : ['--trials', '3'];
const engine = `node ${path.join(root, 'bin/sealpost.js')} prevent score --history {history} --input {input} --output {output} --quiet`;
const args = [harness, ...split, ...trials, ...extra, '--builtins', 'cc2007', '--engine', engine, '--name', 'sealpost', '--json', json];

const started = Date.now();
const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (run.status !== 0) {
  console.error(`bench:prevent: harness exited with ${run.status ?? run.signal}`);
  process.exit(1);
}

interface Mean { prec1: number; auc: number; recallAt1Fpr: number; warnRecall: number; falseWarnPer1k: number; seconds: number; warnThreshold?: number }
const summary = JSON.parse(readFileSync(json, 'utf8')) as { protocol: unknown; data: unknown; engines: Record<string, { mean: Mean }> };
const ours = summary.engines.sealpost!.mean;
const ref = summary.engines.cc2007!.mean;
const pick = (m: Mean) => ({ prec1: round(m.prec1), auc: round(m.auc), recallAt1Fpr: round(m.recallAt1Fpr), warnRecall: round(m.warnRecall), falseWarnPer1k: round(m.falseWarnPer1k, 1), seconds: round(m.seconds, 2) });
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

// "Beat cc2007": strictly better on each ranking figure, and a higher warn recall with no
// more false warnings per 1,000 clean messages. The aims are issue #5's.
const beats = {
  prec1: ours.prec1 > ref.prec1,
  auc: ours.auc > ref.auc,
  recallAt1Fpr: ours.recallAt1Fpr > ref.recallAt1Fpr,
  warn: ours.warnRecall > ref.warnRecall && ours.falseWarnPer1k <= ref.falseWarnPer1k,
};
const aims = {
  prec1: ours.prec1 >= 0.88,
  auc: ours.auc >= 0.94,
  recallAt1Fpr: ours.recallAt1Fpr >= 0.5,
  warn: ours.warnRecall >= 0.75 && ours.falseWarnPer1k <= 30,
};
console.log(
  JSON.stringify({
    bench: 'prevent',
    protocol: summary.protocol,
    data: summary.data,
    sealpost: pick(ours),
    cc2007: pick(ref),
    ratio: { prec1: round(ours.prec1 / ref.prec1), auc: round(ours.auc / ref.auc), recallAt1Fpr: round(ours.recallAt1Fpr / ref.recallAt1Fpr), warnRecall: round(ours.warnRecall / ref.warnRecall) },
    beatsCc2007: { ...beats, all: Object.values(beats).every(Boolean) },
    meetsAims: { ...aims, all: Object.values(aims).every(Boolean) },
    json,
    wallSeconds: round((Date.now() - started) / 1000, 1),
  }),
);
