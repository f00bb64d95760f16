import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { subscriberIdFromLink } from '../../core/links.js';
import { eraseSubscriber, exportSubscriberData, getPreferences, updatePreferences } from '../../core/preferences.js';
import type { AppEnv } from '../env.js';
import { requestMeta } from '../http.js';
import { errorResponse, plainText, TokenParam, TopicSlug } from '../schemas.js';

export const PreferencesSchema = z
  .object({
    email: z.string(),
    name: z.string().nullable(),
    locale: z.string(),
    status: z.string(),
    topics: z.array(z.object({ slug: z.string(), name: z.string(), description: z.string(), subscribed: z.boolean() })),
  })
  .openapi('Preferences');

export const PreferencesUpdateSchema = z
  .object({
    name: plainText(200).nullable().optional(),
    topics: z.array(TopicSlug).max(50).optional().openapi({ description: 'The complete set of topics wanted; others are turned off.' }),
    unsubscribe_all: z.boolean().optional(),
  })
  .strict()
  .openapi('PreferencesUpdate');

export const EraseRequestSchema = z.object({ confirm: z.literal(true, { error: 'must be true' }) }).openapi('EraseRequest');

const tokenErrors = { 404: errorResponse('Invalid link'), 410: errorResponse('Expired link') };
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export function registerPreferencesRoutes(app: OpenAPIHono<AppEnv>) {
  const subscriberOf = (c: { get: (k: 'services') => AppEnv['Variables']['services'] }, token: string) =>
    subscriberIdFromLink(c.get('services'), 'preferences', token);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/preferences/{token}',
      tags: ['Preferences'],
      request: { params: TokenParam },
      responses: { 200: json(PreferencesSchema, 'Current preferences'), ...tokenErrors },
    }),
    async (c) => {
      const id = subscriberOf(c, c.req.valid('param').token);
      return c.json(await getPreferences(c.get('services'), id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/preferences/{token}',
      tags: ['Preferences'],
      request: { params: TokenParam, body: { required: true, content: { 'application/json': { schema: PreferencesUpdateSchema } } } },
      responses: { 200: json(PreferencesSchema, 'Saved preferences'), 422: errorResponse('Invalid update'), ...tokenErrors },
    }),
    async (c) => {
      const id = subscriberOf(c, c.req.valid('param').token);
      const body = c.req.valid('json');
      const prefs = await updatePreferences(
        c.get('services'),
        id,
        { name: body.name === '' ? null : body.name, topics: body.topics, unsubscribeAll: body.unsubscribe_all },
        requestMeta(c),
      );
      return c.json(prefs, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/preferences/{token}/export',
      tags: ['Preferences'],
      summary: 'Everything held about the subscriber, as a JSON download.',
      request: { params: TokenParam },
      responses: { 200: { description: 'JSON document: profile, subscriptions, consent history, deliveries' }, ...tokenErrors },
    }),
    async (c) => {
      const id = subscriberOf(c, c.req.valid('param').token);
      const data = await exportSubscriberData(c.get('services'), id);
      c.header('Content-Disposition', 'attachment; filename="my-subscription-data.json"');
      c.header('Cache-Control', 'no-store');
      return c.json(data, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/preferences/{token}/erase',
      tags: ['Preferences'],
      summary: 'Erase the subscriber’s personal data. Body `{"confirm": true}`.',
      request: { params: TokenParam, body: { required: true, content: { 'application/json': { schema: EraseRequestSchema } } } },
      responses: { 200: json(z.object({ status: z.enum(['erased', 'already_erased']) }), 'Erased'), 422: errorResponse('confirm missing'), ...tokenErrors },
    }),
    async (c) => {
      const id = subscriberOf(c, c.req.valid('param').token);
      const status = await eraseSubscriber(c.get('services'), id, requestMeta(c));
      return c.json({ status }, 200);
    },
  );
}
