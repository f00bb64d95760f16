import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { signupSnippet } from '../../pages/signup-form.js';
import type { AppEnv } from '../env.js';

export const SignupFormSchema = z
  .object({
    action: z.string().openapi({ example: 'https://news.howteamsthink.example/v1/subscriptions' }),
    consentVersion: z.number().int().openapi({ example: 1 }),
    consentText: z.string().openapi({ description: 'Show exactly this beside the consent checkbox, and post `consent_version` with it.' }),
    scriptUrl: z.string().openapi({ example: 'https://news.howteamsthink.example/assets/signup.js' }),
    snippet: z.string().openapi({ description: 'Ready-to-paste HTML: the form (works without script) and its script tag.' }),
  })
  .openapi('SignupForm');

/**
 * What the author's site needs to embed the signup form: the current consent text and its version, and
 * the whole copy-paste snippet built from them (the same form the demo page shows).
 */
export function registerSignupFormRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/signup-form',
      tags: ['Public'],
      summary: 'The embeddable signup form: current consent text and version, and a copy-paste HTML snippet.',
      responses: { 200: { description: 'The form for the current consent text', content: { 'application/json': { schema: SignupFormSchema } } } },
    }),
    async (c) => {
      const { config, consentVersion } = c.get('services');
      const base = config.PUBLIC_URL;
      const snippet = await signupSnippet({ publicUrl: base, consentText: config.CONSENT_TEXT, consentVersion });
      c.header('Cache-Control', 'no-cache');
      return c.json(
        { action: `${base}/v1/subscriptions`, consentVersion, consentText: config.CONSENT_TEXT, scriptUrl: `${base}/assets/signup.js`, snippet },
        200,
      );
    },
  );
}
