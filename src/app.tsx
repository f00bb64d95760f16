/** @jsxImportSource hono/jsx */

import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from './core/errors.js';
import { errorFields } from './log.js';
import { ErrorPage } from './pages/subscriber-pages.js';
import { requireAdminUnlessDevPreview } from './routes/admin/auth.js';
import { registerAdminBounceRoutes } from './routes/admin/bounces/index.js';
import { BOUNCE_INGEST_MAX_BYTES, BOUNCE_INGEST_PATH } from './routes/admin/bounces/ingest.js';
import { registerAdminBroadcastRoutes } from './routes/admin/broadcasts/index.js';
import { registerAdminConsentRoutes } from './routes/admin/consent/index.js';
import { VERIFY_BODY_LIMIT_BYTES, VERIFY_PATH } from './routes/admin/consent/verify-against.js';
import { registerAdminPreviewRoutes } from './routes/admin/preview/index.js';
import { IMPORT_BODY_LIMIT_BYTES, IMPORT_PATH } from './routes/admin/subscribers/import.js';
import { registerAdminSubscriberRoutes } from './routes/admin/subscribers/index.js';
import { registerAdminTemplateRoutes } from './routes/admin/templates/index.js';
import { bodyLimitByHeaders } from './routes/body-limit.js';
import { registerConsoleRoutes } from './routes/console/index.js';
import { CONSOLE_IMPORT_MAX_BYTES, CONSOLE_IMPORT_PATHS } from './routes/console/lists/limits.js';
import { BASE_CSP } from './routes/csp.js';
import { requestDeadline } from './routes/deadline.js';
import { registerDevMailRoutes } from './routes/dev-mail/index.js';
import type { AppEnv } from './routes/env.js';
import { registerHealthRoutes } from './routes/health/index.js';
import { envelope, fieldsOf, toAppError, wantsHtml } from './routes/http.js';
import { registerApiDocsRoutes } from './routes/openapi/index.js';
import { registerConfirmRoutes } from './routes/public/confirm/index.js';
import { registerLinkRequestRoutes } from './routes/public/link-requests/index.js';
import { registerPreferencesRoutes } from './routes/public/preferences/index.js';
import { registerSignupFormRoutes } from './routes/public/signup-form/index.js';
import { registerSubscriptionRoutes } from './routes/public/subscriptions/index.js';
import { registerTestCopyRoutes } from './routes/public/test-copy/index.js';
import { registerUnsubscribeRoutes } from './routes/public/unsubscribe/index.js';
import { registerSiteRoutes } from './routes/site/index.js';
import { registerBounceWebhookRoutes } from './routes/webhooks/bounces.js';
import {
  LARGE_PROVIDER_WEBHOOK_PATHS,
  PROVIDER_WEBHOOK_MAX_BYTES,
  registerProviderWebhookRoutes,
} from './routes/webhooks/providers.js';
import type { Services } from './services.js';

const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The whole HTTP surface, with no runtime in it: Node and the Worker entry both serve this.
 * `services` is either fixed (Node) or resolved per request (Workers, where I/O is per request).
 */
export function createApp(services: Services | ((c: unknown) => Services)) {
  const app = new OpenAPIHono<AppEnv>({
    // zod failures from OpenAPI routes become the one envelope with field errors.
    defaultHook: (result) => {
      if (!result.success)
        throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(result.error) });
    },
  });

  app.use(requestId({ headerName: 'X-Request-Id', generator: () => crypto.randomUUID() }));
  app.use(async (c, next) => {
    c.set('services', typeof services === 'function' ? services(c) : services);
    const started = performance.now();
    await next();
    // Route patterns only: a path holds tokens, and a query string may hold an address.
    c.get('services').log.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: BASE_CSP,
      referrerPolicy: 'no-referrer',
      // A route that sets its own policy (src/routes/csp.ts) keeps it.
      overwrite: false,
    }),
  );
  app.use('/v1/subscriptions', async (c, next) => {
    const allowed = c.get('services').config.ALLOWED_ORIGINS;
    const allowOrigin = (origin: string) => (allowed.includes('*') || allowed.includes(origin) ? origin : null);
    if (c.req.method === 'OPTIONS') {
      return cors({
        origin: allowOrigin,
        allowMethods: ['POST'],
        allowHeaders: ['Content-Type', 'Accept'],
        maxAge: 600,
      })(c, next);
    }
    await next();
    // The simple-request half of hono's cors, on the response's own headers: hono's adds Vary through
    // c.header(), which after the handler rebuilds the response around a stream (on Node, a large share
    // of a signup's CPU: docs/benchmarks.md).
    const origin = allowOrigin(c.req.header('origin') ?? '');
    if (origin) c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.append('Vary', 'Origin');
  });
  const tooLarge = () => {
    throw new AppError('payload_too_large', 'The request body is too large.');
  };
  const limit = bodyLimitByHeaders(BODY_LIMIT_BYTES, tooLarge);
  const importLimit = bodyLimitByHeaders(IMPORT_BODY_LIMIT_BYTES, tooLarge);
  // The console's import posts a whole CSV file, then the same file again to commit it.
  const consoleImportLimit = bodyLimitByHeaders(CONSOLE_IMPORT_MAX_BYTES, tooLarge);
  const checkpointsLimit = bodyLimitByHeaders(VERIFY_BODY_LIMIT_BYTES, tooLarge);
  const ingestLimit = bodyLimitByHeaders(BOUNCE_INGEST_MAX_BYTES, tooLarge);
  // Providers post batches (SendGrid) and SNS messages of up to 256 KB: a 413 there loses events after retries.
  const webhookLimit = bodyLimitByHeaders(PROVIDER_WEBHOOK_MAX_BYTES, tooLarge);
  const limitFor = (path: string) =>
    path === IMPORT_PATH
      ? importLimit
      : CONSOLE_IMPORT_PATHS.includes(path)
        ? consoleImportLimit
        : path === VERIFY_PATH
          ? checkpointsLimit
          : path === BOUNCE_INGEST_PATH
            ? ingestLimit
            : LARGE_PROVIDER_WEBHOOK_PATHS.includes(path)
              ? webhookLimit
              : limit;
  app.use((c, next) => limitFor(c.req.path)(c, next));
  registerConsoleRoutes(app); // before the admin API's JSON-only and Bearer checks: the console has its own sign-in
  app.on(['PUT', 'POST', 'PATCH'], ['/v1/preferences/*', '/admin/*'], async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    const hasBody =
      c.req.header('content-length') !== '0' &&
      (c.req.header('content-length') !== undefined || c.req.header('transfer-encoding') !== undefined);
    if (hasBody && !/^application\/([a-z.+-]+\+)?json\s*(;|$)/i.test(type) && c.req.path !== BOUNCE_INGEST_PATH) {
      throw new AppError('unsupported_media_type', 'Send application/json.');
    }
    await next();
  });
  app.use('/admin/*', requireAdminUnlessDevPreview);
  app.use(requestDeadline);

  registerHealthRoutes(app);
  registerSiteRoutes(app);
  registerDevMailRoutes(app);
  registerSubscriptionRoutes(app);
  registerSignupFormRoutes(app);
  registerConfirmRoutes(app);
  registerUnsubscribeRoutes(app);
  registerPreferencesRoutes(app);
  registerLinkRequestRoutes(app);
  registerTestCopyRoutes(app);
  registerAdminSubscriberRoutes(app);
  registerAdminConsentRoutes(app);
  registerAdminTemplateRoutes(app);
  registerAdminBroadcastRoutes(app);
  registerAdminPreviewRoutes(app);
  registerAdminBounceRoutes(app);
  registerBounceWebhookRoutes(app);
  registerProviderWebhookRoutes(app);

  registerApiDocsRoutes(app);

  app.notFound((c) => {
    if (wantsHtml(c)) {
      return c.html(
        <ErrorPage
          bookTitle={c.get('services').config.BOOK_TITLE}
          title="Page not found"
          message="This page does not exist."
        />,
        404,
      );
    }
    return c.json(envelope(c, 'not_found', 'Not found.'), 404);
  });

  app.onError((err, c) => {
    const e = toAppError(err);
    const services = c.get('services');
    if (e.status >= 500) {
      services?.log.error('request failed', {
        requestId: c.get('requestId'),
        route: c.req.routePath,
        status: e.status,
        ...errorFields(err),
      });
    }
    if (e.extra.retryAfterSeconds) c.header('Retry-After', String(e.extra.retryAfterSeconds));
    if (wantsHtml(c) && services) {
      const title =
        e.status >= 500
          ? 'Something went wrong'
          : e.status === 429
            ? 'Too many requests'
            : e.status === 403
              ? 'This request was refused'
              : 'This link does not work';
      return c.html(
        <ErrorPage bookTitle={services.config.BOOK_TITLE} title={title} message={e.message} />,
        e.status as 400,
      );
    }
    return c.json(envelope(c, e.code, e.message, e.extra.fields), e.status as 400);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
