import type { OpenAPIHono } from '@hono/zod-openapi';
import { cancelBroadcast, pauseBroadcast, resumeBroadcast, retryFailed } from '../../../core/broadcasts.js';
import { AppError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { ID } from './ids.js';

const ACTIONS: Record<string, (s: Services, id: string) => Promise<unknown>> = {
  pause: (s, id) => pauseBroadcast(s, id),
  resume: (s, id) => resumeBroadcast(s, id),
  cancel: (s, id) => cancelBroadcast(s, id),
  'retry-failed': (s, id) => retryFailed(s, id),
};

/** POST /admin/broadcasts/:id/(pause|resume|cancel|retry-failed): the sending controls. */
export function registerBroadcastControl(app: OpenAPIHono<AppEnv>) {
  app.post(`/admin/broadcasts/:id${ID}/:action{pause|resume|cancel|retry-failed}`, consoleGuard, async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action');
    try {
      await ACTIONS[action]!(c.get('services'), id);
    } catch (err) {
      // Two tabs, or the broadcast finished meanwhile: show where it is now.
      if (err instanceof AppError && err.code === 'invalid_state')
        return c.redirect(`/admin/broadcasts/${id}?done=stale`, 303);
      throw err;
    }
    return c.redirect(`/admin/broadcasts/${id}?done=${action}`, 303);
  });
}
