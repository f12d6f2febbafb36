// Where the machine's CPU went during a phase of a benchmark (Linux /proc): the server (this
// process), the load driver, PostgreSQL's processes, everything else, and idle — in CPU-seconds
// per second of wall time, so 2.0 is both cores of a 2-core machine (elsewhere it reports no
// shares); and how busy this process's event loop was (utilisation, and the delay a timer saw).
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Snapshot {
  at: number;
  /** CPU ticks so far of each process, by pid, with its group. */
  byPid: Map<string, { group: string; ticks: number }>;
  idle: number;
}

function ticksOf(pid: string): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the comm.
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process ended meanwhile
  }
}

function snapshot(pids: Record<string, number | Array<number | undefined> | undefined>): Snapshot | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const named = new Map(Object.entries(pids).flatMap(([name, pid]) => [pid].flat().flatMap((p) => (p ? [[String(p), name] as const] : []))));
  const byPid = new Map<string, { group: string; ticks: number }>();
  for (const pid of entries) {
    const t = ticksOf(pid);
    if (t) byPid.set(pid, { group: named.get(pid) ?? (t.comm === 'postgres' ? 'postgres' : 'other'), ticks: t.ticks });
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return { at: performance.now(), byPid, idle: Number(cpu[4]) + Number(cpu[5]) };
}

/** Measures CPU shares around phases; `report()` prints the mean shares of each label. */
export class CpuShares {
  private readonly totals = new Map<string, { seconds: number; byGroup: Map<string, number>; idle: number; loopBusy: number; loopDelay: IntervalHistogram }>();

  /** `pids`: the processes of each named group (the others are grouped as postgres or other). */
  constructor(private readonly pids: () => Record<string, number | Array<number | undefined> | undefined>) {}

  async during<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const total = this.totals.get(label) ?? { seconds: 0, byGroup: new Map<string, number>(), idle: 0, loopBusy: 0, loopDelay: monitorEventLoopDelay({ resolution: 1 }) };
    this.totals.set(label, total);
    const before = snapshot(this.pids());
    const loop = performance.eventLoopUtilization();
    total.loopDelay.enable();
    const started = performance.now();
    let result: T;
    try {
      result = await fn();
    } finally {
      total.loopDelay.disable();
    }
    const busy = performance.eventLoopUtilization(loop);
    total.loopBusy += busy.active;
    const after = snapshot(this.pids());
    total.seconds += (performance.now() - started) / 1000;
    if (before && after) {
      // Per process: one that started meanwhile counts whole, one that ended meanwhile is not seen.
      for (const [pid, { group, ticks }] of after.byPid) total.byGroup.set(group, (total.byGroup.get(group) ?? 0) + (ticks - (before.byPid.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND);
      total.idle += (after.idle - before.idle) / TICKS_PER_SECOND;
    }
    return result;
  }

  /** CPU seconds per process group over every run of `label` (undefined when not measured). */
  secondsOf(label: string): Map<string, number> | undefined {
    const total = this.totals.get(label);
    return total && total.byGroup.size > 0 ? new Map(total.byGroup) : undefined;
  }

  report(log: (line: string) => void): void {
    for (const [label, { seconds, byGroup, idle, loopBusy, loopDelay }] of this.totals) {
      const shares = [...byGroup].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]).map(([group, s]) => `${group} ${(s / seconds).toFixed(2)}`);
      const ms = (ns: number) => (ns / 1e6).toFixed(1);
      log(
        `  CPU during ${label} (cores busy, over ${seconds.toFixed(1)} s): ${byGroup.size > 0 ? `${shares.join(', ')}; idle ${(idle / seconds).toFixed(2)}` : 'not measured'}; ` +
          `server event loop busy ${(loopBusy / 1000 / seconds).toFixed(2)}, timer delay p50 ${ms(loopDelay.percentile(50))} ms, p99 ${ms(loopDelay.percentile(99))} ms`,
      );
    }
  }
}
