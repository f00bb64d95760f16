/**
 * `MAIL_DSN`: one URL naming the mail transport, in the DSN style of Symfony Mailer and Laravel
 * (`scheme://KEY[:SECRET]@host[:port]?options`). Host `default` means the provider's own API host; any
 * other host replaces it, over https, or over http for a loopback stand-in (a local server in tests).
 *
 * Keys are percent-decoded (RFC 3986 §2.1). The user-info ends at the last `@`, so a raw `/`, `+`, `=`
 * or `@` in a key (SES secrets carry the first three, SMTP user names often an `@`) needs no encoding;
 * `%`, `?` and `#` do.
 */

export interface TransportOptions {
  /** Messages per second the provider allows (e.g. SES's sending rate); the worker paces to it. */
  rate?: number | undefined;
  /** Give up on one request after this long; the transport's own default otherwise. */
  timeoutMs?: number | undefined;
}

export interface SmtpTransportSpec extends TransportOptions {
  kind: 'smtp';
  /** `smtp(s)://user:pass@host:port`, user-info percent-encoded again: what createSmtpMailer takes. */
  url: string;
  /** Implicit TLS from the first byte (`smtps://`, RFC 8314 §3.3); otherwise STARTTLS when offered. */
  secure: boolean;
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  tlsRejectUnauthorized: boolean;
}

export interface ResendTransportSpec extends TransportOptions {
  kind: 'resend';
  apiKey: string;
  baseUrl: string;
}

export interface PostmarkTransportSpec extends TransportOptions {
  kind: 'postmark';
  serverToken: string;
  baseUrl: string;
  /** Postmark sends through the server's default transactional stream when none is named. */
  messageStream?: string | undefined;
}

export interface SesTransportSpec extends TransportOptions {
  kind: 'ses';
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  baseUrl: string;
}

export interface MailgunTransportSpec extends TransportOptions {
  kind: 'mailgun';
  apiKey: string;
  domain: string;
  region: 'us' | 'eu';
  baseUrl: string;
}

export interface SendgridTransportSpec extends TransportOptions {
  kind: 'sendgrid';
  apiKey: string;
  baseUrl: string;
}

export interface CloudflareTransportSpec extends TransportOptions {
  kind: 'cloudflare';
  /** The name of the Worker's `[[send_email]]` binding. */
  binding: string;
}

export type MailTransportSpec =
  | SmtpTransportSpec
  | ResendTransportSpec
  | PostmarkTransportSpec
  | SesTransportSpec
  | MailgunTransportSpec
  | SendgridTransportSpec
  | CloudflareTransportSpec;

/** A DSN that cannot be used; the message names the problem and shows the DSN with its keys masked. */
export class MailDsnError extends Error {
  constructor(
    readonly problem: string,
    readonly redacted: string,
  ) {
    super(`${problem} (in ${redacted})`);
    this.name = 'MailDsnError';
  }
}
