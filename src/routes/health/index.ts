import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerHealthz } from './healthz.js';
import { registerReadyz } from './readyz.js';

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>) {
  registerHealthz(app);
  registerReadyz(app);
}
