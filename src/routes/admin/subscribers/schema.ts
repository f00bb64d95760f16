import { z } from '@hono/zod-openapi';
import { subscriberStatuses } from '../../../db/schema.js';
import { ConsentEventSchema, Timestamp, TopicSlug } from '../../schemas.js';

export const SubscriberListQuery = z.object({
  status: z.enum(subscriberStatuses).optional(),
  topic: TopicSlug.optional(),
  q: z.string().trim().min(1).max(320).optional().openapi({ description: 'Substring of the email address' }),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const ExportQuery = SubscriberListQuery.pick({ status: true, topic: true });

const SubscriberFields = {
  id: z.uuid(),
  email: z.string().nullable().openapi({ description: 'Null once erased.', example: 'reader@example.com' }),
  name: z.string().nullable(),
  status: z.enum(subscriberStatuses),
  locale: z.string().openapi({ example: 'en' }),
  source: z.string().nullable().openapi({ example: 'book-site' }),
  createdAt: Timestamp,
  confirmedAt: Timestamp.nullable(),
};

export const SubscriberSummary = z.object(SubscriberFields).openapi('SubscriberSummary');

export const SubscriberPage = z
  .object({
    data: z.array(SubscriberSummary),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null on the last one.' }),
  })
  .openapi('SubscriberPage');

export const SubscriberDetail = z
  .object({
    ...SubscriberFields,
    statusChangedAt: Timestamp,
    subscriptions: z.array(z.object({ topic: z.string(), subscribed: z.boolean(), changedAt: Timestamp })),
    consentHistory: z.array(ConsentEventSchema),
  })
  .openapi('SubscriberDetail');

export const SubscriberStats = z
  .object({
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()).openapi({ description: 'Every status, zero included.' }),
    activeByTopic: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'Active subscribers per topic slug.' }),
  })
  .openapi('SubscriberStats', {
    example: {
      total: 465,
      byStatus: { pending: 9, active: 439, unsubscribed: 14, bounced: 2, complained: 1, erased: 0 },
      activeByTopic: { release: 431, updates: 398 },
    },
  });

export const IMPORT_MAX_ROWS = 1000;

const optionalText = (max: number) => z.string().max(max).nullish();

// Types and sizes only: what a row means is checked per row in core/lists/import-row.ts, so one bad row
// is reported by its number instead of failing the whole request.
export const SubscriberImportRow = z
  .object({
    row: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: 'Your own row number, echoed in `invalid_rows` (the CLI sends the CSV line).' }),
    email: z.string().max(1000).openapi({ example: 'ada@example.com' }),
    name: optionalText(1000).openapi({ example: 'Ada' }),
    topics: z
      .union([z.array(z.string().max(100)).max(50), z.string().max(2000)])
      .nullish()
      .openapi({
        description: 'Topic slugs, an array or `;`-separated; empty means the default-on topics.',
        example: 'release;updates',
      }),
    consent_at: optionalText(100).openapi({
      description: 'When consent was given (ISO 8601). With consent_source, the row is imported as active.',
      example: '2026-03-14T18:30:00Z',
    }),
    consent_source: optionalText(1000).openapi({
      description: 'How consent was given.',
      example: 'paper form at launch event',
    }),
    consent_text: optionalText(20_000).openapi({
      description: 'The wording agreed to; matched against the consent text versions.',
    }),
    consent_version: z.union([z.number().int(), z.string().max(20)]).nullish(),
    status: optionalText(20).openapi({
      description:
        'As the export writes it: unsubscribed, bounced and complained rows are skipped; an active row with confirmed_at is imported as active.',
      example: 'active',
    }),
    confirmed_at: optionalText(100).openapi({
      description: 'As the export writes it: when the subscriber confirmed (ISO 8601).',
      example: '2026-03-14T18:30:00.000Z',
    }),
  })
  .openapi('SubscriberImportRow');

export const SubscriberImport = z
  .object({ rows: z.array(SubscriberImportRow).min(1).max(IMPORT_MAX_ROWS) })
  .strict()
  .openapi('SubscriberImport');

export const ImportResultSchema = z
  .object({
    imported_active: z.number().int(),
    imported_pending: z.number().int(),
    skipped_existing: z.number().int(),
    skipped_suppressed: z.number().int(),
    invalid: z.number().int(),
    invalid_rows: z.array(z.object({ row: z.number().int(), field: z.string(), message: z.string() })),
  })
  .openapi('SubscriberImportResult');

const Count = z.number().int().min(0);

export const OverviewSchema = z
  .object({
    computedAt: Timestamp,
    tookMs: Count,
    kept: z.boolean().openapi({ description: 'True when these are the figures of an earlier count.' }),
    total: Count,
    byStatus: z.record(z.string(), Count).openapi({ description: 'Every status, zero included.' }),
    topics: z.array(z.object({ slug: z.string(), name: z.string(), active: Count })),
    growth: z.object({
      days: z
        .array(z.object({ day: z.iso.date(), confirmed: Count, unsubscribed: Count }))
        .openapi({ description: 'Ninety UTC days, oldest first, from the consent ledger.' }),
      confirmed: Count,
      unsubscribed: Count,
    }),
    confirmation: z
      .object({ asked: Count, confirmed: Count })
      .openapi({ description: 'Signup requests and confirmations over the same ninety days.' }),
    broadcasts: z.array(
      z.object({
        id: z.uuid(),
        subject: z.string(),
        template: z.string(),
        topic: z.string(),
        status: z.string(),
        audienceCount: Count.nullable(),
        createdAt: Timestamp,
        completedAt: Timestamp.nullable(),
        counts: z.record(z.string(), z.union([Count, z.string(), z.null()])),
      }),
    ),
    ledger: z.object({
      sealed: Count,
      pending: Count,
      pendingCapped: z.boolean(),
      oldestPendingAt: Timestamp.nullable(),
      tail: z.object({ checked: Count, ok: z.boolean(), brokenAt: Count.optional() }),
    }),
  })
  .openapi('Overview');
