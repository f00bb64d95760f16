import {
  type CloudflareTransportSpec,
  MailDsnError,
  type MailTransportSpec,
  type SmtpTransportSpec,
  type TransportOptions,
} from './types.js';

const MASK = '****';

/** Query parameters every transport takes. */
const COMMON_PARAMS = ['rate', 'timeout_ms'] as const;

interface SchemeInfo {
  /** Query parameters beyond the common ones. */
  params: readonly string[];
  /** Its host is a relay or a binding name, fit for logs; an API DSN's host place may hold a stray key. */
  showsHost: boolean;
}

const SCHEMES: Record<string, SchemeInfo> = {
  smtp: { params: ['tls_reject_unauthorized'], showsHost: true },
  smtps: { params: ['tls_reject_unauthorized'], showsHost: true },
  'resend+api': { params: [], showsHost: false },
  'postmark+api': { params: ['message_stream'], showsHost: false },
  'ses+api': { params: ['region'], showsHost: false },
  'mailgun+api': { params: ['region'], showsHost: false },
  'sendgrid+api': { params: [], showsHost: false },
  'cloudflare+email': { params: [], showsHost: true },
};

/** Parameters whose values are never secret, so logs may show them. */
const PUBLIC_PARAMS = new Set<string>([...COMMON_PARAMS, 'tls_reject_unauthorized', 'message_stream', 'region']);
/** Any scheme's parameter names; another name may be a fragment of a key with a raw `&` in it. */
const KNOWN_PARAMS = new Set<string>([...COMMON_PARAMS, ...Object.values(SCHEMES).flatMap((s) => s.params)]);

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * The DSN with every key and secret replaced by `****`, safe for logs and error messages. Without a
 * recognisable `scheme://`, nothing of it is shown: a bare API key pasted into MAIL_DSN is still a key.
 */
export function redactDsn(dsn: string): string {
  const text = dsn.trim();
  const m = SCHEME_RE.exec(text);
  if (!m) return MASK;
  const scheme = m[1]!.toLowerCase();
  let rest = text.slice(m[0].length);
  let userinfo = '';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    userinfo = `${rest.slice(0, at).includes(':') ? `${MASK}:${MASK}` : MASK}@`;
    rest = rest.slice(at + 1);
  }
  const hash = rest.indexOf('#');
  const fragment = hash >= 0 ? `#${MASK}` : '';
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  let location = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : undefined;
  if (!SCHEMES[scheme]?.showsHost && location !== '') {
    // An API DSN without `@` most likely carries its key where the host goes (`resend+api://re_…`);
    // with a raw `@` inside a key, what follows it looks like a host. Show only what is surely a host.
    const host = /^(\[[^\]]*\]|[^/:]*)/.exec(location)![1]!;
    const surelyHost =
      userinfo !== '' &&
      (host.toLowerCase() === 'default' || isLoopbackHost(host) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host));
    if (!surelyHost) location = MASK;
  }
  const params =
    query === undefined
      ? ''
      : `?${query
          .split('&')
          .map((pair) => {
            const eq = pair.indexOf('=');
            const name = eq >= 0 ? pair.slice(0, eq) : pair;
            const shownName = KNOWN_PARAMS.has(name) || name === '' ? name : MASK;
            if (eq < 0) return shownName;
            return PUBLIC_PARAMS.has(name) ? pair : `${shownName}=${MASK}`;
          })
          .join('&')}`;
  return `${scheme}://${userinfo}${location}${params}${fragment}`;
}

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Loopback (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3, RFC 6761 §6.3): a local stand-in, reached over http. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || LOOPBACK_V4.test(h);
}

const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6_RE = /^\[[0-9a-f:.]+\]$/;
/** A `[[send_email]]` binding is a property of `env`: a JavaScript identifier. */
const BINDING_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** AWS region names: `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`. */
const AWS_REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The pieces of a DSN before any transport gives them meaning. */
interface DsnParts {
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

export function parseMailDsn(dsn: string): MailTransportSpec {
  const text = dsn.trim();
  const fail = (problem: string): never => {
    throw new MailDsnError(problem, redactDsn(text));
  };
  const parts = splitDsn(text, fail);
  const info = SCHEMES[parts.scheme];
  if (!info) return fail(unknownSchemeProblem(parts.scheme));

  const allowed = [...COMMON_PARAMS, ...info.params];
  for (const name of parts.params.keys()) {
    if (!allowed.includes(name)) {
      // Named only when it looks like a parameter name rather than a piece of something else.
      const shown = /^[a-z][a-z0-9_]{0,31}$/.test(name) ? `"${name}"` : '(name not shown)';
      fail(`unknown query parameter ${shown} for ${parts.scheme}:// (it takes ${allowed.join(', ')})`);
    }
  }
  const common = commonOptions(parts.params, fail);

  switch (parts.scheme) {
    case 'smtp':
    case 'smtps':
      return smtpSpec(parts, common, fail);
    case 'cloudflare+email':
      return cloudflareSpec(parts, common, fail);
    default:
      return apiSpec(parts, common, fail);
  }
}

function splitDsn(text: string, fail: (problem: string) => never): DsnParts {
  const m = SCHEME_RE.exec(text);
  if (!m)
    return fail('is not a DSN: expected scheme://…, e.g. smtp://user:pass@host:587 or resend+api://API_KEY@default');
  const scheme = m[1]!.toLowerCase();
  let rest = text.slice(m[0].length);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'the key before @', fail);
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), 'the secret after :', fail) : undefined;
  }
  if (rest.includes('#')) fail('a DSN takes no #fragment (percent-encode # in a key as %23)');
  let url: URL;
  try {
    // A scheme the URL standard does not know keeps the host as written and any port as given.
    url = new URL(`dsn://${rest}`);
  } catch {
    return fail('has an unreadable host, port or query');
  }
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (params.has(name)) fail(`query parameter "${name}" is given twice`);
    params.set(name, value);
  }
  return {
    scheme,
    username: username === '' ? undefined : username,
    password: password === '' ? undefined : password,
    host: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: url.pathname.replace(/\/+$/, ''),
    params,
  };
}

function decode(value: string, what: string, fail: (problem: string) => never): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return fail(`${what} is not valid percent-encoding (write a literal % as %25)`);
  }
}

function unknownSchemeProblem(scheme: string): string {
  const known = Object.keys(SCHEMES);
  const base = scheme.split('+')[0]!;
  const near = known.find((k) => k.split('+')[0] === base);
  const hint = near ? `; did you mean ${near}://?` : '';
  return `unknown scheme "${scheme}" (known: ${known.join(', ')})${hint}`;
}

function commonOptions(params: Map<string, string>, fail: (problem: string) => never): TransportOptions {
  const options: TransportOptions = {};
  const rate = params.get('rate');
  if (rate !== undefined) {
    const n = Number(rate);
    if (rate.trim() === '' || !Number.isFinite(n) || n <= 0)
      fail('rate must be a positive number of messages per second, e.g. rate=14');
    options.rate = n;
  }
  const timeout = params.get('timeout_ms');
  if (timeout !== undefined) {
    const n = Number(timeout);
    if (!/^\d+$/.test(timeout) || !Number.isSafeInteger(n) || n <= 0)
      fail('timeout_ms must be a positive whole number of milliseconds');
    options.timeoutMs = n;
  }
  return options;
}

function checkHost(host: string, fail: (problem: string) => never, echo = true): string {
  const h = host.toLowerCase();
  // An API DSN's host is not echoed: with a raw @ inside a key, what follows it would be the key's tail.
  if (!HOSTNAME_RE.test(h) && !IPV6_RE.test(h))
    fail(`${echo ? `"${host}"` : 'the host after @'} is not a host name or IP address`);
  return h;
}

function smtpSpec(parts: DsnParts, common: TransportOptions, fail: (problem: string) => never): SmtpTransportSpec {
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

function cloudflareSpec(
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
function baseUrlOf(parts: DsnParts, providerDefault: string, fail: (problem: string) => never): string {
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

function apiSpec(parts: DsnParts, common: TransportOptions, fail: (problem: string) => never): MailTransportSpec {
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
