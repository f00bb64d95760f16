import { ADMIN_TOKEN, type Harness } from './harness.js';

/** The origin the harness's PUBLIC_URL names: what a browser sends on a form post from a console page. */
export const CONSOLE_ORIGIN = 'http://quire.test';
export const SAME_ORIGIN = { origin: CONSOLE_ORIGIN, 'sec-fetch-site': 'same-origin' };

/** `name=value` pairs of the response's Set-Cookie headers. */
export function setCookies(res: Response): Map<string, { value: string; header: string }> {
  const found = new Map<string, { value: string; header: string }>();
  for (const header of res.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const eq = pair!.indexOf('=');
    found.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), header });
  }
  return found;
}

export const hiddenField = (html: string, name: string): string | undefined =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

export interface ConsoleSignIn {
  /** The Cookie header value for later requests. */
  cookie: string;
  /** The session's CSRF token, as a console page's forms carry it. */
  csrf: string;
  /** The sign-in answer itself. */
  response: Response;
}

/** The sign-in page's form: its login cookie and its hidden token. */
export async function loginForm(h: Harness, ip?: string) {
  const page = await h.request('/admin/login', { headers: { accept: 'text/html' }, ...(ip ? { ip } : {}) });
  const html = await page.text();
  const login = setCookies(page).get('quire_console_login');
  return { cookie: login ? `quire_console_login=${login.value}` : '', csrf: hiddenField(html, '_csrf') ?? '', html };
}

/** Post the sign-in form as a browser on the console's own origin would. */
export async function postLogin(
  h: Harness,
  token: string,
  opts: { ip?: string; next?: string; form?: { cookie: string; csrf: string } } = {},
): Promise<Response> {
  const form = opts.form ?? (await loginForm(h, opts.ip));
  return h.request('/admin/login', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      cookie: form.cookie,
      ...SAME_ORIGIN,
    },
    body: new URLSearchParams({ _csrf: form.csrf, token, next: opts.next ?? '/admin' }).toString(),
    ...(opts.ip ? { ip: opts.ip } : {}),
  });
}

/** Sign in with the harness's admin token; the session cookie and the CSRF token the pages carry. */
export async function signIn(h: Harness, opts: { ip?: string } = {}): Promise<ConsoleSignIn> {
  const response = await postLogin(h, ADMIN_TOKEN, opts);
  const session = setCookies(response).get('quire_console');
  if (response.status !== 303 || !session) throw new Error(`sign-in answered ${response.status}`);
  const cookie = `quire_console=${session.value}`;
  const overview = await h.request('/admin', { headers: { cookie, accept: 'text/html' } });
  const csrf = hiddenField(await overview.text(), '_csrf');
  if (!csrf) throw new Error(`no CSRF field on the overview (${overview.status})`);
  return { cookie, csrf, response };
}

/** A console GET as the signed-in browser sends it. */
export function consoleGet(h: Harness, s: ConsoleSignIn, path: string): Promise<Response> {
  return h.request(path, { headers: { cookie: s.cookie, accept: 'text/html' } });
}

/** A console form post from the console's own pages, with the session's CSRF field unless given. */
export function consolePost(
  h: Harness,
  s: ConsoleSignIn,
  path: string,
  fields: Record<string, string> = {},
  headers: Record<string, string> = SAME_ORIGIN,
): Promise<Response> {
  return h.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: s.cookie, ...headers },
    body: new URLSearchParams({ _csrf: s.csrf, ...fields }).toString(),
  });
}
