import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyConsentChain } from '../../core/consent.js';
import { eraseSubscriber } from '../../core/preferences.js';
import { getSubscriber, listSubscribers, subscriberStats } from '../../core/subscribers.js';
import { subscriberStatuses } from '../../db/schema.js';
import type { AppEnv } from '../env.js';
import { requestMeta } from '../http.js';
import { errorResponse, TopicSlug } from '../schemas.js';

const security = [{ bearer: [] }];
const unauthorized = { 401: errorResponse('Missing or invalid admin token') };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });

export const SubscriberListQuery = z.object({
  status: z.enum(subscriberStatuses).optional(),
  topic: TopicSlug.optional(),
  q: z.string().trim().min(1).max(320).optional().openapi({ description: 'Substring of the email address' }),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export function registerAdminSubscriberRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/v1/subscribers',
      tags: ['Admin'],
      security,
      request: { query: SubscriberListQuery },
      responses: { 200: ok('A page of subscribers, newest first, and the cursor of the next page'), ...unauthorized },
    }),
    async (c) => c.json(await listSubscribers(c.get('services').db, c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/v1/subscribers/{id}',
      tags: ['Admin'],
      security,
      request: { params: IdParam },
      responses: { 200: ok('The subscriber with topics and consent history'), 404: errorResponse('Not found'), ...unauthorized },
    }),
    async (c) => c.json(await getSubscriber(c.get('services').db, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/admin/v1/subscribers/{id}',
      tags: ['Admin'],
      security,
      summary: 'Erase a subscriber (the same erasure the subscriber can ask for).',
      request: { params: IdParam },
      responses: { 200: ok('Erased'), 404: errorResponse('Not found'), ...unauthorized },
    }),
    async (c) => {
      const status = await eraseSubscriber(c.get('services'), c.req.valid('param').id, requestMeta(c), 'admin');
      return c.json({ status }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/admin/v1/stats', tags: ['Admin'], security, responses: { 200: ok('Counts by status and topic'), ...unauthorized } }),
    async (c) => c.json(await subscriberStats(c.get('services').db), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/v1/consent/verify',
      tags: ['Admin'],
      security,
      summary: 'Seal pending consent events, then walk the ledger’s hash chain.',
      description:
        'Events are written unsealed with the change they record and sealed into the chain moments later; this seals what is pending first. `head` is the last link: record it somewhere outside the database to detect a rewrite of the whole chain later.',
      responses: { 200: ok('`{"ok":true,"events":N,"head":…,"pending":0}` or the first broken link'), ...unauthorized },
    }),
    async (c) => {
      const services = c.get('services');
      await services.ledger.seal();
      return c.json(await verifyConsentChain(services.db), 200);
    },
  );
}
