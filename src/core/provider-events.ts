import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../db/client.js';
import { deliveries, providerEvents, subscribers } from '../db/schema.js';
import { recordBounce } from './bounces.js';
import type { CoreDeps } from './deps.js';
import { checkEmail } from './email-address.js';
import { emailHashFor } from './identity.js';
import { unsubscribe } from './unsubscribe.js';

/**
 * What a mail provider reported back (bounces, complaints, its own suppressions and unsubscribes,
 * deliveries), already verified and normalised by the provider's module in src/mail/events/. The same
 * fields as its ProviderEvent, declared here because the domain imports no transport code.
 */
export interface ProviderEventReport {
  provider: string;
  eventId: string;
  kind: 'bounce' | 'complaint' | 'suppressed' | 'unsubscribed' | 'delivered' | 'ignored';
  bounceClass?: 'hard' | 'soft' | undefined;
  suppressedFor?: 'bounce' | 'complaint' | 'unsubscribe' | 'unknown' | undefined;
  providerMessageId?: string | undefined;
  providerMessageIdCandidates?: string[] | undefined;
  messageId?: string | undefined;
  recipient?: string | undefined;
  diagnostic?: string | undefined;
  occurredAt: Date;
  nonce?: string | undefined;
}

/**
 * - duplicate: the provider sent this event before; nothing changed.
 * - replayed_nonce: the provider's single-use token came back carrying another event: a forgery.
 * - suppressed / recorded: a bounce or complaint, as recordBounce answered.
 * - unsubscribed / already_unsubscribed: an opt-out through the provider.
 * - delivered, ignored: counted, nothing else.
 * - unknown_recipient: about nobody quire holds; counted, not an error.
 */
export type ProviderEventOutcome =
  | 'duplicate'
  | 'replayed_nonce'
  | 'suppressed'
  | 'recorded'
  | 'unsubscribed'
  | 'already_unsubscribed'
  | 'delivered'
  | 'ignored'
  | 'unknown_recipient';

export interface ProviderEventTally {
  received: number;
  /** Events seen before (provider redeliveries), which changed nothing. */
  duplicates: number;
  suppressed: number;
  unsubscribed: number;
  unknown: number;
  /** Single-use tokens seen again with another event: the request is to be refused. */
  replayed: number;
}

const CHANGE_SOURCE = 'webhook' as const;

/**
 * Record each event once, in its own transaction: the claim on (provider, event_id) and every change
 * the event causes (suppression, subscriber status, ledger event, delivery row) commit together, so a
 * redelivery after a failure applies it, and one after success changes nothing.
 */
export async function recordProviderEvents(
  deps: CoreDeps,
  events: readonly ProviderEventReport[],
): Promise<ProviderEventTally> {
  const tally: ProviderEventTally = {
    received: events.length,
    duplicates: 0,
    suppressed: 0,
    unsubscribed: 0,
    unknown: 0,
    replayed: 0,
  };
  for (const event of events) {
    const outcome = await recordProviderEvent(deps, event);
    if (outcome === 'duplicate') tally.duplicates++;
    else if (outcome === 'replayed_nonce') tally.replayed++;
    else if (outcome === 'suppressed') tally.suppressed++;
    else if (outcome === 'unsubscribed') tally.unsubscribed++;
    else if (outcome === 'unknown_recipient') tally.unknown++;
  }
  return tally;
}

export async function recordProviderEvent(deps: CoreDeps, event: ProviderEventReport): Promise<ProviderEventOutcome> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const [claimed] = await tx
      .insert(providerEvents)
      .values({
        provider: event.provider,
        eventId: event.eventId,
        kind: event.kind,
        outcome: 'pending',
        nonce: event.nonce ?? null,
        occurredAt: event.occurredAt,
        receivedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: providerEvents.id });
    if (!claimed) {
      // Either unique key refused it: the same event again, or the same token with another event.
      const [seen] = await tx
        .select({ id: providerEvents.id })
        .from(providerEvents)
        .where(and(eq(providerEvents.provider, event.provider), eq(providerEvents.eventId, event.eventId)))
        .limit(1);
      return seen ? 'duplicate' : 'replayed_nonce';
    }
    const delivery = await matchDelivery(tx, event);
    const outcome = await apply({ ...deps, db: tx as unknown as Db }, event, delivery);
    await tx
      .update(providerEvents)
      .set({ outcome, deliveryId: delivery?.id ?? null })
      .where(eq(providerEvents.id, claimed.id));
    return outcome;
  });
}

interface MatchedDelivery {
  id: string;
  subscriberId: string | null;
}

/** The delivery the provider's message id names (stored at send), if it is one of ours. */
async function matchDelivery(tx: Tx, event: ProviderEventReport): Promise<MatchedDelivery | undefined> {
  const ids = (event.providerMessageIdCandidates ?? (event.providerMessageId ? [event.providerMessageId] : [])).filter(
    (id) => id.length > 0 && id.length <= 500,
  );
  if (ids.length === 0) return undefined;
  const rows = await tx
    .select({
      id: deliveries.id,
      subscriberId: deliveries.subscriberId,
      providerMessageId: deliveries.providerMessageId,
    })
    .from(deliveries)
    .where(inArray(deliveries.providerMessageId, ids))
    .limit(ids.length);
  // The most specific candidate wins (candidates come longest first).
  for (const id of ids) {
    const row = rows.find((r) => r.providerMessageId === id);
    if (row) return { id: row.id, subscriberId: row.subscriberId };
  }
  return undefined;
}

async function apply(
  deps: CoreDeps,
  event: ProviderEventReport,
  delivery: MatchedDelivery | undefined,
): Promise<ProviderEventOutcome> {
  switch (event.kind) {
    case 'delivered':
      return 'delivered';
    case 'ignored':
      return 'ignored';
    case 'unsubscribed':
      return optOut(deps, event, delivery);
    case 'suppressed':
      // The provider will not send there any more. Why decides what it means here: its unsubscribe list
      // is the person's opt-out; otherwise it is a bounce or complaint the provider held against the
      // address, as the delivery engine treats a send refused for suppression.
      if (event.suppressedFor === 'unsubscribe') return optOut(deps, event, delivery);
      return bounce(deps, event, delivery, event.suppressedFor === 'complaint' ? 'complaint' : 'hard');
    case 'complaint':
      return bounce(deps, event, delivery, 'complaint');
    case 'bounce':
      return bounce(deps, event, delivery, event.bounceClass === 'soft' ? 'soft' : 'hard');
  }
}

/** The same path as every other bounce: suppression, subscriber status and ledger event, delivery row. */
async function bounce(
  deps: CoreDeps,
  event: ProviderEventReport,
  delivery: MatchedDelivery | undefined,
  type: 'hard' | 'soft' | 'complaint',
): Promise<ProviderEventOutcome> {
  const diagnostic = event.diagnostic ? `${event.provider}: ${event.diagnostic}` : `${event.provider}: ${event.kind}`;
  return recordBounce(deps, {
    type,
    source: CHANGE_SOURCE,
    deliveryId: delivery?.id,
    messageId: event.messageId,
    email: event.recipient,
    diagnostic,
  });
}

async function optOut(
  deps: CoreDeps,
  event: ProviderEventReport,
  delivery: MatchedDelivery | undefined,
): Promise<ProviderEventOutcome> {
  const subscriberId = delivery?.subscriberId ?? (await subscriberByAddress(deps, event.recipient));
  if (!subscriberId) return 'unknown_recipient';
  return unsubscribe(deps, subscriberId, {}, `${CHANGE_SOURCE}:${event.provider}`);
}

async function subscriberByAddress(deps: CoreDeps, address: string | undefined): Promise<string | undefined> {
  if (!address) return undefined;
  const checked = checkEmail(address);
  if (!checked.ok) return undefined;
  const [sub] = await deps.db
    .select({ id: subscribers.id })
    .from(subscribers)
    .where(eq(subscribers.emailHash, emailHashFor(deps.secret, checked.key)))
    .limit(1);
  return sub?.id;
}

/**
 * How long a provider's event is kept. Its id must outlive the provider's retries, or a late retry would
 * be applied twice: SendGrid retries for up to 72 hours (docs: "Event Webhook", retry logic), the
 * Standard Webhooks senders (Resend) for about a day, Postmark for hours. The record of what each event
 * changed is kept well beyond that; the consent ledger keeps the changes themselves for good.
 */
export const PROVIDER_EVENT_RETENTION_DAYS = 30;

export async function pruneProviderEvents(db: DbOrTx, now: Date): Promise<void> {
  const before = new Date(now.getTime() - PROVIDER_EVENT_RETENTION_DAYS * 86_400_000);
  await db.delete(providerEvents).where(lt(providerEvents.receivedAt, before));
}
