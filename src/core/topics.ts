import { asc } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { topics } from '../db/schema.js';
import { AppError } from './errors.js';

export type Topic = typeof topics.$inferSelect;

export const listTopics = (db: DbOrTx): Promise<Topic[]> => db.select().from(topics).orderBy(asc(topics.createdAt), asc(topics.slug));

/** The topics a request names, or the default-on ones; unknown slugs are a 422 naming them. */
export async function resolveTopics(db: DbOrTx, requested: string[] | undefined): Promise<string[]> {
  const all = await listTopics(db);
  if (requested === undefined || requested.length === 0) return all.filter((t) => t.defaultOn).map((t) => t.slug);
  const known = new Set(all.map((t) => t.slug));
  const unknown = requested.filter((slug) => !known.has(slug));
  if (unknown.length > 0) {
    throw new AppError('unknown_topic', `Unknown topic: ${unknown.join(', ')}.`, {
      fields: [{ path: 'topics', message: `unknown: ${unknown.join(', ')}` }],
    });
  }
  return [...new Set(requested)].sort();
}
