import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// Working tables the domain never joins: the audience in slices, rate-limit windows.
export * from './schema-work.js';

export const subscriberStatuses = ['pending', 'active', 'unsubscribed', 'bounced', 'complained', 'erased'] as const;
export type SubscriberStatus = (typeof subscriberStatuses)[number];

export const subscribers = pgTable(
  'subscribers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Normalised address (trimmed, domain lower-cased); NULL once erased.
    email: text('email'),
    // HMAC of the lower-cased address: joins suppressions and the ledger without plaintext.
    emailHash: text('email_hash').notNull(),
    name: text('name'),
    locale: text('locale').notNull().default('en'),
    status: text('status', { enum: subscriberStatuses }).notNull().default('pending'),
    source: text('source'),
    createdAt: at('created_at').notNull().defaultNow(),
    confirmedAt: at('confirmed_at'),
    statusChangedAt: at('status_changed_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('subscribers_email_lower_key').on(sql`lower(${t.email})`),
    index('subscribers_email_hash_idx').on(t.emailHash),
    index('subscribers_status_id_idx').on(t.status, t.id),
    index('subscribers_created_id_idx').on(t.createdAt, t.id),
    check(
      'subscribers_status_check',
      sql`${t.status} in ('pending','active','unsubscribed','bounced','complained','erased')`,
    ),
    check('subscribers_erased_has_no_email', sql`(${t.status} = 'erased') = (${t.email} is null)`),
  ],
);

export const topics = pgTable('topics', {
  slug: text('slug').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  defaultOn: boolean('default_on').notNull().default(true),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const subscriptions = pgTable(
  'subscriptions',
  {
    subscriberId: uuid('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    topic: text('topic')
      .notNull()
      .references(() => topics.slug, { onUpdate: 'cascade' }),
    subscribed: boolean('subscribed').notNull(),
    changedAt: at('changed_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.subscriberId, t.topic] }),
    index('subscriptions_topic_idx').on(t.topic, t.subscribed),
  ],
);

export const consentTexts = pgTable('consent_texts', {
  version: integer('version').primaryKey(),
  text: text('text').notNull(),
  sha256: text('sha256').notNull().unique(),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const consentEventKinds = [
  'requested',
  'confirmed',
  'topics_changed',
  'unsubscribed',
  'resubscribed',
  'imported',
  'suppressed',
  'erased',
] as const;
export type ConsentEventKind = (typeof consentEventKinds)[number];

/**
 * Append-only, hash-chained; a trigger (migrations 0001, 0003, 0008) rejects DELETE, TRUNCATE and every
 * UPDATE but sealing an event once and erasing its details once.
 */
export const consentEvents = pgTable(
  'consent_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    subscriberId: uuid('subscriber_id').notNull(),
    emailHash: text('email_hash').notNull(),
    kind: text('kind', { enum: consentEventKinds }).notNull(),
    consentTextVersion: integer('consent_text_version').references(() => consentTexts.version),
    topics: jsonb('topics').$type<string[]>().notNull().default([]),
    // The details: what a person typed or sent. In canonical form 2 the chain covers only their salted
    // digest, so erasure can remove them (and the salt) and the chain still verifies.
    source: text('source'),
    // Pseudonymous: an HMAC of the client IP, never the address itself.
    ipHash: text('ip_hash'),
    userAgent: text('user_agent'),
    // Set by the insert trigger whoever writes the row: a random salt, and sha256 over it and the details.
    detailsSalt: text('details_salt'),
    detailsDigest: text('details_digest'),
    // How the event is hashed into the chain (src/core/consent-canonical.ts): 1 = the details' text itself
    // (events sealed before form 2 existed), 2 = their digest.
    canonicalForm: smallint('canonical_form').notNull().default(2),
    occurredAt: at('occurred_at').notNull(),
    // The chain (src/core/consent.ts): an event is written unsealed, in the transaction of the change it
    // records, and sealed moments later by the sealer, which gives it its place and its link, once.
    chainSeq: bigint('chain_seq', { mode: 'number' }).unique(),
    prevHash: text('prev_hash'),
    hash: text('hash').unique(),
  },
  (t) => [
    index('consent_events_subscriber_idx').on(t.subscriberId, t.seq),
    index('consent_events_unsealed_idx').on(t.seq).where(sql`${t.chainSeq} is null`),
    // The console's growth chart counts events of a few kinds per day over a window (src/core/stats.ts).
    index('consent_events_kind_occurred_idx').on(t.kind, t.occurredAt),
    check(
      'consent_events_sealed_whole',
      sql`(${t.chainSeq} is null) = (${t.hash} is null) and (${t.hash} is null) = (${t.prevHash} is null)`,
    ),
  ],
);

export const confirmTokens = pgTable(
  'confirm_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull().unique(),
    subscriberId: uuid('subscriber_id')
      .notNull()
      .references(() => subscribers.id, { onDelete: 'cascade' }),
    // What was asked for, so the confirmation records the same consent the request showed.
    topics: jsonb('topics').$type<string[]>().notNull().default([]),
    consentTextVersion: integer('consent_text_version').references(() => consentTexts.version),
    source: text('source'),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
    usedAt: at('used_at'),
  },
  (t) => [index('confirm_tokens_subscriber_idx').on(t.subscriberId, t.createdAt)],
);

export const suppressionReasons = ['hard_bounce', 'complaint', 'unsubscribed', 'erased', 'manual'] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

export const suppressions = pgTable(
  'suppressions',
  {
    emailHash: text('email_hash').notNull(),
    reason: text('reason', { enum: suppressionReasons }).notNull(),
    at: at('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.emailHash, t.reason] })],
);

/** `freezing`: the send was accepted and the audience is being written (src/core/audience.ts). */
export const broadcastStatuses = ['draft', 'scheduled', 'freezing', 'sending', 'paused', 'sent', 'cancelled'] as const;

export const broadcasts = pgTable('broadcasts', {
  id: uuid('id').primaryKey().defaultRandom(),
  template: text('template').notNull(),
  topic: text('topic')
    .notNull()
    .references(() => topics.slug),
  subject: text('subject').notNull(),
  preheader: text('preheader').notNull().default(''),
  props: jsonb('props').$type<Record<string, unknown>>().notNull().default({}),
  status: text('status', { enum: broadcastStatuses }).notNull().default('draft'),
  scheduledAt: at('scheduled_at'),
  audienceFrozenAt: at('audience_frozen_at'),
  audienceCount: integer('audience_count'),
  // A large audience is frozen in slices of the subscriber id space, each its own statement (src/core/audience.ts).
  audienceSlices: smallint('audience_slices'),
  audienceSlicesDone: smallint('audience_slices_done'),
  // Why the broadcast is paused or cancelled (author action, error streak, missed schedule).
  statusReason: text('status_reason'),
  completedAt: at('completed_at'),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export const bounceTypes = ['hard', 'soft', 'complaint'] as const;
export type BounceType = (typeof bounceTypes)[number];

/** Every bounce or complaint report, whatever its source; soft bounces suppress only when they persist. */
export const bounceEvents = pgTable(
  'bounce_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    emailHash: text('email_hash').notNull(),
    deliveryId: uuid('delivery_id').references(() => deliveries.id, { onDelete: 'set null' }),
    type: text('type', { enum: bounceTypes }).notNull(),
    source: text('source', { enum: ['smtp', 'api', 'webhook', 'dsn', 'arf'] }).notNull(),
    diagnostic: text('diagnostic'),
    at: at('at').notNull().defaultNow(),
  },
  (t) => [index('bounce_events_email_hash_idx').on(t.emailHash, t.at)],
);

export const deliveryKinds = ['confirmation', 'welcome', 'preferences_link', 'broadcast', 'test'] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];
export const deliveryStatuses = ['queued', 'sending', 'sent', 'failed', 'bounced', 'skipped'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** The outbox: every email, confirmations included, is a row here before it is a message. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: deliveryKinds }).notNull(),
    // No foreign keys on these two: their checks took a lock on every subscriber row a broadcast wrote.
    // Subscribers and broadcasts are never deleted (erasure blanks the row), and the code paths that write
    // these columns read the ids from the rows themselves (tests/integration/outbox-integrity.test.ts).
    broadcastId: uuid('broadcast_id'),
    subscriberId: uuid('subscriber_id'),
    confirmTokenId: uuid('confirm_token_id').references(() => confirmTokens.id, { onDelete: 'set null' }),
    // Kept for the record of what was delivered where; erased with the subscriber. A test send belongs
    // to no subscriber, so no erasure would find it: a trigger (migration 0008) clears it once settled.
    to: text('to'),
    status: text('status', { enum: deliveryStatuses }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    leaseUntil: at('lease_until'),
    messageId: text('message_id'),
    // The provider's own id for the message (an HTTP API's answer), matched against its events later.
    providerMessageId: text('provider_message_id'),
    // The rows sent in one request to a transport that deduplicates by request (Resend's Idempotency-Key
    // over a batch) share this key until settled, so a crash never regroups them under another key.
    sendKey: uuid('send_key'),
    lastError: text('last_error'),
    createdAt: at('created_at').notNull().defaultNow(),
    sentAt: at('sent_at'),
  },
  (t) => [
    unique('deliveries_broadcast_subscriber_key').on(t.broadcastId, t.subscriberId),
    // Two claim paths, each with its own small partial index: transactional mail (confirmations, tests)
    // never waits behind a broadcast's hundred thousand rows.
    index('deliveries_transactional_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.kind} <> 'broadcast' and ${t.status} in ('queued', 'sending')`),
    index('deliveries_broadcast_due_idx')
      .on(t.broadcastId, t.nextAttemptAt)
      .where(sql`${t.kind} = 'broadcast' and ${t.status} in ('queued', 'sending')`),
    index('deliveries_broadcast_status_idx').on(t.broadcastId, t.status),
    // Partial: a row gets its ids when sent, so an outbox row written for later costs no entry here.
    index('deliveries_message_id_idx').on(t.messageId).where(sql`${t.messageId} is not null`),
    index('deliveries_provider_message_id_idx').on(t.providerMessageId).where(sql`${t.providerMessageId} is not null`),
    index('deliveries_send_key_idx').on(t.sendKey).where(sql`${t.sendKey} is not null`),
    index('deliveries_subscriber_idx').on(t.subscriberId),
  ],
);

/**
 * Every event a mail provider reported (src/core/provider-events.ts), kept once: providers redeliver, and
 * the unique (provider, event_id) turns a second delivery into a no-op. No address is kept here; the
 * delivery and the bounce record say who it was about. `nonce` is a single-use value the provider signed
 * (Mailgun's token), unique so a captured signature cannot carry another event.
 */
export const providerEvents = pgTable(
  'provider_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    kind: text('kind').notNull(),
    // What it changed: suppressed, recorded, unsubscribed, delivered, ignored, unknown_recipient.
    outcome: text('outcome').notNull(),
    deliveryId: uuid('delivery_id').references(() => deliveries.id, { onDelete: 'set null' }),
    nonce: text('nonce'),
    occurredAt: at('occurred_at'),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (t) => [
    unique('provider_events_provider_event_key').on(t.provider, t.eventId),
    unique('provider_events_provider_nonce_key').on(t.provider, t.nonce),
    index('provider_events_received_idx').on(t.receivedAt),
  ],
);
