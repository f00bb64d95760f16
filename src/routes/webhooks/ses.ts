import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { AppError, notFound } from '../../core/errors.js';
import { TEXTS } from '../../core/texts.js';
import { parseSesEvents } from '../../mail/events/ses.js';
import { SnsCertificateUnavailable, SnsEnvelope, type SnsVerifier } from '../../mail/events/sns.js';
import type { AppEnv } from '../env.js';
import { fieldsOf } from '../http.js';
import {
  asAppError,
  ProviderEventResult,
  parseJson,
  providerWebhookResponses,
  rawBody,
  recordAndAnswer,
} from './provider-events.js';

export const SES_WEBHOOK_PATH = '/webhooks/ses';

const SubscriptionResult = z
  .object({ subscription: z.enum(['confirmed', 'unsubscribed']) })
  .openapi('SnsSubscriptionResult', { example: { subscription: 'confirmed' } });

/**
 * POST /webhooks/ses: Amazon SES bounce, complaint and delivery events through an SNS HTTPS subscription.
 * SNS posts `text/plain` JSON whose signature covers named fields, not the raw bytes, so the body is
 * parsed first and verified field by field (src/mail/events/sns.ts).
 */
export function registerSesWebhookRoute(app: OpenAPIHono<AppEnv>, verifier: SnsVerifier) {
  const responses = providerWebhookResponses('SES_SNS_TOPIC_ARNS');
  app.openapi(
    createRoute({
      method: 'post',
      operationId: 'receiveSesEvents',
      security: [],
      path: SES_WEBHOOK_PATH,
      tags: ['Webhooks'],
      summary: 'Amazon SES events through Amazon SNS: bounces, complaints and deliveries.',
      description:
        'Subscribe this URL (HTTPS) to the SNS topics SES publishes to, and list them in SES_SNS_TOPIC_ARNS. Every message must carry a valid SNS ' +
        'signature (SignatureVersion 1 or 2) made with a certificate served from an `sns.<region>.amazonaws.com` host; others are refused without ' +
        'fetching anything. A SubscriptionConfirmation for a listed topic is confirmed by visiting its SubscribeURL. A redelivered notification ' +
        '(same MessageId) changes nothing; one published more than an hour ago (SNS retries for at most an hour) is refused. ' +
        'Without SES_SNS_TOPIC_ARNS the endpoint does not exist (404).',
      request: {
        body: {
          required: true,
          content: { 'text/plain': { schema: z.string().openapi({ description: 'The SNS message, JSON' }) } },
        },
      },
      responses: {
        ...responses,
        200: {
          description: 'Recorded, or the subscription confirmed',
          content: { 'application/json': { schema: z.union([ProviderEventResult, SubscriptionResult]) } },
        },
        503: {
          description: 'The signing certificate or the SubscribeURL could not be reached: SNS retries',
          content: responses[400].content,
        },
      },
    }),
    async (c) => {
      const services = c.get('services');
      const topics = services.config.SES_SNS_TOPIC_ARNS;
      if (!topics) throw notFound();
      const parsed = SnsEnvelope.safeParse(parseJson(await rawBody(c)));
      if (!parsed.success)
        throw new AppError('validation_failed', 'Not an Amazon SNS message.', { fields: fieldsOf(parsed.error) });
      const message = parsed.data;
      try {
        await verifier.verify(message, topics, services.now());
      } catch (err) {
        if (err instanceof SnsCertificateUnavailable) throw new AppError('service_unavailable', TEXTS.serverFault);
        throw asAppError(err);
      }

      if (message.Type === 'SubscriptionConfirmation') {
        if (!(await verifier.confirmSubscription(message)))
          throw new AppError('service_unavailable', TEXTS.serverFault);
        services.log.info('sns subscription confirmed', { topic: message.TopicArn });
        return c.json({ subscription: 'confirmed' as const }, 200);
      }
      if (message.Type === 'UnsubscribeConfirmation') {
        services.log.warn('sns subscription ended', { topic: message.TopicArn });
        return c.json({ subscription: 'unsubscribed' as const }, 200);
      }
      let events: ReturnType<typeof parseSesEvents>;
      try {
        events = parseSesEvents(message, services.now());
      } catch (err) {
        throw asAppError(err);
      }
      return recordAndAnswer(c, events);
    },
  );
}
