/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { resendConfirmation } from '../../../core/confirm-resend.js';
import { LinkSentPage, ResendConfirmationPage } from '../../../pages/link-request.js';
import { openapiForm, readForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { formBody, htmlResponse, pageError } from '../../schemas.js';
import { isInvalidEmail, LinkRequestForm } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/resend-confirmation',
  operationId: 'resendConfirmation',
  tags: ['Pages'],
  summary: 'Send a new confirmation link to an address waiting for one (same answer whatever the address).',
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

/** "Send me a new confirmation link". */
export function registerResendConfirmation(app: OpenAPIHono<AppEnv>) {
  openapiForm(app, route, async (c) => {
    const services = c.get('services');
    const { email } = await readForm(c, LinkRequestForm);
    try {
      const outcome = await resendConfirmation(services, email, requestMeta(c));
      services.log.info('confirmation link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err))
        return c.html(
          <ResendConfirmationPage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />,
          422,
        );
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="confirmation" />);
  });
}
