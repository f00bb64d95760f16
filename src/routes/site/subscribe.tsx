/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { SubscribePage } from '../../pages/landing.js';
import { SIGNUP_PAGE_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { signupFormProps } from './signup-form-props.js';

/** quire's own signup page: where a form post from the author's site lands when it needs correcting. */
export function registerSubscribePage(app: OpenAPIHono<AppEnv>) {
  app.get('/subscribe', (c) => {
    setCsp(c, SIGNUP_PAGE_CSP);
    return c.html(<SubscribePage {...signupFormProps(c, 'quire-signup-page')} />);
  });
}
