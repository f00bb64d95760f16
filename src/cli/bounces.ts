import { CliError, connectApi, parseCommand, print, usageError } from './api.js';

const BOUNCES_USAGE =
  'usage: quire bounces ingest FILE.eml [--json]\n\nSends a saved delivery status notification (RFC 3464) or abuse report (RFC 5965) to quire,\nwhich suppresses the address it names (hard bounces and complaints at once, soft bounces when they persist).';

export async function bouncesCommand(args: string[]) {
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
  const res = await connectApi().fetch('/admin/v1/bounces/ingest', {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822' },
    body: raw,
  });
  const r = (await res.json()) as { kind: string; reports: number; suppressed: number; unknown: number };
  if (values.json) return print(JSON.stringify(r, null, 2));
  print(`${r.kind}: ${r.reports} report(s), ${r.suppressed} address(es) suppressed, ${r.unknown} not known here`);
}
