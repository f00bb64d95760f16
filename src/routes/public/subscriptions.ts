import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { requestSubscription } from '../../core/signup.js';
import { AppError } from '../../core/errors.js';
import type { AppEnv } from '../env.js';
import { fieldsOf, readBody, requestMeta, wantsHtml } from '../http.js';
import { errorResponse, plainText, TopicSlug } from '../schemas.js';
import { TEXTS } from '../../core/texts.js';

const truthy = (v: unknown) => v === true || (typeof v === 'string' && ['true', 'on', '1', 'yes'].includes(v.toLowerCase()));

/** One schema: validates JSON and form bodies, types the handler, documents the endpoint. */
export const SubscriptionRequest = z
  .object({
    email: z.string().max(1000).openapi({ example: 'reader@example.com' }),
    name: plainText(200).optional(),
    topics: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(TopicSlug).max(20)).optional()
      .openapi({ example: ['release', 'updates'] }),
    consent: z.preprocess(truthy, z.literal(true, { error: 'must be true' })).openapi({ type: 'boolean', example: true }),
    consent_version: z.coerce.number().int().positive().max(2_147_483_647).optional(), // an int4 column: larger is a 422, not a 500
    source: plainText(100).optional().openapi({ example: 'book-site' }),
    locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/).optional().openapi({ example: 'en' }),
    website: z.string().max(2000).optional().openapi({ description: 'Honeypot: leave empty.' }),
    form_ts: z.string().max(100).optional().openapi({ description: 'Signed form render time (minimum fill time).' }),
    'cf-turnstile-response': z.string().max(4096).optional().openapi({ description: 'Turnstile token, required when Turnstile is configured.' }),
  })
  .openapi('SubscriptionRequest');

export const SubscriptionAccepted = z
  .object({ status: z.literal('pending'), message: z.string(), next: z.string() })
  .openapi('SubscriptionAccepted');

const ACCEPTED = { status: 'pending', message: `${TEXTS.subscribedTitle} — ${TEXTS.subscribedBody}`, next: TEXTS.checkInbox } as const;

export function registerSubscriptionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/subscriptions',
    tags: ['Public'],
    summary: 'Sign up (double opt-in). The same 202 whatever the address’s state.',
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: SubscriptionRequest },
          'application/x-www-form-urlencoded': { schema: SubscriptionRequest },
        },
      },
    },
    responses: {
      202: { description: 'Accepted: a confirmation email is on its way if one is due.', content: { 'application/json': { schema: SubscriptionAccepted } } },
      303: { description: 'HTML form posts: to the thank-you page, or back to the form with `?error=`.' },
      415: errorResponse('Unsupported content type'),
      422: errorResponse('invalid_email, consent_required, unknown_topic or validation_failed'),
      429: errorResponse('Too many signups from this IP or for this address (see Retry-After)'),
      503: errorResponse('Database unavailable'),
    },
  });

  app.post('/v1/subscriptions', async (c) => {
    const services = c.get('services');
    const { kind, data } = await readBody(c);
    const html = wantsHtml(c, kind);
    try {
      const parsed = SubscriptionRequest.safeParse(data);
      if (!parsed.success) throw validationError(parsed.error);
      const b = parsed.data;
      const outcome = await requestSubscription(
        services,
        {
          email: b.email,
          name: b.name || undefined,
          topics: b.topics,
          consent: b.consent,
          consentVersion: b.consent_version,
          source: b.source,
          locale: b.locale,
          website: b.website,
          formStamp: b.form_ts,
          captchaToken: b['cf-turnstile-response'],
        },
        requestMeta(c),
      );
      services.log.info('signup', { requestId: c.get('requestId'), outcome });
      if (html) return c.redirect(`${services.config.PUBLIC_URL}/subscribed`, 303);
      return c.json(ACCEPTED, 202);
    } catch (err) {
      if (html && err instanceof AppError && err.status === 422) {
        return c.redirect(backToForm(c.req.header('referer'), services.config, err.code), 303);
      }
      throw err;
    }
  });
}

/** The first problem decides the code, in the order a person filling the form would fix them. */
function validationError(error: z.ZodError): AppError {
  const fields = fieldsOf(error);
  if (fields.some((f) => f.path === 'email')) return new AppError('invalid_email', TEXTS.invalidEmail, { fields });
  if (fields.some((f) => f.path === 'consent')) {
    return new AppError('consent_required', TEXTS.consentRequired, { fields });
  }
  return new AppError('validation_failed', 'Some fields are not valid.', { fields });
}

/**
 * Back to the form that posted when it is one of ours; otherwise to quire's own signup page, which can
 * show the message (a static page on the author's site cannot read `?error=`). Never an open redirect.
 */
function backToForm(referer: string | undefined, config: { PUBLIC_URL: string }, code: string): string {
  let target = new URL(`${config.PUBLIC_URL}/subscribe`);
  if (referer) {
    try {
      const r = new URL(referer);
      if (r.origin === new URL(config.PUBLIC_URL).origin) target = r;
    } catch {
      // not a URL: keep our own page
    }
  }
  target.searchParams.set('error', code);
  target.hash = 'signup';
  return target.toString();
}
