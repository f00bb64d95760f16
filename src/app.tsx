/** @jsxImportSource hono/jsx */
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from './core/errors.js';
import { errorFields } from './log.js';
import { ErrorPage } from './pages/subscriber-pages.js';
import { requireAdmin } from './routes/admin/auth.js';
import { registerAdminSubscriberRoutes } from './routes/admin/subscribers.js';
import type { AppEnv } from './routes/env.js';
import { registerHealthRoutes } from './routes/health.js';
import { envelope, fieldsOf, toAppError, wantsHtml } from './routes/http.js';
import { registerConfirmRoutes } from './routes/public/confirm.js';
import { registerPreferencesPageRoutes } from './routes/public/preferences-page.js';
import { registerPreferencesRoutes } from './routes/public/preferences.js';
import { registerSubscriptionRoutes } from './routes/public/subscriptions.js';
import { registerUnsubscribeRoutes } from './routes/public/unsubscribe.js';
import { registerSiteRoutes } from './routes/site.js';
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
      if (!result.success) throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(result.error) });
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
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        frameSrc: ["'self'"],
      },
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use('/v1/subscriptions', async (c, next) => {
    const allowed = c.get('services').config.ALLOWED_ORIGINS;
    return cors({
      origin: (origin) => (allowed.includes('*') || allowed.includes(origin) ? origin : null),
      allowMethods: ['POST'],
      allowHeaders: ['Content-Type', 'Accept'],
      maxAge: 600,
    })(c, next);
  });
  app.use(bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: () => { throw new AppError('payload_too_large', 'The request body is too large.'); } }));
  app.on(['PUT', 'POST', 'PATCH'], ['/v1/preferences/*', '/admin/*'], async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    const hasBody = c.req.header('content-length') !== '0' && (c.req.header('content-length') !== undefined || c.req.header('transfer-encoding') !== undefined);
    if (hasBody && !/^application\/([a-z.+-]+\+)?json\s*(;|$)/i.test(type)) {
      throw new AppError('unsupported_media_type', 'Send application/json.');
    }
    await next();
  });
  app.use('/admin/*', requireAdmin);

  registerHealthRoutes(app);
  registerSiteRoutes(app);
  registerSubscriptionRoutes(app);
  registerConfirmRoutes(app);
  registerUnsubscribeRoutes(app);
  registerPreferencesRoutes(app);
  registerPreferencesPageRoutes(app);
  registerAdminSubscriberRoutes(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'quire',
      version: '0.1.0',
      description: 'Newsletter and subscriber backend for a book site. Errors share one envelope: `{ "error": { "code", "message", "requestId", "fields"? } }`.',
    },
  });
  app.use('/docs', async (c, next) => {
    await next();
    // The API reader loads its script and styles from a CDN.
    c.res.headers.delete('Content-Security-Policy');
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));

  app.notFound((c) => {
    if (wantsHtml(c)) {
      return c.html(<ErrorPage bookTitle={c.get('services').config.BOOK_TITLE} title="Page not found" message="This page does not exist." />, 404);
    }
    return c.json(envelope(c, 'not_found', 'Not found.'), 404);
  });

  app.onError((err, c) => {
    const e = toAppError(err);
    const services = c.get('services');
    if (e.status >= 500) {
      services?.log.error('request failed', { requestId: c.get('requestId'), route: c.req.routePath, status: e.status, ...errorFields(err) });
    }
    if (e.extra.retryAfterSeconds) c.header('Retry-After', String(e.extra.retryAfterSeconds));
    if (wantsHtml(c) && services) {
      const title = e.status >= 500 ? 'Something went wrong' : e.status === 429 ? 'Too many requests' : 'This link does not work';
      return c.html(<ErrorPage bookTitle={services.config.BOOK_TITLE} title={title} message={e.message} />, e.status as 400);
    }
    return c.json(envelope(c, e.code, e.message, e.extra.fields), e.status as 400);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
