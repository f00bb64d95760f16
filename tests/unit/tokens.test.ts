import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  confirmTokenFor,
  hashToken,
  type LinkPurpose,
  linkTokenTtlDays,
  readFormStamp,
  signFormStamp,
  signLinkToken,
  verifyLinkToken,
} from '../../src/core/tokens.js';

const SECRET = 'unit-test-secret-key-0123456789abcdefghijkl';
const OTHER_SECRET = 'another-secret-key-0123456789abcdefghijklm';
const SUBSCRIBER = '6f1c2a8e-4b7d-4f3a-9c21-0d5e8b7a6c43';
const ISSUED = new Date('2026-11-25T12:00:00.000Z');
const DAY = 86_400_000;
const purposes: LinkPurpose[] = ['unsubscribe', 'preferences'];
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const afterIssue = (ms: number) => new Date(ISSUED.getTime() + ms);

describe.each(purposes)('%s link tokens', (purpose) => {
  const token = signLinkToken(SECRET, purpose, SUBSCRIBER, ISSUED);

  it('round-trip to the subscriber id and issue time', () => {
    expect(verifyLinkToken(SECRET, purpose, token, afterIssue(1000))).toEqual({
      ok: true,
      subscriberId: SUBSCRIBER,
      issuedAt: ISSUED,
    });
  });

  it('round-trip for any subscriber UUID and issue time (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (id, seconds) => {
        const issuedAt = new Date(seconds * 1000);
        const check = verifyLinkToken(SECRET, purpose, signLinkToken(SECRET, purpose, id, issuedAt), issuedAt);
        expect(check).toEqual({ ok: true, subscriberId: id, issuedAt });
      }),
    );
  });

  it('are URL-safe and short enough for a link', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThanOrEqual(52);
  });

  // Guards against a malleability bug: the last base64url character carries 2 unused bits, and
  // Buffer.from(…, 'base64url') ignored them, so two distinct strings verified as the same token.
  it('reject any single flipped character, at every position (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...BASE64URL), (position, replacement) => {
        fc.pre(token[position] !== replacement);
        const flipped = token.slice(0, position) + replacement + token.slice(position + 1);
        expect(verifyLinkToken(SECRET, purpose, flipped, afterIssue(1000))).toEqual({ ok: false, reason: 'invalid' });
      }),
      { numRuns: 2000 },
    );
  });

  it('reject every single-character change of the last character', () => {
    const last = token.length - 1;
    for (const replacement of BASE64URL) {
      if (replacement === token[last]) continue;
      const flipped = token.slice(0, last) + replacement;
      expect(
        verifyLinkToken(SECRET, purpose, flipped, afterIssue(1000)).ok,
        `last char ${token[last]} → ${replacement}`,
      ).toBe(false);
    }
  });

  it('reject truncated, extended and non-base64url tokens', () => {
    for (const bad of [
      token.slice(0, -1),
      `${token}A`,
      `${token}==`,
      token.replace(/.$/, '.'),
      '',
      'x'.repeat(51),
      `${token.slice(0, 20)}/${token.slice(21)}`,
    ]) {
      expect(verifyLinkToken(SECRET, purpose, bad, afterIssue(1000)).ok).toBe(false);
    }
  });

  it('reject the token under another purpose', () => {
    const other = purposes.find((p) => p !== purpose)!;
    expect(verifyLinkToken(SECRET, other, token, afterIssue(1000))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('reject the token under another secret', () => {
    expect(verifyLinkToken(OTHER_SECRET, purpose, token, afterIssue(1000))).toEqual({ ok: false, reason: 'invalid' });
    expect(
      verifyLinkToken(SECRET, purpose, signLinkToken(OTHER_SECRET, purpose, SUBSCRIBER, ISSUED), afterIssue(1000)).ok,
    ).toBe(false);
  });

  it('still work after 60 days (RFC 8058 links in old mail keep working)', () => {
    expect(verifyLinkToken(SECRET, purpose, token, afterIssue(60 * DAY)).ok).toBe(true);
  });

  it('work up to the end of their TTL and expire right after it', () => {
    const ttl = linkTokenTtlDays[purpose] * DAY;
    expect(ttl).toBeGreaterThanOrEqual(60 * DAY);
    expect(verifyLinkToken(SECRET, purpose, token, afterIssue(ttl)).ok).toBe(true);
    expect(verifyLinkToken(SECRET, purpose, token, afterIssue(ttl + 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('carry only version, purpose, the random UUID, the issue time and a MAC — no email, no sequential id', () => {
    const raw = Buffer.from(token, 'base64url');
    expect(raw).toHaveLength(1 + 1 + 16 + 4 + 16);
    expect(raw.subarray(2, 18).toString('hex')).toBe(SUBSCRIBER.replace(/-/g, ''));
    expect(raw.readUInt32BE(18)).toBe(ISSUED.getTime() / 1000);
    // Two subscribers whose ids differ get unrelated tokens: nothing in them counts up.
    const next = signLinkToken(SECRET, purpose, '6f1c2a8e-4b7d-4f3a-9c21-0d5e8b7a6c44', ISSUED);
    expect(Buffer.from(next, 'base64url').subarray(22).equals(raw.subarray(22))).toBe(false);
    expect(token).not.toMatch(/@|%40/);
  });
});

describe('confirmation tokens', () => {
  const id = '0b7f6c1e-2d3a-4e5f-8a9b-1c2d3e4f5a6b';

  it('derive deterministically from the row id and the secret', () => {
    expect(confirmTokenFor(SECRET, id)).toBe(confirmTokenFor(SECRET, id));
  });

  it('are 32 bytes, base64url', () => {
    const token = confirmTokenFor(SECRET, id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('differ for every row id (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        fc.pre(a !== b);
        expect(confirmTokenFor(SECRET, a)).not.toBe(confirmTokenFor(SECRET, b));
      }),
    );
  });

  it('differ for another secret, so the database alone never yields a usable link', () => {
    expect(confirmTokenFor(OTHER_SECRET, id)).not.toBe(confirmTokenFor(SECRET, id));
    expect(confirmTokenFor(SECRET, id)).not.toContain(id.replace(/-/g, ''));
  });

  it('are stored only as a sha256 hash that is not the token', () => {
    const token = confirmTokenFor(SECRET, id);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token);
    expect(hashToken(token)).toBe(hashToken(token));
  });
});

describe('form stamps', () => {
  const at = new Date('2026-11-25T12:00:00.123Z');

  it('round-trip to the time the form was rendered, to the millisecond', () => {
    expect(readFormStamp(SECRET, signFormStamp(SECRET, at))).toEqual(at);
  });

  it('cannot be forged to look older (changed time, same signature)', () => {
    const [, sig] = signFormStamp(SECRET, at).split('.');
    expect(readFormStamp(SECRET, `${at.getTime() - 60_000}.${sig}`)).toBeUndefined();
  });

  it('reject another secret', () => {
    expect(readFormStamp(OTHER_SECRET, signFormStamp(SECRET, at))).toBeUndefined();
  });

  it('reject any single flipped character (property)', () => {
    const stamp = signFormStamp(SECRET, at);
    fc.assert(
      fc.property(fc.nat({ max: stamp.length - 1 }), fc.constantFrom(...`${BASE64URL}.`), (position, replacement) => {
        fc.pre(stamp[position] !== replacement);
        const flipped = stamp.slice(0, position) + replacement + stamp.slice(position + 1);
        expect(readFormStamp(SECRET, flipped)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it.each(['', '.', 'abc', '123', '123.', '.sig', 'abc.def', `${'9'.repeat(16)}.AAAAAAAAAAAAAAAA`])(
    'reject garbage %j without throwing',
    (stamp) => {
      expect(readFormStamp(SECRET, stamp)).toBeUndefined();
    },
  );

  it('never throw on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(readFormStamp(SECRET, s)).toBeUndefined();
      }),
    );
  });
});
