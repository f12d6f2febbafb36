// Root keys in a local file (the embedded default). The file is JSON:
//   { "format": "sealpost-root-keys", "version": 1, "active": "<id>", "keys": { "<id>": "<base64 32 bytes>" } }
// It is created with mode 0600 in a 0700 directory and refused if group or others can read
// it. Rotation adds a key and makes it active; old keys stay so existing wraps still open.

import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../shared/app-error.ts';
import type { KeyProvider, RootWrappedKey } from './key-provider.ts';
import { generateKey, randomToken, unwrapKey, wrapKey } from './keys.ts';

interface RootKeyFile {
  format: 'sealpost-root-keys';
  version: 1;
  active: string;
  keys: Record<string, string>;
}

function parseKeyFile(text: string, file: string): RootKeyFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AppError('invalid', 'root_key_file_invalid', `root key file ${file} is not valid JSON`);
  }
  const f = data as Partial<RootKeyFile>;
  if (f?.format !== 'sealpost-root-keys' || f.version !== 1 || typeof f.active !== 'string' || typeof f.keys !== 'object' || f.keys === null) {
    throw new AppError('invalid', 'root_key_file_invalid', `root key file ${file} is not a Sealpost root key file (format, version, active, keys)`);
  }
  for (const [id, value] of Object.entries(f.keys)) {
    if (typeof value !== 'string' || Buffer.from(value, 'base64').length !== 32) {
      throw new AppError('invalid', 'root_key_file_invalid', `root key ${id} in ${file} is not 32 bytes of base64`);
    }
  }
  if (!(f.active in f.keys)) throw new AppError('invalid', 'root_key_file_invalid', `active root key ${f.active} is missing from ${file}`);
  return f as RootKeyFile;
}

async function writeKeyFile(file: string, content: RootKeyFile, exclusive: boolean): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomToken(6)}`;
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(content, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) {
      // link() fails if the file appeared meanwhile: two processes starting together keep one key.
      await fs.link(tmp, file);
    } else {
      await fs.rename(tmp, file);
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

// Reads the key file, refusing one that group or others can read.
async function readKeyFile(file: string): Promise<string> {
  const stat = await fs.stat(file);
  // Refuse keys others can read: the root key unlocks every tenant's Content.
  if ((stat.mode & 0o077) !== 0) {
    throw new AppError('invalid', 'root_key_file_permissions', `root key file ${file} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  return fs.readFile(file, 'utf8');
}

/** Root keys held in a local file. Suitable for single-host installs and development. */
export class LocalKeyProvider implements KeyProvider {
  readonly kind = 'local' as const;
  private keys: Map<string, Buffer>;
  private active: string;

  private constructor(
    private readonly file: string,
    content: RootKeyFile,
  ) {
    this.keys = new Map(Object.entries(content.keys).map(([id, k]) => [id, Buffer.from(k, 'base64')]));
    this.active = content.active;
  }

  /** Opens the key file; creates it (mode 0600) when missing and `create` is true. */
  static async open(file: string, opts: { create: boolean }): Promise<LocalKeyProvider> {
    let text: string;
    try {
      text = await readKeyFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!opts.create) throw new AppError('invalid', 'root_key_file_missing', `root key file ${file} does not exist`);
      const id = `rk-${randomToken(9)}`;
      try {
        await writeKeyFile(file, { format: 'sealpost-root-keys', version: 1, active: id, keys: { [id]: generateKey().toString('base64') } }, true);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      text = await fs.readFile(file, 'utf8');
    }
    return new LocalKeyProvider(file, parseKeyFile(text, file));
  }

  activeRootKeyId(): string {
    return this.active;
  }

  async wrap(key: Uint8Array, context: Uint8Array): Promise<RootWrappedKey> {
    return { rootKeyId: this.active, wrapped: wrapKey(this.keys.get(this.active)!, key, context) };
  }

  async unwrap(wrapped: RootWrappedKey, context: Uint8Array): Promise<Uint8Array> {
    let root = this.keys.get(wrapped.rootKeyId);
    if (!root) {
      // Another process (`sealpost keys rotate-root`) may have added it since this one started.
      await this.reload();
      root = this.keys.get(wrapped.rootKeyId);
    }
    if (!root) throw new AppError('unavailable', 'root_key_unknown', `root key ${wrapped.rootKeyId} is not in the key file`);
    return unwrapKey(root, wrapped.wrapped, context);
  }

  /**
   * Adds a new root key and makes it active; returns its id. Existing wraps stay readable.
   * Keys other processes added to the file are kept: losing one would make every KEK wrapped
   * by it unreadable.
   */
  async rotate(): Promise<string> {
    const id = `rk-${randomToken(9)}`;
    const fresh = generateKey();
    // Read-merge-write, then check: if another process's rotation replaced the file at the same
    // moment, merge again, so that neither new key is lost.
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.reload();
      this.keys.set(id, fresh);
      const keys: Record<string, string> = {};
      for (const [k, v] of this.keys) keys[k] = v.toString('base64');
      await writeKeyFile(this.file, { format: 'sealpost-root-keys', version: 1, active: id, keys }, false);
      const written = parseKeyFile(await readKeyFile(this.file), this.file);
      if (written.keys[id] !== undefined) {
        this.active = id;
        return id;
      }
    }
    throw new AppError('unavailable', 'root_key_rotation_conflict', `root key file ${this.file} kept changing during rotation; run the rotation again`);
  }

  /** Takes in keys added to the file by other processes (never forgets one already loaded) and its active key. */
  private async reload(): Promise<void> {
    const content = parseKeyFile(await readKeyFile(this.file), this.file);
    for (const [k, v] of Object.entries(content.keys)) if (!this.keys.has(k)) this.keys.set(k, Buffer.from(v, 'base64'));
    this.active = content.active;
  }

  async check(): Promise<void> {
    await fs.access(this.file, fsConstants.R_OK);
  }
}
