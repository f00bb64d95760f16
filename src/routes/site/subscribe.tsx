/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { SubscribePage } from '../../pages/landing.js';
import { SIGNUP_PAGE_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { htmlResponse } from '../schemas.js';
import { signupFormProps } from './signup-form-props.js';

const route = createRoute({
  method: 'get',
  path: '/subscribe',
  operationId: 'showSignupPage',
  tags: ['Pages'],
  summary: 'quire’s own signup page, where a no-script signup that needs correcting lands.',
  security: [],
  request: {
    query: z.object({
      error: z.string().optional().openapi({ description: 'Why the signup was sent back (an error code).' }),
    }),
  },
  responses: { 200: htmlResponse('The signup form, with the message the error code stands for') },
});

/** quire's own signup page: where a form post from the author's site lands when it needs correcting. */
export function registerSubscribePage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => {
    setCsp(c, SIGNUP_PAGE_CSP);
    return c.html(<SubscribePage {...signupFormProps(c, 'quire-signup-page')} />);
  });
}
