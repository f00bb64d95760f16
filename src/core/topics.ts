import { asc } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { topics } from '../db/schema.js';
import { AppError } from './errors.js';

export type Topic = typeof topics.$inferSelect;

export const listTopics = (db: DbOrTx): Promise<Topic[]> =>
  db.select().from(topics).orderBy(asc(topics.createdAt), asc(topics.slug));

/**
 * Topics change by migration or by hand, not per request, yet every signup resolves them: keep the list
 * per database for a few seconds. A slug the cached list does not know is looked up again before it is
 * refused, so a topic added a moment ago is never a 422.
 */
const TOPICS_TTL_MS = 10_000;
const topicCache = new WeakMap<object, { at: number; topics: Topic[] }>();

async function cachedTopics(db: DbOrTx, fresh: boolean): Promise<Topic[]> {
  const hit = topicCache.get(db);
  if (!fresh && hit && Date.now() - hit.at < TOPICS_TTL_MS) return hit.topics;
  const all = await listTopics(db);
  topicCache.set(db, { at: Date.now(), topics: all });
  return all;
}

/** The topics a request names, or the default-on ones; unknown slugs are a 422 naming them. */
export async function resolveTopics(db: DbOrTx, requested: string[] | undefined): Promise<string[]> {
  let all = await cachedTopics(db, false);
  if (requested === undefined || requested.length === 0) return all.filter((t) => t.defaultOn).map((t) => t.slug);
  const unknownIn = (list: Topic[]) => {
    const known = new Set(list.map((t) => t.slug));
    return requested.filter((slug) => !known.has(slug));
  };
  let unknown = unknownIn(all);
  if (unknown.length > 0) {
    all = await cachedTopics(db, true);
    unknown = unknownIn(all);
  }
  if (unknown.length > 0) {
    throw new AppError('unknown_topic', `Unknown topic: ${unknown.join(', ')}.`, {
      fields: [{ path: 'topics', message: `unknown: ${unknown.join(', ')}` }],
    });
  }
  return [...new Set(requested)].sort();
}
