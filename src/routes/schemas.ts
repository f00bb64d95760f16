import { z } from '@hono/zod-openapi';
import { errorStatus } from '../core/errors.js';
import { consentEventKinds } from '../db/schema.js';

/** Schemas and OpenAPI pieces shared by several resources; each resource keeps its own in its schema.ts. */

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...(keyof typeof errorStatus)[]]),
      message: z.string(),
      requestId: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error', {
    example: {
      error: {
        code: 'invalid_email',
        message: "That doesn't look like a valid email. Please check and try again.",
        requestId: '4b1c…',
      },
    },
  });

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorEnvelopeSchema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** No control characters: names end up in email bodies, and CR/LF must never reach a header. */
export const plainText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');

export const TopicSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'not a topic slug');

export const TokenParam = z.object({
  token: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'token', in: 'path' }, example: 'AQHk0…' }),
});

/**
 * The token of a confirmation or unsubscribe link. Unbounded on purpose: these links answer a browser
 * with a page, so any token they cannot use is the core's "invalid link" (404), never a 422.
 */
export const LinkTokenParam = z.object({
  token: z.string().openapi({ param: { name: 'token', in: 'path' }, example: 'AQHk0…' }),
});

/** A time as JSON carries it: the ISO 8601 string a Date serialises to. */
export const Timestamp = z.iso.datetime().openapi({ example: '2026-11-25T12:00:00.000Z' });

/** One event of the consent ledger as the subscriber's export and the admin API show it. */
export const ConsentEventSchema = z
  .object({
    seq: z.number().int(),
    kind: z.enum(consentEventKinds),
    consentTextVersion: z.number().int().nullable(),
    topics: z.array(z.string()),
    source: z.string().nullable(),
    occurredAt: Timestamp,
    hash: z.string().nullable().openapi({ description: 'Null until the event is sealed into the chain.' }),
  })
  .openapi('ConsentEvent');

/** What an erasure answers, asked for by the subscriber or by the author. */
export const EraseResult = z
  .object({ status: z.enum(['erased', 'already_erased']) })
  .openapi('EraseResult', { example: { status: 'erased' } });

/** A page: HTML for a browser. */
export const htmlResponse = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() } },
});

/** What a page route answers when it cannot do what was asked: a page for a browser, the envelope for a script. */
export const pageError = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() }, 'application/json': { schema: ErrorEnvelopeSchema } },
});

/** A form post's body, as a browser sends it. */
export const formBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema } },
});
