import { inCooldown, issueConfirmations, lastConfirmation } from './confirmations.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { admitLinkRequest, findSubscriberByKey } from './link-requests.js';
import { isBlocked } from './suppression.js';

/** For tests and logs only: the page answers the same for every one of them. */
export type ResendOutcome = 'confirmation_queued' | 'cooldown' | 'not_pending' | 'unknown';

/**
 * A fresh confirmation link for someone whose link expired or broke. Only a pending address gets one,
 * at most one per CONFIRM_COOLDOWN_SECONDS, and the new token carries the topics, consent text
 * version and source of the last request — the consent the person actually gave — so no new
 * `requested` event is written: nothing new was agreed to.
 */
export async function resendConfirmation(deps: CoreDeps, email: string, meta: RequestMeta): Promise<ResendOutcome> {
  const target = await admitLinkRequest(deps, email, meta);
  const now = deps.now();
  const outcome = await deps.db.transaction(async (tx) => {
    const sub = await findSubscriberByKey(tx, target.key, true);
    if (!sub) return 'unknown' as const;
    if (sub.status !== 'pending' || (await isBlocked(tx, sub.emailHash))) return 'not_pending' as const;
    const last = await lastConfirmation(tx, sub.id);
    if (!last) return 'not_pending' as const;
    if (inCooldown(last.createdAt, now, deps.config.CONFIRM_COOLDOWN_SECONDS)) return 'cooldown' as const;
    await issueConfirmations(
      tx,
      deps.secret,
      [{ subscriberId: sub.id, topics: last.topics, consentTextVersion: last.consentTextVersion, source: last.source }],
      now,
    );
    return 'confirmation_queued' as const;
  });
  if (outcome === 'confirmation_queued') deps.outboxChanged?.();
  return outcome;
}
