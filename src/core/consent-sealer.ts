import { isNull, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.js';
import { consentEvents } from '../db/schema.js';

/**
 * Sealing the consent ledger (see consent.ts): pending events get their place in the chain and their link,
 * in batches, by one sealer at a time across every process sharing the database.
 */

/** The advisory lock consent_events_seal takes (drizzle/0008 writes the same number). */
export const LEDGER_LOCK = 0x6c656467; // "ledg"
export const SEAL_BATCH = 1000;

/**
 * Seal every event pending now; returns how many this call sealed. When another sealer holds the lock,
 * `wait: false` (polling) gives up at once and returns 0, `wait: true` queues behind it.
 */
export async function sealConsentEvents(db: Db, opts: { wait: boolean; batchSize?: number }): Promise<number> {
  const batchSize = opts.batchSize ?? SEAL_BATCH;
  let sealed = 0;
  for (;;) {
    const n = await sealBatch(db, batchSize, opts.wait);
    sealed += n ?? 0;
    if (n === null || n < batchSize) return sealed;
  }
}

/** Whether any event waits to be sealed: one index probe, so idle polling costs next to nothing. */
export async function hasUnsealedEvents(db: Db): Promise<boolean> {
  const rows = await db
    .select({ seq: consentEvents.seq })
    .from(consentEvents)
    .where(isNull(consentEvents.chainSeq))
    .limit(1);
  return rows.length > 0;
}

/**
 * Seal whatever is pending, if anything, without waiting for another sealer (it seals these too, or the
 * next round does). What a poll or a Worker invocation runs.
 */
export async function sealPendingConsentEvents(db: Db): Promise<number> {
  return (await hasUnsealedEvents(db)) ? sealConsentEvents(db, { wait: false }) : 0;
}

/**
 * One batch, sealed by the database itself (consent_events_seal, drizzle/0008): it takes the lock, links
 * the pending events in seq order and writes their links, running as the table's owner. The application's
 * role may call it and may not UPDATE the ledger, so it cannot choose a link; an event whose transaction
 * commits late is sealed in a later batch.
 */
async function sealBatch(db: Db, batchSize: number, wait: boolean): Promise<number | null> {
  const [row] = rowsOf<{ sealed: number | string | null }>(
    await db.execute(sql`select consent_events_seal(${wait}::boolean, ${batchSize}::integer) as sealed`),
  );
  return row?.sealed == null ? null : Number(row.sealed);
}

export interface ConsentSealer {
  start(): void;
  /** Seal everything pending now (tests, shutdown, an admin verifying the chain). */
  seal(wait?: boolean): Promise<number>;
  /** Stop polling, then seal what is pending. */
  stop(): Promise<void>;
}

/** A long-lived process's sealer: polls for pending events every `intervalMs` and seals them. */
export function createConsentSealer(
  db: Db,
  opts: { intervalMs: number; onError?: (err: unknown) => void },
): ConsentSealer {
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight: Promise<number> | undefined;

  // One seal at a time in this process; a caller arriving during one waits for it and runs another
  // (queueing behind any other process's sealer too), so what was pending when it called is sealed when
  // it returns.
  const seal = async (wait = true): Promise<number> => {
    while (inFlight) await inFlight.catch(() => 0);
    inFlight = wait ? sealConsentEvents(db, { wait }) : sealPendingConsentEvents(db);
    try {
      return await inFlight;
    } finally {
      inFlight = undefined;
    }
  };
  const poll = async () => {
    if (inFlight) return;
    try {
      await seal(false);
    } catch (err) {
      opts.onError?.(err);
    }
  };

  return {
    start() {
      timer ??= setInterval(() => void poll(), opts.intervalMs);
      timer.unref?.();
    },
    seal,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await seal().catch((err: unknown) => opts.onError?.(err));
    },
  };
}
