import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHarness, type TestHarness } from 'wrangler';
import type { OutgoingMessage } from '../../src/mail/mailer.js';
import { offline } from './workerd.js';

/**
 * src/mail/providers/cloudflare.ts in real workerd, over wrangler's local `send_email` binding
 * (tests/workerd/email-binding/worker.ts hands it one message per request). The local simulator keeps
 * what a Worker sent in its Local Explorer store, readable at
 * /cdn-cgi/local/explorer/api/local/email/sending: that is where these tests look for the message and
 * its header fields. It checks none of Cloudflare's header rules, so the transport checks them itself.
 */

const EXPLORER_SENT = '/cdn-cgi/local/explorer/api/local/email/sending';

interface SentEmail {
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  messageId: string;
  headers?: Record<string, string>;
  text?: string;
  html?: string;
}

type SendAnswer =
  | {
      ok: true;
      result: { messageId: string; providerMessageId?: string };
      transactionalOnly: boolean;
      maxBatch: number;
    }
  | {
      ok: false;
      error: { name: string; message: string; permanent: boolean; relayUnavailable: boolean; rateLimited: boolean };
    };

const welcome = (to: string, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: '"How Teams Think, Before They Build" <updates@quire.test>',
  to,
  subject: 'Welcome — you are on the list',
  html: '<p>Thanks for confirming. <a href="https://quire.test/manage/tok">Manage</a></p>',
  text: 'Thanks for confirming. Manage: https://quire.test/manage/tok',
  messageId: '<welcome-1@quire.test>',
  headers: {
    'List-Unsubscribe':
      '<https://quire.test/unsubscribe/tok>, <mailto:unsubscribe@quire.test?subject=unsubscribe%20tok>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'list-id': 'How Teams Think <book.quire.test>',
    'Reply-To': 'Author <author@quire.test>',
    'X-Quire-Kind': 'welcome',
    // Written by the service itself: the transport leaves them out rather than have the send refused.
    'Message-ID': '<welcome-1@quire.test>',
    Date: 'Thu, 26 Nov 2026 10:00:00 +0000',
  },
  ...overrides,
});

let server: TestHarness;
let origin: URL;

beforeAll(async () => {
  offline();
  // The Local Explorer (on by default) is what exposes the sent-mail store.
  process.env.X_LOCAL_EXPLORER = 'true';
  server = createTestHarness({
    workers: [
      {
        config: {
          name: 'quire-email-binding',
          main: 'tests/workerd/email-binding/worker.ts',
          compatibility_date: '2026-11-17',
          send_email: [{ name: 'EMAIL' }, { name: 'RESTRICTED', allowed_sender_addresses: ['alerts@quire.test'] }],
        },
      },
    ],
  });
  ({ url: origin } = await server.listen());
}, 120_000);

afterAll(() => server?.close());

const send = async (message: OutgoingMessage, binding = 'EMAIL'): Promise<SendAnswer> => {
  const response = await server.fetch('http://quire.test/send', {
    method: 'POST',
    body: JSON.stringify({ ...message, binding }),
  } as never);
  return (await response.json()) as SendAnswer;
};

const sentTo = async (address: string): Promise<SentEmail[]> => {
  const list = (await (await fetch(new URL(`${EXPLORER_SENT}?per_page=100`, origin))).json()) as {
    result: SentEmail[];
  };
  const ids = list.result.filter((e) => e.to.includes(address)).map((e) => e.messageId);
  return Promise.all(
    ids.map(
      async (id) =>
        (
          (await (await fetch(new URL(`${EXPLORER_SENT}?email_id=${encodeURIComponent(id)}`, origin))).json()) as {
            result: SentEmail;
          }
        ).result,
    ),
  );
};

describe('Cloudflare Email Service transport over the local send_email binding (workerd)', () => {
  it('sends one message with its fields and the List-* headers, and returns the service Message-ID', async () => {
    const answer = await send(welcome('reader.one@example.com'));
    if (!answer.ok) throw new Error(`send failed: ${answer.error.message}`);
    expect(answer.transactionalOnly).toBe(true);
    expect(answer.maxBatch).toBe(1);
    expect(answer.result.messageId).toMatch(/^<[^<>@\s]+@quire\.test>$/);
    expect(answer.result.providerMessageId).toBe(answer.result.messageId);

    const [mail, ...more] = await sentTo('reader.one@example.com');
    expect(more).toEqual([]);
    expect(mail).toMatchObject({
      messageId: answer.result.messageId,
      // The display name went as the structured { name, email } form, quoted again by the service.
      from: '"How Teams Think, Before They Build" <updates@quire.test>',
      to: ['reader.one@example.com'],
      replyTo: '"Author" <author@quire.test>',
      subject: 'Welcome — you are on the list',
      text: 'Thanks for confirming. Manage: https://quire.test/manage/tok',
      html: '<p>Thanks for confirming. <a href="https://quire.test/manage/tok">Manage</a></p>',
    });
    // Exactly the fields the service accepts, in its canonical casing; Message-ID, Date and Reply-To
    // are not among them (the service writes the first two, the third is an API field).
    expect(mail!.headers).toEqual({
      'List-Unsubscribe':
        '<https://quire.test/unsubscribe/tok>, <mailto:unsubscribe@quire.test?subject=unsubscribe%20tok>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': 'How Teams Think <book.quire.test>',
      'X-Quire-Kind': 'welcome',
    });
  });

  it('refuses, before the binding, a header the service would refuse: nothing is sent', async () => {
    const answer = await send(
      welcome('reader.two@example.com', {
        headers: {
          'List-Unsubscribe': '<http://quire.test/unsubscribe/tok>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      }),
    );
    expect(answer).toMatchObject({ ok: false, error: { name: 'MailError', permanent: true, relayUnavailable: false } });
    expect(!answer.ok && answer.error.message).toMatch(
      /List-Unsubscribe must hold <https:\/\/…> and\/or <mailto:…> targets only/,
    );
    expect(await sentTo('reader.two@example.com')).toEqual([]);
  });

  it("maps the binding's own refusal (a sender outside allowed_sender_addresses) to a MailError: nothing is sent", async () => {
    const answer = await send(welcome('reader.three@example.com'), 'RESTRICTED');
    // The account's set-up, not this message: retried later like an unreachable relay.
    expect(answer).toMatchObject({ ok: false, error: { name: 'MailError', permanent: false, relayUnavailable: true } });
    expect(!answer.ok && answer.error.message).toMatch(/email from updates@quire\.test not allowed/);
    expect(await sentTo('reader.three@example.com')).toEqual([]);

    const allowed = await send(
      welcome('reader.three@example.com', { from: 'Alerts <alerts@quire.test>' }),
      'RESTRICTED',
    );
    expect(allowed.ok).toBe(true);
    expect(await sentTo('reader.three@example.com')).toHaveLength(1);
  });
});
