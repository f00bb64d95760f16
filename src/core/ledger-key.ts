import { Buffer } from 'node:buffer';

/**
 * The Ed25519 key that signs the consent ledger's checkpoints (consent-checkpoints.ts). It is kept out of
 * the database on purpose: whoever can rewrite the ledger there must not be able to sign for it too.
 * Web Crypto, so the same code runs on Node and on Workers.
 */
export interface LedgerKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The raw public key, base64url: what a checkpoint names and an author can keep to check signatures. */
  id: string;
}

/** The PKCS#8 wrapping of a bare Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes. */
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function pkcs8Of(value: string): Uint8Array<ArrayBuffer> {
  const pem = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(value);
  if (pem) return new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64'));
  const seed = Buffer.from(value.trim(), 'base64');
  if (seed.length !== 32) throw new Error('LEDGER_SIGNING_KEY: must be a PEM private key or the base64 of 32 bytes');
  return new Uint8Array(Buffer.concat([PKCS8_SEED_PREFIX, seed]));
}

/** LEDGER_SIGNING_KEY (PEM PKCS#8, or a base64 32-byte seed) as a signing key and its public half. */
export async function importLedgerKey(value: string): Promise<LedgerKey> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pkcs8Of(value), { name: 'Ed25519' }, true, ['sign']);
  } catch (err) {
    throw new Error(`LEDGER_SIGNING_KEY: not an Ed25519 private key (${(err as Error).message})`);
  }
  // Web Crypto derives no public key from a private one, but its JWK export carries it.
  const { x } = (await crypto.subtle.exportKey('jwk', privateKey)) as JsonWebKey;
  const raw = new Uint8Array(Buffer.from(x!, 'base64url'));
  const publicKey = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, true, ['verify']);
  return { privateKey, publicKey, id: x! };
}

/** A fresh seed in the form LEDGER_SIGNING_KEY takes (Node keeps one in its data directory in development). */
export const newLedgerSeed = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

export async function signText(key: LedgerKey, text: string): Promise<string> {
  const signature = await crypto.subtle.sign('Ed25519', key.privateKey, new TextEncoder().encode(text));
  return Buffer.from(signature).toString('base64url');
}

export async function signatureValid(key: LedgerKey, text: string, signature: string): Promise<boolean> {
  try {
    return await crypto.subtle.verify(
      'Ed25519',
      key.publicKey,
      new Uint8Array(Buffer.from(signature, 'base64url')),
      new TextEncoder().encode(text),
    );
  } catch {
    return false;
  }
}
