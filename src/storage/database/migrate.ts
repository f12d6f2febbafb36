// Forward-only SQL migrations from migrations/NNNN_name.sql, each applied once, in order, in its
// own transaction, on PGlite and PostgreSQL alike.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AppError, errors } from '../../shared/app-error.ts';
import { sha256Hex } from '../../crypto/hash.ts';
import type { Database, Sql } from './database.ts';

/** Folder holding the migrations shipped with this version. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** One migration file, read and checksummed. */
export interface MigrationFile {
  /** The numeric prefix as written ('0001'); unique and ordered numerically. */
  id: string;
  /** The rest of the file name ('foundation'). */
  name: string;
  checksum: string;
  sql: string;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Ids applied by this call, in order (empty when the schema was already current). */
  applied: string[];
}

/** Options for {@link migrate}; tests point `directory` at a copy they can edit. */
export interface MigrateOptions {
  directory?: string;
}

const FILE_NAME = /^(\d+)_([a-z0-9_]+)\.sql$/;

// All migrators, in every process, serialise on this one advisory lock, so two nodes starting
// together apply each migration exactly once and the second then finds nothing to do.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('sealpost:schema_migrations'))`;

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`;

interface AppliedRow {
  id: string;
  name: string;
  checksum: string;
}

/**
 * Brings the schema up to date. Idempotent; safe to run from several processes at once. Fails
 * with 'migration_checksum_mismatch' when an applied migration file was edited and with
 * 'migration_unknown' when the database has migrations this version does not ship.
 */
export async function migrate(db: Database, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const files = await readMigrations(opts.directory ?? MIGRATIONS_DIR);

  const applied = await db.transaction(async (tx) => {
    await tx.query(LOCK);
    await tx.query(CREATE_TABLE);
    return readApplied(tx);
  });
  checkApplied(files, applied);

  const done: string[] = [];
  for (const file of files) {
    if (applied.has(file.id)) continue;
    const didApply = await db.transaction(async (tx) => {
      await tx.query(LOCK);
      // Another process may have applied it while we waited for the lock.
      const now = await readApplied(tx);
      checkApplied(files, now);
      if (now.has(file.id)) return false;
      try {
        await tx.script(file.sql);
      } catch (err) {
        throw new AppError('internal', 'migration_failed', `migration ${file.id}_${file.name} failed: ${messageOf(err)}`, { migration: file.id }, { cause: err });
      }
      await tx.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [file.id, file.name, file.checksum]);
      return true;
    });
    if (didApply) done.push(file.id);
  }
  return { applied: done };
}

/** Reads and orders the migration files of `directory`; fails on a badly named or duplicate file. */
export async function readMigrations(directory: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((n) => n.endsWith('.sql'));
  const files: MigrationFile[] = [];
  for (const fileName of names) {
    const match = FILE_NAME.exec(fileName);
    // A misnamed file would otherwise be skipped silently and its schema never created.
    if (!match) {
      throw errors.internal('migration_invalid_name', `migration file ${fileName} must be named NNNN_snake_case_name.sql`);
    }
    // CRLF checkouts (Windows) must not look like an edited migration.
    const sql = (await readFile(join(directory, fileName), 'utf8')).replace(/\r\n/g, '\n');
    files.push({ id: match[1]!, name: match[2]!, checksum: sha256Hex(sql), sql });
  }
  files.sort((a, b) => Number(a.id) - Number(b.id));
  for (let i = 1; i < files.length; i++) {
    if (Number(files[i]!.id) === Number(files[i - 1]!.id)) {
      throw errors.internal('migration_duplicate_id', `two migration files share the number ${files[i]!.id}`);
    }
  }
  return files;
}

async function readApplied(sql: Sql): Promise<Map<string, AppliedRow>> {
  const { rows } = await sql.query<AppliedRow>('SELECT id, name, checksum FROM schema_migrations');
  return new Map(rows.map((r) => [r.id, r]));
}

function checkApplied(files: MigrationFile[], applied: Map<string, AppliedRow>): void {
  const byId = new Map(files.map((f) => [f.id, f]));
  for (const row of applied.values()) {
    const file = byId.get(row.id);
    // Running older code on a newer schema would corrupt data the newer code relies on.
    if (!file) {
      throw errors.internal('migration_unknown', `the database has migration ${row.id}_${row.name}, which this version does not ship; run a newer version`);
    }
    // Applied migrations are history: an edit would never reach existing databases, so
    // databases would silently differ. Add a new migration instead.
    if (file.checksum !== row.checksum) {
      throw errors.internal('migration_checksum_mismatch', `migration ${file.id}_${file.name} was edited after it was applied; revert the edit and add a new migration`);
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
