import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { templates } from '../../../../emails/index.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { TemplateList } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'listTemplates',
  summary: 'The broadcast templates, with the JSON Schema of their props.',
  path: '/admin/v1/templates',
  tags: ['Broadcasts'],
  security: adminSecurity,
  responses: { 200: jsonResponse(TemplateList, 'Templates with props JSON Schema and example props'), ...unauthorized },
});

/** The broadcast templates the author can choose from, with what each one's props must look like. */
export function registerListTemplates(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) =>
    c.json(
      Object.values(templates)
        .filter((t) => t.kind === 'broadcast')
        .map((t) => ({
          name: t.name,
          description: t.description,
          propsSchema: z.toJSONSchema(t.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
          exampleProps: t.previewProps,
        })),
      200,
    ),
  );
}
