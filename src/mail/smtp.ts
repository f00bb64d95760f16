import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { type DkimOptions, signMessage } from './dkim.js';
import { addressOf } from './headers.js';
import { MailError, type Mailer, type OutgoingMessage, sendEach } from './mailer.js';
import { createSmtpPool } from './smtp-pool.js';

export interface SmtpOptions {
  url: string;
  maxConnections?: number;
  dkim?: DkimOptions | undefined;
}

/**
 * SMTP over pipelined sessions (src/mail/smtp-session.ts, smtp-pool.ts), shared by every message of the
 * process. A message arrives as MIME built once per broadcast and completed by substitution (`raw`);
 * anything else is composed here by nodemailer's MailComposer. Either way the pool sends bytes.
 */
export function createSmtpMailer(opts: SmtpOptions): Mailer {
  const url = new URL(opts.url);
  const pool = createSmtpPool({
    session: {
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      rejectUnauthorized: url.searchParams.get('tls_reject_unauthorized') !== 'false',
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      connectionTimeoutMs: 10_000,
      greetingTimeoutMs: 10_000,
      socketTimeoutMs: 30_000,
    },
    maxConnections: opts.maxConnections ?? 4,
  });
  const send = async (message: OutgoingMessage) => {
    try {
      // Pieces as the template holds them where nothing is signed over the whole message, made only
      // when the session writes them.
      const wire = !opts.dkim && message.wire ? () => message.wire! : undefined;
      let data: Buffer | (() => readonly (Buffer | string)[]) | undefined = wire;
      if (!data) {
        const raw = message.raw ?? (await new MailComposer(toNodemailer(message)).compile().build());
        data = opts.dkim ? signMessage(raw, opts.dkim) : raw;
      }
      const response = await pool.send(message.envelopeFrom ?? addressOf(message.from), message.to, data);
      return { messageId: message.messageId, response };
    } catch (err) {
      throw classifySmtpError(err);
    }
  };
  return {
    name: 'smtp',
    // SMTP has no batch form; the engine's lanes and the pool carry the concurrency.
    maxBatch: 1,
    send,
    sendBatch: (messages) => sendEach(send, messages),
    async close() {
      pool.close();
    },
  };
}

/**
 * The message as nodemailer takes it, DKIM-signed when signing is configured. quire signs itself
 * (src/mail/dkim.ts) rather than through nodemailer's option, which signs each field name once only
 * and so cannot over-sign (RFC 6376 §8.15).
 */
export async function forTheWire(m: OutgoingMessage, dkim: DkimOptions | undefined): Promise<SendMailOptions> {
  const options = toNodemailer(m);
  if (!dkim) return options;
  const raw = m.raw ?? (await new MailComposer(options).compile().build());
  return toNodemailer({ ...m, raw: signMessage(raw, dkim) });
}

function toNodemailer(m: OutgoingMessage): SendMailOptions {
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

/** How long to hold sending after an SMTP rate-limit reply, which names no time of its own. */
const SMTP_THROTTLE_MS = 2000;

/**
 * Turn what nodemailer threw into a MailError, the way SMTP replies read (RFC 5321 §4.2.1): 4yz is
 * transient and retried, 5yz is permanent; the enhanced status code (RFC 3463) tells a bad mailbox
 * (5.1.x) from the rest. Connection problems are transient.
 */
export function classifySmtpError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = err as {
    responseCode?: number;
    response?: string;
    message?: string;
    code?: string;
    syscall?: string;
    timeoutType?: string;
  };
  const response = e.response ?? e.message ?? String(err);
  const enhancedStatus = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1];
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const permanent = responseCode !== undefined ? responseCode >= 500 && responseCode < 600 : false;
  // Keep only the first line of the server's reply: no stack, no recipient address echoed back at length.
  const summary = `${e.code ? `${e.code}: ` : ''}${response.split('\n')[0]!.slice(0, 300)}`;
  // nodemailer: a socket error from connect() (ECONNREFUSED, EHOSTUNREACH…), a DNS failure, or a connect or
  // greeting timeout. A connection that drops later, mid-message, is not this: the message may have arrived.
  const relayUnavailable =
    responseCode === undefined &&
    (e.syscall === 'connect' ||
      e.code === 'EDNS' ||
      e.timeoutType === 'CONNECT_TIMEOUT' ||
      e.timeoutType === 'GREETING_TIMEOUT');
  // 421/454 with a policy status (X.7.x, RFC 3463 §3.8: "too many connections", "rate limited") is the
  // relay pacing us, not a fault of this message: slow down rather than count it as an error.
  const rateLimited = (responseCode === 421 || responseCode === 454) && (enhancedStatus?.startsWith('4.7.') ?? false);
  return new MailError(summary, permanent, {
    responseCode,
    enhancedStatus,
    relayUnavailable,
    ...(rateLimited ? { rateLimited, retryAfterMs: SMTP_THROTTLE_MS } : {}),
  });
}
