/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { LandingPage } from '../../pages/landing.js';
import { SIGNUP_PAGE_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { signupFormProps } from './signup-form-props.js';

/** Outside production, a demo of the book's landing page with the real signup form. */
export function registerHome(app: OpenAPIHono<AppEnv>) {
  app.get('/', (c) => {
    if (c.get('services').config.NODE_ENV === 'production') return c.json({ name: 'quire', docs: '/docs' });
    setCsp(c, SIGNUP_PAGE_CSP);
    return c.html(<LandingPage {...signupFormProps(c, 'demo')} />);
  });
}
