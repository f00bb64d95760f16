import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { templates } from '../../../emails/index';
import { previewContext } from '../../../emails/_components/broadcast-context';
import {
  audienceOf,
  broadcastTemplate,
  cancelBroadcast,
  createBroadcast,
  describeBroadcast,
  getBroadcastRow,
  listBroadcasts,
  pauseBroadcast,
  queueTestSend,
  resumeBroadcast,
  retryFailed,
  sendBroadcast,
} from '../../core/broadcasts.js';
import { personalise, renderOnce } from '../../mail/personalise.js';
import type { AppEnv } from '../env.js';
import { errorResponse, plainText, TopicSlug } from '../schemas.js';

const security = [{ bearer: [] }];
const common = { 401: errorResponse('Missing or invalid admin token'), 404: errorResponse('No such broadcast') };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const IdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const BroadcastCreate = z
  .object({
    template: z.string().min(1).max(100).openapi({ example: 'update-announcement' }),
    topic: TopicSlug.openapi({ example: 'updates' }),
    subject: plainText(200).pipe(z.string().min(1)).openapi({ example: 'New chapter article: Coaching through tech refinement' }),
    preheader: plainText(200).optional(),
    props: z.record(z.string(), z.unknown()).openapi({ description: "The template's props; see GET /admin/v1/templates." }),
  })
  .openapi('BroadcastCreate');

const SendBody = z.object({ at: z.iso.datetime({ offset: true }).optional().openapi({ example: '2026-12-01T09:00:00Z' }) }).strict();
const TestBody = z.object({ to: z.array(z.string().max(320)).min(1).max(10) }).strict();

/** The author's broadcast API: draft → preview → test → send now or later, then pause/resume/cancel. */
export function registerAdminBroadcastRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({ method: 'get', path: '/admin/v1/templates', tags: ['Broadcasts'], security, responses: { 200: ok('Templates with props JSON Schema and example props'), ...common } }),
    (c) =>
      c.json(
        Object.values(templates)
          .filter((t) => t.kind === 'broadcast')
          .map((t) => ({ name: t.name, description: t.description, propsSchema: z.toJSONSchema(t.schema, { io: 'input', unrepresentable: 'any' }), exampleProps: t.previewProps })),
        200,
      ),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/admin/v1/broadcasts', tags: ['Broadcasts'], security, request: { body: jsonBody(BroadcastCreate) }, responses: { 201: ok('Draft created'), 422: errorResponse('Invalid broadcast or props'), ...common } }),
    async (c) => c.json(await createBroadcast(c.get('services'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/admin/v1/broadcasts', tags: ['Broadcasts'], security, responses: { 200: ok('Broadcasts, newest first'), ...common } }),
    async (c) => c.json({ data: await listBroadcasts(c.get('services').db) }, 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/admin/v1/broadcasts/{id}', tags: ['Broadcasts'], security, request: { params: IdParam }, responses: { 200: ok('Status and delivery counts'), ...common } }),
    async (c) => c.json(await describeBroadcast(c.get('services').db, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/v1/broadcasts/{id}/preview',
      tags: ['Broadcasts'],
      security,
      request: { params: IdParam, query: z.object({ format: z.enum(['html', 'text']).default('html') }) },
      responses: { 200: { description: 'The rendered email, with example recipient values' }, ...common },
    }),
    async (c) => {
      const s = c.get('services');
      const b = await getBroadcastRow(s.db, c.req.valid('param').id);
      const once = await renderOnce(broadcastTemplate(b.template), b.props, { preheader: b.preheader, lang: 'en', bookTitle: s.config.BOOK_TITLE, postalAddress: s.config.POSTAL_ADDRESS });
      const out = personalise(once, previewContext.recipient);
      if (c.req.valid('query').format === 'text') return c.text(out.text, 200);
      // The preview is the author's own content; render it as a document with no scripts allowed.
      c.header('Content-Security-Policy', "default-src 'none'; img-src * data:; style-src 'unsafe-inline'");
      return c.html(out.html, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/admin/v1/broadcasts/{id}/audience', tags: ['Broadcasts'], security, request: { params: IdParam }, responses: { 200: ok('Who would receive it now, and the excluded counts'), ...common } }),
    async (c) => {
      const s = c.get('services');
      const b = await getBroadcastRow(s.db, c.req.valid('param').id);
      return c.json(await audienceOf(s.db, b.topic), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/admin/v1/broadcasts/{id}/test', tags: ['Broadcasts'], security, request: { params: IdParam, body: jsonBody(TestBody) }, responses: { 202: ok('Test sends queued'), 422: errorResponse('Invalid address'), ...common } }),
    async (c) => c.json({ queued: await queueTestSend(c.get('services'), c.req.valid('param').id, c.req.valid('json').to) }, 202),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/admin/v1/broadcasts/{id}/send',
      tags: ['Broadcasts'],
      security,
      summary: 'Send now (freezes the audience), or schedule with {"at": ISO time}. A repeat call changes nothing.',
      request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: SendBody } } } },
      responses: { 202: ok('Sending or scheduled'), 409: errorResponse('Not sendable in its state'), ...common },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const at = body.at ? new Date(body.at) : undefined;
      return c.json(await sendBroadcast(c.get('services'), c.req.valid('param').id, at), 202);
    },
  );

  const action = (name: 'pause' | 'resume' | 'cancel' | 'retry-failed', run: (s: AppEnv['Variables']['services'], id: string) => Promise<unknown>) =>
    app.openapi(
      createRoute({ method: 'post', path: `/admin/v1/broadcasts/{id}/${name}`, tags: ['Broadcasts'], security, request: { params: IdParam }, responses: { 200: ok(`After ${name}`), 409: errorResponse('Not possible in its state'), ...common } }),
      async (c) => c.json(await run(c.get('services'), c.req.valid('param').id), 200),
    );
  action('pause', (s, id) => pauseBroadcast(s, id));
  action('resume', (s, id) => resumeBroadcast(s, id));
  action('cancel', (s, id) => cancelBroadcast(s, id));
  action('retry-failed', (s, id) => retryFailed(s, id));
}
