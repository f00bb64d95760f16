import type { MiddlewareHandler } from 'hono';
import { AppError } from '../core/errors.js';
import { TEXTS } from '../core/texts.js';
import type { AppEnv } from './env.js';

/** Past DB_TIMEOUT_MS, a statement has had its chance to fail on its own (statement_timeout). */
export const DEADLINE_MARGIN_MS = 1000;

/**
 * DB_TIMEOUT_MS bounds one connect and one statement, but not a request: while PostgreSQL restarts, a
 * query can wait for a pooled connection that is itself connecting, then for the next one — measured at
 * twice the timeout and more. Every public request therefore answers by DB_TIMEOUT_MS + 1 s; past that
 * it is a 503 in the envelope, as the README promises. The work already started finishes in the
 * background (a signup's transaction still commits or rolls back whole). Admin routes (imports, exports,
 * a large audience being frozen) are left to their own pace.
 */
export const requestDeadline: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.path.startsWith('/admin/')) return next();
  const ms = c.get('services').config.DB_TIMEOUT_MS + DEADLINE_MARGIN_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('service_unavailable', TEXTS.serverFault)), ms);
  });
  try {
    await Promise.race([next(), deadline]);
  } finally {
    clearTimeout(timer);
  }
};
