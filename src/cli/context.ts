// What every CLI command shares: configuration from the environment, a runtime opened for
// the length of one command, and output that is either for people or `--json` for scripts.
import { loadConfig, type Config } from '../config/config.ts';
import { openRuntime, type Runtime } from '../runtime/runtime.ts';
import { createLogger } from '../shared/logger.ts';

/** Where commands write; tests and the serve command use the process streams. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Opens a runtime for one administrative command and closes it afterwards. Logs below
 * `warn` are dropped so that command output stays readable; LOG_LEVEL still raises them.
 */
export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>, env: Record<string, string | undefined> = process.env): Promise<T> {
  const config: Config = loadConfig(env);
  const level = env.LOG_LEVEL ? config.logLevel : 'warn';
  const rt = await openRuntime(config, { logger: createLogger(level, process.stderr as never) });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** Prints `value` as one JSON document or as aligned `key: value` lines. */
export function print(io: CliIo, value: unknown, json: boolean | undefined): void {
  if (json) {
    io.out(JSON.stringify(value, null, 2));
    return;
  }
  const rows = Array.isArray(value) ? value : [value];
  for (const row of rows) {
    if (row && typeof row === 'object') {
      const entries = Object.entries(row as Record<string, unknown>);
      const width = Math.max(...entries.map(([k]) => k.length));
      for (const [k, v] of entries) io.out(`${k.padEnd(width)}  ${v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    } else {
      io.out(String(row));
    }
    if (rows.length > 1) io.out('');
  }
}
