import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/client.js';
import { subscribers } from '../db/schema.js';
import { confirmationSql, inCooldown, lastConfirmation } from './confirmations.js';
import { appendConsentEvent, consentEventInsert, consentVersionExists, latestConsentVersion } from './consent.js';
import { deriveKey, hmacHex } from './crypto.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { checkEmail, mailboxKey } from './email-address.js';
import { AppError } from './errors.js';
import { emailHashFor, ipHashFor } from './identity.js';
import { rateLimitUpsert } from './rate-limit.js';
import { blockingReasons, isBlocked, suppressedSql } from './suppression.js';
import { TEXTS } from './texts.js';
import { readFormStamp } from './tokens.js';
import { resolveTopics } from './topics.js';

export interface SignupRequest {
  email: string;
  name?: string | undefined;
  topics?: string[] | undefined;
  consent: boolean;
  consentVersion?: number | undefined;
  source?: string | undefined;
  locale?: string | undefined;
  /** Honeypot: a field people never see, so never fill. */
  website?: string | undefined;
  /** Signed time the form was rendered (minimum fill time). */
  formStamp?: string | undefined;
  /** Turnstile widget token, checked when Turnstile is configured. */
  captchaToken?: string | undefined;
}

/**
 * What happened, for tests and metrics only: the HTTP answer is identical for all of them, so a form
 * never reveals whether an address is known (enumeration safety).
 */
export type SignupOutcome =
  | 'confirmation_queued'
  | 'cooldown'
  | 'already_active'
  | 'suppressed'
  | 'dropped_bot'
  /** A genuine form sent back faster than SIGNUP_MIN_FILL_MS: nothing stored, a person asked to send it again. */
  | 'too_fast';

const DAY_SECONDS = 86_400;
const IP_WINDOW_SECONDS = 600;

export async function requestSubscription(
  deps: CoreDeps,
  req: SignupRequest,
  meta: RequestMeta,
): Promise<SignupOutcome> {
  const { db, config, secret } = deps;
  const now = deps.now();

  // The address first, as a person fixes the form top to bottom; both fields named when both need it.
  const checked = checkEmail(req.email);
  const noConsent = req.consent ? [] : [{ path: 'consent', message: 'must be true' }];
  if (!checked.ok) {
    throw new AppError('invalid_email', TEXTS.invalidEmail, {
      fields: [{ path: 'email', message: 'invalid' }, ...noConsent],
    });
  }
  if (noConsent.length > 0) throw new AppError('consent_required', TEXTS.consentRequired, { fields: noConsent });

  const bot = botCheck(req, secret, now, config.SIGNUP_MIN_FILL_MS);
  if (bot) return bot;
  if (deps.verifyHuman && !(await deps.verifyHuman(req.captchaToken, meta.ip))) {
    throw new AppError('captcha_failed', 'Please complete the challenge and try again.', {
      fields: [{ path: 'cf-turnstile-response', message: 'not verified' }],
    });
  }

  // Validated before any limit is spent: a request refused with 422 stores nothing, not even a count.
  const topicSlugs = await resolveTopics(db, req.topics);
  const consentVersion = await resolveConsentVersion(deps, req.consentVersion);

  const addressKey = checked.key;
  const emailHash = emailHashFor(secret, addressKey);
  // Both limits are spent by the same statement as the signup (below). Counted per attempt, whatever
  // the address's state, so a 429 says nothing about whether it is known; and per mailbox, so
  // "victim+1@", "victim+2@"… share the victim's budget.
  const hits = [
    {
      key: `signup:addr:${emailHashFor(secret, mailboxKey(addressKey))}`,
      rule: { limit: config.RATE_LIMIT_ADDRESS, windowSeconds: DAY_SECONDS },
    },
  ];
  if (meta.ip)
    hits.unshift({
      key: `signup:ip:${hmacHex(deriveKey(secret, 'rate-ip'), meta.ip)}`,
      rule: { limit: config.RATE_LIMIT_IP, windowSeconds: IP_WINDOW_SECONDS },
    });
  const limits = rateLimitUpsert(hits, now);

  const iso = now.toISOString();
  const event = {
    emailHash,
    kind: 'requested' as const,
    consentTextVersion: consentVersion,
    topics: topicSlugs,
    source: req.source ?? null,
    ipHash: ipHashFor(secret, meta.ip),
    userAgent: meta.userAgent ?? null,
    occurredAt: now,
  };
  const confirmation = (subscriberId: string) =>
    confirmationSql(
      secret,
      { subscriberId, topics: topicSlugs, consentTextVersion: consentVersion, source: req.source ?? null },
      now,
    );

  // The common case, a new address, is one statement: one round trip and one commit, atomic on its
  // own. It spends both rate limits and, only if neither is exceeded, writes the subscriber — unless
  // suppressed or already known — and, only if that was written, its token, outbox row and ledger
  // event. Data-modifying CTEs all run to completion, whether or not the main query reads them.
  const subscriberId = crypto.randomUUID();
  const fresh = confirmation(subscriberId);
  const rows = rowsOf<{ key: string; count: number; created: string | null }>(
    await db.execute(sql`
      with hits as (${limits.statement}),
      created as (
        insert into ${subscribers} (id, email, email_hash, name, locale, status, source, created_at, status_changed_at)
        select ${subscriberId}::uuid, ${checked.email}::text, ${emailHash}::text, ${req.name ?? null}::text, ${req.locale ?? 'en'}::text, 'pending',
               ${req.source ?? null}::text, ${iso}::timestamptz, ${iso}::timestamptz
         where not ${limits.exceeded(sql`hits`)}
           and not ${suppressedSql(emailHash, blockingReasons)}
        on conflict do nothing
        returning id),
      token as (${fresh.token(sql`exists (select 1 from created)`)}),
      outbox as (${fresh.outbox(sql`token`)}),
      ledger as (${consentEventInsert({ ...event, subscriberId }, sql`created`)})
      select h.key, h.count, (select id from created) as created from hits h`),
  );
  for (const limit of limits.judge(new Map(rows.map((r) => [r.key, Number(r.count)]))))
    if (!limit.allowed) throw tooMany(limit.retryAfterSeconds);
  const outcome = rows[0]?.created ? ('confirmation_queued' as const) : await signupOfKnownAddress();

  async function signupOfKnownAddress(): Promise<SignupOutcome> {
    return db.transaction(async (tx) => {
      if (await isBlocked(tx, emailHash)) return 'suppressed' as const;
      // Lock the row: concurrent signups of one address queue here, and the first one's token is the
      // cooldown the others see.
      const [sub] = await tx
        .select()
        .from(subscribers)
        .where(sql`lower(${subscribers.email}) = ${addressKey}`)
        .for('update');
      // Neither new nor there: it was erased between the two statements. Nothing to send.
      if (!sub) return 'suppressed' as const;

      // Never downgrade: a confirmed subscriber stays exactly as they are.
      if (sub.status === 'active') return 'already_active' as const;
      if (sub.status === 'bounced' || sub.status === 'complained') return 'suppressed' as const;

      const last = await lastConfirmation(tx, sub.id);
      if (last && inCooldown(last.createdAt, now, config.CONFIRM_COOLDOWN_SECONDS)) return 'cooldown' as const;

      const again = confirmation(sub.id);
      await tx.execute(sql`with token as (${again.token()}) ${again.outbox(sql`token`)}`);
      await appendConsentEvent(tx, { ...event, subscriberId: sub.id });
      return 'confirmation_queued' as const;
    });
  }

  if (outcome === 'confirmation_queued') deps.outboxChanged?.();
  return outcome;
}

/**
 * A filled honeypot or a forged stamp is a bot, dropped quietly. A real stamp that is too young may be
 * a person whose browser filled the form in and sent it at once (autofill): told apart, so the page
 * can ask them to send it again rather than lose the signup.
 */
function botCheck(req: SignupRequest, secret: string, now: Date, minFillMs: number): SignupOutcome | undefined {
  if (req.website !== undefined && req.website.trim() !== '') return 'dropped_bot';
  if (req.formStamp) {
    const renderedAt = readFormStamp(secret, req.formStamp);
    if (!renderedAt) return 'dropped_bot';
    if (now.getTime() - renderedAt.getTime() < minFillMs) return 'too_fast';
  }
  return undefined;
}

async function resolveConsentVersion(deps: CoreDeps, requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    if (!(await consentVersionExists(deps.db, requested))) {
      throw new AppError(
        'unknown_consent_version',
        'The consent text this form shows is not known. Please reload the page.',
        {
          fields: [{ path: 'consent_version', message: 'unknown version' }],
        },
      );
    }
    return requested;
  }
  const latest = await latestConsentVersion(deps.db);
  if (latest === undefined) throw new Error('no consent text configured');
  return latest;
}

const tooMany = (retryAfterSeconds: number) =>
  new AppError('rate_limited', 'Too many signups. Please try again later.', { retryAfterSeconds });
