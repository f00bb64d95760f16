import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerApiReference } from './docs.js';
import { registerSecuritySchemes } from './document.js';
import { registerOpenApiSpec } from './spec.js';

/** The OpenAPI document at /openapi.json and its reader at /docs. */
export function registerApiDocsRoutes(app: OpenAPIHono<AppEnv>) {
  registerSecuritySchemes(app);
  registerOpenApiSpec(app);
  registerApiReference(app);
}
