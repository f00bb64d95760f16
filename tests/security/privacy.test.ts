import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsentChain } from '../../src/core/consent.js';
import { ipHashFor } from '../../src/core/identity.js';
import { admin, draftBroadcast } from '../support/broadcasts.js';
import { activeSubscriber, lastMailTo, linkIn, pathOf } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';
import { dumpDatabase, spellingsOf, traces, WEBHOOK_SECRET, webhookSignature } from './support.js';

/**
 * Erasure leaves no trace of the address: not in any table, in any spelling. Each subscriber here first
 * collects everything quire can hold about a person — a relay rejection echoing the address, a soft
 * bounce whose diagnostic names it, a confirmation, a welcome, a broadcast, a topic change, an export, a
 * "manage" link — and is then erased by one of the three ways there are.
 */
describe.each(databaseKinds)('privacy after erasure on %s', (kind) => {
  let h: Harness;
  const people: { email: string; typed: string; name: string; via: string }[] = [];

  beforeAll(async () => {
    h = await createHarness(kind, { WEBHOOK_SECRET });
  });
  afterAll(() => h?.close());

  const hook = (event: unknown) => {
    const body = JSON.stringify(event);
    return h.request('/webhooks/bounces', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-quire-signature': webhookSignature(h, body) },
    });
  };

  async function fullHistory(via: string) {
    const stamp = `${process.pid}${Date.now().toString(36)}${people.length}`;
    // Mixed case and a sub-address tag: every normalised form must go too.
    const typed = `Erin.Privacy.${via}.${stamp}+News@Example.COM`;
    const email = typed.replace(/@.*$/, '@example.com');
    const name = `Philippa Quernsbeck-${via} ${stamp}`;

    // A relay that echoes the recipient in its rejection, as many do: the failed row keeps the reply.
    h.smtp.failNext(554, `5.7.1 <${email}>: Recipient address rejected: policy`);
    const first = await h.request('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: typed, name, consent: true, source: 'book-site' }),
    });
    expect(first.status).toBe(202);
    await h.deliver();
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);

    const sub = await activeSubscriber(h, { email, name, source: 'book-site' });
    // A soft bounce whose diagnostic names the address (kept in bounce_events).
    expect((await hook({ type: 'soft', email, diagnostic: `452 4.2.2 <${email}>: mailbox full` })).status).toBe(200);
    const put = await h.request(`/v1/preferences/${sub.preferencesToken}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topics: ['release', 'updates'], name }),
    });
    expect(put.status).toBe(200);
    expect((await h.request(`/v1/preferences/${sub.preferencesToken}/export`)).status).toBe(200);
    const manage = await h.request('/manage', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.config.PUBLIC_URL },
      body: new URLSearchParams({ email: typed }).toString(),
    });
    expect(manage.status).toBe(200);
    await h.deliver();
    people.push({ email, typed, name, via });
    return sub;
  }

  it('holds the address while the person is on the list (the search finds what is there)', async () => {
    await fullHistory('probe');
    const draft = await draftBroadcast(h, { topic: 'updates' });
    expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
    await h.deliver();
    const dump = await dumpDatabase(h);
    const probe = people[0]!;
    expect(traces(dump, probe.email).length).toBeGreaterThan(0);
    expect(traces(dump, probe.name).length).toBeGreaterThan(0);
    // The search itself finds an encoded address inside a longer encoded string, at any alignment.
    for (const prefix of ['', 'a', 'ab']) {
      expect(traces(`x ${Buffer.from(`${prefix}<${probe.email}>`).toString('base64')} y`, probe.email)).not.toEqual([]);
    }
    expect(traces(encodeURIComponent(`to=${probe.email.toUpperCase()}`), probe.email)).not.toEqual([]);
    expect(spellingsOf(probe.email).length).toBeGreaterThanOrEqual(10);
  });

  it('erasure by the API, the preference page and the admin leaves no spelling of the address or name anywhere', async () => {
    // Regression: bounce_events.diagnostic kept a relay's text echoing the address after erasure.
    const api = await fullHistory('api');
    const page = await fullHistory('page');
    const byAdmin = await fullHistory('admin');
    // One broadcast to all of them, so deliveries hold their addresses too.
    const draft = await draftBroadcast(h, { topic: 'updates' });
    expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
    await h.deliver();
    h.clock.advance(60_000);

    const erased = await h.request(`/v1/preferences/${api.preferencesToken}/erase`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ confirm: true }),
    });
    expect(await erased.json()).toEqual({ status: 'erased' });
    const viaPage = await h.request(pathOf(page.preferencesUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: h.config.PUBLIC_URL,
        accept: 'text/html',
      },
      body: 'intent=erase&confirm=true',
    });
    expect(viaPage.status).toBe(200);
    expect((await admin(h, `/admin/v1/subscribers/${byAdmin.id}`, { method: 'DELETE' })).status).toBe(200);

    const dump = await dumpDatabase(h);
    for (const person of people.filter((p) => p.via !== 'probe')) {
      const local = person.email.slice(0, person.email.indexOf('@'));
      expect(traces(dump, person.email), `${person.via}: address`).toEqual([]);
      expect(traces(dump, person.typed), `${person.via}: address as typed`).toEqual([]);
      expect(traces(dump, local), `${person.via}: local part`).toEqual([]);
      expect(traces(dump, person.name), `${person.via}: name`).toEqual([]);
    }
    // The one not erased is still all there: the dump is real, not empty.
    expect(traces(dump, people[0]!.email).length).toBeGreaterThan(0);
    const statuses = await h.query<{ status: string }>('select status from subscribers where id in ($1, $2, $3)', [
      api.id,
      page.id,
      byAdmin.id,
    ]);
    expect(statuses.map((s) => s.status)).toEqual(['erased', 'erased', 'erased']);
  });

  it('erasure leaves no source text, user agent or IP of the person in the ledger, nor their address in a test send, and the ledger still verifies', async () => {
    const stamp = `${process.pid}${Date.now().toString(36)}`;
    const email = `quentin.trace.${stamp}@example.com`;
    const name = `Quentin Tracewell-${stamp}`;
    const source = `spring-reading-list-${stamp}`;
    const userAgent = `TraceBrowser/${stamp} (X11; Linux x86_64)`;
    const ip = '198.51.100.77';
    const as = { ip, headers: { 'user-agent': userAgent } };
    const json = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': userAgent };

    const signup = await h.request('/v1/subscriptions', {
      method: 'POST',
      ip,
      headers: json,
      body: JSON.stringify({ email, name, consent: true, source }),
    });
    expect(signup.status).toBe(202);
    await h.deliver();
    const confirm = linkIn(lastMailTo(h, email).parsed.text ?? '', '/confirm/');
    expect((await h.request(pathOf(confirm), { method: 'POST', ...as })).status).toBe(200);
    await h.deliver();
    const token = linkIn(lastMailTo(h, email).parsed.text ?? '', '/preferences/')
      .split('/')
      .pop()!;
    const put = await h.request(`/v1/preferences/${token}`, {
      method: 'PUT',
      ip,
      headers: json,
      body: JSON.stringify({ topics: ['updates'] }),
    });
    expect(put.status).toBe(200);
    // The author sends a test of a broadcast to this reader's address (it belongs to no subscriber).
    const draft = await draftBroadcast(h, { topic: 'updates' });
    const test = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: [email] }),
    });
    expect(test.status).toBe(202);
    await h.deliver();
    await h.seal();
    const ipHash = ipHashFor(TEST_SECRET, ip)!;
    const before = await dumpDatabase(h);
    for (const value of [source, userAgent, ipHash]) expect(traces(before, value).length, value).toBeGreaterThan(0);

    const erased = await h.request(`/v1/preferences/${token}/erase`, {
      method: 'POST',
      ip,
      headers: json,
      body: JSON.stringify({ confirm: true }),
    });
    expect(await erased.json()).toEqual({ status: 'erased' });
    await h.seal();

    const dump = await dumpDatabase(h);
    for (const [what, value] of Object.entries({ email, name, source, userAgent, ip, ipHash })) {
      expect(traces(dump, value), what).toEqual([]);
    }
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('the log holds no spelling of any address or name these tests used', () => {
    const log = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(20);
    for (const person of people) {
      expect(traces(log, person.email)).toEqual([]);
      expect(traces(log, person.name)).toEqual([]);
    }
  });
});
