import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { confirmTokens, consentTexts, subscribers } from '../db/schema.js';
import { appendConsentEvent } from './consent.js';
import { deriveKey, hmacHex } from './crypto.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { checkEmail, mailboxKey } from './email-address.js';
import { AppError, INVALID_EMAIL_MESSAGE } from './errors.js';
import { emailHashFor, ipHashFor } from './identity.js';
import { enqueueDelivery } from './outbox.js';
import { hitRateLimit } from './rate-limit.js';
import { isBlocked } from './suppression.js';
import { CONFIRM_TOKEN_TTL_MS, confirmTokenFor, hashToken, readFormStamp } from './tokens.js';
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
export type SignupOutcome = 'confirmation_queued' | 'cooldown' | 'already_active' | 'suppressed' | 'dropped_bot';

const DAY_SECONDS = 86_400;
const IP_WINDOW_SECONDS = 600;

export async function requestSubscription(deps: CoreDeps, req: SignupRequest, meta: RequestMeta): Promise<SignupOutcome> {
  const { db, config, secret } = deps;
  const now = deps.now();

  if (!req.consent) {
    throw new AppError('consent_required', 'Please tick the box to agree to be contacted about this book.', {
      fields: [{ path: 'consent', message: 'must be true' }],
    });
  }
  const checked = checkEmail(req.email);
  if (!checked.ok) throw new AppError('invalid_email', INVALID_EMAIL_MESSAGE, { fields: [{ path: 'email', message: 'invalid' }] });

  if (isBot(req, secret, now, config.SIGNUP_MIN_FILL_MS)) return 'dropped_bot';
  if (deps.verifyHuman && !(await deps.verifyHuman(req.captchaToken, meta.ip))) {
    throw new AppError('captcha_failed', 'Please complete the challenge and try again.', { fields: [{ path: 'cf-turnstile-response', message: 'not verified' }] });
  }

  // Validated before any limit is spent: a request refused with 422 stores nothing, not even a count.
  const topicSlugs = await resolveTopics(db, req.topics);
  const consentVersion = await resolveConsentVersion(deps, req.consentVersion);

  if (meta.ip) {
    const ipKey = `signup:ip:${hmacHex(deriveKey(secret, 'rate-ip'), meta.ip)}`;
    const byIp = await hitRateLimit(db, ipKey, { limit: config.RATE_LIMIT_IP, windowSeconds: IP_WINDOW_SECONDS }, now);
    if (!byIp.allowed) throw tooMany(byIp.retryAfterSeconds);
  }
  const emailHash = emailHashFor(secret, checked.key);
  // Counted per attempt, whatever the address's state, so a 429 says nothing about whether it is known;
  // and per mailbox, so "victim+1@", "victim+2@"… share the victim's budget.
  const byAddress = await hitRateLimit(db, `signup:addr:${emailHashFor(secret, mailboxKey(checked.key))}`, { limit: config.RATE_LIMIT_ADDRESS, windowSeconds: DAY_SECONDS }, now);
  if (!byAddress.allowed) throw tooMany(byAddress.retryAfterSeconds);

  const outcome = await db.transaction(async (tx) => {
    if (await isBlocked(tx, emailHash)) return 'suppressed' as const;

    await tx
      .insert(subscribers)
      .values({
        email: checked.email,
        emailHash,
        name: req.name ?? null,
        locale: req.locale ?? 'en',
        status: 'pending',
        source: req.source ?? null,
        createdAt: now,
        statusChangedAt: now,
      })
      .onConflictDoNothing();
    // Lock the row: concurrent signups of one address queue here, and the first one's token is the
    // cooldown the others see.
    const [sub] = await tx
      .select()
      .from(subscribers)
      .where(sql`lower(${subscribers.email}) = ${checked.key}`)
      .for('update');
    if (!sub) throw new Error('subscriber row vanished inside its own transaction');

    // Never downgrade: a confirmed subscriber stays exactly as they are.
    if (sub.status === 'active') return 'already_active' as const;
    if (sub.status === 'bounced' || sub.status === 'complained') return 'suppressed' as const;

    const cooldownStart = new Date(now.getTime() - config.CONFIRM_COOLDOWN_SECONDS * 1000);
    const [recent] = await tx
      .select({ id: confirmTokens.id })
      .from(confirmTokens)
      .where(and(eq(confirmTokens.subscriberId, sub.id), gt(confirmTokens.createdAt, cooldownStart)))
      .orderBy(desc(confirmTokens.createdAt))
      .limit(1);
    if (recent) return 'cooldown' as const;

    const tokenId = crypto.randomUUID();
    // The token itself is derived from the id with the secret; only its hash is stored (see tokens.ts).
    await tx.insert(confirmTokens).values({
      id: tokenId,
      tokenHash: hashToken(confirmTokenFor(secret, tokenId)),
      subscriberId: sub.id,
      topics: topicSlugs,
      consentTextVersion: consentVersion,
      source: req.source ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + CONFIRM_TOKEN_TTL_MS),
    });
    await enqueueDelivery(tx, { kind: 'confirmation', subscriberId: sub.id, confirmTokenId: tokenId }, now);
    await appendConsentEvent(tx, {
      subscriberId: sub.id,
      emailHash,
      kind: 'requested',
      consentTextVersion: consentVersion,
      topics: topicSlugs,
      source: req.source ?? null,
      ipHash: ipHashFor(secret, meta.ip),
      userAgent: meta.userAgent ?? null,
      occurredAt: now,
    });
    return 'confirmation_queued' as const;
  });

  if (outcome === 'confirmation_queued') deps.outboxChanged?.();
  return outcome;
}

function isBot(req: SignupRequest, secret: string, now: Date, minFillMs: number): boolean {
  if (req.website !== undefined && req.website.trim() !== '') return true;
  if (req.formStamp) {
    const renderedAt = readFormStamp(secret, req.formStamp);
    if (!renderedAt) return true;
    if (now.getTime() - renderedAt.getTime() < minFillMs) return true;
  }
  return false;
}

async function resolveConsentVersion(deps: CoreDeps, requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    const [row] = await deps.db.select({ version: consentTexts.version }).from(consentTexts).where(eq(consentTexts.version, requested));
    if (!row) {
      throw new AppError('unknown_consent_version', 'The consent text this form shows is not known. Please reload the page.', {
        fields: [{ path: 'consent_version', message: 'unknown version' }],
      });
    }
    return row.version;
  }
  const [latest] = await deps.db.select({ version: consentTexts.version }).from(consentTexts).orderBy(desc(consentTexts.version)).limit(1);
  if (!latest) throw new Error('no consent text configured');
  return latest.version;
}

const tooMany = (retryAfterSeconds: number) =>
  new AppError('rate_limited', 'Too many signups. Please try again later.', { retryAfterSeconds });
