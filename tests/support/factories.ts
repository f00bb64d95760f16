import type { Harness } from './harness.js';

let seq = 0;

/** A unique, valid address; tests never share one by accident. */
export const uniqueEmail = (label = 'reader') =>
  `${label}.${process.pid}.${Date.now().toString(36)}.${seq++}@example.com`;

export interface SignupBody {
  email?: string;
  name?: string;
  topics?: string[];
  consent?: unknown;
  consent_version?: number;
  source?: string;
  locale?: string;
  website?: string;
  form_ts?: string;
  [key: string]: unknown;
}

export function postSignup(h: Harness, body: SignupBody = {}, opts: { ip?: string } = {}) {
  return h.request('/v1/subscriptions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: uniqueEmail(), consent: true, ...body }),
    ...(opts.ip ? { ip: opts.ip } : {}),
  });
}

export function postSignupForm(
  h: Harness,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) body.append(k, value);
  return h.request('/v1/subscriptions', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    body: body.toString(),
  });
}

/** The first link in the mail's text part whose path starts with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const m = new RegExp(`https?://[^\\s\\]]+${prefix}[A-Za-z0-9_-]+`).exec(text);
  if (!m) throw new Error(`no ${prefix} link in mail:\n${text}`);
  return m[0];
}

/** Path and query of an absolute URL, for app.request. */
export const pathOf = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

export function lastMailTo(h: Harness, email: string) {
  const mails = h.smtp.to(email);
  const mail = mails[mails.length - 1];
  if (!mail) throw new Error(`no mail to ${email}`);
  return mail;
}

/** Sign up, deliver the confirmation, and return its link. */
export async function pendingSubscriber(h: Harness, body: SignupBody = {}) {
  const email = body.email ?? uniqueEmail();
  const res = await postSignup(h, { ...body, email });
  if (res.status !== 202) throw new Error(`signup answered ${res.status}: ${await res.text()}`);
  await h.deliver();
  const mail = lastMailTo(h, email);
  return { email, confirmUrl: linkIn(mail.parsed.text ?? '', '/confirm/'), mail };
}

/** A confirmed subscriber, through the real flow: signup → mail → confirm → welcome mail. */
export async function activeSubscriber(h: Harness, body: SignupBody = {}) {
  const pending = await pendingSubscriber(h, body);
  const res = await h.request(pathOf(pending.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`confirm answered ${res.status}: ${await res.text()}`);
  await h.deliver();
  const welcome = lastMailTo(h, pending.email);
  const text = welcome.parsed.text ?? '';
  const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
    pending.email,
  ]);
  return {
    id: row!.id,
    email: pending.email,
    welcome,
    unsubscribeUrl: linkIn(text, '/unsubscribe/'),
    preferencesUrl: linkIn(text, '/preferences/'),
    preferencesToken: linkIn(text, '/preferences/').split('/').pop()!,
  };
}
