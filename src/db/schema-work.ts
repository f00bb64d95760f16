import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A broadcast's frozen audience that is not in the outbox yet: subscriber ids in chunks, written by one
 * INSERT … SELECT per slice when the send is accepted, and turned into outbox rows a claim at a time
 * (src/delivery/outbox-store.ts), so a million recipients are a few thousand rows to write, not a million.
 * No foreign keys, for the same reason as the outbox's; the ids come from the subscribers table itself.
 */
export const broadcastAudience = pgTable(
  'broadcast_audience',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    broadcastId: uuid('broadcast_id').notNull(),
    subscriberIds: uuid('subscriber_ids').array().notNull(),
  },
  (t) => [index('broadcast_audience_broadcast_idx').on(t.broadcastId, t.id)],
);

/** Fixed-window counters, shared by every API instance through the database. */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').notNull(),
    windowStart: at('window_start').notNull(),
    count: integer('count').notNull().default(0),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index('rate_limits_expires_idx').on(t.expiresAt)],
);
