import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEmail, mailboxKey } from '../../src/core/email-address.js';
import { activeSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { checkAnswer } from './support.js';

/**
 * Subscription bombing: someone signs a victim up again and again (from many IPs, in many spellings of
 * the address) to flood their inbox with confirmation mail, or one machine signs up thousands of
 * addresses. With the default limits — RATE_LIMIT_IP=20 signups per IP per 10 minutes and
 * RATE_LIMIT_ADDRESS=3 attempts per address per day — counted at the SMTP server after delivery.
 */

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const LIMITS = { RATE_LIMIT_IP: '20', RATE_LIMIT_ADDRESS: '3' };

/** Run `n` requests, `width` at a time (concurrency is part of the attack). */
async function barrage(n: number, width: number, send: (i: number) => Promise<Response>): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < n; i += width)
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => send(i + j)))));
  return out;
}

/** Every spelling of one mailbox that quire must count as that mailbox. */
function spellings(local: string): string[] {
  return [
    `${local}@example.com`,
    `${local.toUpperCase()}@EXAMPLE.COM`,
    ` ${local}@Example.com `,
    `${local}@ｅｘａｍｐｌｅ.com`,
    `${local}@example。com`,
    `${local}+1@example.com`,
    `${local}+newsletter@example.com`,
    `${local.toUpperCase()}+X@example.com`,
  ];
}

/** Mail that reached the victim's mailbox, whatever spelling it was addressed to. */
const mailsTo = (h: Harness, mailbox: string) =>
  h.smtp.messages.filter((m) =>
    m.envelope.to.some((to) => {
      const c = checkEmail(to);
      return c.ok && mailboxKey(c.key) === mailbox;
    }),
  );

/** Move the clock to 01:00 UTC of the next day: every test gets whole, fresh daily windows. */
function nextMorning(h: Harness) {
  const now = h.clock.now().getTime();
  h.clock.advance(Math.floor(now / 86_400_000) * 86_400_000 + 86_400_000 + 3_600_000 - now);
}

async function statusesOf(responses: Response[]) {
  const statuses: Record<number, number> = {};
  for (const res of responses) {
    const { status } = await checkAnswer(res);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 429) {
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(86_400);
    }
  }
  return statuses;
}

describe.each(databaseKinds)('subscription bombing on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, LIMITS);
  });
  afterAll(() => h?.close());

  it('1,000 signups for one victim from 1,000 IPs, in every spelling, send at most RATE_LIMIT_ADDRESS confirmation mails', async () => {
    const local = `victim.${process.pid}.${Date.now().toString(36)}`;
    const mailbox = `${local}@example.com`;
    const variants = spellings(local);
    nextMorning(h);
    // Spread over 11 hours (inside one day's window), so the 10-minute cooldown passes again and again:
    // the per-address limit, not the cooldown, is what has to hold.
    const responses = await barrage(1000, 10, async (i) => {
      if (i % 10 === 0) h.clock.advance(400_000);
      return h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ email: variants[i % variants.length], consent: true }),
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      });
    });
    const statuses = await statusesOf(responses);
    expect(statuses[202]).toBe(h.config.RATE_LIMIT_ADDRESS);
    expect(statuses[429]).toBe(1000 - h.config.RATE_LIMIT_ADDRESS);
    await h.deliver();
    const mails = mailsTo(h, mailbox);
    expect(mails.length).toBeGreaterThan(0);
    expect(mails.length).toBeLessThanOrEqual(h.config.RATE_LIMIT_ADDRESS);
    for (const m of mails) expect(m.parsed.subject).toMatch(/^Confirm your subscription/);
    // The next day's budget is the same size again.
    h.clock.advance(86_400_000);
    const tomorrow = await barrage(20, 10, (i) =>
      h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ email: variants[i % variants.length], consent: true }),
        ip: `10.9.9.${i}`,
      }),
    );
    expect((await statusesOf(tomorrow))[202]).toBe(h.config.RATE_LIMIT_ADDRESS);
  });

  it('sub-address tags share the mailbox budget: victim+1@, victim+2@, … cannot multiply the mail', async () => {
    // Regression: the per-address limit keyed on the whole address, so each "+tag" got its own three mails.
    nextMorning(h);
    const local = `tagged.${process.pid}.${Date.now().toString(36)}`;
    const responses = await barrage(50, 10, (i) =>
      h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ email: `${local}+${i}@example.com`, consent: true }),
        ip: `10.20.${i >> 8}.${i & 255}`,
      }),
    );
    expect((await statusesOf(responses))[202]).toBe(h.config.RATE_LIMIT_ADDRESS);
    await h.deliver();
    expect(mailsTo(h, `${local}@example.com`).length).toBeLessThanOrEqual(h.config.RATE_LIMIT_ADDRESS);
  });

  it('1,000 addresses from one IP: RATE_LIMIT_IP go through per 10 minutes, the rest get 429 with Retry-After', async () => {
    nextMorning(h);
    await h.deliver();
    const ip = '198.51.100.77';
    const before = h.smtp.messages.length;
    const addresses = Array.from({ length: 1000 }, () => uniqueEmail('from-one-ip'));
    const responses = await barrage(1000, 20, (i) =>
      h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ email: addresses[i], consent: true }),
        ip,
      }),
    );
    const statuses = await statusesOf(responses);
    expect(statuses).toEqual({ 202: h.config.RATE_LIMIT_IP, 429: 1000 - h.config.RATE_LIMIT_IP });
    for (const res of responses.filter((r) => r.status === 429))
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    await h.deliver();
    expect(h.smtp.messages.length - before).toBe(h.config.RATE_LIMIT_IP);
    const subscribers = await h.query<{ n: number }>(
      "select count(*)::int as n from subscribers where email like 'from-one-ip.%'",
    );
    expect(subscribers[0]!.n).toBe(h.config.RATE_LIMIT_IP);
    // Ten minutes later the IP has a new window.
    h.clock.advance(600_000);
    const later = await h.request('/v1/subscriptions', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ email: uniqueEmail('from-one-ip'), consent: true }),
      ip,
    });
    expect(later.status).toBe(202);
  });

  it('a client cannot pick a fresh IP per request by prepending to X-Forwarded-For', async () => {
    // Regression: requestMeta took the first X-Forwarded-For entry, which the client writes itself.
    nextMorning(h);
    const responses = await barrage(60, 10, (i) =>
      h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ email: uniqueEmail('spoofed-xff'), consent: true }),
        // What our proxy forwards: the client's own header, then the address it saw.
        ip: `192.0.2.${i}, 203.0.113.${i % 3}, 198.51.100.88`,
      }),
    );
    expect((await statusesOf(responses))[202]).toBe(h.config.RATE_LIMIT_IP);
  });

  it('"manage my subscription" and "resend confirmation" bombing: at most RATE_LIMIT_ADDRESS link mails a day', async () => {
    nextMorning(h);
    const victim = await activeSubscriber(h);
    const mailbox = checkEmail(victim.email);
    if (!mailbox.ok) throw new Error('bad address');
    const before = mailsTo(h, mailbox.key).length;
    const responses = await barrage(300, 10, async (i) => {
      if (i % 10 === 0) h.clock.advance(120_000);
      return h.request(i % 2 ? '/manage' : '/resend-confirmation', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.config.PUBLIC_URL },
        body: new URLSearchParams({ email: spellings(victim.email.split('@')[0]!)[i % 8]! }).toString(),
        ip: `10.30.${i >> 8}.${i & 255}`,
      });
    });
    const statuses = await statusesOf(responses);
    expect(statuses[200]).toBe(h.config.RATE_LIMIT_ADDRESS);
    await h.deliver();
    expect(mailsTo(h, mailbox.key).length - before).toBeLessThanOrEqual(h.config.RATE_LIMIT_ADDRESS);
  });
});
