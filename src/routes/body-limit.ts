import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * hono's bodyLimit, deciding by the headers where they suffice. A body with a Content-Length (and no
 * Transfer-Encoding) is judged by that number alone: the HTTP parser reads exactly that many bytes
 * (RFC 9112 §6.2). GET and HEAD carry no body here. Anything else — chunked, or a Request built in
 * process without the header — goes through hono's counting reader. Why not hono's alone: it asks for
 * `c.req.raw.body` first, which on @hono/node-server turns the light request into a full Web Request
 * with a stream, a large share of a signup's CPU (docs/benchmarks.md).
 */
export function bodyLimitByHeaders(
  maxSize: number,
  onError: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const counting = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return parseInt(length, 10) > maxSize ? onError(c) : next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return counting(c, next);
  };
}
