import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { type Checkpoint, type CheckpointStore, checkpointIfDue } from '../../core/consent-checkpoints.js';
import type { LedgerKey } from '../../core/ledger-key.js';
import type { Db } from '../../db/client.js';
import { errorFields, type Logger } from '../../log.js';

/** Checkpoint files: `consent-<chain position>.json`, zero-padded so names sort in chain order. */
const FILE = /^consent-(\d{12})\.json$/;
export const checkpointFileName = (c: Checkpoint) => `consent-${String(c.seq).padStart(12, '0')}.json`;

export const checkpointDirOf = (config: Config) =>
  config.LEDGER_CHECKPOINT_DIR ?? join(config.QUIRE_DATA_DIR, 'checkpoints');

/** A directory of checkpoint files, the newest by name. A file once written is never replaced. */
export function checkpointDir(dir: string): CheckpointStore {
  return {
    async latest() {
      const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => FILE.test(n)).sort();
      const newest = names.at(-1);
      return newest ? (JSON.parse(await readFile(join(dir, newest), 'utf8')) as Checkpoint) : undefined;
    },
    async put(checkpoint) {
      await mkdir(dir, { recursive: true });
      const file = join(dir, checkpointFileName(checkpoint));
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, `${JSON.stringify(checkpoint, null, 2)}\n`, { flag: 'wx' });
      // Whole or not at all: a reader never sees half a file.
      await rename(partial, file);
    },
  };
}

/** Every `.json` file of a directory, by name, parsed (the author may have named them as they like). */
export async function readCheckpointFiles(dir: string): Promise<{ name: string; checkpoint: unknown }[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), 'utf8');
      try {
        return { name, checkpoint: JSON.parse(text) as unknown };
      } catch {
        return { name, checkpoint: undefined };
      }
    }),
  );
}

/** At most this long between looks at whether a checkpoint is due, whatever the interval. */
const TICK_MS = 60_000;

/**
 * Keep a checkpoint in the directory every LEDGER_CHECKPOINT_INTERVAL_MINUTES while the ledger grows
 * (checked now, then every minute or interval, whichever is shorter). Returns the stop function.
 */
export function startCheckpoints(
  db: Db,
  key: LedgerKey,
  config: Config,
  log: Logger,
  now: () => Date = () => new Date(),
): () => void {
  const intervalMs = config.LEDGER_CHECKPOINT_INTERVAL_MINUTES * 60_000;
  if (intervalMs === 0) return () => {};
  const dir = checkpointDirOf(config);
  const store = checkpointDir(dir);
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const kept = await checkpointIfDue(db, key, store, now(), intervalMs);
      if (kept) log.info('consent ledger checkpoint kept', { seq: kept.seq, dir });
    } catch (err) {
      log.error('consent ledger checkpoint failed', errorFields(err));
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), Math.min(intervalMs, TICK_MS));
  timer.unref?.();
  return () => clearInterval(timer);
}
