/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConsoleLayout } from '../../pages/console/layout.js';
import type { AppEnv } from '../env.js';
import { consoleGuard, consoleSession } from './auth/guard.js';

/** The JSON API and the email previews under /admin keep their Bearer token; everything else is the console. */
const isApiPath = (path: string) =>
  path === '/admin/v1' ||
  path.startsWith('/admin/v1/') ||
  path === '/admin/preview' ||
  path.startsWith('/admin/preview/');

/**
 * Any other /admin path no console route answered: signed out, the sign-in page; signed in, a console
 * page saying so. Registered after every console route, so it only sees what none of them took.
 */
export function registerConsoleNotFound(app: OpenAPIHono<AppEnv>) {
  app.use('/admin/*', async (c, next) => {
    if (isApiPath(c.req.path)) return next();
    let page: Response | undefined;
    const refused = await consoleGuard(c, async () => {
      page = await c.html(
        <ConsoleLayout
          title="Page not found"
          bookTitle={c.get('services').config.BOOK_TITLE}
          csrf={consoleSession(c).csrf}
        >
          <p>
            There is no console page here. <a href="/admin">Back to the overview</a>.
          </p>
        </ConsoleLayout>,
        404,
      );
    });
    return refused ?? page;
  });
}
