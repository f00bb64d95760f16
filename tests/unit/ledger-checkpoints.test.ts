import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import type { Checkpoint } from '../../src/core/consent-checkpoints.js';
import { importLedgerKey, newLedgerSeed, signText } from '../../src/core/ledger-key.js';
import { checkpointStoreFor } from '../../src/runtime/worker/checkpoints.js';

describe('the ledger signing key', () => {
  it('takes a PEM or a base64 seed of the same key alike, and signs plain Ed25519', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const seed = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64');
    const fromPem = await importLedgerKey(pem);
    const fromSeed = await importLedgerKey(seed);
    expect(fromPem.id).toBe(fromSeed.id);
    expect(fromPem.id).toBe(publicKey.export({ format: 'jwk' }).x);
    // Anyone holding the public key can check a signature with any Ed25519 implementation.
    const signature = await signText(fromSeed, 'checkpoint text');
    expect(verify(null, Buffer.from('checkpoint text'), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    const raw = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: fromSeed.id }, format: 'jwk' });
    expect(verify(null, Buffer.from('checkpoint text'), raw, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('refuses what is not an Ed25519 private key', async () => {
    await expect(importLedgerKey('c2hvcnQ=')).rejects.toThrow(/LEDGER_SIGNING_KEY/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await expect(importLedgerKey(rsa.toString())).rejects.toThrow(/not an Ed25519 private key/);
  });

  it('is configured as a PEM (with \\n escapes) or the 44 characters of `openssl rand -base64 32`', () => {
    const base = { NODE_ENV: 'test' };
    expect(parseConfig({ ...base, LEDGER_SIGNING_KEY: newLedgerSeed() }).LEDGER_SIGNING_KEY).toHaveLength(44);
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(parseConfig({ ...base, LEDGER_SIGNING_KEY: pem.replace(/\n/g, '\\n') }).LEDGER_SIGNING_KEY).toBe(pem.trim());
    expect(() => parseConfig({ ...base, LEDGER_SIGNING_KEY: 'hunter2' })).toThrow(/LEDGER_SIGNING_KEY: must be/);
    expect(parseConfig(base).LEDGER_CHECKPOINT_INTERVAL_MINUTES).toBe(60);
    expect(() => parseConfig({ ...base, LEDGER_CHECKPOINT_INTERVAL_MINUTES: '-1' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, MIGRATION_DATABASE_URL: 'postgres://owner@db/quire' })).toThrow(
      /MIGRATION_DATABASE_URL: needs DATABASE_URL/,
    );
  });
});

const checkpointAt = (seq: number) => ({ format: 'quire-consent-checkpoint/1', seq }) as unknown as Checkpoint;

describe('checkpoints kept in a Worker binding', () => {
  it('R2: one object per checkpoint, and the newest found in one read', async () => {
    const objects = new Map<string, { value: string; type?: string | undefined }>();
    const store = checkpointStoreFor({
      head: async (key: string) => objects.get(key) ?? null,
      get: async (key: string) => {
        const o = objects.get(key);
        return o ? { text: async () => o.value } : null;
      },
      put: async (key: string, value: string, options?: { httpMetadata?: { contentType?: string } }) => {
        objects.set(key, { value, type: options?.httpMetadata?.contentType });
      },
    })!;
    expect(await store.latest()).toBeUndefined();
    await store.put(checkpointAt(7));
    await store.put(checkpointAt(12));
    expect((await store.latest())?.seq).toBe(12);
    expect([...objects.keys()].sort()).toEqual([
      'consent-checkpoints/consent-000000000007.json',
      'consent-checkpoints/consent-000000000012.json',
      'consent-checkpoints/latest.json',
    ]);
    expect(objects.get('consent-checkpoints/consent-000000000007.json')?.type).toBe('application/json');
  });

  it('KV: the same keys', async () => {
    const values = new Map<string, string>();
    const store = checkpointStoreFor({
      getWithMetadata: async () => null,
      get: async (key: string) => values.get(key) ?? null,
      put: async (key: string, value: string) => {
        values.set(key, value);
      },
    })!;
    await store.put(checkpointAt(3));
    expect((await store.latest())?.seq).toBe(3);
    expect(values.has('consent-checkpoints/consent-000000000003.json')).toBe(true);
  });

  it('none without a binding', () => {
    expect(checkpointStoreFor(undefined)).toBeUndefined();
  });
});
