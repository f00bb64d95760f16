import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { type ProviderWebhookOptions, registerProviderWebhookRoutes } from '../../src/routes/webhooks/providers.js';
import { insertActiveSubscriber, tableCounts } from '../security/support.js';
import { admin, broadcastState, draftBroadcast } from './broadcasts.js';
import { uniqueEmail } from './factories.js';
import { createHarness, type DatabaseKind, type Harness } from './harness.js';

/*
 * What the provider webhook tests share: a harness with the provider routes on its app, a subscriber
 * with a broadcast delivery sent under a given provider message id, and views of what an event changed.
 */

/**
 * A harness whose app has the provider webhook routes. Registering is idempotent, so this works whether
 * or not src/app.tsx registers them itself; `options` (the SNS fetcher) replace the app's.
 */
export async function providerHarness(
  kind: DatabaseKind,
  env: Record<string, string>,
  options: ProviderWebhookOptions = {},
): Promise<Harness> {
  const h = await createHarness(kind, env);
  registerProviderWebhookRoutes(h.app, options);
  return h;
}

export interface SentDelivery {
  subscriberId: string;
  email: string;
  deliveryId: string;
  broadcastId: string;
  providerMessageId: string;
  messageId: string;
}

/** An active subscriber and a broadcast delivery to them, as the engine leaves it after the provider accepted it. */
export async function sentDelivery(h: Harness, providerMessageId: string = randomUUID()): Promise<SentDelivery> {
  const s = await insertActiveSubscriber(h, uniqueEmail('pe'));
  const broadcast = await draftBroadcast(h);
  const messageId = `<${randomUUID()}@quire.test>`;
  const [row] = await h.query<{ id: string }>(
    `insert into deliveries (kind, broadcast_id, subscriber_id, "to", status, attempts, message_id, provider_message_id, sent_at)
     values ('broadcast', $1, $2, $3, 'sent', 1, $4, $5, now()) returning id`,
    [broadcast.id, s.id, s.email, messageId, providerMessageId],
  );
  return {
    subscriberId: s.id,
    email: s.email,
    deliveryId: row!.id,
    broadcastId: broadcast.id,
    providerMessageId,
    messageId,
  };
}

/** Everything an event may change about one subscriber and their delivery. */
export async function stateOf(h: Harness, d: SentDelivery) {
  const [sub] = await h.query<{ status: string }>('select status from subscribers where id = $1', [d.subscriberId]);
  const suppressions = await h.query<{ reason: string }>(
    'select x.reason from suppressions x join subscribers s on s.email_hash = x.email_hash where s.id = $1 order by x.reason',
    [d.subscriberId],
  );
  const ledger = await h.query<{ kind: string; source: string }>(
    `select kind, source from consent_events where subscriber_id = $1 and kind in ('suppressed', 'unsubscribed') order by seq`,
    [d.subscriberId],
  );
  const [delivery] = await h.query<{ status: string }>('select status from deliveries where id = $1', [d.deliveryId]);
  const counts = (await broadcastState(h, d.broadcastId)).counts;
  return {
    status: sub!.status,
    suppressions: suppressions.map((r) => r.reason),
    ledger: ledger.map((r) => `${r.kind}:${r.source}`),
    delivery: delivery!.status,
    bounced: counts.bounced ?? 0,
  };
}

export const untouched = { status: 'active', suppressions: [], ledger: [], delivery: 'sent', bounced: 0 };

/** Row counts of every table but the rate limiter's: "nothing changed" means none of these moved. */
export async function databaseCounts(h: Harness) {
  const { rate_limits: _, ...counts } = await tableCounts(h);
  return counts;
}

/** The provider_events rows of one delivery: what the domain recorded of the provider's reports. */
export const recordedEvents = (h: Harness, deliveryId: string) =>
  h.query<{ provider: string; kind: string; outcome: string }>(
    'select provider, kind, outcome from provider_events where delivery_id = $1 order by received_at, event_id',
    [deliveryId],
  );

/** The error envelope of a refused request, checked for its code and request id. */
export async function expectRefused(res: Response, status: number, code: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
}

/** The consent chain still verifies after everything a test did. */
export async function expectLedgerIntact(h: Harness) {
  await h.seal();
  const chain = await (await admin(h, '/admin/v1/consent/verify')).json();
  expect(chain.ok).toBe(true);
}
