import { isLoopbackHost, unknownSchemeProblem } from './schemes.js';
import type { CloudflareTransportSpec, MailTransportSpec, SmtpTransportSpec, TransportOptions } from './types.js';

/** Each scheme's part of a DSN: what it requires and what it means. */

const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6_RE = /^\[[0-9a-f:.]+\]$/;
/** A `[[send_email]]` binding is a property of `env`: a JavaScript identifier. */
const BINDING_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** AWS region names: `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`. */
const AWS_REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The pieces of a DSN before any transport gives them meaning. */
export interface DsnParts {
  scheme: string;
  username?: string | undefined;
  password?: string | undefined;
  /** As written (case kept: binding names are case-sensitive). */
  host: string;
  port?: number | undefined;
  /** `''` or `/…` without a trailing slash. */
  path: string;
  params: Map<string, string>;
}

export function checkHost(host: string, fail: (problem: string) => never, echo = true): string {
  const h = host.toLowerCase();
  // An API DSN's host is not echoed: with a raw @ inside a key, what follows it would be the key's tail.
  if (!HOSTNAME_RE.test(h) && !IPV6_RE.test(h))
    fail(`${echo ? `"${host}"` : 'the host after @'} is not a host name or IP address`);
  return h;
}

export function smtpSpec(
  parts: DsnParts,
  common: TransportOptions,
  fail: (problem: string) => never,
): SmtpTransportSpec {
  if (parts.host === '')
    fail(
      `${parts.scheme}:// needs the relay's host, e.g. ${parts.scheme}://user:pass@smtp.example.com:${parts.scheme === 'smtps' ? 465 : 587}`,
    );
  const host = checkHost(parts.host, fail);
  if (parts.path !== '') fail(`${parts.scheme}:// takes no path`);
  if (parts.password !== undefined && parts.username === undefined)
    fail('an SMTP password needs a user name before it');
  const secure = parts.scheme === 'smtps';
  // RFC 8314 §3.3: 465 for implicit TLS; RFC 6409 §3.1: 587 for submission.
  const port = parts.port ?? (secure ? 465 : 587);
  if (port < 1 || port > 65535) fail('the port must be between 1 and 65535');
  const tls = parts.params.get('tls_reject_unauthorized');
  if (tls !== undefined && tls !== 'true' && tls !== 'false') fail('tls_reject_unauthorized must be true or false');
  const tlsRejectUnauthorized = tls !== 'false';
  const userinfo =
    parts.username === undefined
      ? ''
      : `${encodeURIComponent(parts.username)}${parts.password === undefined ? '' : `:${encodeURIComponent(parts.password)}`}@`;
  const url = `${parts.scheme}://${userinfo}${host}:${port}${tlsRejectUnauthorized ? '' : '?tls_reject_unauthorized=false'}`;
  return {
    kind: 'smtp',
    url,
    secure,
    host,
    port,
    username: parts.username,
    password: parts.password,
    tlsRejectUnauthorized,
    ...common,
  };
}

export function cloudflareSpec(
  parts: DsnParts,
  common: TransportOptions,
  fail: (problem: string) => never,
): CloudflareTransportSpec {
  if (parts.username !== undefined || parts.password !== undefined) {
    fail('cloudflare+email:// takes no key: the binding carries the account (cloudflare+email://EMAIL)');
  }
  if (parts.host === '')
    fail('cloudflare+email:// needs the name of a send_email binding, e.g. cloudflare+email://EMAIL');
  if (!BINDING_RE.test(parts.host))
    fail(`"${parts.host}" is not a binding name (letters, digits, _ and $, as in wrangler.toml)`);
  if (parts.port !== undefined || parts.path !== '')
    fail('cloudflare+email:// takes only a binding name, no port or path');
  return { kind: 'cloudflare', binding: parts.host, ...common };
}

/** An API provider's own endpoint, or the stand-in the DSN names instead. */
export function baseUrlOf(parts: DsnParts, providerDefault: string, fail: (problem: string) => never): string {
  if (parts.host === '')
    fail(`${parts.scheme}:// needs a host after @: default (the provider's API) or a stand-in's host`);
  if (parts.host.toLowerCase() === 'default') {
    if (parts.port !== undefined || parts.path !== '')
      fail('host "default" takes no port or path: name the host to use another endpoint');
    return providerDefault;
  }
  const host = checkHost(parts.host, fail, false);
  const scheme = isLoopbackHost(host) ? 'http' : 'https';
  return `${scheme}://${host}${parts.port === undefined ? '' : `:${parts.port}`}${parts.path}`;
}

export function apiSpec(
  parts: DsnParts,
  common: TransportOptions,
  fail: (problem: string) => never,
): MailTransportSpec {
  const { scheme } = parts;
  const needKey = (form: string, placeholder: string): string =>
    parts.username ?? fail(`${scheme}:// needs ${form} before @, e.g. ${scheme}://${placeholder}@default`);
  const oneKey = (form: string, placeholder: string): string => {
    const key = needKey(form, placeholder);
    if (parts.password !== undefined)
      fail(`${scheme}:// takes one key before @, not key:secret (percent-encode a : in the key as %3A)`);
    return key;
  };
  switch (scheme) {
    case 'resend+api':
      // https://resend.com/docs/api-reference/introduction (base URL)
      return {
        kind: 'resend',
        apiKey: oneKey('an API key', 'API_KEY'),
        baseUrl: baseUrlOf(parts, 'https://api.resend.com', fail),
        ...common,
      };
    case 'postmark+api': {
      // https://postmarkapp.com/developer/user-guide/send-email-with-api
      const serverToken = oneKey('a server token', 'SERVER_TOKEN');
      const stream = parts.params.get('message_stream');
      if (stream !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(stream))
        fail('message_stream must be a Postmark stream ID, e.g. broadcast or outbound');
      return {
        kind: 'postmark',
        serverToken,
        baseUrl: baseUrlOf(parts, 'https://api.postmarkapp.com', fail),
        messageStream: stream,
        ...common,
      };
    }
    case 'ses+api': {
      const accessKeyId = needKey('an access key ID', 'ACCESS_KEY_ID:SECRET_ACCESS_KEY');
      const secretAccessKey = parts.password ?? fail('ses+api:// needs ACCESS_KEY_ID:SECRET_ACCESS_KEY before @');
      const region =
        parts.params.get('region') ??
        fail('ses+api:// needs ?region=, e.g. ?region=eu-west-1 (SigV4 signs for one region)');
      if (!AWS_REGION_RE.test(region)) fail(`region "${region}" is not an AWS region name like eu-west-1`);
      // https://docs.aws.amazon.com/general/latest/gr/ses.html (regional endpoints)
      return {
        kind: 'ses',
        accessKeyId,
        secretAccessKey,
        region,
        baseUrl: baseUrlOf(parts, `https://email.${region}.amazonaws.com`, fail),
        ...common,
      };
    }
    case 'mailgun+api': {
      const apiKey = needKey('an API key', 'API_KEY:DOMAIN');
      const domain =
        parts.password ??
        fail('mailgun+api:// needs API_KEY:DOMAIN before @ (the sending domain, e.g. mg.example.com)');
      if (!HOSTNAME_RE.test(domain.toLowerCase()) || !domain.includes('.')) {
        // Not echoed: a key written in the domain's place would be shown.
        fail('the part after : must be the sending domain, like mg.example.com (mailgun+api://API_KEY:DOMAIN@default)');
      }
      const region = (parts.params.get('region') ?? 'us').toLowerCase();
      if (region !== 'us' && region !== 'eu')
        fail('mailgun region must be us or eu (the region the domain was created in)');
      // https://documentation.mailgun.com/docs/mailgun/api-reference/api-overview (base URL per region)
      const providerDefault = region === 'eu' ? 'https://api.eu.mailgun.net' : 'https://api.mailgun.net';
      return {
        kind: 'mailgun',
        apiKey,
        domain: domain.toLowerCase(),
        region,
        baseUrl: baseUrlOf(parts, providerDefault, fail),
        ...common,
      };
    }
    case 'sendgrid+api':
      // https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
      return {
        kind: 'sendgrid',
        apiKey: oneKey('an API key', 'API_KEY'),
        baseUrl: baseUrlOf(parts, 'https://api.sendgrid.com', fail),
        ...common,
      };
    default:
      return fail(unknownSchemeProblem(scheme));
  }
}
