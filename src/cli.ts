import { CliError, HelpRequested, print, usageError } from './cli/api.js';
import { bouncesCommand } from './cli/bounces.js';
import { broadcastCommand } from './cli/broadcast.js';
import { consentCommand } from './cli/consent.js';
import { inboundCommand } from './cli/inbound.js';
import { migrateCommand } from './cli/migrate.js';
import { statsCommand } from './cli/stats.js';
import { subscribersCommand } from './cli/subscribers.js';
import { templatesCommand } from './cli/templates.js';

/**
 * The `quire` command for the author (`npm run quire -- …`, or `quire` via bin/quire.mjs).
 * Everything but `migrate` and `inbound` (which open the database) goes through the admin HTTP API at
 * QUIRE_URL with ADMIN_TOKEN from the environment, so it works the same against a laptop and a production
 * server.
 */
const USAGE = `usage: quire <command> [options]

  broadcast …          create, preview, test and send announcements (quire broadcast --help)
  subscribers …        import a CSV list, export the list (quire subscribers --help)
  stats                the list at a glance: by status and topic, growth, broadcasts, the ledger
  consent verify       check the consent ledger's hash chain (--against DIR: and kept checkpoints)
  consent checkpoint   sign a checkpoint of the ledger to keep outside the database (--out DIR)
  bounces ingest FILE  record a bounce (DSN, RFC 3464) or complaint (ARF, RFC 5965) saved as .eml
  inbound < MSG.eml    one message to the unsubscribe or bounce address, from a Postfix pipe (local)
  templates [NAME]     broadcast templates; with NAME, its example props as JSON
  migrate              apply database migrations (local: uses DATABASE_URL / QUIRE_DATA_DIR)

Environment: QUIRE_URL (default http://localhost:8787), ADMIN_TOKEN (required for API commands).
Every command takes --help.`;

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return print(USAGE);
    case 'broadcast':
    case 'broadcasts':
      return broadcastCommand(rest);
    case 'subscribers':
      return subscribersCommand(rest);
    case 'stats':
      return statsCommand(rest);
    case 'consent':
      return consentCommand(rest);
    case 'templates':
      return templatesCommand(rest);
    case 'bounces':
      return bouncesCommand(rest);
    case 'migrate':
      return migrateCommand(rest);
    case 'inbound':
      return inboundCommand(rest);
    default:
      throw usageError(`unknown command: ${command}`, USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => {},
  async (err: unknown) => {
    const { ConfigError } = await import('./config.js');
    if (err instanceof HelpRequested) {
      print(err.usage);
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`quire: ${err.message}\n`);
      for (const line of err.details) process.stderr.write(`  ${line}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `quire: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
