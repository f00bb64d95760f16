import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { subscribers } from '../db/schema.js';
import { deriveKey, hmacHex } from './crypto.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { checkEmail, mailboxKey } from './email-address.js';
import { AppError } from './errors.js';
import { emailHashFor } from './identity.js';
import { hitRateLimit } from './rate-limit.js';
import { TEXTS } from './texts.js';

/**
 * Shared by the forms where someone types an address to get a link by email ("manage my subscription",
 * "send me a new confirmation link"). They answer the same whatever the address, so the limits count
 * every attempt — known address or not — and one budget covers both forms.
 */
const IP_WINDOW_SECONDS = 600;
const ADDRESS_WINDOW_SECONDS = 86_400;

export interface LinkRequestTarget {
  emailHash: string;
  key: string;
}

/** Validate the address and spend one attempt of the per-IP and per-address budgets (429 past them). */
export async function admitLinkRequest(deps: CoreDeps, email: string, meta: RequestMeta): Promise<LinkRequestTarget> {
  const checked = checkEmail(email);
  if (!checked.ok)
    throw new AppError('invalid_email', TEXTS.invalidEmail, { fields: [{ path: 'email', message: 'invalid' }] });
  const now = deps.now();
  if (meta.ip) {
    const ipKey = `links:ip:${hmacHex(deriveKey(deps.secret, 'rate-ip'), meta.ip)}`;
    const byIp = await hitRateLimit(
      deps.db,
      ipKey,
      { limit: deps.config.RATE_LIMIT_IP, windowSeconds: IP_WINDOW_SECONDS },
      now,
    );
    if (!byIp.allowed) throw tooMany(byIp.retryAfterSeconds);
  }
  const emailHash = emailHashFor(deps.secret, checked.key);
  const byAddress = await hitRateLimit(
    deps.db,
    `links:addr:${emailHashFor(deps.secret, mailboxKey(checked.key))}`,
    { limit: deps.config.RATE_LIMIT_ADDRESS, windowSeconds: ADDRESS_WINDOW_SECONDS },
    now,
  );
  if (!byAddress.allowed) throw tooMany(byAddress.retryAfterSeconds);
  return { emailHash, key: checked.key };
}

/** The subscriber row for a normalised address, locked when inside a transaction that will write. */
export async function findSubscriberByKey(db: DbOrTx, key: string, lock = false) {
  const q = db.select().from(subscribers).where(sql`lower(${subscribers.email}) = ${key}`);
  const [sub] = lock ? await q.for('update') : await q;
  return sub;
}

const tooMany = (retryAfterSeconds: number) =>
  new AppError('rate_limited', 'Too many requests for a link. Please try again later.', { retryAfterSeconds });
