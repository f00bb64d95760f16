import { and, eq } from 'drizzle-orm';
import { createElement } from 'react';
import { PreferencesLink, PreferencesLinkProps } from '../../emails/preferences-link';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { subscribers, subscriptions, topics } from '../db/schema.js';
import type { Composed, Composer } from '../core/delivery/engine.js';
import type { DeliveryJob } from '../core/delivery/outbox-store.js';
import { confirmUrlFor, subscriberLinks } from '../core/links.js';
import { isBlocked } from '../core/suppression.js';
import { CONFIRM_TOKEN_TTL_MS, confirmTokenFor, linkTokenTtlDays } from '../core/tokens.js';
import { addressOf, domainOf, listUnsubscribeHeaders, messageIdFor } from './headers.js';
import { renderConfirmSubscriptionOnce, renderEmail, renderWelcome } from './render.js';

export interface ComposeDeps {
  db: Db;
  config: Config;
  secret: string;
  now: () => Date;
}

/**
 * Builds the subscriber lifecycle's own mails from the outbox row. The recipient is read at send time,
 * so a subscriber who unsubscribed, bounced or was erased after the row was queued gets nothing.
 */
export function createTransactionalComposer(deps: ComposeDeps): Composer {
  const fromAddress = addressOf(deps.config.MAIL_FROM);
  const domain = domainOf(fromAddress);

  const compose = async (job: DeliveryJob): Promise<Composed> => {
    if (job.kind !== 'confirmation' && job.kind !== 'welcome' && job.kind !== 'preferences_link') return { skip: `no composer for ${job.kind}` };
    if (!job.subscriberId) return { skip: 'subscriber erased' };
    const [sub] = await deps.db.select().from(subscribers).where(eq(subscribers.id, job.subscriberId));
    if (!sub || sub.email === null) return { skip: 'subscriber erased' };
    if (await isBlocked(deps.db, sub.emailHash)) return { skip: 'suppressed' };
    const base = {
      from: deps.config.MAIL_FROM,
      to: sub.email,
      messageId: messageIdFor(job.id, domain),
    };

    if (job.kind === 'preferences_link') {
      // Asked for on /manage; whoever can still change something gets it, signed as it is sent.
      if (sub.status !== 'active' && sub.status !== 'pending' && sub.status !== 'unsubscribed') return { skip: `subscriber is ${sub.status}` };
      const { preferencesUrl } = subscriberLinks(deps, sub.id, deps.now());
      const rendered = await renderEmail(
        createElement(
          PreferencesLink,
          PreferencesLinkProps.parse({
            bookTitle: deps.config.BOOK_TITLE,
            preferencesUrl,
            validForDays: linkTokenTtlDays.preferences,
            postalAddress: deps.config.POSTAL_ADDRESS,
            lang: sub.locale,
          }),
        ),
      );
      return {
        message: { ...base, subject: `Your link to manage your subscription to ${deps.config.BOOK_TITLE}`, ...rendered, headers: { 'Auto-Submitted': 'auto-generated' } },
      };
    }

    if (job.kind === 'confirmation') {
      if (sub.status !== 'pending' && sub.status !== 'unsubscribed') return { skip: `subscriber is ${sub.status}` };
      if (!job.confirmTokenId) return { skip: 'confirmation token gone' };
      const token = confirmTokenFor(deps.secret, job.confirmTokenId);
      const rendered = await renderConfirmSubscriptionOnce({
        bookTitle: deps.config.BOOK_TITLE,
        confirmUrl: confirmUrlFor(deps, token),
        expiresInHours: CONFIRM_TOKEN_TTL_MS / 3_600_000,
        postalAddress: deps.config.POSTAL_ADDRESS,
        lang: sub.locale,
      });
      // No List-Unsubscribe: the person is not subscribed to anything yet.
      return {
        message: { ...base, subject: `Confirm your subscription to ${deps.config.BOOK_TITLE}`, ...rendered, headers: { 'Auto-Submitted': 'auto-generated' } },
      };
    }

    if (sub.status !== 'active') return { skip: `subscriber is ${sub.status}` };
    const links = subscriberLinks(deps, sub.id, deps.now());
    const topicNames = await deps.db
      .select({ name: topics.name })
      .from(subscriptions)
      .innerJoin(topics, eq(topics.slug, subscriptions.topic))
      .where(and(eq(subscriptions.subscriberId, sub.id), eq(subscriptions.subscribed, true)));
    const rendered = await renderWelcome({
      bookTitle: deps.config.BOOK_TITLE,
      name: sub.name ?? undefined,
      topics: topicNames.map((t) => t.name),
      preferencesUrl: links.preferencesUrl,
      unsubscribeUrl: links.unsubscribeUrl,
      postalAddress: deps.config.POSTAL_ADDRESS,
      lang: sub.locale,
    });
    const unsubscribeToken = links.unsubscribeUrl.slice(links.unsubscribeUrl.lastIndexOf('/') + 1);
    return {
      message: {
        ...base,
        subject: `You're on the list for ${deps.config.BOOK_TITLE}`,
        ...rendered,
        headers: listUnsubscribeHeaders(links.unsubscribeUrl, `mailto:unsubscribe@${domain}?subject=unsubscribe%20${unsubscribeToken}`),
      },
    };
  };
  return { compose };
}
