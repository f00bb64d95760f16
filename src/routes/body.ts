import type { OpenAPIHono, RouteConfig, RouteHandler, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../core/errors.js';
import type { AppEnv } from './env.js';
import { type BodyKind, fieldsOf, readBody } from './http.js';

type Invalid = (
  c: Context<AppEnv>,
  kind: BodyKind,
  error: z.ZodError,
  data: Record<string, unknown>,
) => Response | Promise<Response>;

const invalidFields: Invalid = (_c, _kind, error) => {
  throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(error) });
};

/** The body's kind once `validBody` has accepted it. */
export function bodyKindOf(c: Context): BodyKind {
  const type = (c.req.header('content-type') ?? '').replace(/;.*/s, '').trim().toLowerCase();
  return /^application\/([a-z.+-]+\+)?json$/.test(type) ? 'json' : 'form';
}

/**
 * Read a JSON or form body as readBody does (415 for another type, 400 for a malformed body), validate
 * it with `schema`, and hand the result to `c.req.valid('json' | 'form')`. A failure is the app's usual
 * 422 unless the route answers it itself (`onInvalid`), as the signup does with a redirect for forms.
 */
export function validBody<S extends z.ZodType>(
  schema: S,
  accept: BodyKind[],
  onInvalid: Invalid = invalidFields,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { kind, data } = await readBody(c, accept);
    const parsed = schema.safeParse(data);
    if (!parsed.success) return onInvalid(c, kind, parsed.error, data);
    c.req.addValidatedData(kind, parsed.data as object);
    await next();
  };
}

/** A form post read and validated inside a handler, after what must be checked first (a link's token). */
export async function readForm<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const { data } = await readBody(c, ['form']);
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new AppError('validation_failed', 'Some fields are not valid.', { fields: fieldsOf(parsed.error) });
  return parsed.data;
}

/**
 * `app.openapi` for a route whose body zod-openapi's own validators would read differently from what
 * quire answers: the signup (JSON or a plain HTML form, with its own 400 and 415 answers) and the
 * bounce webhook (signed over its raw bytes, checked before anything is parsed). The route is still the
 * createRoute declaration the document shows, and `body` validates with the schema it names.
 */
export function openapiWithOwnBody<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  body: MiddlewareHandler<AppEnv>,
  handler: RouteHandler<R, AppEnv>,
) {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, '/:$1'), body, handler);
}

/**
 * A page's form route: documented by `route`, read by the handler itself (readForm), after what must
 * come first — the link's token, the same-origin check — so no validator runs ahead of it.
 */
export function openapiForm<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: RouteHandler<R, AppEnv>,
) {
  openapiWithOwnBody(app, route, (_c, next) => next(), handler);
}
