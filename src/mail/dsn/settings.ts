import { z } from 'zod';
import { parseMailDsn, redactDsn } from './parse.js';
import { MailDsnError, type MailTransportSpec } from './types.js';

const PROVIDER_HOSTS =
  /^https:\/\/(api\.resend\.com|api\.postmarkapp\.com|email\.[a-z0-9-]+\.amazonaws\.com|api(\.eu)?\.mailgun\.net|api\.sendgrid\.com)$/;

/** A short label for logs and the console: no key, no secret. */
export function describeTransport(spec: MailTransportSpec): string {
  const notes: string[] = [];
  let name: string = spec.kind;
  switch (spec.kind) {
    case 'smtp':
      name = spec.secure ? 'smtps' : 'smtp';
      notes.push(`${spec.host}:${spec.port}`);
      break;
    case 'postmark':
      if (spec.messageStream) notes.push(`${spec.messageStream} stream`);
      break;
    case 'ses':
      notes.push(spec.region);
      break;
    case 'mailgun':
      notes.push(spec.domain, spec.region);
      break;
    case 'cloudflare':
      name = 'cloudflare email service';
      notes.push(`binding ${spec.binding}`);
      break;
  }
  if ('baseUrl' in spec && !PROVIDER_HOSTS.test(spec.baseUrl)) notes.push(`via ${spec.baseUrl}`);
  if (spec.rate !== undefined) notes.push(`${spec.rate} msg/s`);
  return notes.length ? `${name} (${notes.join(', ')})` : name;
}

export type MailRuntime = 'node' | 'workers';

/** Why this transport cannot run where quire is starting, or undefined when it can. */
export function transportRuntimeProblem(spec: MailTransportSpec, runtime: MailRuntime): string | undefined {
  if (spec.kind === 'cloudflare' && runtime !== 'workers') {
    return 'cloudflare+email:// needs a Workers send_email binding; on Node use smtp:// or an API provider (resend+api://, postmark+api://, …)';
  }
  return undefined;
}

/** `KEY=` in an env file means unset. */
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const dsnSchema = z.string().transform((dsn, ctx): MailTransportSpec => {
  try {
    return parseMailDsn(dsn);
  } catch (err) {
    if (!(err instanceof MailDsnError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

/** `MAIL_DSN` / `BROADCAST_MAIL_DSN`: optional, parsed to a MailTransportSpec. */
export const mailDsn = z.preprocess(blankAsUnset, dsnSchema.optional());

/**
 * `SMTP_URL`, kept as an alias of an smtp(s) MAIL_DSN. Its value stays the string it was (what older
 * set-ups pass on), checked by the same parser.
 */
export const smtpUrlAlias = z.preprocess(
  blankAsUnset,
  z
    .string()
    .trim()
    .superRefine((dsn, ctx) => {
      try {
        if (parseMailDsn(dsn).kind !== 'smtp')
          ctx.addIssue({
            code: 'custom',
            message: `must be an smtp:// or smtps:// URL; use MAIL_DSN for other transports (in ${redactDsn(dsn)})`,
          });
      } catch (err) {
        if (!(err instanceof MailDsnError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    })
    .optional(),
);

export interface MailSettings {
  MAIL_DSN?: MailTransportSpec | undefined;
  SMTP_URL?: string | undefined;
  BROADCAST_MAIL_DSN?: MailTransportSpec | undefined;
}

/** The transports a configuration names: broadcasts use the transactional one unless told otherwise. */
export function mailTransports(c: MailSettings): {
  transactional?: MailTransportSpec | undefined;
  broadcast?: MailTransportSpec | undefined;
} {
  const transactional = c.MAIL_DSN ?? (c.SMTP_URL === undefined ? undefined : parseMailDsn(c.SMTP_URL));
  return { transactional, broadcast: c.BROADCAST_MAIL_DSN ?? transactional };
}

/** Problems of the mail settings taken together, each with the variable it belongs to. */
export function mailSettingsProblems(
  c: MailSettings,
  runtime?: MailRuntime,
): { key: keyof MailSettings; message: string }[] {
  const problems: { key: keyof MailSettings; message: string }[] = [];
  if (c.MAIL_DSN !== undefined && c.SMTP_URL !== undefined) {
    problems.push({ key: 'SMTP_URL', message: 'is an alias of MAIL_DSN: set one of them, not both' });
  }
  if (c.BROADCAST_MAIL_DSN?.kind === 'cloudflare') {
    // https://developers.cloudflare.com/email-service/reference/faq/: transactional mail only.
    problems.push({
      key: 'BROADCAST_MAIL_DSN',
      message: 'Cloudflare Email Service carries transactional mail only; name a bulk provider for broadcasts',
    });
  }
  if (runtime !== undefined) {
    for (const key of ['MAIL_DSN', 'BROADCAST_MAIL_DSN'] as const) {
      const spec = c[key];
      const problem = spec && transportRuntimeProblem(spec, runtime);
      if (problem) problems.push({ key, message: problem });
    }
  }
  return problems;
}
