import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type SubscriberStatus, subscriptions } from '../../db/schema.js';
import { listSubscribers } from '../subscribers.js';

/** The author's list as CSV: the counterpart of the import. */

export const EXPORT_COLUMNS = ['email', 'name', 'status', 'topics', 'created_at', 'confirmed_at'] as const;

/**
 * One RFC 4180 field. Values a spreadsheet would run as a formula (starting with = + - @, tab or CR)
 * get a leading `'` (OWASP "CSV injection"); the CLI's import strips it again.
 */
export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export const csvLine = (fields: readonly (string | null | undefined)[]): string =>
  `${fields.map(csvField).join(',')}\r\n`;

export interface ExportFilter {
  status?: SubscriberStatus | undefined;
  topic?: string | undefined;
}

/**
 * The subscriber list as CSV, one page (keyset-paginated, newest first) per chunk, so a big list never
 * sits in memory. The first chunk is the header with the first page, so a database error surfaces
 * before anything is sent. Erased subscribers have no address left and are not listed.
 */
export async function* subscribersCsv(db: Db, filter: ExportFilter, pageSize = 500): AsyncGenerator<string> {
  let out = csvLine(EXPORT_COLUMNS);
  let cursor: string | undefined;
  do {
    const page = await listSubscribers(db, { status: filter.status, topic: filter.topic, cursor, limit: pageSize });
    const ids = page.data.map((s) => s.id);
    const topicsOf = new Map<string, string[]>();
    if (ids.length) {
      const subs = await db
        .select({ id: subscriptions.subscriberId, topic: subscriptions.topic })
        .from(subscriptions)
        .where(and(inArray(subscriptions.subscriberId, ids), eq(subscriptions.subscribed, true)))
        .orderBy(asc(subscriptions.topic));
      for (const s of subs) topicsOf.set(s.id, [...(topicsOf.get(s.id) ?? []), s.topic]);
    }
    for (const s of page.data) {
      if (s.email === null) continue;
      out += csvLine([
        s.email,
        s.name,
        s.status,
        (topicsOf.get(s.id) ?? []).join(';'),
        s.createdAt.toISOString(),
        s.confirmedAt?.toISOString() ?? '',
      ]);
    }
    if (out) yield out;
    out = '';
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
