import type { Checkpoint, CheckpointStore } from '../../core/consent-checkpoints.js';

/**
 * Where a Worker keeps the consent ledger's checkpoints: an R2 bucket or a KV namespace bound as
 * LEDGER_CHECKPOINTS (wrangler.toml). Typed by what is used of each, so either binding fits.
 */
interface R2Like {
  head(key: string): Promise<unknown>;
  get(key: string): Promise<{ text(): Promise<string> } | null>;
  put(key: string, value: string, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}
interface KvLike {
  getWithMetadata(key: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<unknown>;
}
export type CheckpointBinding = R2Like | KvLike;

const PREFIX = 'consent-checkpoints/';
/** A copy of the newest, so finding it is one read (KV cannot list in order, and R2 lists by page). */
const LATEST = `${PREFIX}latest.json`;
const keyOf = (c: Checkpoint) => `${PREFIX}consent-${String(c.seq).padStart(12, '0')}.json`;

const isR2 = (b: CheckpointBinding): b is R2Like => typeof (b as R2Like).head === 'function';

export function checkpointStoreFor(binding: CheckpointBinding | undefined): CheckpointStore | undefined {
  if (!binding) return undefined;
  const read = async (key: string): Promise<string | null> =>
    isR2(binding) ? ((await binding.get(key))?.text() ?? null) : binding.get(key);
  const write = async (key: string, value: string) => {
    if (isR2(binding)) await binding.put(key, value, { httpMetadata: { contentType: 'application/json' } });
    else await binding.put(key, value);
  };
  return {
    async latest() {
      const text = await read(LATEST);
      return text ? (JSON.parse(text) as Checkpoint) : undefined;
    },
    async put(checkpoint) {
      const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
      await write(keyOf(checkpoint), text);
      await write(LATEST, text);
    },
  };
}
