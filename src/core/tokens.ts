import { timingSafeEqual } from 'node:crypto';
import { deriveKey, hmac, sha256Hex } from './crypto.js';

/**
 * Two kinds of token reach subscribers:
 * - confirmation tokens: 32 bytes derived from a random row id with the secret key; only their sha256
 *   is stored, and the outbox recomputes the token when it sends the mail, so the database alone never
 *   holds a usable link;
 * - link tokens (unsubscribe, preferences): HMAC-signed, stateless, carrying the purpose, the subscriber's
 *   random UUID and the issue time — never an email address or a sequential id.
 */

export const CONFIRM_TOKEN_TTL_MS = 48 * 3600 * 1000;

export const confirmTokenFor = (secret: string, tokenId: string): string =>
  hmac(deriveKey(secret, 'confirm-token'), tokenId).toString('base64url');

export const hashToken = (token: string): string => sha256Hex(token);

export const linkPurposes = { unsubscribe: 1, preferences: 2 } as const;
export type LinkPurpose = keyof typeof linkPurposes;

/** How long a link in an email keeps working. RFC 8058 asks that unsubscribe links live long. */
export const linkTokenTtlDays: Record<LinkPurpose, number> = { unsubscribe: 400, preferences: 180 };

const VERSION = 1;
const MAC_BYTES = 16;
const PAYLOAD_BYTES = 1 + 1 + 16 + 4;

const uuidToBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const bytesToUuid = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export function signLinkToken(secret: string, purpose: LinkPurpose, subscriberId: string, issuedAt: Date): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(subscriberId))
    throw new Error('link tokens name a subscriber by UUID');
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload[0] = VERSION;
  payload[1] = linkPurposes[purpose];
  uuidToBytes(subscriberId).copy(payload, 2);
  payload.writeUInt32BE(Math.floor(issuedAt.getTime() / 1000), 18);
  const mac = hmac(deriveKey(secret, `link:${purpose}`), payload).subarray(0, MAC_BYTES);
  return Buffer.concat([payload, mac]).toString('base64url');
}

export type LinkTokenCheck =
  | { ok: true; subscriberId: string; issuedAt: Date }
  | { ok: false; reason: 'invalid' | 'expired' };

export function verifyLinkToken(secret: string, purpose: LinkPurpose, token: string, now: Date): LinkTokenCheck {
  if (!/^[A-Za-z0-9_-]{50,52}$/.test(token)) return { ok: false, reason: 'invalid' };
  const raw = Buffer.from(token, 'base64url');
  // Canonical encoding only: the last character's unused low bits must not give one token many spellings.
  if (raw.length !== PAYLOAD_BYTES + MAC_BYTES || raw.toString('base64url') !== token)
    return { ok: false, reason: 'invalid' };
  const payload = raw.subarray(0, PAYLOAD_BYTES);
  const mac = raw.subarray(PAYLOAD_BYTES);
  const expected = hmac(deriveKey(secret, `link:${purpose}`), payload).subarray(0, MAC_BYTES);
  if (!timingSafeEqual(mac, expected)) return { ok: false, reason: 'invalid' };
  if (payload[0] !== VERSION || payload[1] !== linkPurposes[purpose]) return { ok: false, reason: 'invalid' };
  const issuedAt = new Date(payload.readUInt32BE(18) * 1000);
  const ageMs = now.getTime() - issuedAt.getTime();
  if (ageMs > linkTokenTtlDays[purpose] * 86_400_000) return { ok: false, reason: 'expired' };
  return { ok: true, subscriberId: bytesToUuid(payload.subarray(2, 18)), issuedAt };
}

/**
 * A signed "form rendered at" stamp for the minimum-fill-time check: a bot that posts faster than a
 * person can type is dropped, and cannot forge an older stamp.
 */
export function signFormStamp(secret: string, at: Date): string {
  const ms = String(at.getTime());
  return `${ms}.${hmac(deriveKey(secret, 'form-stamp'), ms).subarray(0, 12).toString('base64url')}`;
}

export function readFormStamp(secret: string, stamp: string): Date | undefined {
  const parts = stamp.split('.');
  const [ms, sig] = parts;
  if (parts.length !== 2 || !ms || !sig || !/^\d{1,15}$/.test(ms)) return undefined;
  const expected = hmac(deriveKey(secret, 'form-stamp'), ms).subarray(0, 12).toString('base64url');
  if (expected.length !== sig.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(sig))) return undefined;
  return new Date(Number(ms));
}
