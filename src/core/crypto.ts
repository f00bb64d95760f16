import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export const hmac = (key: string | Uint8Array, data: string | Uint8Array): Buffer =>
  createHmac('sha256', key).update(data).digest();

export const hmacHex = (key: string | Uint8Array, data: string | Uint8Array): string => hmac(key, data).toString('hex');

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Constant-time string comparison that does not leak the expected length through an early return. */
export function safeEqual(a: string, b: string): boolean {
  const ab = createHash('sha256').update(a).digest();
  const bb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ab, bb);
}

/**
 * Derive a purpose-specific key so a value signed for one use never verifies for another. Remembered
 * per secret and purpose: a signup derives five of them, and the derivation is a whole HMAC.
 */
const derivedKeys = new Map<string, Buffer>();
export function deriveKey(secret: string, purpose: string): Buffer {
  const id = `${purpose}\u0000${secret}`;
  let key = derivedKeys.get(id);
  if (!key) derivedKeys.set(id, (key = hmac(secret, `quire:${purpose}`)));
  return key;
}
