import type { OutgoingMessage } from '../../../src/mail/mailer.js';
import { createCloudflareMailer, type SendEmailBinding } from '../../../src/mail/providers/cloudflare.js';

/**
 * A Worker whose only job is to hand one message to src/mail/providers/cloudflare.ts over a real
 * `send_email` binding, so the transport runs in workerd exactly as it does in production.
 * POST /send with an OutgoingMessage as JSON (as `binding`: which binding to use) answers the
 * SendResult, or the MailError's classification.
 */
interface Env {
  [binding: string]: SendEmailBinding;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { binding = 'EMAIL', ...message } = (await request.json()) as OutgoingMessage & { binding?: string };
    const mailer = createCloudflareMailer({ binding: env[binding]! });
    try {
      const result = await mailer.send(message);
      return Response.json({
        ok: true,
        result,
        transactionalOnly: mailer.transactionalOnly,
        maxBatch: mailer.maxBatch,
      });
    } catch (err) {
      const e = err as {
        name: string;
        message: string;
        permanent?: boolean;
        relayUnavailable?: boolean;
        rateLimited?: boolean;
        suppressed?: boolean;
      };
      return Response.json({
        ok: false,
        error: {
          name: e.name,
          message: e.message,
          permanent: e.permanent,
          relayUnavailable: e.relayUnavailable,
          rateLimited: e.rateLimited,
        },
      });
    }
  },
};
