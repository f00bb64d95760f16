import { describe, expect, it } from 'vitest';
import { type BatchOutcome, MailError } from '../../src/mail/mailer.js';
import {
  callApi,
  chunk,
  failure,
  redact,
  retryAfterMs,
  sendInChunks,
  statusFailure,
} from '../../src/mail/providers/http.js';
import { sampleMessage } from '../stand-ins/support.js';

const call = { provider: 'example', secrets: ['sk_live_abcdef123456'], timeoutMs: 1000 };

describe('provider HTTP helpers', () => {
  it('reads Retry-After as delay-seconds or as an HTTP-date, and ignores what is neither', () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Nov 2026 10:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Nov 2026 09:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 12) }), now)).toBe(12_000);
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it('classifies statuses: 429 rate limited, auth and endpoint faults unavailable, 5xx transient, other 4xx permanent', () => {
    const of = (status: number, headers: Record<string, string> = {}) =>
      statusFailure(call, new Response(null, { status, headers }), 'detail');
    expect(of(429, { 'retry-after': '3' })).toMatchObject({ rateLimited: true, retryAfterMs: 3000, permanent: false });
    for (const status of [401, 403, 404, 405, 502, 503])
      expect(of(status)).toMatchObject({ relayUnavailable: true, permanent: false, isHardBounce: false });
    for (const status of [408, 500, 504])
      expect(of(status)).toMatchObject({ relayUnavailable: false, permanent: false });
    for (const status of [400, 413, 422]) expect(of(status)).toMatchObject({ permanent: true, responseCode: status });
  });

  it('never lets a secret into an error, plain or URL-encoded, and keeps it to one line', () => {
    const secret = 'key/with+chars=';
    expect(redact(`a ${secret} b ${encodeURIComponent(secret)}`, [secret])).toBe('a [redacted] b [redacted]');
    const error = failure(call, 'server said: bad token sk_live_abcdef123456\nsecond line', false);
    expect(error.message).toBe('example: server said: bad token [redacted] second line');
    const status = statusFailure(
      call,
      new Response(null, { status: 401 }),
      'Authorization: Bearer sk_live_abcdef123456 refused',
    );
    expect(status.message).not.toContain('sk_live_abcdef123456');
  });

  it('reports a refused connection as unreachable and a timeout as possibly sent', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const e1 = await callApi(new Request('http://127.0.0.1:9/'), {
      ...call,
      fetch: () => Promise.reject(refused),
    }).catch((e: unknown) => e);
    expect(e1).toMatchObject({ relayUnavailable: true, permanent: false });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const e2 = await callApi(new Request('http://127.0.0.1:9/'), {
      ...call,
      fetch: () => Promise.reject(timeout),
    }).catch((e: unknown) => e);
    expect(e2).toMatchObject({
      relayUnavailable: false,
      permanent: false,
      message: 'example: request failed: no response within 1000 ms',
    });
  });

  it('splits by count and by size, keeping an oversized item alone', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    // base 2 + (size + 1) per item: 2 + 4 + 4 = 10 fits, a third would not.
    expect(chunk([3, 3, 3, 20, 3], 10, 10, (n) => n)).toEqual([[3, 3], [3], [20], [3]]);
  });

  it('puts chunk outcomes back in order, settles a refused chunk, and stops at a chunk that failed as a whole', async () => {
    const messages = [0, 1, 2, 3].map((n) => sampleMessage(n));
    const ok = (i: number): BatchOutcome => ({ ok: true, result: { messageId: messages[i]!.messageId } });
    const order = await sendInChunks(
      messages,
      [
        [3, 1],
        [0, 2],
      ],
      async (part) => part.map((m) => ok(messages.indexOf(m))),
    );
    expect(order.map((o) => (o.ok ? o.result.messageId : ''))).toEqual(messages.map((m) => m.messageId));

    const limited = new MailError('slow down', false, { rateLimited: true });
    let calls = 0;
    const partial = await sendInChunks(messages, [[0, 1], [2], [3]], async (part) => {
      if (++calls === 2) throw limited;
      return part.map((m) => ok(messages.indexOf(m)));
    });
    expect(calls).toBe(2);
    expect(partial.map((o) => o.ok)).toEqual([true, true, false, false]);
    await expect(sendInChunks(messages, [[0], [1]], () => Promise.reject(limited))).rejects.toBe(limited);

    // A permanent verdict on one request's content settles its messages; the next request still goes.
    const refused = new MailError('not like this', true);
    const settled = await sendInChunks(
      messages,
      [
        [0, 1],
        [2, 3],
      ],
      async (part) => {
        if (part[0] === messages[0]) throw refused;
        return part.map((m) => ok(messages.indexOf(m)));
      },
    );
    expect(settled.map((o) => (o.ok ? 'ok' : o.error.message))).toEqual(['not like this', 'not like this', 'ok', 'ok']);
  });
});
