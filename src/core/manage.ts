import type { CoreDeps, RequestMeta } from './deps.js';
import { admitLinkRequest, findSubscriberByKey } from './link-requests.js';
import { enqueueDelivery } from './outbox.js';
import { mayReceive } from './recipients.js';
import { isBlocked } from './suppression.js';

/** For tests and logs only: the page answers the same for every one of them. */
export type PreferencesLinkOutcome = 'link_queued' | 'unknown' | 'not_eligible';

/**
 * "Manage my subscription": someone who lost the email asks for a fresh preferences link. Only a
 * subscriber who can still change something (active, pending or unsubscribed, and not blocked) gets a
 * `preferences_link` mail, through the outbox like every other mail; the link is signed when it is sent.
 */
export async function requestPreferencesLink(
  deps: CoreDeps,
  email: string,
  meta: RequestMeta,
): Promise<PreferencesLinkOutcome> {
  const target = await admitLinkRequest(deps, email, meta);
  const now = deps.now();
  const outcome = await deps.db.transaction(async (tx) => {
    const sub = await findSubscriberByKey(tx, target.key);
    if (!sub) return 'unknown' as const;
    if (!mayReceive('preferences_link', sub.status) || (await isBlocked(tx, sub.emailHash)))
      return 'not_eligible' as const;
    await enqueueDelivery(tx, { kind: 'preferences_link', subscriberId: sub.id }, now);
    return 'link_queued' as const;
  });
  if (outcome === 'link_queued') deps.outboxChanged?.();
  return outcome;
}
