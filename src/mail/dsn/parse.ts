import { isLoopbackHost, SCHEMES, unknownSchemeProblem } from './schemes.js';
import { apiSpec, cloudflareSpec, type DsnParts, smtpSpec } from './specs.js';
import { MailDsnError, type MailTransportSpec, type TransportOptions } from './types.js';

const MASK = '****';

/** Query parameters every transport takes. */
const COMMON_PARAMS = ['rate', 'timeout_ms'] as const;

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
