import { CliError, parseCommand, print, usageError } from './api.js';

/**
 * `quire inbound < message.eml`: one message handed over by a Postfix pipe transport, a local(8) alias or
 * procmail, acted on as the Worker's email() handler and the SMTP listener do (src/core/inbound.ts).
 *
 * Unlike the other commands it opens the database itself, as `quire migrate` does, rather than calling
 * the admin API: it runs on the mail host for every message, where an MTA keeps it, and an admin token in
 * master.cf would hand the whole admin API to a job that needs two addresses; and it must answer the MTA
 * with an exit status it understands (sysexits.h), "try again later" above all, so a database outage
 * defers the message instead of losing an opt-out.
 */
const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_NOUSER = 67;
const EX_TEMPFAIL = 75;

const INBOUND_USAGE = `usage: quire inbound [--to ADDRESS] [--json] < message.eml

Reads one message on stdin and acts on it like quire's other ways in (README "Mail that comes back"):
mail to the unsubscribe address unsubscribes the subscriber its token names; a delivery report to a
VERP bounce address (BOUNCE_ADDRESS with +<delivery id>) is recorded. Anything else is refused.

The envelope recipient is the first of:
  --to ADDRESS          Postfix pipe: argv=/usr/local/bin/quire inbound --to \${original_recipient}
  ORIGINAL_RECIPIENT    the environment variable Postfix local(8) sets for |command deliveries
  X-Original-To:        the topmost such header (Postfix pipe flag O, local delivery)
  Delivered-To:         the topmost such header (Postfix pipe flag D, most delivery agents)

Opens the database itself: DATABASE_URL, or the PGlite data directory when no server holds it.
Exit status (sysexits.h, as Postfix reads it): 0 done or dropped (a message that says nothing usable),
67 not one of quire's addresses, 65 larger than INBOUND_MAX_BYTES, 75 try again later (database
unreachable or in use, configuration invalid).`;

export async function inboundCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    args,
    { to: { type: 'string' }, json: { type: 'boolean' } } as const,
    INBOUND_USAGE,
  );
  if (positionals.length) throw usageError(`unexpected argument: ${positionals[0]}`, INBOUND_USAGE);
  if (process.stdin.isTTY) throw new CliError('give the message on stdin: quire inbound < message.eml', EX_USAGE);
  // Loaded here only: the other commands never open a database.
  const { parseConfig } = await import('../config.js');
  const { describeInbound, receiveInbound, screenInbound } = await import('../core/inbound.js');
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    // A configuration mistake is fixed by the operator: the MTA keeps the message meanwhile.
    throw new CliError((err as Error).message, EX_TEMPFAIL);
  }

  const raw = await readStdin(config.INBOUND_MAX_BYTES);
  const to = values.to ?? process.env.ORIGINAL_RECIPIENT ?? (raw ? headerRecipient(raw) : undefined);
  if (!to) throw new CliError('no envelope recipient: give --to ADDRESS (see quire inbound --help)', EX_USAGE);
  const screened = screenInbound(config, to, raw?.length ?? Number.POSITIVE_INFINITY);
  if (screened || !raw) {
    const refused = screened ?? ({ status: 'rejected', route: null, reason: 'too_large' } as const);
    throw new CliError(describeInbound(refused, config), refused.reason === 'too_large' ? EX_DATAERR : EX_NOUSER);
  }

  const { lockDataDir } = await import('../runtime/node/data-dir-lock.js');
  const { openDatabase } = await import('../runtime/node/database.js');
  const { resolveSecret } = await import('../runtime/node/secret.js');
  const { sealPendingConsentEvents } = await import('../core/consent-sealer.js');
  let outcome: Awaited<ReturnType<typeof receiveInbound>>;
  try {
    // The embedded database belongs to one process: while `npm start` holds it, Postfix retries later.
    const unlock = config.DATABASE_URL ? async () => {} : await lockDataDir(config.QUIRE_DATA_DIR);
    try {
      const database = await openDatabase(config);
      try {
        const deps = { db: database.db, config, secret: await resolveSecret(config), now: () => new Date() };
        outcome = await receiveInbound(deps, { raw, to });
        // The opt-out's ledger event joins the chain now; a running server or the cron would seal it too.
        if (outcome.status === 'done' && outcome.route === 'unsubscribe')
          await sealPendingConsentEvents(database.db).catch(() => 0);
      } finally {
        await database.close();
      }
    } finally {
      await unlock();
    }
  } catch (err) {
    throw new CliError(
      `cannot process the message now (${(err as Error).message.split('\n')[0]}); try again later`,
      EX_TEMPFAIL,
    );
  }
  if (values.json) print(JSON.stringify(outcome));
  else print(describeInbound(outcome, config));
}

/** The message, or undefined when it is larger than `max` (reading stops there: nothing more is held). */
async function readStdin(max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The address in the topmost X-Original-To, else the topmost Delivered-To, of the header block: the one
 * the delivering MTA prepended last (RFC 9228 §4 for Delivered-To).
 */
function headerRecipient(raw: Buffer): string | undefined {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const lines = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
  for (const name of ['x-original-to', 'delivered-to']) {
    const line = lines.find((l) => l.toLowerCase().startsWith(`${name}:`));
    if (!line) continue;
    const value = line.slice(name.length + 1).trim();
    const address = /<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? /^[^\s<>]+@[^\s<>]+$/.exec(value)?.[0];
    if (address) return address;
  }
  return undefined;
}
