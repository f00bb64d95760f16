import type { ChainVerification } from '../core/consent.js';
import type { Checkpoint, CheckpointVerification } from '../core/consent-checkpoints.js';
import { checkpointDir, checkpointFileName, readCheckpointFiles } from '../runtime/node/checkpoints.js';
import { CliError, connectApi, parseCommand, print, usageError } from './api.js';

const CONSENT_USAGE = `usage: quire consent verify [--against DIR] [--json]
       quire consent checkpoint [--out DIR] [--json]

verify       Seal pending consent events, then walk the whole consent ledger and recompute every link of
             its hash chain; exit 1 if one is broken. With --against DIR, also compare the chain with every
             checkpoint kept in DIR (*.json) and name the first event that differs from one.
checkpoint   Sign a checkpoint of the chain as it stands (with the server's LEDGER_SIGNING_KEY) and print
             it; with --out DIR, write it there, holding the links since the newest checkpoint in DIR.

Keep checkpoints outside the database: a ledger rewritten there, every later link recomputed, still
verifies by itself, and cannot match a checkpoint signed before.`;

export async function consentCommand(args: string[]) {
  const [sub, ...rest] = args;
  if (sub === 'verify') return verify(rest);
  if (sub === 'checkpoint') return checkpoint(rest);
  if (!sub || sub === '--help' || sub === '-h') return print(CONSENT_USAGE);
  throw usageError(`unknown command: consent ${sub}`, CONSENT_USAGE);
}

async function verify(args: string[]) {
  const { values } = parseCommand(
    args,
    { json: { type: 'boolean' }, against: { type: 'string' } } as const,
    CONSENT_USAGE,
  );
  if (values.against === undefined) {
    const v = await connectApi().get<ChainVerification>('/admin/v1/consent/verify');
    if (values.json) print(JSON.stringify(v, null, 2));
    else if (v.ok)
      print(
        `ok: ${v.events} consent events, chain intact (head ${v.head})${v.pending ? `; ${v.pending} written since, not sealed yet` : ''}`,
      );
    else
      print(`BROKEN: the chain breaks at event seq ${v.brokenAt} (${v.reason}), after ${v.events - 1} intact events`);
    if (!v.ok) process.exitCode = 1;
    return;
  }

  const files = await kept(values.against);
  if (files.length === 0) throw new CliError(`no checkpoint files (*.json) in ${values.against}`);
  const v = await connectApi()
    .post<CheckpointVerification>('/admin/v1/consent/verify', { checkpoints: files.map((f) => f.checkpoint) })
    .catch((err: unknown) => {
      // Field errors name checkpoints by index: name the files instead.
      if (err instanceof CliError)
        throw new CliError(
          err.message,
          err.exitCode,
          err.details.map((d) => d.replace(/^checkpoints\.(\d+)/, (_, i: string) => files[Number(i)]?.name ?? _)),
        );
      throw err;
    });
  if (values.json) return print(JSON.stringify({ ...v, files: files.map((f) => f.name) }, null, 2));

  const name = (i: number) => files[i]?.name ?? `#${i}`;
  for (const { checkpoint: i, reason } of v.checkpoints.ignored) {
    print(
      reason === 'unknown_key'
        ? `note: ${name(i)} is signed by another key (not this server's LEDGER_SIGNING_KEY): not relied on`
        : `NOT RELIED ON: ${name(i)} is ${reason === 'malformed' ? 'not a whole checkpoint' : 'not as it was signed'}`,
    );
  }
  if (v.ok) {
    print(
      `ok: ${v.events} consent events, chain intact (head ${v.head}); unchanged up to chain position ${v.checkpoints.upTo}, as ${v.checkpoints.checked} checkpoint(s) recorded it`,
    );
  } else if (v.checkpoint) {
    const c = v.checkpoint;
    print(
      v.brokenAt === null
        ? `DIFFERS: chain position ${v.chainSeq} holds no event now; ${name(c.index)} (signed ${c.at}) recorded ${c.expected} there`
        : `DIFFERS: event seq ${v.brokenAt} (chain position ${v.chainSeq}) is not what ${name(c.index)} (signed ${c.at}) recorded: ${c.expected} then, ${c.found} now`,
    );
  } else {
    print(`BROKEN: the chain breaks at event seq ${v.brokenAt} (${v.reason}), after ${v.events - 1} intact events`);
  }
  const untrusted = v.checkpoints.ignored.some((x) => x.reason !== 'unknown_key');
  if (!v.ok || untrusted || v.checkpoints.checked === 0) process.exitCode = 1;
}

async function checkpoint(args: string[]) {
  const { values } = parseCommand(args, { json: { type: 'boolean' }, out: { type: 'string' } } as const, CONSENT_USAGE);
  const api = connectApi();
  if (values.out === undefined) {
    const c = await api.post<Checkpoint>('/admin/v1/consent/checkpoints', {});
    return print(JSON.stringify(c, null, 2));
  }
  let newest: { name: string; checkpoint: Checkpoint } | undefined;
  for (const { name, checkpoint } of await kept(values.out).catch(() => [])) {
    if (isCheckpoint(checkpoint) && checkpoint.seq >= (newest?.checkpoint.seq ?? 0)) newest = { name, checkpoint };
  }
  const c = await api.post<Checkpoint>('/admin/v1/consent/checkpoints', { from: newest?.checkpoint.seq ?? 0 });
  if (newest && c.prev !== newest.checkpoint.head) {
    throw new CliError(
      `the ledger differs from ${newest.name} at chain position ${c.from}: nothing written. Run quire consent verify --against ${values.out}`,
    );
  }
  if (newest && c.seq === newest.checkpoint.seq) {
    return print(
      values.json ? JSON.stringify(c, null, 2) : `nothing new since ${newest.name} (chain position ${c.seq})`,
    );
  }
  await checkpointDir(values.out).put(c);
  print(
    values.json
      ? JSON.stringify(c, null, 2)
      : `kept ${checkpointFileName(c)} in ${values.out}: chain position ${c.seq}, head ${c.head}`,
  );
}

async function kept(dir: string) {
  try {
    return await readCheckpointFiles(dir);
  } catch (err) {
    throw new CliError(`cannot read ${dir}: ${(err as Error).message}`);
  }
}

const isCheckpoint = (v: unknown): v is Checkpoint =>
  typeof v === 'object' && v !== null && (v as Checkpoint).format === 'quire-consent-checkpoint/1';
