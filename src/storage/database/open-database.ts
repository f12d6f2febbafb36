// The one place that chooses the database driver (see docs/database.md).
import { join } from 'node:path';
import type { Database } from './database.ts';
import { openPgliteDatabase } from './pglite-database.ts';
import { openPostgresDatabase } from './postgres-database.ts';

/** The part of the configuration that decides where data lives. */
export interface DatabaseConfig {
  /** PostgreSQL connection string; when absent, embedded PGlite is used. */
  databaseUrl?: string;
  /** Root folder for local data; PGlite keeps its files in `<dataDir>/database`. */
  dataDir: string;
  /** PostgreSQL pool size per process. */
  databasePoolMax?: number;
  /** Run prepared() statements as named statements on PostgreSQL (default true). */
  preparedStatements?: boolean;
}

/** Folder PGlite uses under the configured data directory. */
export function pgliteDataDir(dataDir: string): string {
  return join(dataDir, 'database');
}

/** Opens PostgreSQL when `databaseUrl` is set, otherwise PGlite under `dataDir`. Does not migrate. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.databaseUrl !== undefined && config.databaseUrl !== '') {
    return openPostgresDatabase(config.databaseUrl, {
      ...(config.databasePoolMax !== undefined ? { max: config.databasePoolMax } : {}),
      ...(config.preparedStatements !== undefined ? { preparedStatements: config.preparedStatements } : {}),
    });
  }
  return openPgliteDatabase(pgliteDataDir(config.dataDir));
}
