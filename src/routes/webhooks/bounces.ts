import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { recordBounceReports } from '../../core/bounce-messages.js';
import type { BounceReport } from '../../core/bounces.js';
import { hmacHex, safeEqual } from '../../core/crypto.js';
import { AppError, notFound } from '../../core/errors.js';
import { openapiWithOwnBody } from '../body.js';
import type { AppEnv } from '../env.js';
import { fieldsOf } from '../http.js';
import { errorResponse, jsonResponse } from '../schemas.js';

export const WEBHOOK_SIGNATURE_HEADER = 'X-Quire-Signature';
/** A signed request older or newer than this (against the service clock) is refused: replay protection. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
export const WEBHOOK_MAX_EVENTS = 100;

export const BounceWebhookEvent = z
  .object({
    type: z.enum(['hard', 'soft', 'complaint']).openapi({ example: 'hard' }),
    email: z.string().trim().min(1).max(320).optional().openapi({ example: 'reader@example.com' }),
    message_id: z.string().trim().min(1).max(998).optional().openapi({
      description: 'The Message-ID quire sent, with or without <>',
      example: '<6f1d3c2a-8b4e-4f7a-9c15-2e8d7b3a1f40@news.example>',
    }),
    diagnostic: z.string().max(2000).optional().openapi({ example: 'smtp; 550 5.1.1 User unknown' }),
  })
  .refine((e) => e.email !== undefined || e.message_id !== undefined, {
    message: 'needs email or message_id',
    path: ['email'],
  })
  .openapi('BounceWebhookEvent');

export const BounceWebhookBatch = z
  .object({ events: z.array(BounceWebhookEvent).min(1).max(WEBHOOK_MAX_EVENTS) })
  .openapi('BounceWebhookBatch');

export const BounceWebhookResult = z
  .object({ received: z.number().int(), suppressed: z.number().int(), unknown: z.number().int() })
  .openapi('BounceWebhookResult', { example: { received: 1, suppressed: 1, unknown: 0 } });

/**
 * Check `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (Stripe-style; several v1
 * entries allowed, for secret rotation on the sender's side). The HMAC covers the raw bytes as received.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: Uint8Array,
  now: Date,
): boolean {
  if (!header || header.length > 1000) return false;
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value.toLowerCase());
  }
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return false;
  const expected = hmacHex(secret, Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]));
  // Compare every candidate, so the time taken does not depend on which one matched.
  return signatures.map((s) => safeEqual(s, expected)).includes(true);
}

const unauthorized = () =>
  new AppError('unauthorized', `Missing, invalid or expired ${WEBHOOK_SIGNATURE_HEADER} signature.`);

const route = createRoute({
  method: 'post',
  operationId: 'receiveBounceWebhook',
  security: [{ webhookSignature: [] }],
  path: '/webhooks/bounces',
  tags: ['Webhooks'],
  summary: 'Bounces and complaints from an ESP or relay (one event, or up to 100 as {"events": […]}).',
  description:
    `Signed with WEBHOOK_SECRET: \`${WEBHOOK_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<raw body>")>\`. ` +
    `Timestamps more than ${WEBHOOK_TOLERANCE_SECONDS / 60} minutes from the server clock are refused. ` +
    'Hard bounces and complaints suppress the address at once; soft bounces when they persist. Sending the same event again records nothing new in the consent ledger. ' +
    'Without WEBHOOK_SECRET the endpoint does not exist (404).',
  request: {
    headers: z.object({ 'x-quire-signature': z.string().openapi({ example: 't=1795608000,v1=5257a869e7…' }) }),
    body: {
      required: true,
      content: { 'application/json': { schema: z.union([BounceWebhookEvent, BounceWebhookBatch]) } },
    },
  },
  responses: {
    200: jsonResponse(
      BounceWebhookResult,
      'Recorded: how many events, how many addresses are now suppressed, how many named nobody known.',
    ),
    400: errorResponse('Body is not JSON'),
    401: errorResponse('Missing, invalid or expired signature'),
    404: errorResponse('WEBHOOK_SECRET is not set'),
    413: errorResponse('Body too large'),
    422: errorResponse('Not a valid event or batch'),
  },
});

/**
 * The signature covers the raw bytes, so it is checked before anything is parsed, whatever the content
 * type says; then the body is one event or a batch, each validated by its own schema so a field error
 * names the field.
 */
const signedEvents: MiddlewareHandler<AppEnv> = async (c, next) => {
  const services = c.get('services');
  const secret = services.config.WEBHOOK_SECRET;
  if (!secret) throw notFound();

  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (!verifyWebhookSignature(secret, c.req.header(WEBHOOK_SIGNATURE_HEADER), raw, services.now()))
    throw unauthorized();

  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw));
  } catch {
    throw new AppError('invalid_json', 'The request body is not valid JSON.');
  }
  const batch = typeof data === 'object' && data !== null && 'events' in data;
  const parsed = batch ? BounceWebhookBatch.safeParse(data) : BounceWebhookEvent.safeParse(data);
  if (!parsed.success)
    throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(parsed.error) });
  c.req.addValidatedData('json', parsed.data);
  await next();
};

/** POST /webhooks/bounces: bounces and complaints from an ESP or relay, HMAC-signed with WEBHOOK_SECRET. */
export function registerBounceWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  openapiWithOwnBody(app, route, signedEvents, async (c) => {
    const body = c.req.valid('json');
    const events = 'events' in body ? body.events : [body];
    const reports: BounceReport[] = events.map((e) => ({
      type: e.type,
      source: 'webhook',
      email: e.email,
      messageId: e.message_id,
      diagnostic: e.diagnostic,
    }));
    const { received, suppressed, unknown } = await recordBounceReports(c.get('services'), reports);
    return c.json({ received, suppressed, unknown }, 200);
  });
}
