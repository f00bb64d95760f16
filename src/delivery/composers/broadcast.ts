import { inArray } from 'drizzle-orm';
import { greetingFor, type RecipientSlots } from '../../../emails/_components/broadcast-context.js';
import { broadcastTemplate } from '../../core/broadcasts.js';
import { subscriberLinks } from '../../core/links.js';
import { type BroadcastRecipient, broadcastRecipients, broadcastSkipReason } from '../../core/recipients.js';
import { broadcasts } from '../../db/schema.js';
import {
  addressOf,
  domainOf,
  listIdValue,
  listUnsubscribeValue,
  messageIdFor,
  unsubscribeMailto,
  verpAddress,
} from '../../mail/headers.js';
import { buildMimeTemplate, type MimeTemplate } from '../../mail/mime-template.js';
import { personalise, personalisedBase64, type RenderedOnce, renderOnce } from '../../mail/personalise.js';
import type { DeliveryJob } from '../outbox-store.js';
import type { Composed, Composer } from '../types.js';
import type { ComposeDeps } from './transactional.js';

interface PreparedBroadcast {
  builtAt: number;
  topic: string;
  subject: string;
  /**
   * When the links in its messages are signed: the moment the send began, not the attempt. A row tried
   * again renders the same message, so a provider that deduplicates by key (Resend) answers the repeat
   * with its first answer, the provider's message ids included, instead of refusing a changed request.
   */
  linksIssuedAt: Date;
  once: RenderedOnce;
  listId: string;
  mime: MimeTemplate;
  testMime: MimeTemplate;
}

/** RFC 8058 §3.1: the one-click POST a mailbox provider may make to the List-Unsubscribe URL. */
const ONE_CLICK = { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };

/** Re-read this often: a test send prepares a broadcast before its audience, and its links' time, is frozen. */
const SKELETON_TTL_MS = 60_000;

/**
 * Broadcast messages: each broadcast is rendered once and its MIME skeleton built once; each
 * recipient's message is a substitution. Recipients are loaded a batch at a time and checked again
 * here — a subscriber who unsubscribed, bounced or left the topic after the send began gets nothing.
 */
export function createBroadcastComposer(deps: ComposeDeps): Composer {
  const fromAddress = addressOf(deps.config.MAIL_FROM);
  const domain = domainOf(fromAddress);
  const prepared = new Map<string, PreparedBroadcast>();
  // Keyed by broadcast and subscriber, added by prepare() and taken by compose(): batches running
  // concurrently in one worker never see each other's recipients disappear.
  const recipients = new Map<string, BroadcastRecipient>();

  async function prepareBroadcast(id: string): Promise<void> {
    const cached = prepared.get(id);
    if (cached && Date.now() - cached.builtAt < SKELETON_TTL_MS) return;
    const [b] = await deps.db
      .select()
      .from(broadcasts)
      .where(inArray(broadcasts.id, [id]));
    if (!b) return;
    const once =
      cached?.once ??
      (await renderOnce(broadcastTemplate(b.template), b.props, {
        preheader: b.preheader,
        lang: 'en',
        bookTitle: deps.config.BOOK_TITLE,
        postalAddress: deps.config.POSTAL_ADDRESS,
      }));
    const listId = listIdValue(`${deps.config.BOOK_TITLE} (${b.topic})`, b.topic, domain);
    const skeleton = (subject: string) =>
      buildMimeTemplate({ from: deps.config.MAIL_FROM, subject, headers: { ...ONE_CLICK, 'List-Id': listId } });
    prepared.set(id, {
      builtAt: Date.now(),
      topic: b.topic,
      subject: b.subject,
      linksIssuedAt: b.audienceFrozenAt ?? deps.now(),
      once,
      listId,
      mime: await skeleton(b.subject),
      testMime: await skeleton(`[Test] ${b.subject}`),
    });
  }

  async function prepare(jobs: DeliveryJob[]): Promise<void> {
    const mine = jobs.filter((j) => (j.kind === 'broadcast' || j.kind === 'test') && j.broadcastId);
    for (const id of new Set(mine.map((j) => j.broadcastId!))) await prepareBroadcast(id);
    const byBroadcast = new Map<string, string[]>();
    for (const j of mine)
      if (j.kind === 'broadcast' && j.subscriberId)
        byBroadcast.set(j.broadcastId!, [...(byBroadcast.get(j.broadcastId!) ?? []), j.subscriberId]);
    for (const [broadcastId, ids] of byBroadcast) {
      const topic = prepared.get(broadcastId)?.topic;
      if (!topic) continue;
      const rows = await broadcastRecipients(deps.db, topic, ids);
      for (const r of rows) recipients.set(`${broadcastId}:${r.id}`, r);
    }
  }

  async function compose(job: DeliveryJob): Promise<Composed> {
    if (!job.broadcastId) return { skip: 'no broadcast' };
    let b = prepared.get(job.broadcastId);
    if (!b) {
      await prepareBroadcast(job.broadcastId);
      b = prepared.get(job.broadcastId);
      if (!b) return { skip: 'broadcast deleted' };
    }
    const messageId = messageIdFor(job.id, domain);
    let to: string;
    let slots: RecipientSlots;
    let unsubscribeToken = 'test-send';
    if (job.kind === 'test') {
      if (!job.to) return { skip: 'no address' };
      to = job.to;
      // A test copy belongs to no subscriber: its links lead to a page that says so (routes/public/test-copy).
      slots = {
        greeting: greetingFor(null),
        unsubscribeUrl: `${deps.config.PUBLIC_URL}/test-copy`,
        preferencesUrl: `${deps.config.PUBLIC_URL}/test-copy`,
      };
    } else {
      const key = `${job.broadcastId}:${job.subscriberId}`;
      const r = recipients.get(key);
      recipients.delete(key);
      const skip = broadcastSkipReason(r);
      if (skip || !r) return { skip: skip ?? 'subscriber erased' };
      to = r.email!;
      const links = subscriberLinks(deps, r.id, b.linksIssuedAt);
      unsubscribeToken = links.unsubscribeToken;
      slots = {
        greeting: greetingFor(r.name),
        unsubscribeUrl: links.unsubscribeUrl,
        preferencesUrl: links.preferencesUrl,
      };
    }
    const listUnsubscribe = listUnsubscribeValue(slots.unsubscribeUrl, unsubscribeMailto(domain, unsubscribeToken));
    const date = deps.now();
    const mime = job.kind === 'test' ? b.testMime : b.mime;
    const once = b.once;
    let raw: Buffer | undefined;
    let body: { html: string; text: string } | undefined;
    const bounce = deps.config.BOUNCE_ADDRESS;
    return {
      message: {
        // Each form is built when a transport reads it: an API that takes fields (Postmark, Resend) never
        // builds MIME, and SMTP never builds the fields' strings.
        get html() {
          body ??= personalise(once, slots);
          return body.html;
        },
        get text() {
          body ??= personalise(once, slots);
          return body.text;
        },
        get raw() {
          raw ??= mime({ date, to, messageId, listUnsubscribe, ...personalisedBase64(once, slots) });
          return raw;
        },
        get wire() {
          return mime.pieces({ date, to, messageId, listUnsubscribe, ...personalisedBase64(once, slots) });
        },
        from: deps.config.MAIL_FROM,
        to,
        subject: job.kind === 'test' ? `[Test] ${b.subject}` : b.subject,
        messageId,
        // The same fields as the MIME carries, for transports that take fields rather than MIME.
        headers: { 'List-Unsubscribe': listUnsubscribe, ...ONE_CLICK, 'List-Id': b.listId },
        idempotencyKey: job.id,
        // VERP (per-recipient return path): a bounce names the delivery it belongs to.
        ...(bounce ? { envelopeFrom: verpAddress(bounce, job.id) } : {}),
      },
    };
  }

  return { prepare, compose };
}

/** Route each outbox row to the composer for its kind. */
export function routeComposers(routes: { transactional: Composer; broadcast: Composer }): Composer {
  const pick = (job: DeliveryJob) =>
    job.kind === 'broadcast' || job.kind === 'test' ? routes.broadcast : routes.transactional;
  return {
    async prepare(jobs) {
      await routes.broadcast.prepare?.(jobs);
      await routes.transactional.prepare?.(jobs);
    },
    compose: (job) => pick(job).compose(job),
  };
}
