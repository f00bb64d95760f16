import { z } from 'zod';
import { mailDsn, mailSettingsProblems, mailTransports, smtpUrlAlias } from './mail/dsn/index.js';

/** The wording of consent text v1: exactly what the book's site shows beside the signup form. */
export const DEFAULT_CONSENT_TEXT =
  'Leave your email to hear when the book is available and for occasional updates. We only collect your ' +
  'address to contact you about this book — no third-party ads, no resale.';

const boolish = z
  .union([
    z.boolean(),
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', '']),
    ),
  ])
  .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes' || v === 'on');

/** `PORT=` in an env file means "unset": without this, z.coerce.number('') is 0. */
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const numberOr = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema);

const positiveInt = (fallback: number) => numberOr(z.coerce.number().int().positive().default(fallback));

const wholeNumber = (range: { min: number; max?: number }, fallback: number, message: string) => {
  const n = z.coerce.number(message).int(message).min(range.min, message);
  return numberOr((range.max === undefined ? n : n.max(range.max, message)).default(fallback));
};

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(' or ')})`,
    );

const optionalUrl = (protocols: string[]) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), url(protocols).optional());

/** An ECDSA P-256 public key as base64 DER SubjectPublicKeyInfo: a fixed 26-byte header, then the point. */
const P256_SPKI = /^MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE[A-Za-z0-9+/]{86}==$/;

/** Comma-separated SNS topic ARNs; unset or empty is undefined. */
const snsTopicArns = z
  .string()
  .optional()
  .transform((v) => {
    const arns = (v ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    return arns.length ? arns : undefined;
  })
  .refine(
    (arns) =>
      arns === undefined ||
      arns.every((a) => /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(a)),
    'must be comma-separated SNS topic ARNs like arn:aws:sns:eu-west-1:123456789012:ses-events',
  );

export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: numberOr(z.coerce.number().int().min(0).max(65535).default(8787)),
    PUBLIC_URL: optionalUrl(['http:', 'https:']),
    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    /** The tables' owner, who migrates; DATABASE_URL is then a role that does not own them (README "The database roles"). */
    MIGRATION_DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    QUIRE_DATA_DIR: z.string().trim().min(1).default('./.quire'),
    /** The mail transport as one DSN (README "Choosing how mail is sent"); unset keeps the capture mailbox on Node. */
    MAIL_DSN: mailDsn,
    /** A second transport for broadcasts only; broadcasts use MAIL_DSN's when unset. */
    BROADCAST_MAIL_DSN: mailDsn,
    /** An alias of an smtp:// or smtps:// MAIL_DSN, kept for existing set-ups. */
    SMTP_URL: smtpUrlAlias,
    MAIL_FROM: z.string().trim().min(3).default('How Teams Think Before They Build <updates@localhost>'),
    SECRET_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
    ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim().replace(/\/$/, ''))
          .filter(Boolean),
      )
      .refine(
        (origins) => origins.every((o) => o === '*' || /^https?:\/\/[^/?#]+$/i.test(o)),
        'must be a comma-separated list of origins like https://book.example',
      )
      // Browsers send lower-case origins without the default port: compare in that form.
      .transform((origins) => origins.map((o) => (o === '*' ? o : new URL(o).origin))),
    POSTAL_ADDRESS: z.string().trim().min(1).default('quire demo, 1 Example Street, Springfield'),
    CONSENT_TEXT: z.string().trim().min(1).default(DEFAULT_CONSENT_TEXT),
    BOOK_TITLE: z.string().trim().min(1).default('How Teams Think Before They Build'),
    RATE_LIMIT_IP: positiveInt(20),
    RATE_LIMIT_ADDRESS: positiveInt(3),
    CONFIRM_COOLDOWN_SECONDS: numberOr(z.coerce.number().int().min(0).default(600)),
    SIGNUP_MIN_FILL_MS: numberOr(z.coerce.number().int().min(0).default(1500)),
    TRUST_PROXY: boolish.default(false),
    TURNSTILE_SECRET_KEY: optionalString,
    TURNSTILE_VERIFY_URL: url(['https:', 'http:']).default('https://challenges.cloudflare.com/turnstile/v0/siteverify'),
    DELIVERY_RATE: positiveInt(50),
    DELIVERY_CONCURRENCY: positiveInt(4),
    DELIVERY_BATCH: positiveInt(50),
    DB_TIMEOUT_MS: positiveInt(5000),
    BROADCAST_PAUSE_AFTER_ERRORS: positiveInt(25),
    /** How long a broadcast, welcome or link mail is retried through an outage (confirmations: until their link expires). */
    DELIVERY_RETRY_HOURS: positiveInt(24),
    SCHEDULE_GRACE_MINUTES: positiveInt(60),
    BOUNCE_ADDRESS: optionalString.refine(
      (v) => v === undefined || /^[^@\s+]+@[^@\s]+\.[^@\s]+$/.test(v),
      'must be an address like bounces@news.example (no +)',
    ),
    // Inbound mail (README "Mail that comes back"): the unsubscribe address and VERP bounces. The
    // listener is Node's; unset keeps it off. Its host defaults to loopback, behind a local MTA.
    INBOUND_SMTP_PORT: numberOr(z.coerce.number().int().min(1).max(65535).optional()),
    INBOUND_SMTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
    // 25 MiB is Cloudflare Email Routing's own limit; a bounce with its original attached is far smaller.
    INBOUND_MAX_BYTES: wholeNumber(
      { min: 1024, max: 25 * 1024 * 1024 },
      1024 * 1024,
      'must be a whole number of bytes from 1024 to 26214400',
    ),
    WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
    DKIM_DOMAIN: optionalString,
    DKIM_SELECTOR: optionalString,
    DKIM_PRIVATE_KEY: optionalString.transform((v) => v?.replace(/\\n/g, '\n')),
    // Workers: each cron tick sends up to QUEUE_FANOUT queue messages per sending broadcast, each asking
    // an invocation to deliver for QUEUE_SLICE_SECONDS (0 leaves broadcasts to the cron and Node workers).
    QUEUE_FANOUT: wholeNumber({ min: 0 }, 10, 'must be a whole number ≥ 0'),
    QUEUE_SLICE_SECONDS: wholeNumber({ min: 1, max: 600 }, 25, 'must be a whole number from 1 to 600'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    // The consent ledger's checkpoints (src/core/consent-checkpoints.ts): signed with a key the database
    // never sees, kept outside it. Node generates a key into the data directory when this is unset.
    LEDGER_SIGNING_KEY: optionalString
      .transform((v) => v?.replace(/\\n/g, '\n').trim())
      .refine(
        (v) => v === undefined || /-----BEGIN PRIVATE KEY-----/.test(v) || /^[A-Za-z0-9+/]{43}=$/.test(v),
        'must be an Ed25519 private key: PEM (PKCS#8) or the base64 of its 32-byte seed (openssl rand -base64 32)',
      ),
    LEDGER_CHECKPOINT_INTERVAL_MINUTES: wholeNumber(
      { min: 0, max: 7 * 24 * 60 },
      60,
      'must be a whole number of minutes from 0 (no automatic checkpoints) to 10080',
    ),
    /** Node: where automatic checkpoints are written; default $QUIRE_DATA_DIR/checkpoints. */
    LEDGER_CHECKPOINT_DIR: optionalString,
    // Provider events, POST /webhooks/<provider> (src/routes/webhooks/providers.ts): each unset keeps its route off (404).
    SES_SNS_TOPIC_ARNS: snsTopicArns,
    POSTMARK_WEBHOOK_AUTH: optionalString.refine(
      (v) => v === undefined || (v.length >= 16 && /^[^:]+:.+$/.test(v)),
      'must be user:password as in the webhook URL, at least 16 characters in all',
    ),
    RESEND_WEBHOOK_SECRET: optionalString.refine(
      (v) => v === undefined || /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(v),
      'must be the webhook signing secret Resend shows (whsec_…)',
    ),
    MAILGUN_WEBHOOK_SIGNING_KEY: optionalString.refine(
      (v) => v === undefined || v.length >= 16,
      'must be the HTTP webhook signing key from Mailgun (16+ characters)',
    ),
    SENDGRID_WEBHOOK_PUBLIC_KEY: optionalString
      .transform((v) => v?.replace(/-----(BEGIN|END) PUBLIC KEY-----|\\n|\s+/g, ''))
      .refine(
        (v) => v === undefined || P256_SPKI.test(v),
        'must be the base64 verification key of the Signed Event Webhook (an ECDSA P-256 public key)',
      ),
  })
  .superRefine((c, ctx) => {
    const dkim = [c.DKIM_DOMAIN, c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY].filter((v) => v !== undefined).length;
    if (dkim !== 0 && dkim !== 3) {
      for (const key of ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] as const) {
        if (c[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY together',
          });
      }
    }
    if (c.DKIM_PRIVATE_KEY !== undefined && !c.DKIM_PRIVATE_KEY.includes('PRIVATE KEY')) {
      ctx.addIssue({ code: 'custom', path: ['DKIM_PRIVATE_KEY'], message: 'must be a PEM private key' });
    }
    for (const p of mailSettingsProblems(c)) ctx.addIssue({ code: 'custom', path: [p.key], message: p.message });
    if (c.MIGRATION_DATABASE_URL !== undefined && c.DATABASE_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['MIGRATION_DATABASE_URL'],
        message: 'needs DATABASE_URL too: the role the application connects as',
      });
    }
    if (c.NODE_ENV === 'production') {
      for (const key of ['SECRET_KEY', 'PUBLIC_URL', 'DATABASE_URL', 'ADMIN_TOKEN'] as const) {
        if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production' });
      }
      if (c.MAIL_DSN === undefined && c.SMTP_URL === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['MAIL_DSN'],
          message: 'is required in production (or its alias SMTP_URL)',
        });
      }
    }
  });

export type Config = z.output<typeof ConfigSchema> & { PUBLIC_URL: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Where quire runs. Node has an embedded default for everything; Workers have none of them. */
export type Runtime = 'node' | 'workers';

/**
 * Parse configuration from an environment record (process.env on Node, bindings on Workers).
 * Fails once, naming every bad variable, so an operator fixes them all in one go; then fails on what
 * `runtime` cannot run without.
 */
export function parseConfig(env: Record<string, unknown>, runtime: Runtime = 'node'): Config {
  const result = ConfigSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const c = result.data;
  requireFor(runtime, c);
  return { ...c, PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, '') };
}

/**
 * What a runtime needs configured, beyond the schema. Workers have no PGlite, capture mailbox, data
 * directory for a generated secret, or local address to default PUBLIC_URL to. Takes the schema's
 * output, where an unset PUBLIC_URL is still undefined.
 */
export function requireFor(runtime: Runtime, config: z.output<typeof ConfigSchema>): void {
  // The schema has refused every other mail problem; what is left is the runtime's (cloudflare+email off Workers).
  const problems = mailSettingsProblems(config, runtime).map((p) => `${p.key}: ${p.message}`);
  if (runtime === 'workers') {
    if (!config.DATABASE_URL)
      problems.push(
        'DATABASE_URL: needs a Hyperdrive binding named HYPERDRIVE, or DATABASE_URL (PGlite does not run on Workers)',
      );
    if (!mailTransports(config).transactional) {
      problems.push(
        'MAIL_DSN: is required on Workers (the capture mailbox is Node-only): cloudflare+email://EMAIL, an API provider, or smtp(s):// on 587 or 465 (port 25 is blocked)',
      );
    }
    if (!config.SECRET_KEY) problems.push('SECRET_KEY: is required on Workers (wrangler secret put SECRET_KEY)');
    if (!config.PUBLIC_URL) problems.push('PUBLIC_URL: is required on Workers (the base of every link in mail)');
  }
  if (problems.length) throw new ConfigError(problems);
}
