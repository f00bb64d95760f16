import { z } from '@hono/zod-openapi';
import { deliveryKinds, deliveryStatuses, subscriberStatuses } from '../../../db/schema.js';
import { ConsentEventSchema, errorResponse, plainText, Timestamp, TopicSlug } from '../../schemas.js';

export const PreferencesSchema = z
  .object({
    email: z.string(),
    name: z.string().nullable(),
    locale: z.string(),
    status: z.string(),
    topics: z.array(z.object({ slug: z.string(), name: z.string(), description: z.string(), subscribed: z.boolean() })),
  })
  .openapi('Preferences');

export const PreferencesUpdateSchema = z
  .object({
    name: plainText(200).nullable().optional(),
    topics: z
      .array(TopicSlug)
      .max(50)
      .optional()
      .openapi({ description: 'The complete set of topics wanted; others are turned off.' }),
    unsubscribe_all: z.boolean().optional(),
  })
  .strict()
  .openapi('PreferencesUpdate');

export const EraseRequestSchema = z
  .object({ confirm: z.literal(true, { error: 'must be true' }) })
  .openapi('EraseRequest');

export const PreferencesExport = z
  .object({
    exportedAt: Timestamp,
    profile: z.object({
      id: z.uuid(),
      email: z.string(),
      name: z.string().nullable(),
      locale: z.string(),
      status: z.enum(subscriberStatuses),
      source: z.string().nullable(),
      createdAt: Timestamp,
      confirmedAt: Timestamp.nullable(),
    }),
    subscriptions: z.array(z.object({ topic: z.string(), name: z.string(), subscribed: z.boolean() })),
    consentHistory: z.array(ConsentEventSchema),
    deliveries: z.array(
      z.object({
        kind: z.enum(deliveryKinds),
        status: z.enum(deliveryStatuses),
        createdAt: Timestamp,
        sentAt: Timestamp.nullable(),
        messageId: z.string().nullable(),
      }),
    ),
  })
  .openapi('PreferencesExport');

/** The preference centre form: one intent per button, topics as repeated checkboxes. */
export const PreferencesForm = z.object({
  intent: z.enum(['save', 'unsubscribe_all', 'resubscribe', 'erase_request', 'erase']).default('save'),
  topics: z.preprocess((v) => (v === undefined ? [] : typeof v === 'string' ? [v] : v), z.array(TopicSlug).max(50)),
  name: plainText(200).optional(),
  confirm: z.string().optional(),
});

export const tokenErrors = { 404: errorResponse('Invalid link'), 410: errorResponse('Expired link') };
