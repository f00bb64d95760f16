import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROWTH_DAYS, overview } from '../../src/core/stats.js';
import { forgetOverview, overviewFigures } from '../../src/core/stats-cache.js';
import { consoleGet, consolePost, signIn } from '../support/console.js';
import { activeSubscriber, pathOf, pendingSubscriber } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * The overview's figures against a list whose history the test wrote day by day, through the real
 * flows (signup, confirm, one-click unsubscribe, erasure), so every number below is known.
 *
 *   25 Nov: a1 (release), a2, a3 sign up and confirm; p1 signs up and does not confirm
 *   26 Nov: b1 (release), b2 sign up and confirm; p2 signs up; a3 unsubscribes
 *   27 Nov: b1 unsubscribes; a2 is erased
 */
const DAY = 86_400_000;

describe.each(databaseKinds)('console overview on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
    const unsubscribe = (url: string) =>
      h.request(pathOf(url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    await activeSubscriber(h, { topics: ['release'] });
    const a2 = await activeSubscriber(h);
    const a3 = await activeSubscriber(h);
    await pendingSubscriber(h);
    h.clock.advance(DAY);
    const b1 = await activeSubscriber(h, { topics: ['release'] });
    await activeSubscriber(h);
    await pendingSubscriber(h);
    expect((await unsubscribe(a3.unsubscribeUrl)).status).toBe(200);
    h.clock.advance(DAY);
    expect((await unsubscribe(b1.unsubscribeUrl)).status).toBe(200);
    const erased = await h.request(`/admin/v1/subscribers/${a2.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(erased.status).toBe(200);
    await h.seal();
  });
  afterAll(() => h?.close());

  it('counts people by status and by topic', async () => {
    const f = await overview(h.services.db, h.clock.now());
    expect(f.byStatus).toEqual({ active: 2, pending: 2, unsubscribed: 2, bounced: 0, complained: 0, erased: 1 });
    expect(f.total).toBe(7);
    expect(f.topics).toEqual([
      { slug: 'release', name: 'Book release', active: 2 },
      { slug: 'updates', name: expect.any(String), active: 1 },
    ]);
  });

  it('draws confirmed signups and unsubscribes per UTC day over ninety days, erasure leaving the past alone', async () => {
    const { growth } = await overview(h.services.db, h.clock.now());
    expect(growth.days).toHaveLength(GROWTH_DAYS);
    expect(growth.days[0]!.day).toBe('2026-08-30');
    expect(growth.days.at(-1)!.day).toBe('2026-11-27');
    const busy = growth.days.filter((d) => d.confirmed || d.unsubscribed);
    expect(busy).toEqual([
      { day: '2026-11-25', confirmed: 3, unsubscribed: 0 },
      { day: '2026-11-26', confirmed: 2, unsubscribed: 1 },
      { day: '2026-11-27', confirmed: 0, unsubscribed: 1 },
    ]);
    expect(growth).toMatchObject({ confirmed: 5, unsubscribed: 2 });
  });

  it('gives the share of signup requests that were confirmed', async () => {
    expect((await overview(h.services.db, h.clock.now())).confirmation).toEqual({ asked: 7, confirmed: 5 });
  });

  it('moves the window with the days: ninety days on, the first day has left it', async () => {
    const later = new Date(h.clock.now().getTime() + 88 * DAY);
    const f = await overview(h.services.db, later);
    expect(f.growth.days[0]!.day).toBe('2026-11-26');
    expect(f.growth).toMatchObject({ confirmed: 2, unsubscribed: 2 });
    expect(f.confirmation).toEqual({ asked: 3, confirmed: 2 });
  });

  it('states the ledger: every event sealed, none pending, the newest links intact', async () => {
    const { ledger } = await overview(h.services.db, h.clock.now());
    // 7 requested, 5 confirmed, 2 unsubscribed, 1 erased.
    expect(ledger).toMatchObject({ sealed: 15, pending: 0, pendingCapped: false, oldestPendingAt: null });
    expect(ledger.tail).toEqual({ checked: 15, ok: true });
  });

  it('shows the same figures on the page, the chart, its table and the checklist', async () => {
    const s = await signIn(h);
    const res = await consoleGet(h, s, '/admin');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<li data-status="active"><a class="n" href="\/admin\/subscribers\?status=active">2<\/a>/);
    expect(html).toMatch(/<li data-status="erased"><a class="n" href="\/admin\/subscribers\?status=erased">1<\/a>/);
    expect(html).toMatch(/<tr data-topic="updates">.*?<td class="num">1<\/td>/s);
    expect(html).toContain('data-day="2026-11-25" data-confirmed="3"');
    expect(html).toContain('data-day="2026-11-27" data-unsubscribed="1"');
    expect(html).toMatch(
      /<th scope="row"><time datetime="2026-11-26">2026-11-26<\/time><\/th><td class="num">2<\/td><td class="num">1<\/td>/,
    );
    expect(html).toContain('role="img" aria-labelledby="growth-title growth-desc"');
    expect(html).toMatch(/id="confirm-share"[^>]*>71%</);
    expect(html).toMatch(/id="ledger-sealed"[^>]*>15</);
    // The harness sends through an SMTP sink with no DKIM, bounce address or webhook: those are to do.
    expect(html).toMatch(/<li data-ok="false">.*?DKIM signing/s);
    expect(html).toMatch(/<li data-ok="true">.*?Postal address/s);
  });

  it('counts afresh after a console action, and keeps a slow count for a while', async () => {
    const deps = { db: h.services.db, config: h.config, now: h.clock.now };
    const before = await overviewFigures(deps);
    expect(before.kept).toBe(false);
    const extra = await activeSubscriber(h);
    const s = await signIn(h);
    expect((await consolePost(h, s, `/admin/subscribers/${extra.id}/unsubscribe`)).status).toBe(303);
    const after = await overviewFigures(deps);
    expect(after.byStatus.unsubscribed).toBe(before.byStatus.unsubscribed! + 1);
    // A count that took longer than the threshold is reused until forgotten.
    const slow = await overviewFigures({ ...deps }, { slowMs: 0 });
    await activeSubscriber(h);
    const kept = await overviewFigures(deps, { slowMs: 0 });
    expect(kept.kept).toBe(true);
    expect(kept.byStatus.active).toBe(slow.byStatus.active);
    forgetOverview(h.config);
    expect((await overviewFigures(deps, { slowMs: 0 })).byStatus.active).toBe(slow.byStatus.active! + 1);
  });

  it('verifies the whole chain on request, and notices an edited event at the tip', async () => {
    const s = await signIn(h);
    const ok = await consolePost(h, s, '/admin/ledger/verify');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('The whole chain verifies');
    await h.seal();
    const [last] = await h.query<{ seq: string }>('select seq from consent_events order by chain_seq desc limit 1');
    await h.query('alter table consent_events disable trigger consent_events_append_only');
    try {
      await h.query(`update consent_events set topics = '["release","updates","bought-list"]' where seq = $1`, [
        last!.seq,
      ]);
    } finally {
      await h.query('alter table consent_events enable trigger consent_events_append_only');
    }
    forgetOverview(h.config);
    const page = await (await consoleGet(h, s, '/admin')).text();
    expect(page).toMatch(/class="badge bad">Broken/);
    const broken = await (await consolePost(h, s, '/admin/ledger/verify')).text();
    expect(broken).toContain('The chain is broken');
  });
});
