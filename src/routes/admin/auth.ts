import type { MiddlewareHandler } from 'hono';
import { safeEqual } from '../../core/crypto.js';
import { AppError } from '../../core/errors.js';
import type { AppEnv } from '../env.js';

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. Never from the query string. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.get('services').config.ADMIN_TOKEN;
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!expected || !match || !safeEqual(match[1]!, expected)) {
    c.header('WWW-Authenticate', 'Bearer realm="quire-admin"');
    throw new AppError(
      'unauthorized',
      expected
        ? 'Missing or invalid admin token.'
        : 'The admin API is disabled: this server was started without ADMIN_TOKEN. Start it with ADMIN_TOKEN set, to the value the quire command uses.',
    );
  }
  await next();
};

const isPreviewPath = (path: string) => path === '/admin/preview' || path.startsWith('/admin/preview/');

/**
 * All of /admin needs the Bearer token, except the email previews on a development server, so the
 * author can open them in a browser (which cannot send a Bearer header from a link).
 */
export const requireAdminUnlessDevPreview: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('services').config.NODE_ENV === 'development' && isPreviewPath(c.req.path)) return next();
  return requireAdmin(c, next);
};
