import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { consentEvents } from '../db/schema.js';
import { chainRows, type LinkProblem, linkProblem, unsealedCount } from './consent.js';
import { GENESIS_HASH } from './consent-canonical.js';
import { sha256Hex } from './crypto.js';
import { AppError } from './errors.js';
import { type LedgerKey, signatureValid, signText } from './ledger-key.js';

/**
 * Checkpoints of the consent ledger, signed outside the database.
 *
 * A chain that verifies proves nothing against someone who can rewrite it from some event on and
 * recompute every later link: the owner of consent_events, who can disable its trigger. A checkpoint
 * is the chain as it stood — its head at a position, at a time — signed with a key the database never
 * sees (LEDGER_SIGNING_KEY) and kept elsewhere: a file the author keeps, a directory on Node, R2 or KV on
 * Workers. It also carries every link since the checkpoint before it, so a later difference is named
 * to the event, not only detected. Verifying against kept checkpoints proves the history up to each of
 * them unchanged.
 */

export const CHECKPOINT_FORMAT = 'quire-consent-checkpoint/1' as const;

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** The chain position of `head`. */
  seq: number;
  head: string;
  /** When it was signed (ISO 8601). */
  at: string;
  /** The position the links start after, and the hash there (the genesis hash at 0). */
  from: number;
  prev: string;
  /** The hash at every position from `from + 1` to `seq`, in chain order. */
  links: string[];
  /** The signing key's public half, raw, base64url. */
  key: string;
  signature: string;
}

/** Where checkpoints are kept outside the database: the newest one, and room for another. */
export interface CheckpointStore {
  latest(): Promise<Checkpoint | undefined>;
  put(checkpoint: Checkpoint): Promise<void>;
}

/** Everything signed, one field a line; the links by their digest. */
const signedText = (c: Omit<Checkpoint, 'signature'>) =>
  [
    c.format,
    `seq ${c.seq}`,
    `head ${c.head}`,
    `at ${c.at}`,
    `from ${c.from}`,
    `prev ${c.prev}`,
    `links ${sha256Hex(c.links.join('\n'))}`,
    `key ${c.key}`,
  ].join('\n');

/**
 * Sign the sealed chain as it stands, with the links after position `from`. Every one of them is
 * recomputed first: a broken chain is never signed. With `expectPrev` (the head of the last checkpoint
 * kept), a chain that no longer holds that hash at `from` is refused too.
 */
export async function createCheckpoint(
  db: Db,
  key: LedgerKey,
  at: Date,
  from = 0,
  expectPrev?: string,
): Promise<Checkpoint> {
  let prev = GENESIS_HASH;
  if (from > 0) {
    const [row] = await db
      .select({ hash: consentEvents.hash })
      .from(consentEvents)
      .where(eq(consentEvents.chainSeq, from));
    if (!row?.hash) throw new AppError('invalid_state', `The ledger has no sealed event at chain position ${from}.`);
    prev = row.hash;
  }
  if (expectPrev !== undefined && prev !== expectPrev) {
    throw new AppError(
      'invalid_state',
      `The ledger differs from the last checkpoint kept at chain position ${from}: nothing was signed. Run \`quire consent verify --against\` on the checkpoints.`,
    );
  }
  const links: string[] = [];
  let head = prev;
  let seq = from;
  for await (const row of chainRows(db, from)) {
    const problem = row.chainSeq === seq + 1 ? linkProblem(head, row) : 'prev_hash_mismatch';
    if (problem)
      throw new AppError(
        'invalid_state',
        `The ledger's chain breaks at event ${row.seq} (${problem}): nothing was signed.`,
      );
    head = row.hash!;
    seq = row.chainSeq!;
    links.push(head);
  }
  const unsigned = { format: CHECKPOINT_FORMAT, seq, head, at: at.toISOString(), from, prev, links, key: key.id };
  return { ...unsigned, signature: await signText(key, signedText(unsigned)) };
}

export type CheckpointRejection = 'malformed' | 'unknown_key' | 'invalid_signature';

/** Why a checkpoint cannot be relied on, or undefined when it can. */
export async function checkpointProblem(key: LedgerKey, c: Checkpoint): Promise<CheckpointRejection | undefined> {
  if (
    c.format !== CHECKPOINT_FORMAT ||
    c.links.length !== c.seq - c.from ||
    (c.links.at(-1) ?? c.prev) !== c.head ||
    (c.from === 0 && c.prev !== GENESIS_HASH)
  )
    return 'malformed';
  if (c.key !== key.id) return 'unknown_key';
  return (await signatureValid(key, signedText(c), c.signature)) ? undefined : 'invalid_signature';
}

interface CheckpointsUsed {
  /** How many of those given were relied on, and the furthest position they vouch for. */
  checked: number;
  upTo: number;
  /** Those that could not be relied on (by their index in the request), and why. */
  ignored: { checkpoint: number; reason: CheckpointRejection }[];
}

export type CheckpointVerification =
  | { ok: true; events: number; head: string; pending: number; checkpoints: CheckpointsUsed }
  | {
      ok: false;
      events: number;
      /** The first event that differs (its `seq`), or null when the position is empty now. */
      brokenAt: number | null;
      chainSeq: number;
      reason: LinkProblem | 'differs_from_checkpoint' | 'missing_from_checkpoint';
      /** For a difference from a checkpoint: which one, what it recorded there, what is there now. */
      checkpoint?: { index: number; seq: number; at: string; expected: string; found: string | null };
      checkpoints: CheckpointsUsed;
    };

/**
 * Walk the chain as verifyConsentChain does, and at every position a relied-on checkpoint recorded,
 * compare. The earliest signed checkpoint speaks for a position when two disagree: a later one may have
 * been signed after a rewrite.
 */
export async function verifyAgainstCheckpoints(
  db: Db,
  key: LedgerKey,
  checkpoints: Checkpoint[],
): Promise<CheckpointVerification> {
  const used: CheckpointsUsed = { checked: 0, upTo: 0, ignored: [] };
  const expected = new Map<number, { hash: string; index: number }>();
  const order = checkpoints.map((c, index) => ({ c, index })).sort((a, b) => a.c.at.localeCompare(b.c.at));
  for (const { c, index } of order) {
    const reason = await checkpointProblem(key, c);
    if (reason) {
      used.ignored.push({ checkpoint: index, reason });
      continue;
    }
    used.checked++;
    used.upTo = Math.max(used.upTo, c.seq);
    const note = (position: number, hash: string) => {
      if (!expected.has(position)) expected.set(position, { hash, index });
    };
    if (c.from > 0) note(c.from, c.prev);
    for (const [i, hash] of c.links.entries()) note(c.from + i + 1, hash);
  }
  used.ignored.sort((a, b) => a.checkpoint - b.checkpoint);
  const positions = [...expected.keys()].sort((a, b) => a - b);

  const differs = (
    position: number,
    row: { seq: number; hash: string | null } | undefined,
    events: number,
  ): CheckpointVerification => {
    const want = expected.get(position)!;
    const c = checkpoints[want.index]!;
    return {
      ok: false,
      events,
      brokenAt: row?.seq ?? null,
      chainSeq: position,
      reason: row ? 'differs_from_checkpoint' : 'missing_from_checkpoint',
      checkpoint: { index: want.index, seq: c.seq, at: c.at, expected: want.hash, found: row?.hash ?? null },
      checkpoints: used,
    };
  };

  let prev = GENESIS_HASH;
  let events = 0;
  let next = 0;
  for await (const row of chainRows(db)) {
    events++;
    // A position a checkpoint recorded that the chain skips now: the event there is gone.
    if (next < positions.length && positions[next]! < row.chainSeq!)
      return differs(positions[next]!, undefined, events);
    if (positions[next] === row.chainSeq) {
      next++;
      if (expected.get(row.chainSeq!)!.hash !== row.hash) return differs(row.chainSeq!, row, events);
    }
    const reason = linkProblem(prev, row);
    if (reason) return { ok: false, events, brokenAt: row.seq, chainSeq: row.chainSeq!, reason, checkpoints: used };
    prev = row.hash!;
  }
  if (next < positions.length) return differs(positions[next]!, undefined, events);
  return { ok: true, events, head: prev, pending: await unsealedCount(db), checkpoints: used };
}

/**
 * Keep a checkpoint in `store` when the newest one there is at least `intervalMs` old and the chain has
 * grown since; each covers the links since the one before. Returns what it kept, if anything.
 */
export async function checkpointIfDue(
  db: Db,
  key: LedgerKey,
  store: CheckpointStore,
  now: Date,
  intervalMs: number,
): Promise<Checkpoint | undefined> {
  const latest = await store.latest();
  if (latest && now.getTime() - Date.parse(latest.at) < intervalMs) return undefined;
  const checkpoint = await createCheckpoint(db, key, now, latest?.seq ?? 0, latest?.head);
  if (checkpoint.seq === (latest?.seq ?? 0)) return undefined;
  await store.put(checkpoint);
  return checkpoint;
}
