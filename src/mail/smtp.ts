import nodemailer, { type SendMailOptions } from 'nodemailer';
import { addressOf } from './headers.js';
import { classifyMailError, type Mailer, type OutgoingMessage } from './mailer.js';

export interface DkimOptions {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/**
 * Signed header fields. RFC 8058 §4 requires List-Unsubscribe and List-Unsubscribe-Post to be covered
 * by a valid DKIM signature for one-click unsubscribe to be offered; name them explicitly rather than
 * trust a library default.
 */
export const DKIM_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'In-Reply-To:References:List-Id:List-Unsubscribe:List-Unsubscribe-Post';

export interface SmtpOptions {
  url: string;
  maxConnections?: number;
  dkim?: DkimOptions | undefined;
}

/** Pooled nodemailer SMTP: one set of connections reused for every message of the process. */
export function createSmtpMailer(opts: SmtpOptions): Mailer {
  const url = new URL(opts.url);
  const transport = nodemailer.createTransport({
    pool: true,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    maxConnections: opts.maxConnections ?? 4,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    tls: { rejectUnauthorized: url.searchParams.get('tls_reject_unauthorized') !== 'false' },
    dkim: opts.dkim ? { ...opts.dkim, headerFieldNames: DKIM_HEADERS } : undefined,
  });
  return {
    async send(message: OutgoingMessage) {
      try {
        const info = await transport.sendMail(toNodemailer(message));
        return { messageId: info.messageId, response: info.response };
      } catch (err) {
        throw classifyMailError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

export function toNodemailer(m: OutgoingMessage): SendMailOptions {
  if (m.raw) {
    return { raw: m.raw, messageId: m.messageId, envelope: { from: m.envelopeFrom ?? addressOf(m.from), to: [m.to] } };
  }
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    html: m.html,
    text: m.text,
    messageId: m.messageId,
    headers: m.headers,
    envelope: m.envelopeFrom ? { from: m.envelopeFrom, to: m.to } : undefined,
  };
}
