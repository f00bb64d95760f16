import type { OpenAPIHono } from '@hono/zod-openapi';
import { DEV_MAIL_FRAME_SCRIPT } from '../../pages/dev-mail-script.js';
import type { AppEnv } from '../env.js';

export function registerDevMailFrameScript(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail-frame.js', (c) =>
    c.body(DEV_MAIL_FRAME_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  );
}
