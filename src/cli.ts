import { ConfigError, parseConfig } from './config.js';
import { openDatabase } from './services.js';

/** The `quire` command. For now: `migrate`, which applies drizzle's migrations to the configured database. */
async function main(argv: string[]) {
  const [command] = argv;
  const config = parseConfig(process.env);
  switch (command) {
    case 'migrate': {
      const database = await openDatabase(config);
      await database.close();
      console.log(`migrations applied (${config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.QUIRE_DATA_DIR}`})`);
      return;
    }
    default:
      console.log('usage: quire migrate');
      process.exitCode = command ? 1 : 0;
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `quire: ${(err as Error).message}`);
  process.exit(1);
});
