import type { DkimOptions } from './dkim.js';
import type { MailTransportSpec } from './dsn/index.js';
import type { Mailer } from './mailer.js';
import { createCloudflareMailer, type SendEmailBinding } from './providers/cloudflare.js';
import { createMailgunMailer } from './providers/mailgun.js';
import { createPostmarkMailer } from './providers/postmark.js';
import { createResendMailer } from './providers/resend.js';
import { createSendgridMailer } from './providers/sendgrid.js';
import { createSesMailer } from './providers/ses.js';
import { createSmtpMailer } from './smtp.js';

export interface TransportParts {
  /** DKIM signing for transports that carry our own MIME (SMTP); API providers sign with their own keys. */
  dkim?: DkimOptions | undefined;
  /** Pooled connections (SMTP) or requests in flight (per-message APIs). */
  maxConnections: number;
  /** Workers only: the `send_email` binding a `cloudflare+email://NAME` DSN names. */
  sendEmailBinding?: (name: string) => SendEmailBinding | undefined;
}

/** The Mailer a parsed MAIL_DSN names. Every transport maps its own errors to MailError. */
export function createTransport(spec: MailTransportSpec, parts: TransportParts): Mailer {
  const timeoutMs = spec.timeoutMs;
  switch (spec.kind) {
    case 'smtp':
      return createSmtpMailer({ url: spec.url, maxConnections: parts.maxConnections, dkim: parts.dkim });
    case 'resend':
      return createResendMailer({ apiKey: spec.apiKey, baseUrl: spec.baseUrl, timeoutMs });
    case 'postmark':
      return createPostmarkMailer({
        serverToken: spec.serverToken,
        baseUrl: spec.baseUrl,
        messageStream: spec.messageStream,
        timeoutMs,
      });
    case 'ses':
      return createSesMailer({
        region: spec.region,
        accessKeyId: spec.accessKeyId,
        secretAccessKey: spec.secretAccessKey,
        baseUrl: spec.baseUrl,
        concurrency: parts.maxConnections,
        timeoutMs,
      });
    case 'mailgun':
      return createMailgunMailer({
        apiKey: spec.apiKey,
        domain: spec.domain,
        region: spec.region,
        baseUrl: spec.baseUrl,
        concurrency: parts.maxConnections,
        timeoutMs,
      });
    case 'sendgrid':
      return createSendgridMailer({
        apiKey: spec.apiKey,
        baseUrl: spec.baseUrl,
        concurrency: parts.maxConnections,
        timeoutMs,
      });
    case 'cloudflare': {
      const binding = parts.sendEmailBinding?.(spec.binding);
      if (!binding)
        throw new Error(`MAIL_DSN names the send_email binding "${spec.binding}", which this Worker does not have`);
      return createCloudflareMailer({ binding, timeoutMs });
    }
  }
}
