import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { requestSubscription } from '../../../core/signup.js';
import { TEXTS } from '../../../core/texts.js';
import { bodyKindOf, openapiWithOwnBody, validBody } from '../../body.js';
import type { AppContext, AppEnv } from '../../env.js';
import { fieldsOf, requestMeta, wantsHtml } from '../../http.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { SubscriptionAccepted, SubscriptionRequest } from './schema.js';

const ACCEPTED = {
  status: 'pending',
  message: `${TEXTS.subscribedTitle} — ${TEXTS.subscribedBody}`,
  next: TEXTS.checkInbox,
} as const;

const route = createRoute({
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
    202: jsonResponse(SubscriptionAccepted, 'Accepted: a confirmation email is on its way if one is due.'),
    303: { description: 'HTML form posts: to the thank-you page, or back to the form with `?error=`.' },
    415: errorResponse('Unsupported content type'),
    422: errorResponse('invalid_email, consent_required, unknown_topic or validation_failed'),
    429: errorResponse('Too many signups from this IP or for this address (see Retry-After)'),
    503: errorResponse('Database unavailable'),
  },
});

/** JSON from a script or a plain HTML form; a form that needs correcting goes back to a page that shows why. */
export function registerCreateSubscription(app: OpenAPIHono<AppEnv>) {
  const body = validBody(SubscriptionRequest, ['json', 'form'], (c, kind, error) =>
    refuse(c, wantsHtml(c, kind), validationError(error)),
  );
  openapiWithOwnBody(app, route, body, async (c) => {
    const services = c.get('services');
    const kind = bodyKindOf(c);
    const b = kind === 'json' ? c.req.valid('json') : c.req.valid('form');
    const html = wantsHtml(c, kind);
    try {
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
      if (err instanceof AppError) return refuse(c, html, err);
      throw err;
    }
  });
}

/** A form post with a fixable problem goes back to the form; anything else is the error envelope. */
function refuse(c: AppContext, html: boolean, err: AppError): Response {
  if (html && err.status === 422)
    return c.redirect(backToForm(c.req.header('referer'), c.get('services').config, err.code), 303);
  throw err;
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
