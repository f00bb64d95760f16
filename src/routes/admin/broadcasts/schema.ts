import { z } from '@hono/zod-openapi';
import { broadcastStatuses } from '../../../db/schema.js';
import { errorResponse, plainText, Timestamp, TopicSlug } from '../../schemas.js';
import { invalidId, unauthorized } from '../schema.js';

/** What a route about one broadcast answers besides its own: no token, no such broadcast, an id that is not one. */
export const broadcastErrors = { ...unauthorized, 404: errorResponse('No such broadcast'), ...invalidId };

export const BroadcastCreate = z
  .object({
    template: z.string().min(1).max(100).openapi({ example: 'update-announcement' }),
    topic: TopicSlug.openapi({ example: 'updates' }),
    subject: plainText(200)
      .pipe(z.string().min(1))
      .openapi({ example: 'New chapter article: Coaching through tech refinement' }),
    preheader: plainText(200).optional(),
    props: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The template's props; see GET /admin/v1/templates." }),
  })
  .openapi('BroadcastCreate');

export const SendBody = z
  .object({ at: z.iso.datetime({ offset: true }).optional().openapi({ example: '2026-12-01T09:00:00Z' }) })
  .strict();

export const TestBody = z.object({ to: z.array(z.string().max(320)).min(1).max(10) }).strict();

export const BroadcastSchema = z
  .object({
    id: z.uuid(),
    template: z.string(),
    topic: z.string(),
    subject: z.string(),
    preheader: z.string(),
    props: z.record(z.string(), z.unknown()),
    status: z.enum(broadcastStatuses),
    scheduledAt: Timestamp.nullable(),
    audienceFrozenAt: Timestamp.nullable(),
    audienceCount: z.number().int().nullable().openapi({ description: 'Recipients frozen when sending started.' }),
    statusReason: z.string().nullable().openapi({ description: 'Why it is paused or cancelled.' }),
    completedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Broadcast', { example: broadcastExample() });

function broadcastExample() {
  return {
    id: '0b6f2d1e-8c4a-4f3b-9e2d-5a7c1b3e9f40',
    template: 'update-announcement',
    topic: 'updates',
    subject: 'New chapter article: Coaching through tech refinement',
    preheader: '',
    props: {},
    status: 'draft',
    scheduledAt: null,
    audienceFrozenAt: null,
    audienceCount: null,
    statusReason: null,
    completedAt: null,
    createdAt: '2026-11-25T12:00:00.000Z',
    updatedAt: '2026-11-25T12:00:00.000Z',
  };
}

const count = z.number().int();

export const DeliveryCountsSchema = z
  .object({
    queued: count,
    sending: count,
    sent: count,
    failed: count,
    bounced: count,
    skipped: count,
    retrying: count.openapi({ description: 'Of queued: rows that failed before and wait for another attempt' }),
    nextAttemptAt: z.string().datetime().nullable().openapi({ description: 'When the next retrying row is due' }),
  })
  .openapi('DeliveryCounts');

export const BroadcastDetail = BroadcastSchema.extend({ counts: DeliveryCountsSchema }).openapi('BroadcastDetail', {
  example: {
    ...broadcastExample(),
    counts: { queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, skipped: 0, retrying: 0, nextAttemptAt: null },
  },
});

export const BroadcastList = z.object({ data: z.array(BroadcastSchema) }).openapi('BroadcastList');

export const Audience = z
  .object({
    audience: z.number().int().openapi({ description: 'Active, subscribed to the topic, not suppressed.' }),
    excluded: z.object({
      pending: z.number().int(),
      unsubscribed: z.number().int(),
      suppressed: z.number().int(),
      notInTopic: z.number().int(),
    }),
  })
  .openapi('BroadcastAudience', {
    example: { audience: 412, excluded: { pending: 9, unsubscribed: 14, suppressed: 3, notInTopic: 27 } },
  });

export const TestSendResult = z
  .object({ queued: z.number().int() })
  .openapi('BroadcastTestResult', { example: { queued: 1 } });

export const RetryFailedResult = z
  .object({ broadcast: BroadcastSchema, requeued: z.number().int() })
  .openapi('BroadcastRetryResult');
