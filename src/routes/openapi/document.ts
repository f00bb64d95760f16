import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDocument } from '../../pages/api-reference.js';
import type { AppEnv } from '../env.js';
import { WEBHOOK_SIGNATURE_HEADER } from '../webhooks/bounces.js';

type Responses = Record<string, unknown>;
type Operation = { responses: Responses; security?: unknown[]; requestBody?: { content?: Record<string, unknown> } };

const envelope = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The security schemes operations name; registered once per app, before the document is generated. */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>) {
  const add = (name: string, scheme: Parameters<typeof app.openAPIRegistry.registerComponent>[2]) =>
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  add('bearer', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, as `Authorization: Bearer …`.' });
  add('webhookSignature', {
    type: 'apiKey',
    in: 'header',
    name: WEBHOOK_SIGNATURE_HEADER,
    description:
      '`t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<raw body>")>`, within 5 minutes of the server clock.',
  });
  add('resendSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'svix-signature',
    description: 'Standard Webhooks signature under RESEND_WEBHOOK_SECRET, with `svix-id` and `svix-timestamp`.',
  });
  add('sendgridSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Email-Event-Webhook-Signature',
    description: 'ECDSA signature under SENDGRID_WEBHOOK_PUBLIC_KEY, with `X-Twilio-Email-Event-Webhook-Timestamp`.',
  });
}

/**
 * The OpenAPI document, with what the app-wide middleware (src/app.tsx) can answer on any route added
 * to each operation that does not say it already: the body limit (413), the request deadline and an
 * unreachable database (503), and on the JSON-only POST and PUT routes a body of another type (415) or
 * malformed JSON (400). Declared here once, where that middleware is, rather than on every route.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>, publicUrl: string): ApiDocument {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'quire',
      version: '0.1.0',
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      description:
        'Newsletter and subscriber backend for a book site. Errors share one envelope: `{ "error": { "code", "message", "requestId", "fields"? } }`.',
    },
    servers: [{ url: publicUrl }],
  });
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
      const op = value;
      const add = (status: string, description: string) => {
        op.responses[status] ??= envelope(description);
      };
      add('413', 'The request body is too large.');
      add('503', 'The database is unavailable, or the request outlasted its deadline.');
      const jsonOnly = path.startsWith('/admin/') || path.startsWith('/v1/preferences/');
      if (jsonOnly && (method === 'post' || method === 'put')) {
        add('415', 'A body that is not application/json.');
        if (op.requestBody?.content?.['application/json']) add('400', 'The request body is not valid JSON.');
      }
    }
  }
  return doc as unknown as ApiDocument;
}
