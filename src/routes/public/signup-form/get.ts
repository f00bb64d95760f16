import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { signupSnippet } from '../../../pages/signup-form.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { SignupFormSchema } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getSignupForm',
  security: [],
  path: '/v1/signup-form',
  tags: ['Public'],
  summary: 'The embeddable signup form: current consent text and version, and a copy-paste HTML snippet.',
  responses: { 200: jsonResponse(SignupFormSchema, 'The form for the current consent text') },
});

/**
 * What the author's site needs to embed the signup form: the current consent text and its version, and
 * the whole copy-paste snippet built from them (the same form the demo page shows).
 */
export function registerGetSignupForm(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { config, consentVersion } = c.get('services');
    const base = config.PUBLIC_URL;
    const snippet = await signupSnippet({ publicUrl: base, consentText: config.CONSENT_TEXT, consentVersion });
    c.header('Cache-Control', 'no-cache');
    return c.json(
      {
        action: `${base}/v1/subscriptions`,
        consentVersion,
        consentText: config.CONSENT_TEXT,
        scriptUrl: `${base}/assets/signup.js`,
        snippet,
      },
      200,
    );
  });
}
