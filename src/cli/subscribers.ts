import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import { type CsvImport, readImportCsv } from '../core/lists/csv.js';
import type { ImportResult } from '../core/lists/import.js';
import type { ImportRow } from '../core/lists/import-row.js';
import { CliError, connectApi, parseCommand, print, usageError } from './api.js';

export const SUBSCRIBERS_USAGE = `usage: quire subscribers <command> [options]

  import FILE.csv                 add subscribers from a CSV file with a header row
  export [--status S] [--topic T] the list as CSV on stdout: quire subscribers export > list.csv

Talks to QUIRE_URL (default http://localhost:8787) with ADMIN_TOKEN from the environment.`;

const IMPORT_USAGE = `usage: quire subscribers import FILE.csv [--json]

Columns (header row, any order; only email is required):
  email            the address
  name             optional
  topics           topic slugs separated by ";" (empty: the default topics)
  consent_at       when the person agreed, ISO 8601 (2026-03-14T18:30:00Z or 2026-03-14)
  consent_source   how they agreed, e.g. "paper form at launch event"
  consent_text     the wording they agreed to (matched against quire's consent texts)
  consent_version  or the number of that consent text
  status           as \`quire subscribers export\` writes it: unsubscribed, bounced and complained rows
                   are skipped; an active row's confirmed_at counts as its consent evidence
  confirmed_at     when an exported subscriber confirmed

Rows with consent_at AND consent_source become active subscribers, recorded as "imported" in the
consent ledger. Rows without them get a confirmation mail and are only subscribed once they confirm.
Addresses that unsubscribed, bounced, complained or were erased are skipped, and existing subscribers
are left as they are, so running the same import twice is safe. A file from \`quire subscribers export\`
imports as it is.`;

const EXPORT_USAGE = `usage: quire subscribers export [--status pending|active|unsubscribed|bounced|complained] [--topic SLUG] > list.csv

Columns: email, name, status, topics (";"-separated), created_at, confirmed_at. Values that a
spreadsheet would run as a formula (starting with = + - @) are prefixed with '. The file imports back
as it is: \`quire subscribers import list.csv\`.`;

/** Rows per request; the API takes up to 1,000. */
export const IMPORT_CHUNK = 500;

export async function subscribersCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return void print(SUBSCRIBERS_USAGE);
  if (sub === 'import') return importCommand(rest);
  if (sub === 'export') return exportCommand(rest);
  throw usageError(`unknown command: subscribers ${sub}`, SUBSCRIBERS_USAGE);
}

async function importCommand(args: string[]) {
  const { values, positionals } = parseCommand(args, { json: { type: 'boolean' } } as const, IMPORT_USAGE);
  if (positionals.length !== 1) throw usageError('one CSV file, please', IMPORT_USAGE);
  const file = positionals[0]!;
  const rows = readCsv(
    file,
    await readFile(file, 'utf8').catch((err: Error) =>
      Promise.reject(new CliError(`cannot read ${file}: ${err.message}`)),
    ),
  );
  if (rows.length === 0) throw new CliError(`${file} has no rows under its header`);

  const api = connectApi();
  const total: ImportResult = {
    imported_active: 0,
    imported_pending: 0,
    skipped_existing: 0,
    skipped_suppressed: 0,
    invalid: 0,
    invalid_rows: [],
  };
  for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
    let r: ImportResult;
    try {
      r = await api.post<ImportResult>('/admin/v1/subscribers/import', { rows: rows.slice(i, i + IMPORT_CHUNK) });
    } catch (err) {
      if (i > 0 && err instanceof CliError) {
        // Earlier chunks are in; an import can be run again safely (existing addresses are skipped).
        report(total);
        throw new CliError(
          `${err.message} (rows after line ${rows[i - 1]!.row} were not imported; running the import again is safe)`,
          1,
          err.details,
        );
      }
      throw err;
    }
    for (const key of [
      'imported_active',
      'imported_pending',
      'skipped_existing',
      'skipped_suppressed',
      'invalid',
    ] as const)
      total[key] += r[key];
    total.invalid_rows.push(...r.invalid_rows);
  }
  if (values.json) return void print(JSON.stringify(total, null, 2));
  report(total);
}

function report(t: ImportResult) {
  print(`imported: ${t.imported_active} active, ${t.imported_pending} pending (confirmation mail queued)`);
  print(`skipped:  ${t.skipped_existing} already on the list, ${t.skipped_suppressed} unsubscribed, bounced or erased`);
  print(`invalid:  ${t.invalid}`);
  for (const r of t.invalid_rows) print(`  line ${r.row} (${r.field}): ${r.message}`);
}

/** The CSV read as the console reads it (core/lists/csv.ts); ignored columns are named on stderr. */
export function readCsv(file: string, text: string): ImportRow[] {
  let csv: CsvImport;
  try {
    csv = readImportCsv(text);
  } catch (err) {
    if (err instanceof AppError) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
  const ignored = csv.mapping.filter((m) => m.field === null).map((m) => m.header);
  if (ignored.length) process.stderr.write(`ignoring column${ignored.length > 1 ? 's' : ''}: ${ignored.join(', ')}\n`);
  return csv.rows;
}

async function exportCommand(args: string[]) {
  const { values, positionals } = parseCommand(
    args,
    { status: { type: 'string' }, topic: { type: 'string' } } as const,
    EXPORT_USAGE,
  );
  if (positionals.length) throw usageError(`unexpected argument: ${positionals[0]}`, EXPORT_USAGE);
  const query = new URLSearchParams();
  if (values.status) query.set('status', values.status);
  if (values.topic) query.set('topic', values.topic);
  const res = await connectApi().fetch(`/admin/v1/subscribers/export${query.size ? `?${query}` : ''}`, {
    headers: { accept: 'application/json, text/csv;q=0.9' },
  });
  // `quire subscribers export | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  if (!res.body) return;
  for await (const chunk of res.body) {
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  }
}
