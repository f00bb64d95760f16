import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { connectPostgres, type Database } from '../../db/client.js';
import { migratePostgres } from '../../db/migrate.js';
import { lockDataDir } from './data-dir-lock.js';

/**
 * PostgreSQL when DATABASE_URL is set, otherwise PGlite persisted in the data directory; migrated. On
 * PostgreSQL the owner migrates (MIGRATION_DATABASE_URL, or DATABASE_URL in a single-role set-up) and
 * the application connects as DATABASE_URL. PGlite has one user, who owns everything: there the consent
 * ledger's trigger holds against the application's code, not against whoever holds the data directory,
 * and only checkpoints kept elsewhere do (README "The database roles").
 */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    await migratePostgres(config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL);
    return connectPostgres({ url: config.DATABASE_URL, timeoutMs: config.DB_TIMEOUT_MS });
  }
  const dir = join(config.QUIRE_DATA_DIR, 'pgdata');
  await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
  // Loaded only here, so a PostgreSQL setup never loads PGlite.
  const { migratePglite, openPglite } = await import('../../db/pglite.js');
  const database = await openPglite(dir);
  await migratePglite(database.client);
  return database;
}

/** Open the configured database (which migrates it) and close it again; the embedded one under its lock. */
export async function migrateDatabase(config: Config): Promise<void> {
  // The embedded database belongs to one process at a time: refuse while `npm start` holds it.
  const unlock = config.DATABASE_URL ? async () => {} : await lockDataDir(config.QUIRE_DATA_DIR);
  try {
    const database = await openDatabase(config);
    await database.close();
  } finally {
    await unlock();
  }
}
