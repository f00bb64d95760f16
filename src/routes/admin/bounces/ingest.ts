import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { analyseBounceMessage, recordBounceReports } from '../../../core/bounce-messages.js';
import { AppError } from '../../../core/errors.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity } from '../schema.js';
import { BounceIngestResult } from './schema.js';

/** The one admin route whose body is a raw message, not JSON (src/app.tsx lets it through with a larger limit). */
export const BOUNCE_INGEST_PATH = '/admin/v1/bounces/ingest';
export const BOUNCE_INGEST_MAX_BYTES = 1024 * 1024;

const ACCEPTED_TYPES = ['message/rfc822', 'text/plain', 'application/octet-stream'];

// A schema on a body that is neither JSON nor a form only documents it: the handler reads the raw bytes.
const route = createRoute({
  method: 'post',
  operationId: 'ingestBounceMessage',
  path: BOUNCE_INGEST_PATH,
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Record the bounces or complaint in a raw DSN (RFC 3464) or ARF report (RFC 5965).',
  description:
    'Body: the raw message (.eml) as `message/rfc822`, up to 1 MB. The recipient is found by the VERP delivery id in the ' +
    'address the report was sent to, else the original Message-ID, else the reported recipient address.',
  request: {
    body: { required: true, content: { 'message/rfc822': { schema: z.string().openapi({ format: 'binary' }) } } },
  },
  responses: {
    200: jsonResponse(BounceIngestResult, 'Reports recorded (a DSN that only reports delivery has none)'),
    401: errorResponse('Missing or invalid admin token'),
    413: errorResponse('Message larger than 1 MB'),
    415: errorResponse('Not sent as message/rfc822'),
    422: errorResponse('Not a delivery status notification or feedback report'),
  },
});

/** `quire bounces ingest FILE.eml`: a DSN (RFC 3464) or ARF complaint (RFC 5965) that reached the bounce mailbox. */
export function registerIngestBounce(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ACCEPTED_TYPES.includes(type))
      throw new AppError('unsupported_media_type', 'Send the raw message as message/rfc822.');
    const raw = Buffer.from(await c.req.arrayBuffer());
    if (raw.length === 0) throw new AppError('validation_failed', 'The request body is empty: send the raw message.');

    const services = c.get('services');
    const analysis = await analyseBounceMessage(raw, { bounceAddress: services.config.BOUNCE_ADDRESS }).catch(() => ({
      kind: null,
      reports: [],
    }));
    if (!analysis.kind) {
      throw new AppError(
        'validation_failed',
        'This message is neither a delivery status notification (RFC 3464) nor a feedback report (RFC 5965).',
      );
    }
    const tally = await recordBounceReports(services, analysis.reports);
    return c.json(
      { kind: analysis.kind, reports: tally.received, suppressed: tally.suppressed, unknown: tally.unknown },
      200,
    );
  });
}
