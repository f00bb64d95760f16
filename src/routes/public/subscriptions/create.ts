import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { requestSubscription } from '../../../core/signup.js';
import { TEXTS } from '../../../core/texts.js';
import { bodyKindOf, openapiWithOwnBody, validBody } from '../../body.js';
import type { AppContext, AppEnv } from '../../env.js';
import { fieldsOf, requestMeta, wantsHtml } from '../../http.js';
import { ErrorEnvelopeSchema, errorResponse, jsonResponse } from '../../schemas.js';
import { signupPageAgain } from '../../site/signup-page.js';
import { SubscriptionAccepted, SubscriptionRequest } from './schema.js';

const ACCEPTED = {
  status: 'pending',
  message: `${TEXTS.signupAcceptedTitle} — ${TEXTS.signupAcceptedBody}`,
  next: TEXTS.checkInbox,
} as const;

const route = createRoute({
  method: 'post',
  operationId: 'createSubscription',
  security: [],
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
    200: {
      description: 'HTML form posts sent faster than a person fills a form: the form again, asking to press the button',
      content: { 'text/html': { schema: z.string() } },
    },
    303: {
      description: 'HTML form posts: to the thank-you page, or back to `return_to` on an allowed origin with `?error=`',
    },
    400: errorResponse('Malformed JSON, or a form body that cannot be read'),
    415: errorResponse('Unsupported content type'),
    422: {
      description:
        'invalid_email, consent_required, unknown_topic or validation_failed (HTML form posts: the form again, with what was typed)',
      content: { 'application/json': { schema: ErrorEnvelopeSchema }, 'text/html': { schema: z.string() } },
    },
    429: errorResponse('Too many signups from this IP or for this address (see Retry-After)'),
    503: errorResponse('Database unavailable'),
  },
});

/** JSON from a script or a plain HTML form; a form that needs correcting goes back to a page that shows why. */
export function registerCreateSubscription(app: OpenAPIHono<AppEnv>) {
  const body = validBody(SubscriptionRequest, ['json', 'form'], (c, kind, error, data) =>
    refuse(c, wantsHtml(c, kind), validationError(error), data),
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
      if (html && outcome === 'too_fast')
        return signupPageAgain(c, { ...sentFrom(c, b), tooFast: true, values: typed(b) }, 200);
      if (html) return c.redirect(`${services.config.PUBLIC_URL}/subscribed`, 303);
      return c.json(ACCEPTED, 202);
    } catch (err) {
      if (err instanceof AppError) return refuse(c, html, err, b);
      throw err;
    }
  });
}

type Posted = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const typed = (b: Posted) => ({
  email: text(b.email)?.slice(0, 254),
  consent: b.consent === true || !!text(b.consent),
});

/**
 * The page the form was on, from `return_to` (the Referer is no help: quire's pages send none). One of
 * quire's own pages, or an ALLOWED_ORIGINS page (named one by one: `*` allows calls, never redirects);
 * anything else is quire's own signup page. Never an open redirect.
 */
function sentFrom(c: AppContext, b: Posted): { path: string; source: string; elsewhere?: URL } {
  const { PUBLIC_URL, ALLOWED_ORIGINS } = c.get('services').config;
  const source = text(b.source) ?? 'quire-signup-page';
  for (const candidate of [text(b.return_to), c.req.header('referer')]) {
    let url: URL;
    try {
      url = new URL(candidate ?? '');
    } catch {
      continue;
    }
    if (url.origin === new URL(PUBLIC_URL).origin) {
      const path = url.pathname === '/' ? '/' : '/subscribe';
      return { path, source };
    }
    if (candidate === text(b.return_to) && ALLOWED_ORIGINS.includes(url.origin))
      return { path: '/subscribe', source, elsewhere: url };
  }
  return { path: '/subscribe', source };
}

/**
 * A form post with a fixable problem: quire's own page shows the form again with why and what was
 * typed (no address in a URL); the author's page gets `?error=` and its script restores the rest.
 * Anything else is the error envelope.
 */
function refuse(c: AppContext, html: boolean, err: AppError, b: Posted): Response | Promise<Response> {
  if (!html || err.status !== 422) throw err;
  const from = sentFrom(c, b);
  if (from.elsewhere) {
    from.elsewhere.searchParams.set('error', err.code);
    from.elsewhere.hash = 'signup';
    return c.redirect(from.elsewhere.toString(), 303);
  }
  const invalid = err.extra.fields?.map((f) => f.path).filter((p) => p === 'email' || p === 'consent');
  return signupPageAgain(c, { ...from, error: err.code, invalid, values: typed(b) }, 422);
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
