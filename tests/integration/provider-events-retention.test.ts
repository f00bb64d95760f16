import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_EVENT_RETENTION_DAYS, pruneProviderEvents } from '../../src/core/provider-events.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const DAY = 86_400_000;

describe.each(databaseKinds)('provider event retention on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const event = (eventId: string, receivedAt: Date) =>
    h.query(
      `insert into provider_events (provider, event_id, kind, outcome, received_at) values ('postmark', $1, 'bounce', 'recorded', $2)`,
      [eventId, receivedAt.toISOString()],
    );

  // Regression: provider_events grew without end (one row per webhook event, delivered events included).
  it('prunes events past the retention, and keeps those a late provider retry could still repeat', async () => {
    const now = new Date('2026-11-27T12:00:00Z');
    await event('old', new Date(now.getTime() - (PROVIDER_EVENT_RETENTION_DAYS + 1) * DAY));
    await event('three-days', new Date(now.getTime() - 3 * DAY));
    await event('today', now);
    await pruneProviderEvents(h.services.db, now);
    const left = await h.query<{ event_id: string }>(`select event_id from provider_events order by event_id`);
    expect(left.map((r) => r.event_id)).toEqual(['three-days', 'today']);
  });
});
