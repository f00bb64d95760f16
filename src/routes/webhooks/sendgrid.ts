import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  parseSendgridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  SendgridPayload,
  verifySendgridSignature,
} from '../../mail/events/sendgrid.js';
import type { AppEnv } from '../env.js';
import { authenticate, providerWebhookResponses, rawBody, recordAndAnswer } from './provider-events.js';

export const SENDGRID_WEBHOOK_PATH = '/webhooks/sendgrid';

/** POST /webhooks/sendgrid: the Signed Event Webhook's bounce, dropped, spamreport, unsubscribe and delivered events. */
export function registerSendgridWebhookRoute(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'post',
      operationId: 'receiveSendgridEvents',
      security: [{ sendgridSignature: [] }],
      path: SENDGRID_WEBHOOK_PATH,
      tags: ['Webhooks'],
      summary: 'SendGrid Signed Event Webhook: bounces, drops, spam reports, unsubscribes and deliveries.',
      description:
        `Signed with ECDSA (P-256, SHA-256) over the timestamp and the raw body: \`${SENDGRID_SIGNATURE_HEADER}\` and \`${SENDGRID_TIMESTAMP_HEADER}\`, ` +
        'verified with SENDGRID_WEBHOOK_PUBLIC_KEY. Timestamps more than 5 minutes from the server clock are refused. A redelivered event (same ' +
        'sg_event_id) changes nothing. Without SENDGRID_WEBHOOK_PUBLIC_KEY the endpoint does not exist (404).',
      middleware: authenticate(
        (c) => c.get('services').config.SENDGRID_WEBHOOK_PUBLIC_KEY,
        async (c, key) =>
          verifySendgridSignature(
            key,
            c.req.header(SENDGRID_SIGNATURE_HEADER),
            c.req.header(SENDGRID_TIMESTAMP_HEADER),
            await rawBody(c),
            c.get('services').now(),
          ),
      ),
      request: {
        headers: z.object({
          [SENDGRID_SIGNATURE_HEADER.toLowerCase()]: z.string().optional().openapi({
            example: 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
          }),
          [SENDGRID_TIMESTAMP_HEADER.toLowerCase()]: z.string().optional().openapi({ example: '1795608000' }),
        }),
        body: {
          required: true,
          content: { 'application/json': { schema: SendgridPayload.openapi('SendgridWebhookEvents') } },
        },
      },
      responses: providerWebhookResponses('SENDGRID_WEBHOOK_PUBLIC_KEY'),
    }),
    async (c) => recordAndAnswer(c, await parseSendgridEvents(c.req.valid('json'), c.get('services').now())),
  );
}
