// The CLI's stored sign-in: `sealpost login` keeps the server URL and a personal API token in
// ${XDG_CONFIG_HOME:-~/.config}/sealpost/credentials.json (mode 0600, directory 0700); commands
// that talk to a server read it from here. These are client settings, not server
// configuration, which is why they are read here and not in src/config.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errors } from '../shared/app-error.ts';

/** What `sealpost login` stores. */
export interface StoredCredentials {
  /** Base URL of the Sealpost server, without a trailing slash. */
  server: string;
  /** Personal API token (`sp_…`), sent as `Authorization: Bearer`. */
  token: string;
  /** The address signed in with, for messages like "signed in as …". */
  email: string;
}

/** Where the credentials file lives for this environment. */
export function credentialsPath(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'sealpost', 'credentials.json');
}

/** Writes the credentials, readable by their owner only, atomically (a crash leaves the old file or the new one). */
export async function writeCredentials(credentials: StoredCredentials, env: Record<string, string | undefined> = process.env): Promise<string> {
  const file = credentialsPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  // Created 0600 from the start: the token is never readable by others, not even briefly.
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

/** The stored credentials, or null when there are none. */
export async function readCredentials(env: Record<string, string | undefined> = process.env): Promise<StoredCredentials | null> {
  let text: string;
  try {
    text = await readFile(credentialsPath(env), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const value = JSON.parse(text) as Partial<StoredCredentials>;
    if (typeof value.server === 'string' && typeof value.token === 'string') return { server: value.server, token: value.token, email: typeof value.email === 'string' ? value.email : '' };
  } catch {
    // fall through
  }
  throw errors.invalid('credentials_invalid', `${credentialsPath(env)} is not a credentials file written by "sealpost login"; delete it and sign in again`);
}

/** Deletes the stored credentials; true when there were some. */
export async function deleteCredentials(env: Record<string, string | undefined> = process.env): Promise<boolean> {
  const file = credentialsPath(env);
  try {
    await readFile(file);
  } catch {
    return false;
  }
  await rm(file, { force: true });
  return true;
}
