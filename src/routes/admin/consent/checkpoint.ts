import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { createCheckpoint } from '../../../core/consent-checkpoints.js';
import { AppError } from '../../../core/errors.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { CheckpointRequest, CheckpointSchema } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'createConsentCheckpoint',
  path: '/admin/v1/consent/checkpoints',
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Seal pending consent events, then sign a checkpoint of the ledger’s chain to keep elsewhere.',
  description:
    'Every link is recomputed first; a broken chain is refused (409). Keep what this returns outside the database: `POST /admin/v1/consent/verify` with it later proves the history up to it unchanged.',
  request: { body: { required: false, content: { 'application/json': { schema: CheckpointRequest } } } },
  responses: {
    201: jsonResponse(CheckpointSchema, 'The signed checkpoint'),
    409: errorResponse('The chain is broken, or no LEDGER_SIGNING_KEY is configured'),
    ...unauthorized,
  },
});

export function registerConsentCheckpoint(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    if (!services.ledgerKey) throw new AppError('invalid_state', 'Checkpoints need LEDGER_SIGNING_KEY.');
    await services.ledger.seal();
    const from = c.req.valid('json')?.from ?? 0;
    return c.json(await createCheckpoint(services.db, services.ledgerKey, services.now(), from), 201);
  });
}
