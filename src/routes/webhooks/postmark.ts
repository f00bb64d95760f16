import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { PostmarkPayload, parsePostmarkEvents, verifyPostmarkAuth } from '../../mail/events/postmark.js';
import type { AppEnv } from '../env.js';
import { authenticate, providerWebhookResponses, rawBody, recordAndAnswer } from './provider-events.js';

export const POSTMARK_WEBHOOK_PATH = '/webhooks/postmark';

/** POST /webhooks/postmark: Bounce, SpamComplaint, Delivery and SubscriptionChange records from Postmark. */
export function registerPostmarkWebhookRoute(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'post',
      operationId: 'receivePostmarkEvents',
      path: POSTMARK_WEBHOOK_PATH,
      tags: ['Webhooks'],
      summary: 'Postmark webhooks: bounces, spam complaints, deliveries and suppression changes.',
      description:
        'Set the webhook URL in Postmark with the credentials of POSTMARK_WEBHOOK_AUTH: `https://user:pass@…/webhooks/postmark`; Postmark sends them ' +
        'as HTTP Basic auth. Hard bounces, complaints and Postmark suppressions suppress the address; soft bounces when they persist; an unsubscribe ' +
        'through Postmark unsubscribes. A redelivered record changes nothing. Without POSTMARK_WEBHOOK_AUTH the endpoint does not exist (404).',
      security: [{ postmarkBasic: [] }],
      middleware: authenticate(
        (c) => c.get('services').config.POSTMARK_WEBHOOK_AUTH,
        (c, expected) => verifyPostmarkAuth(expected, c.req.header('authorization')),
      ),
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: PostmarkPayload.openapi('PostmarkWebhookRecord') } },
        },
      },
      responses: providerWebhookResponses('POSTMARK_WEBHOOK_AUTH'),
    }),
    async (c) => {
      const events = await parsePostmarkEvents(c.req.valid('json'), await rawBody(c), c.get('services').now());
      return recordAndAnswer(c, events);
    },
  );
}
