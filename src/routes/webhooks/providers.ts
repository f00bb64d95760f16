import type { OpenAPIHono } from '@hono/zod-openapi';
import { createSnsVerifier, type Fetcher } from '../../mail/events/sns.js';
import type { AppEnv } from '../env.js';
import { registerMailgunWebhookRoute } from './mailgun.js';
import { registerPostmarkWebhookRoute } from './postmark.js';
import { registerResendWebhookRoute } from './resend.js';
import { registerSendgridWebhookRoute, SENDGRID_WEBHOOK_PATH } from './sendgrid.js';
import { registerSesWebhookRoute, SES_WEBHOOK_PATH } from './ses.js';

export interface ProviderWebhookOptions {
  /**
   * How the SES route fetches SNS signing certificates and visits SubscribeURLs (default: the runtime's
   * fetch). Tests serve certificates locally through it; the URLs it is given are always SNS hosts.
   */
  fetch?: Fetcher | undefined;
}

/**
 * SendGrid posts events in batches and an SNS message may carry up to 256 KB: these two routes need a
 * larger body limit than the app's 64 KiB default, or a busy batch is refused (413) and lost after retries.
 */
export const PROVIDER_WEBHOOK_MAX_BYTES = 1024 * 1024;
export const LARGE_PROVIDER_WEBHOOK_PATHS: readonly string[] = [SES_WEBHOOK_PATH, SENDGRID_WEBHOOK_PATH];

const registered = new WeakMap<object, { fetch: Fetcher }>();

/**
 * POST /webhooks/{ses,postmark,resend,mailgun,sendgrid}: each provider's delivery events, verified the
 * way that provider signs them. Each answers 404 until its secret is configured. Calling this again on
 * the same app registers nothing twice; it only replaces the options.
 */
export function registerProviderWebhookRoutes(app: OpenAPIHono<AppEnv>, options: ProviderWebhookOptions = {}) {
  const existing = registered.get(app);
  if (existing) {
    if (options.fetch) existing.fetch = options.fetch;
    return;
  }
  const state = { fetch: options.fetch ?? ((url: string, init?: RequestInit) => fetch(url, init)) };
  registered.set(app, state);
  // One verifier per app, so its certificate cache lives as long as the app (a Worker isolate, a process).
  const sns = createSnsVerifier({ fetch: (url, init) => state.fetch(url, init) });

  app.openAPIRegistry.registerComponent('securitySchemes', 'postmarkBasic', { type: 'http', scheme: 'basic' });
  registerSesWebhookRoute(app, sns);
  registerPostmarkWebhookRoute(app);
  registerResendWebhookRoute(app);
  registerMailgunWebhookRoute(app);
  registerSendgridWebhookRoute(app);
}
