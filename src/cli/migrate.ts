import { parseCommand, print } from './api.js';

const MIGRATE_USAGE =
  'usage: quire migrate\n\nApplies drizzle migrations to the configured database (DATABASE_URL, or PGlite in QUIRE_DATA_DIR).';

export async function migrateCommand(args: string[]): Promise<void> {
  parseCommand(args, {}, MIGRATE_USAGE);
  // Local on purpose: the only command that opens the database itself (loaded only here).
  const { parseConfig } = await import('../config.js');
  const { migrateDatabase } = await import('../runtime/node/database.js');
  const config = parseConfig(process.env);
  await migrateDatabase(config);
  print(`migrations applied (${config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.QUIRE_DATA_DIR}`})`);
}
