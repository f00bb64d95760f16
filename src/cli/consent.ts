import { connectApi, parseCommand, print, usageError } from './api.js';

const CONSENT_USAGE =
  'usage: quire consent verify [--json]\n\nSeals pending consent events, then walks the whole consent ledger and recomputes every link of its hash chain; exits 1 if one is broken.';

export async function consentCommand(args: string[]) {
  const [sub, ...rest] = args;
  if (sub !== 'verify') {
    if (!sub || sub === '--help' || sub === '-h') return print(CONSENT_USAGE);
    throw usageError(`unknown command: consent ${sub}`, CONSENT_USAGE);
  }
  const { values } = parseCommand(rest, { json: { type: 'boolean' } } as const, CONSENT_USAGE);
  const v = await connectApi().get<{
    ok: boolean;
    events: number;
    head?: string;
    pending?: number;
    brokenAt?: number;
    reason?: string;
  }>('/admin/v1/consent/verify');
  if (values.json) print(JSON.stringify(v, null, 2));
  else if (v.ok)
    print(
      `ok: ${v.events} consent events, chain intact (head ${v.head})${v.pending ? `; ${v.pending} written since, not sealed yet` : ''}`,
    );
  else print(`BROKEN: the chain breaks at event seq ${v.brokenAt} (${v.reason}), after ${v.events - 1} intact events`);
  if (!v.ok) process.exitCode = 1;
}
