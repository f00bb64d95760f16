import { createElement } from 'react';
import { PreferencesLink, PreferencesLinkProps } from '../../../emails/preferences-link.js';
import type { Config } from '../../config.js';
import { confirmUrlFor, subscriberLinks } from '../../core/links.js';
import { lifecycleRecipient, mayReceive, subscribedTopicNames } from '../../core/recipients.js';
import { CONFIRM_TOKEN_TTL_MS, confirmTokenFor, linkTokenTtlDays } from '../../core/tokens.js';
import type { Db } from '../../db/client.js';
import {
  addressOf,
  domainOf,
  listUnsubscribeHeaders,
  messageIdFor,
  unsubscribeMailto,
  verpAddress,
} from '../../mail/headers.js';
import { renderConfirmSubscriptionOnce, renderEmail, renderWelcome } from '../../mail/render.js';
import type { DeliveryJob } from '../outbox-store.js';
import type { Composed, Composer } from '../types.js';

export interface ComposeDeps {
  db: Db;
  config: Config;
  secret: string;
  now: () => Date;
}

const AUTO = { 'Auto-Submitted': 'auto-generated' };

/**
 * Builds the subscriber lifecycle's own mails from the outbox row. The recipient is read at send time,
 * so a subscriber who unsubscribed, bounced or was erased after the row was queued gets nothing.
 */
export function createTransactionalComposer(deps: ComposeDeps): Composer {
  const { config } = deps;
  const domain = domainOf(addressOf(config.MAIL_FROM));

  const compose = async (job: DeliveryJob): Promise<Composed> => {
    if (job.kind !== 'confirmation' && job.kind !== 'welcome' && job.kind !== 'preferences_link')
      return { skip: `no composer for ${job.kind}` };
    const found = job.subscriberId ? await lifecycleRecipient(deps.db, job.subscriberId) : undefined;
    if (!found) return { skip: 'subscriber erased' };
    const { subscriber: sub, blocked } = found;
    if (blocked) return { skip: 'suppressed' };
    if (!mayReceive(job.kind, sub.status)) return { skip: `subscriber is ${sub.status}` };
    const base = {
      from: config.MAIL_FROM,
      to: sub.email!,
      messageId: messageIdFor(job.id, domain),
      idempotencyKey: job.id,
      // VERP as for broadcasts: a typo at signup bounces to quire, which suppresses the address.
      ...(config.BOUNCE_ADDRESS ? { envelopeFrom: verpAddress(config.BOUNCE_ADDRESS, job.id) } : {}),
    };

    // Links are signed as of the row's queueing, not the attempt: a retry renders the same message, so a
    // provider that deduplicates by key (Resend) answers the repeat with its first answer and its ids.
    const issuedAt = job.createdAt;

    if (job.kind === 'preferences_link') {
      // Asked for on /manage; the link is valid from the request.
      const { preferencesUrl } = subscriberLinks(deps, sub.id, issuedAt);
      const props = PreferencesLinkProps.parse({
        bookTitle: config.BOOK_TITLE,
        preferencesUrl,
        validForDays: linkTokenTtlDays.preferences,
        postalAddress: config.POSTAL_ADDRESS,
        lang: sub.locale,
      });
      const rendered = await renderEmail(createElement(PreferencesLink, props));
      return {
        message: {
          ...base,
          subject: `Your link to manage your subscription to ${config.BOOK_TITLE}`,
          ...rendered,
          headers: AUTO,
        },
      };
    }

    if (job.kind === 'confirmation') {
      if (!job.confirmTokenId) return { skip: 'confirmation token gone' };
      const rendered = await renderConfirmSubscriptionOnce({
        bookTitle: config.BOOK_TITLE,
        confirmUrl: confirmUrlFor(deps, confirmTokenFor(deps.secret, job.confirmTokenId)),
        expiresInHours: CONFIRM_TOKEN_TTL_MS / 3_600_000,
        postalAddress: config.POSTAL_ADDRESS,
        lang: sub.locale,
      });
      // No List-Unsubscribe: the person is not subscribed to anything yet.
      return {
        message: { ...base, subject: `Confirm your subscription to ${config.BOOK_TITLE}`, ...rendered, headers: AUTO },
      };
    }

    const links = subscriberLinks(deps, sub.id, issuedAt);
    const rendered = await renderWelcome({
      bookTitle: config.BOOK_TITLE,
      name: sub.name ?? undefined,
      topics: await subscribedTopicNames(deps.db, sub.id),
      preferencesUrl: links.preferencesUrl,
      unsubscribeUrl: links.unsubscribeUrl,
      postalAddress: config.POSTAL_ADDRESS,
      lang: sub.locale,
    });
    return {
      message: {
        ...base,
        subject: `You're on the list for ${config.BOOK_TITLE}`,
        ...rendered,
        headers: listUnsubscribeHeaders(links.unsubscribeUrl, unsubscribeMailto(domain, links.unsubscribeToken)),
      },
    };
  };
  return { compose };
}
