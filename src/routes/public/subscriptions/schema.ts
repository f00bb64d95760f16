import { z } from '@hono/zod-openapi';
import { plainText, TopicSlug } from '../../schemas.js';

const truthy = (v: unknown) =>
  v === true || (typeof v === 'string' && ['true', 'on', '1', 'yes'].includes(v.toLowerCase()));

/** One schema: validates JSON and form bodies, types the handler, documents the endpoint. */
export const SubscriptionRequest = z
  .object({
    email: z.string().min(1).max(1000).openapi({ example: 'reader@example.com' }),
    name: plainText(200).optional(),
    topics: z
      .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(TopicSlug).max(20))
      .optional()
      .openapi({ example: ['release', 'updates'] }),
    consent: z
      .preprocess(truthy, z.literal(true, { error: 'must be true' }))
      .openapi({ type: 'boolean', example: true }),
    consent_version: z.coerce.number().int().positive().max(2_147_483_647).optional(), // an int4 column: larger is a 422, not a 500
    source: plainText(100).optional().openapi({ example: 'book-site' }),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/)
      .optional()
      .openapi({ example: 'en' }),
    website: z.string().max(2000).optional().openapi({ description: 'Honeypot: leave empty.' }),
    form_ts: z.string().max(100).optional().openapi({ description: 'Signed form render time (minimum fill time).' }),
    return_to: z.string().max(2000).optional().openapi({
      description:
        'Form posts: the page the form is on, to come back to when the signup needs correcting (PUBLIC_URL or an ALLOWED_ORIGINS origin).',
    }),
    'cf-turnstile-response': z
      .string()
      .max(4096)
      .optional()
      .openapi({ description: 'Turnstile token, required when Turnstile is configured.' }),
  })
  .openapi('SubscriptionRequest');

export const SubscriptionAccepted = z
  .object({ status: z.literal('pending'), message: z.string(), next: z.string() })
  .openapi('SubscriptionAccepted');
