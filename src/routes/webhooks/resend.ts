import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { parseResendEvents, ResendPayload, verifyResendSignature } from '../../mail/events/resend.js';
import type { AppEnv } from '../env.js';
import { authenticate, providerWebhookResponses, rawBody, recordAndAnswer } from './provider-events.js';

export const RESEND_WEBHOOK_PATH = '/webhooks/resend';

/** POST /webhooks/resend: email.bounced, email.complained, email.delivered and email.suppressed from Resend. */
export function registerResendWebhookRoute(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'post',
      operationId: 'receiveResendEvents',
      security: [{ resendSignature: [] }],
      path: RESEND_WEBHOOK_PATH,
      tags: ['Webhooks'],
      summary: 'Resend webhooks: bounces, complaints, deliveries and suppressions.',
      description:
        "Signed by Resend (Svix / Standard Webhooks) with the endpoint's signing secret, RESEND_WEBHOOK_SECRET (`whsec_…`). " +
        'Timestamps more than 5 minutes from the server clock are refused. A redelivered event (same svix-id) changes nothing. ' +
        'Without RESEND_WEBHOOK_SECRET the endpoint does not exist (404).',
      middleware: authenticate(
        (c) => c.get('services').config.RESEND_WEBHOOK_SECRET,
        async (c, secret) => {
          const body = new TextDecoder().decode(await rawBody(c));
          const headers = {
            id: c.req.header('svix-id'),
            timestamp: c.req.header('svix-timestamp'),
            signature: c.req.header('svix-signature'),
          };
          verifyResendSignature(secret, headers, body, c.get('services').now());
        },
      ),
      request: {
        headers: z.object({
          'svix-id': z.string().optional().openapi({ example: 'msg_2mL3JxWqk3Qz1gVhHq4Xr0rNcYd' }),
          'svix-timestamp': z.string().optional().openapi({ example: '1795608000' }),
          'svix-signature': z
            .string()
            .optional()
            .openapi({ example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=' }),
        }),
        body: {
          required: true,
          content: { 'application/json': { schema: ResendPayload.openapi('ResendWebhookEvent') } },
        },
      },
      responses: providerWebhookResponses('RESEND_WEBHOOK_SECRET'),
    }),
    async (c) =>
      recordAndAnswer(c, parseResendEvents(c.req.valid('json'), c.req.header('svix-id')!, c.get('services').now())),
  );
}
