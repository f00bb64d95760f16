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
  bounces ingest FILE  record a bounce (DSN, RFC 3464) or complaint (ARF, RFC 5965) saved as .eml
  templates [NAME]     broadcast templates; with NAME, its example props as JSON
  migrate              apply database migrations (local: uses DATABASE_URL / QUIRE_DATA_DIR)

Environment: QUIRE_URL (default http://localhost:8787), ADMIN_TOKEN (required for API commands).
Every command takes --help.`;

const CONSENT_USAGE = 'usage: quire consent verify [--json]\n\nSeals pending consent events, then walks the whole consent ledger and recomputes every link of its hash chain; exits 1 if one is broken.';
const TEMPLATES_USAGE = 'usage: quire templates [NAME] [--json]\n\nWithout NAME: the broadcast templates. With NAME: its example props, a start for --props:\n  quire templates release-announcement > props.json';
const BOUNCES_USAGE =
  'usage: quire bounces ingest FILE.eml [--json]\n\nSends a saved delivery status notification (RFC 3464) or abuse report (RFC 5965) to quire,\nwhich suppresses the address it names (hard bounces and complaints at once, soft bounces when they persist).';
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
    case 'bounces':
      return bouncesCommand(rest);
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
  const v = await connectApi().get<{ ok: boolean; events: number; head?: string; pending?: number; brokenAt?: number; reason?: string }>('/admin/v1/consent/verify');
  if (values.json) print(JSON.stringify(v, null, 2));
  else if (v.ok) print(`ok: ${v.events} consent events, chain intact (head ${v.head})${v.pending ? `; ${v.pending} written since, not sealed yet` : ''}`);
  else print(`BROKEN: the chain breaks at event seq ${v.brokenAt} (${v.reason}), after ${v.events - 1} intact events`);
  if (!v.ok) process.exitCode = 1;
}

async function bouncesCommand(args: string[]) {
  const [sub, ...rest] = args;
  if (sub !== 'ingest') {
    if (!sub || sub === '--help' || sub === '-h') return print(BOUNCES_USAGE);
    throw usageError(`unknown command: bounces ${sub}`, BOUNCES_USAGE);
  }
  const { values, positionals } = parseCommand(rest, { json: { type: 'boolean' } } as const, BOUNCES_USAGE);
  if (positionals.length !== 1) throw usageError('give one .eml file', BOUNCES_USAGE);
  const { readFile } = await import('node:fs/promises');
  const raw = await readFile(positionals[0]!).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${positionals[0]}: ${err.code ?? err.message}`);
  });
  const res = await connectApi().fetch('/admin/v1/bounces/ingest', { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw });
  const r = (await res.json()) as { kind: string; reports: number; suppressed: number; unknown: number };
  if (values.json) return print(JSON.stringify(r, null, 2));
  print(`${r.kind}: ${r.reports} report(s), ${r.suppressed} address(es) suppressed, ${r.unknown} not known here`);
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
