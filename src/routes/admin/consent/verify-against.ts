import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyAgainstCheckpoints } from '../../../core/consent-checkpoints.js';
import { AppError } from '../../../core/errors.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonBody, jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { CheckpointVerificationSchema, VerifyAgainstRequest } from './schema.js';

export const VERIFY_PATH = '/admin/v1/consent/verify';
/** Checkpoints carry a link per event: room for a few hundred thousand. */
export const VERIFY_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

const route = createRoute({
  method: 'post',
  operationId: 'verifyConsentAgainstCheckpoints',
  path: VERIFY_PATH,
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Seal pending consent events, then walk the chain and compare it with checkpoints kept elsewhere.',
  description:
    'A chain rewritten from some event on, every later link recomputed, still verifies by itself; it cannot match a checkpoint signed before. This names the first event that differs from one. Checkpoints not signed by this server’s key as they stand are listed and not relied on.',
  request: { body: jsonBody(VerifyAgainstRequest) },
  responses: {
    200: jsonResponse(
      CheckpointVerificationSchema,
      'The chain agrees with every checkpoint relied on, or the first event that does not',
    ),
    409: errorResponse('No LEDGER_SIGNING_KEY is configured'),
    422: errorResponse('Not checkpoints'),
    ...unauthorized,
  },
});

export function registerVerifyAgainstCheckpoints(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    if (!services.ledgerKey) throw new AppError('invalid_state', 'Checking checkpoints needs LEDGER_SIGNING_KEY.');
    await services.ledger.seal();
    return c.json(
      await verifyAgainstCheckpoints(services.db, services.ledgerKey, c.req.valid('json').checkpoints),
      200,
    );
  });
}
