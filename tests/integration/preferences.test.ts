import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpDatabase } from '../support/dump.js';
import { activeSubscriber, lastMailTo, linkIn, pathOf, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/** The dump lines that mention `needle`, case-insensitively: an empty list is what erasure promises. */
const linesContaining = (dump: string, needle: string) =>
  dump.split('\n').filter((line) => line.toLowerCase().includes(needle.toLowerCase()));

const put = (h: Harness, token: string, body: string, contentType = 'application/json') =>
  h.request(`/v1/preferences/${token}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': contentType, accept: 'application/json' },
  });

const erase = (h: Harness, token: string, body: unknown) =>
  h.request(`/v1/preferences/${token}/erase`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  });

describe.each(databaseKinds)('preferences API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const topicsChanged = (id: string) =>
    h.query<{ topics: string[]; source: string }>(
      "select topics, source from consent_events where subscriber_id = $1 and kind = 'topics_changed' order by seq",
      [id],
    );
  const subscriptionsOf = (id: string) =>
    h.query<{ topic: string; subscribed: boolean }>(
      'select topic, subscribed from subscriptions where subscriber_id = $1 order by topic',
      [id],
    );

  it('GET returns email, name, status and every topic with its subscribed flag', async () => {
    const sub = await activeSubscriber(h, { name: 'Ada Lovelace', topics: ['release'] });
    const res = await h.request(`/v1/preferences/${sub.preferencesToken}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ email: sub.email, name: 'Ada Lovelace', status: 'active' });
    expect(body.topics).toEqual([
      expect.objectContaining({ slug: 'release', name: expect.any(String), subscribed: true }),
      expect.objectContaining({ slug: 'updates', name: expect.any(String), subscribed: false }),
    ]);
  });

  it('PUT topics turns the others off and writes one topics_changed event; an unchanged PUT writes none', async () => {
    const sub = await activeSubscriber(h, { topics: ['release', 'updates'] });
    const res = await put(h, sub.preferencesToken, JSON.stringify({ topics: ['release'] }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.topics.map((t: { slug: string; subscribed: boolean }) => [t.slug, t.subscribed])).toEqual([
      ['release', true],
      ['updates', false],
    ]);
    expect(await subscriptionsOf(sub.id)).toEqual([
      { topic: 'release', subscribed: true },
      { topic: 'updates', subscribed: false },
    ]);
    expect(await topicsChanged(sub.id)).toEqual([{ topics: ['release'], source: 'preferences' }]);

    h.clock.advance(60_000);
    expect((await put(h, sub.preferencesToken, JSON.stringify({ topics: ['release'] }))).status).toBe(200);
    expect(await topicsChanged(sub.id)).toHaveLength(1);
    // A name-only update is not a consent change either.
    expect((await put(h, sub.preferencesToken, JSON.stringify({ name: 'Someone' }))).status).toBe(200);
    expect(await topicsChanged(sub.id)).toHaveLength(1);
  });

  it('PUT name changes the name; an empty name clears it', async () => {
    const sub = await activeSubscriber(h, { name: 'Old Name' });
    const res = await put(h, sub.preferencesToken, JSON.stringify({ name: '  New Name ' }));
    expect(res.status).toBe(200);
    expect((await res.json()).name).toBe('New Name');
    const [row] = await h.query<{ name: string | null }>('select name from subscribers where id = $1', [sub.id]);
    expect(row!.name).toBe('New Name');
    expect((await (await put(h, sub.preferencesToken, JSON.stringify({ name: '' }))).json()).name).toBeNull();
  });

  it('PUT with an unknown topic answers 422 unknown_topic and changes nothing', async () => {
    const sub = await activeSubscriber(h);
    const before = await subscriptionsOf(sub.id);
    const res = await put(h, sub.preferencesToken, JSON.stringify({ topics: ['release', 'gossip'] }));
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'unknown_topic', requestId: expect.any(String) });
    expect(body.error.fields).toEqual([expect.objectContaining({ path: 'topics' })]);
    expect(await subscriptionsOf(sub.id)).toEqual(before);
    expect(await topicsChanged(sub.id)).toEqual([]);
  });

  it('a PUT rejected for an unknown topic does not unsubscribe either, even with unsubscribe_all', async () => {
    // Guards against updatePreferences committing unsubscribe_all before validating topics (a 422 with side effects).
    const sub = await activeSubscriber(h);
    const res = await put(h, sub.preferencesToken, JSON.stringify({ unsubscribe_all: true, topics: ['gossip'] }));
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('unknown_topic');
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('active');
    const kinds = await h.query<{ kind: string }>(
      'select kind from consent_events where subscriber_id = $1 order by seq',
      [sub.id],
    );
    expect(kinds.map((k) => k.kind)).toEqual(['requested', 'confirmed']);
  });

  it('PUT with unknown keys answers 422 (strict schema) and changes nothing', async () => {
    const sub = await activeSubscriber(h, { name: 'Kept' });
    const res = await put(
      h,
      sub.preferencesToken,
      JSON.stringify({ name: 'Changed', status: 'active', email: 'x@example.com' }),
    );
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('validation_failed');
    const [row] = await h.query<{ name: string; email: string }>('select name, email from subscribers where id = $1', [
      sub.id,
    ]);
    expect(row).toEqual({ name: 'Kept', email: sub.email });
  });

  it('PUT with a wrong content type answers 415', async () => {
    const sub = await activeSubscriber(h);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await put(
        h,
        sub.preferencesToken,
        type === 'text/plain' ? '{"topics":["release"]}' : 'topics=release',
        type,
      );
      expect(res.status).toBe(415);
      expect((await res.json()).error.code).toBe('unsupported_media_type');
    }
    expect(await topicsChanged(sub.id)).toEqual([]);
  });

  it('PUT with malformed JSON answers 400 invalid_json', async () => {
    const sub = await activeSubscriber(h);
    const res = await put(h, sub.preferencesToken, '{"topics": ["release"');
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'invalid_json', requestId: expect.any(String) });
    expect(JSON.stringify(body)).not.toMatch(/SyntaxError|at JSON\.parse|\.ts:\d+/);
  });

  it('unsubscribe_all unsubscribes, with a ledger event and a suppression', async () => {
    const sub = await activeSubscriber(h);
    const res = await put(h, sub.preferencesToken, JSON.stringify({ unsubscribe_all: true }));
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('unsubscribed');
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('unsubscribed');
    const events = await h.query<{ kind: string; source: string }>(
      'select kind, source from consent_events where subscriber_id = $1 order by seq',
      [sub.id],
    );
    expect(events.at(-1)).toEqual({ kind: 'unsubscribed', source: 'preferences' });
    expect(
      await h.query(
        "select 1 from suppressions s join subscribers u on u.email_hash = s.email_hash where u.id = $1 and s.reason = 'unsubscribed'",
        [sub.id],
      ),
    ).toHaveLength(1);
  });

  it('export is a JSON attachment with profile, subscriptions, consent history and deliveries', async () => {
    const sub = await activeSubscriber(h, { name: 'Export Me', topics: ['updates'], source: 'book-site' });
    await h.seal(); // so the events carry their links
    const res = await h.request(`/v1/preferences/${sub.preferencesToken}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;\s*filename="[^"]+\.json"$/);
    const data = await res.json();
    expect(data.profile).toMatchObject({
      id: sub.id,
      email: sub.email,
      name: 'Export Me',
      status: 'active',
      source: 'book-site',
    });
    expect(data.subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'updates', subscribed: true }),
        expect.objectContaining({ topic: 'release', subscribed: false }),
      ]),
    );
    expect(data.consentHistory.map((e: { kind: string }) => e.kind)).toEqual(['requested', 'confirmed']);
    expect(data.consentHistory[0]).toMatchObject({
      topics: ['updates'],
      consentTextVersion: 1,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(data.deliveries.map((d: { kind: string; status: string }) => [d.kind, d.status])).toEqual([
      ['confirmation', 'sent'],
      ['welcome', 'sent'],
    ]);
  });

  it('erase without {"confirm":true} answers 422 and erases nothing', async () => {
    const sub = await activeSubscriber(h, { name: 'Not Yet' });
    for (const body of [{}, { confirm: false }, { confirm: 'true' }]) {
      const res = await erase(h, sub.preferencesToken, body);
      expect(res.status).toBe(422);
      expect((await res.json()).error.requestId).toBeTruthy();
    }
    const [row] = await h.query<{ status: string; email: string; name: string }>(
      'select status, email, name from subscribers where id = $1',
      [sub.id],
    );
    expect(row).toEqual({ status: 'active', email: sub.email, name: 'Not Yet' });
    expect((await h.request(`/v1/preferences/${sub.preferencesToken}`)).status).toBe(200);
  });

  it('erase removes the address and name from the whole database, keeps ledger and suppression, and a later signup starts over', async () => {
    const name = `Philippa Quernsbeck ${Date.now().toString(36)}`;
    const email = uniqueEmail('Erase.Me');
    // Guards against erasure leaving the address in deliveries.last_error (SMTP replies echo the recipient).
    // A relay that echoes the recipient back in its rejection, as many do: the failed row keeps that reply.
    h.smtp.failNext(554, `5.7.1 <${email}>: Recipient address rejected: policy`);
    expect((await postSignup(h, { email, name, source: 'book-site' })).status).toBe(202);
    await h.deliver();
    const [failed] = await h.query<{ status: string; last_error: string }>(
      'select d.status, d.last_error from deliveries d join subscribers s on s.id = d.subscriber_id where lower(s.email) = lower($1)',
      [email],
    );
    expect(failed!.status).toBe('failed');
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);

    // Then the real thing: confirm, change topics, export.
    const sub = await activeSubscriber(h, { email, name, source: 'book-site' });
    expect((await put(h, sub.preferencesToken, JSON.stringify({ topics: ['release'] }))).status).toBe(200);
    expect((await h.request(`/v1/preferences/${sub.preferencesToken}/export`)).status).toBe(200);
    const [hashRow] = await h.query<{ email_hash: string }>('select email_hash from subscribers where id = $1', [
      sub.id,
    ]);
    const emailHash = hashRow!.email_hash;
    const ledgerBefore = await h.query<{ n: number }>(
      'select count(*)::int as n from consent_events where subscriber_id = $1',
      [sub.id],
    );
    expect(ledgerBefore[0]!.n).toBeGreaterThanOrEqual(4);

    const before = (await dumpDatabase(h)).toLowerCase();
    expect(before).toContain(email.toLowerCase()); // the search finds it while it is there
    expect(before).toContain(name.toLowerCase());

    h.clock.advance(60_000);
    const res = await erase(h, sub.preferencesToken, { confirm: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'erased' });

    const gone = await h.request(`/v1/preferences/${sub.preferencesToken}`);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe('invalid_token');
    expect((await h.request(`/v1/preferences/${sub.preferencesToken}/export`)).status).toBe(404);

    const dump = (await dumpDatabase(h)).toLowerCase();
    for (const needle of [email, email.split('@')[0]!, name]) expect(linesContaining(dump, needle)).toEqual([]);

    // What stays: the pseudonymous ledger (plus the erased event) and the suppression hash.
    const ledgerAfter = await h.query<{ n: number }>(
      'select count(*)::int as n from consent_events where subscriber_id = $1',
      [sub.id],
    );
    expect(ledgerAfter[0]!.n).toBe(ledgerBefore[0]!.n + 1);
    const [last] = await h.query<{ kind: string; email_hash: string }>(
      'select kind, email_hash from consent_events where subscriber_id = $1 order by seq desc limit 1',
      [sub.id],
    );
    expect(last).toEqual({ kind: 'erased', email_hash: emailHash });
    const suppressions = await h.query<{ reason: string }>('select reason from suppressions where email_hash = $1', [
      emailHash,
    ]);
    expect(suppressions.map((s) => s.reason)).toEqual(['erased']);
    const [erasedRow] = await h.query<{ status: string; email: string | null; name: string | null }>(
      'select status, email, name from subscribers where id = $1',
      [sub.id],
    );
    expect(erasedRow).toEqual({ status: 'erased', email: null, name: null });

    // The same address later: a new, pending subscriber who must confirm afresh.
    h.clock.advance(3600_000);
    const mails = h.smtp.to(email).length;
    expect((await postSignup(h, { email })).status).toBe(202);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(mails + 1);
    expect(lastMailTo(h, email).parsed.subject).toMatch(/Confirm your subscription/);
    const fresh = await h.query<{ id: string; status: string }>(
      'select id, status from subscribers where lower(email) = lower($1)',
      [email],
    );
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.id).not.toBe(sub.id);
    expect(fresh[0]!.status).toBe('pending');
    // …and the old link belongs to the erased person, not to the new one.
    expect((await h.request(`/v1/preferences/${sub.preferencesToken}`)).status).toBe(404);
    const confirmUrl = linkIn(lastMailTo(h, email).parsed.text ?? '', '/confirm/');
    expect(
      await (await h.request(pathOf(confirmUrl), { method: 'POST', headers: { accept: 'application/json' } })).json(),
    ).toEqual({ status: 'confirmed' });
  });

  it('forged or wrong-purpose tokens answer 404 on every preferences endpoint', async () => {
    const sub = await activeSubscriber(h);
    const unsubscribeToken = sub.unsubscribeUrl.slice(sub.unsubscribeUrl.lastIndexOf('/') + 1);
    const forged =
      sub.preferencesToken.slice(0, -2) +
      (sub.preferencesToken.at(-2) === 'A' ? 'B' : 'A') +
      sub.preferencesToken.at(-1);
    for (const token of [unsubscribeToken, forged, 'nope']) {
      expect((await h.request(`/v1/preferences/${token}`)).status).toBe(404);
      expect((await h.request(`/v1/preferences/${token}/export`)).status).toBe(404);
      expect((await put(h, token, JSON.stringify({ topics: [] }))).status).toBe(404);
      expect((await erase(h, token, { confirm: true })).status).toBe(404);
    }
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('active');
  });
});
