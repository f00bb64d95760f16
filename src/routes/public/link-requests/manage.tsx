/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { requestPreferencesLink } from '../../../core/manage.js';
import { LinkSentPage, ManagePage } from '../../../pages/link-request.js';
import { openapiForm, readForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { formBody, htmlResponse, pageError } from '../../schemas.js';
import { isInvalidEmail, LinkRequestForm } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/manage',
  operationId: 'requestPreferencesLink',
  tags: ['Pages'],
  summary: 'Send a fresh preferences link to an address (same answer whatever the address).',
  security: [],
  request: { body: formBody(LinkRequestForm) },
  responses: {
    200: htmlResponse('The “check your inbox” page'),
    400: pageError('A form body that cannot be read'),
    403: pageError('A post from another site'),
    415: pageError('Not a form post'),
    422: htmlResponse('The form again, with the address and why it does not look valid'),
    429: pageError('Too many requests from this IP or for this address (see Retry-After)'),
  },
});

/** "Manage my subscription": a fresh preferences link by email. */
export function registerManage(app: OpenAPIHono<AppEnv>) {
  openapiForm(app, route, async (c) => {
    const services = c.get('services');
    const { email } = await readForm(c, LinkRequestForm);
    try {
      const outcome = await requestPreferencesLink(services, email, requestMeta(c));
      services.log.info('preferences link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err))
        return c.html(<ManagePage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />, 422);
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="preferences" />);
  });
}
