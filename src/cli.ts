import { CliError, connectApi, HelpRequested, parseCommand, print, usageError } from './cli/api.js';
import { broadcastCommand } from './cli/broadcast.js';
import { subscribersCommand } from './cli/subscribers.js';

/**
 * The `quire` command for the author (`npm run quire -- …`, or `quire` via bin/quire.mjs).
 * Everything but `migrate` goes through the admin HTTP API at QUIRE_URL with ADMIN_TOKEN from the
 * environment, so it works the same against a laptop and a production server.
 */
const USAGE = `usage: quire <command> [options]

  broadcast …          create, preview, test and send announcements (quire broadcast --help)
  subscribers …        import a CSV list, export the list (quire subscribers --help)
  consent verify       check the consent ledger's hash chain
  templates [NAME]     broadcast templates; with NAME, its example props as JSON
  migrate              apply database migrations (local: uses DATABASE_URL / QUIRE_DATA_DIR)

Environment: QUIRE_URL (default http://localhost:8787), ADMIN_TOKEN (required for API commands).
Every command takes --help.`;

const CONSENT_USAGE = 'usage: quire consent verify [--json]\n\nWalks the whole consent ledger and recomputes every link of its hash chain; exits 1 if one is broken.';
const TEMPLATES_USAGE = 'usage: quire templates [NAME] [--json]\n\nWithout NAME: the broadcast templates. With NAME: its example props, a start for --props:\n  quire templates release-announcement > props.json';
const MIGRATE_USAGE = 'usage: quire migrate\n\nApplies drizzle migrations to the configured database (DATABASE_URL, or PGlite in QUIRE_DATA_DIR).';

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
    case 'consent':
      return consentCommand(rest);
    case 'templates':
      return templatesCommand(rest);
    case 'migrate':
      return migrateCommand(rest);
    default:
      throw usageError(`unknown command: ${command}`, USAGE);
  }
}

async function consentCommand(args: string[]) {
  const [sub, ...rest] = args;
  if (sub !== 'verify') {
    if (!sub || sub === '--help' || sub === '-h') return print(CONSENT_USAGE);
    throw usageError(`unknown command: consent ${sub}`, CONSENT_USAGE);
  }
  const { values } = parseCommand(rest, { json: { type: 'boolean' } } as const, CONSENT_USAGE);
  const v = await connectApi().get<{ ok: boolean; events: number; head?: string; brokenAt?: number; reason?: string }>('/admin/v1/consent/verify');
  if (values.json) print(JSON.stringify(v, null, 2));
  else if (v.ok) print(`ok: ${v.events} consent events, chain intact (head ${v.head})`);
  else print(`BROKEN: the chain breaks at event seq ${v.brokenAt} (${v.reason}), after ${v.events - 1} intact events`);
  if (!v.ok) process.exitCode = 1;
}

interface TemplateInfo {
  name: string;
  description: string;
  exampleProps: unknown;
}

async function templatesCommand(args: string[]) {
  const { values, positionals } = parseCommand(args, { json: { type: 'boolean' } } as const, TEMPLATES_USAGE);
  const list = await connectApi().get<TemplateInfo[]>('/admin/v1/templates');
  if (positionals.length) {
    const t = list.find((x) => x.name === positionals[0]);
    if (!t) throw new CliError(`no template "${positionals[0]}"; there are: ${list.map((x) => x.name).join(', ')}`);
    return print(JSON.stringify(t.exampleProps, null, 2));
  }
  if (values.json) return print(JSON.stringify(list, null, 2));
  const width = Math.max(...list.map((t) => t.name.length));
  for (const t of list) print(`${t.name.padEnd(width)}  ${t.description}`);
}

async function migrateCommand(args: string[]) {
  parseCommand(args, {}, MIGRATE_USAGE);
  // Local on purpose: the only command that opens the database itself (loaded only here).
  const { parseConfig } = await import('./config.js');
  const { lockDataDir, openDatabase } = await import('./node-support.js');
  const config = parseConfig(process.env);
  // The embedded database belongs to one process at a time: refuse while `npm start` holds it.
  const unlock = config.DATABASE_URL ? async () => {} : await lockDataDir(config.QUIRE_DATA_DIR);
  try {
    const database = await openDatabase(config);
    await database.close();
  } finally {
    await unlock();
  }
  print(`migrations applied (${config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.QUIRE_DATA_DIR}`})`);
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
