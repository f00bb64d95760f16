import { describe, expect, it } from 'vitest';
import { readCloudflareEmailEvent } from '../../src/mail/events/cloudflare.js';

/**
 * Email Service's delivery events as a Queues consumer receives them. The payloads follow the examples
 * of https://developers.cloudflare.com/email-service/platform/event-subscriptions/ (Available Email
 * Sending events) inside the envelope of https://developers.cloudflare.com/queues/event-subscriptions/.
 */

const NOW = new Date('2026-06-01T03:00:00Z');
const AT = '2026-06-01T02:48:57.132Z';

type Json = Record<string, unknown>;

function event(kind: string, payload: Json = {}, overrides: Json = {}): Json {
  return {
    type: `cf.email.sending.message.${kind}`,
    source: { type: 'email.sending', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', domain: 'send.example.com' },
    payload: {
      eventId: `0190d0c4-7ea1-7af2-8b88-${kind.padEnd(12, '0').slice(0, 12)}`,
      messageId: `0101018f7d0c4d9a-msg-${kind}`,
      sender: 'receipts@send.example.com',
      recipient: 'user@example.net',
      subject: 'Your receipt',
      terminal: true,
      ...payload,
    },
    metadata: {
      accountId: 'f9f79265f388666de8122cfb508d7776',
      eventSubscriptionId: '1830c4bb612e43c3af7f4cada31fbf3f',
      eventSchemaVersion: 1,
      eventTimestamp: AT,
    },
    ...overrides,
  };
}

const bounced = (type: string | undefined) =>
  event('bounced', {
    delivery: {
      status: 'bounced',
      provider: 'external_smtp',
      deliveryTimeMs: 2143,
      smtpStatusCode: '550',
      smtpEnhancedStatusCode: '5.1.1',
      smtpResponse: '550 5.1.1 User unknown',
    },
    ...(type === undefined
      ? {}
      : { bounce: { type, classification: `${type}_failure`, reason: `${type === 'hard' ? 550 : 450} mailbox` } }),
  });

describe('readCloudflareEmailEvent', () => {
  it('a hard message.bounced is a hard bounce, matched by the message id in both spellings', () => {
    const reading = readCloudflareEmailEvent(bounced('hard'), NOW);
    expect(reading).toEqual({
      status: 'events',
      type: 'bounced',
      events: [
        {
          provider: 'cloudflare',
          eventId: '0190d0c4-7ea1-7af2-8b88-bounced00000',
          kind: 'bounce',
          bounceClass: 'hard',
          providerMessageId: '0101018f7d0c4d9a-msg-bounced',
          providerMessageIdCandidates: ['<0101018f7d0c4d9a-msg-bounced>', '0101018f7d0c4d9a-msg-bounced'],
          recipient: 'user@example.net',
          diagnostic: '550 mailbox',
          occurredAt: new Date(AT),
        },
      ],
    });
  });

  it('a soft message.bounced (retries exhausted) is a soft bounce; one without a type is not taken for hard', () => {
    const soft = readCloudflareEmailEvent(bounced('soft'), NOW);
    expect(soft.status === 'events' && soft.events[0]).toMatchObject({ kind: 'bounce', bounceClass: 'soft' });
    const untyped = readCloudflareEmailEvent(bounced(undefined), NOW);
    expect(untyped.status === 'events' && untyped.events[0]).toMatchObject({
      kind: 'bounce',
      bounceClass: 'soft',
      diagnostic: '550 5.1.1 User unknown',
    });
  });

  it('message.complained is a complaint; message.delivered is counted', () => {
    const complaint = readCloudflareEmailEvent(
      event('complained', { delivery: { status: 'complained' }, complaint: { type: 'abuse' } }),
      NOW,
    );
    expect(complaint.status === 'events' && complaint.events).toEqual([
      expect.objectContaining({ kind: 'complaint', diagnostic: 'abuse', recipient: 'user@example.net' }),
    ]);
    const delivered = readCloudflareEmailEvent(
      event('delivered', { delivery: { status: 'delivered', smtpResponse: '250 2.0.0 OK' } }),
      NOW,
    );
    expect(delivered.status === 'events' && delivered.events).toEqual([
      expect.objectContaining({ kind: 'delivered', providerMessageId: '0101018f7d0c4d9a-msg-delivered' }),
    ]);
  });

  it('a message id the binding answered in angle brackets is offered bracketed and bare', () => {
    const reading = readCloudflareEmailEvent(event('delivered', { messageId: '<abc123@quire.test>' }), NOW);
    expect(reading.status === 'events' && reading.events[0]!.providerMessageIdCandidates).toEqual([
      '<abc123@quire.test>',
      'abc123@quire.test',
    ]);
  });

  it('a rejection for the service’s suppression list suppresses; other rejections change nothing', () => {
    const suppressed = readCloudflareEmailEvent(
      event('rejected', {
        delivery: { status: 'rejected' },
        rejection: { reason: 'suppressed', party: 'recipient', detail: 'Recipient is suppressed' },
      }),
      NOW,
    );
    expect(suppressed.status === 'events' && suppressed.events[0]).toMatchObject({
      kind: 'suppressed',
      suppressedFor: 'unknown',
      diagnostic: 'Recipient is suppressed',
    });
    const spam = readCloudflareEmailEvent(
      event('rejected', { rejection: { reason: 'spam', party: 'sender', detail: 'Looks like spam' } }),
      NOW,
    );
    expect(spam).toMatchObject({ status: 'ignored', type: 'rejected' });
  });

  it('message.deferred, message.failed and event types yet unknown change nothing, with a reason', () => {
    const deferred = event('deferred', {
      terminal: false,
      delivery: { status: 'deferred', smtpResponse: '451 4.2.0 Temporary mailbox error' },
      bounce: { type: 'soft', classification: 'temporary_failure', reason: '451 4.2.0 Temporary mailbox error' },
    });
    expect(readCloudflareEmailEvent(deferred, NOW)).toMatchObject({ status: 'ignored', type: 'deferred' });
    expect(
      readCloudflareEmailEvent(event('failed', { delivery: { status: 'failed' }, failure: { reason: 'x' } }), NOW),
    ).toMatchObject({ status: 'ignored', type: 'failed' });
    expect(readCloudflareEmailEvent(event('opened'), NOW)).toMatchObject({ status: 'ignored', type: 'opened' });
  });

  it('reads a body that arrives as JSON text', () => {
    expect(readCloudflareEmailEvent(JSON.stringify(bounced('hard')), NOW)).toMatchObject({ status: 'events' });
  });

  it('without an event timestamp, the event happened now', () => {
    const reading = readCloudflareEmailEvent(event('delivered', {}, { metadata: {} }), NOW);
    expect(reading.status === 'events' && reading.events[0]!.occurredAt).toEqual(NOW);
  });

  it('malformed bodies yield nothing and a reason, and never throw', () => {
    const { eventId: _, ...withoutEventId } = event('bounced').payload as Json;
    const bodies: unknown[] = [
      undefined,
      null,
      42,
      'not json',
      '{"type":',
      [],
      {},
      { type: 'cf.email.sending.message.bounced' },
      event('bounced', {}, { source: { type: 'kv' } }),
      event('bounced', {}, { type: 'cf.kv.namespace.created' }),
      event('bounced', {}, { payload: withoutEventId }),
      event('bounced', { messageId: '' }),
      event('bounced', { recipient: 7 }),
      event('bounced', { eventId: 'x'.repeat(201) }),
      event('bounced', { bounce: 'hard' }),
      event('bounced', {}, { payload: null }),
    ];
    for (const body of bodies) {
      const reading = readCloudflareEmailEvent(body, NOW);
      expect(reading.status, JSON.stringify(body)?.slice(0, 120)).toBe('malformed');
      expect(reading.status === 'malformed' && reading.reason).toMatch(/\S/);
    }
  });
});
