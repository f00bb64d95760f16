import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export const hmac = (key: string | Uint8Array | KeyObject, data: string | Uint8Array): Buffer =>
  createHmac('sha256', key).update(data).digest();

export const hmacHex = (key: string | Uint8Array | KeyObject, data: string | Uint8Array): string =>
  hmac(key, data).toString('hex');

/** Constant-time string comparison that does not leak the expected length through an early return. */
export function safeEqual(a: string, b: string): boolean {
  const ab = createHash('sha256').update(a).digest();
  const bb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ab, bb);
}

/**
 * Derive a purpose-specific key so a value signed for one use never verifies for another. Remembered
 * per secret and purpose, as a KeyObject: a signup uses five of them, and Node imports a Buffer key
 * afresh on every createHmac, several times the cost of a KeyObject (docs/benchmarks.md).
 */
const derivedKeys = new Map<string, KeyObject>();
export function deriveKey(secret: string, purpose: string): KeyObject {
  const id = `${purpose}\u0000${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    key = createSecretKey(hmac(secret, `quire:${purpose}`));
    derivedKeys.set(id, key);
  }
  return key;
}
