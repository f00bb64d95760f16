import { z } from '@hono/zod-openapi';
import { errorStatus } from '../core/errors.js';

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...(keyof typeof errorStatus)[]]),
      message: z.string(),
      requestId: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error', { example: { error: { code: 'invalid_email', message: "That doesn't look like a valid email. Please check and try again.", requestId: '4b1c…' } } });

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorEnvelopeSchema } },
});

/** No control characters: names end up in email bodies, and CR/LF must never reach a header. */
export const plainText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // eslint-disable-next-line no-control-regex
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');

export const TopicSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'not a topic slug');

export const TokenParam = z.object({
  token: z.string().min(1).max(200).openapi({ param: { name: 'token', in: 'path' }, example: 'AQHk0…' }),
});
