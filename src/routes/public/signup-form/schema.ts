import { z } from '@hono/zod-openapi';

export const SignupFormSchema = z
  .object({
    action: z.string().openapi({ example: 'https://news.howteamsthink.example/v1/subscriptions' }),
    consentVersion: z.number().int().openapi({ example: 1 }),
    consentText: z
      .string()
      .openapi({ description: 'Show exactly this beside the consent checkbox, and post `consent_version` with it.' }),
    scriptUrl: z.string().openapi({ example: 'https://news.howteamsthink.example/assets/signup.js' }),
    snippet: z
      .string()
      .openapi({ description: 'Ready-to-paste HTML: the form (works without script) and its script tag.' }),
  })
  .openapi('SignupForm');
