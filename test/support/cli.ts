// Runs the sealpost binary as a child process, as a user does: the one runner of every
// end-to-end CLI test. Only PATH, HOME (a temporary directory unless given) and the test's own
// variables reach the command, so a developer's environment cannot change what it does.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CLI_COMMAND_TIMEOUT_MS } from './cli-timeouts.ts';

/** The CLI entry point. */
export const SEALPOST_BIN = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

/** What a command did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed (by default it is closed at once). */
  input?: string;
  /** For prompts: called with all of stderr so far after each chunk; stdin stays open for it to answer and end. */
  onStderr?: (stderr: string, stdin: NodeJS.WritableStream) => void;
  /** The command is killed after this long (default CLI_COMMAND_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Runs `sealpost …args`; resolves with the exit code (1 when killed) and the output. */
export function sealpost(args: string[], env: Record<string, string>, opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEALPOST_BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(stderr, child.stdin);
    });
    if (!opts.onStderr) child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? CLI_COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
