import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyConsentChain } from '../../../core/consent.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { ChainVerificationSchema } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'verifyConsentChain',
  path: '/admin/v1/consent/verify',
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Seal pending consent events, then walk the ledger’s hash chain.',
  description:
    'Events are written unsealed with the change they record and sealed into the chain moments later; this seals what is pending first. A chain rewritten from some event on still verifies by itself: keep signed checkpoints outside the database (`POST /admin/v1/consent/checkpoints`) and verify against them (`POST` here).',
  responses: {
    200: jsonResponse(
      ChainVerificationSchema,
      '`{"ok":true,"events":N,"head":…,"pending":0}` or the first broken link',
    ),
    ...unauthorized,
  },
});

export function registerVerifyConsent(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    await services.ledger.seal();
    return c.json(await verifyConsentChain(services.db), 200);
  });
}
