import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AppError, notFound } from '../../core/errors.js';
import { recordProviderEvents } from '../../core/provider-events.js';
import { type ProviderEvent, WebhookAuthError, WebhookPayloadError } from '../../mail/events/types.js';
import type { AppContext, AppEnv } from '../env.js';
import { errorResponse } from '../schemas.js';

/*
 * What the provider webhook routes share: the answer, the error mapping, and reading the raw body once.
 * Each route is thin: authenticate the raw bytes (a route middleware, before any parsing), let the route's
 * schema validate the body, map it to ProviderEvents, record them, answer 200. Providers retry anything
 * but a 2xx, so a malformed body gets a 4xx (retrying cannot help) and nothing is ever a 500 on purpose.
 */

export const ProviderEventResult = z
  .object({
    received: z.number().int().openapi({ description: 'Events in the request that quire acts on or counts' }),
    duplicates: z.number().int().openapi({ description: 'Events received before: nothing changed' }),
    suppressed: z.number().int(),
    unsubscribed: z.number().int(),
    unknown: z.number().int().openapi({ description: 'Events about nobody quire holds' }),
  })
  .openapi('ProviderEventResult', {
    example: { received: 1, duplicates: 0, suppressed: 1, unsubscribed: 0, unknown: 0 },
  });

export const providerWebhookResponses = (secretName: string) => ({
  200: {
    description: 'Recorded (a redelivered event changes nothing)',
    content: { 'application/json': { schema: ProviderEventResult } },
  },
  400: errorResponse('Body is not JSON'),
  401: errorResponse('Missing, invalid or expired signature or credentials'),
  404: errorResponse(`${secretName} is not set`),
  413: errorResponse('Body too large'),
  415: errorResponse('Not sent as JSON'),
  422: errorResponse('Not an event this provider sends'),
});

/** The raw body, read once (hono keeps it, so the route's JSON validator parses the same bytes). */
export async function rawBody(c: AppContext): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await c.req.arrayBuffer());
}

export function parseJson(raw: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw));
  } catch {
    throw new AppError('invalid_json', 'The request body is not valid JSON.');
  }
}

/** The provider modules' errors as the API's own: 401 for authenticity, 422 for content. */
export function asAppError(err: unknown): unknown {
  if (err instanceof WebhookAuthError) return new AppError('unauthorized', err.message);
  if (err instanceof WebhookPayloadError) return new AppError('validation_failed', err.message);
  return err;
}

/**
 * A route middleware: 404 while the provider's secret is unset, then `check` the request (throwing
 * WebhookAuthError to refuse it) before the body is parsed or validated.
 */
export function authenticate<S>(
  secretOf: (c: AppContext) => S | undefined,
  check: (c: AppContext, secret: S) => Promise<void>,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const secret = secretOf(c);
    if (secret === undefined) throw notFound();
    try {
      await check(c, secret);
    } catch (err) {
      throw asAppError(err);
    }
    await next();
  };
}

/** Record the events and answer; a replayed single-use token is refused as a bad signature would be. */
export async function recordAndAnswer(c: AppContext, events: ProviderEvent[]) {
  const tally = await recordProviderEvents(c.get('services'), events);
  if (tally.replayed > 0) throw new AppError('unauthorized', 'This signature was already used for another event.');
  const { received, duplicates, suppressed, unsubscribed, unknown } = tally;
  return c.json({ received, duplicates, suppressed, unsubscribed, unknown }, 200);
}
