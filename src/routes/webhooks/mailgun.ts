import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { MailgunPayload, parseMailgunEvents, verifyMailgunSignature } from '../../mail/events/mailgun.js';
import type { AppEnv } from '../env.js';
import { authenticate, parseJson, providerWebhookResponses, rawBody, recordAndAnswer } from './provider-events.js';

export const MAILGUN_WEBHOOK_PATH = '/webhooks/mailgun';

/** POST /webhooks/mailgun: failed (permanent / temporary), complained, unsubscribed and delivered events from Mailgun. */
export function registerMailgunWebhookRoute(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'post',
      operationId: 'receiveMailgunEvents',
      security: [],
      path: MAILGUN_WEBHOOK_PATH,
      tags: ['Webhooks'],
      summary: 'Mailgun webhooks: failures, complaints, unsubscribes and deliveries.',
      description:
        'The `signature` object in the body must be the HMAC-SHA256 of timestamp + token under MAILGUN_WEBHOOK_SIGNING_KEY, with a timestamp ' +
        'within 5 minutes of the server clock. Each token is accepted once: the same token with another event is refused. A redelivered event ' +
        'changes nothing. Without MAILGUN_WEBHOOK_SIGNING_KEY the endpoint does not exist (404).',
      middleware: authenticate(
        (c) => c.get('services').config.MAILGUN_WEBHOOK_SIGNING_KEY,
        async (c, key) => {
          // The signature travels inside the JSON body; the rest of the body is validated after it.
          const body = parseJson(await rawBody(c));
          const signature =
            typeof body === 'object' && body !== null ? (body as { signature?: unknown }).signature : undefined;
          await verifyMailgunSignature(key, signature, c.get('services').now());
        },
      ),
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: MailgunPayload.openapi('MailgunWebhookEvent') } },
        },
      },
      responses: providerWebhookResponses('MAILGUN_WEBHOOK_SIGNING_KEY'),
    }),
    async (c) => recordAndAnswer(c, parseMailgunEvents(c.req.valid('json'), c.get('services').now())),
  );
}
