import { describe, expect, it } from 'vitest';
import { MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import {
  type CloudflareEmailMessage,
  cloudflareError,
  cloudflareHeaders,
  createCloudflareMailer,
  mailboxOf,
  type SendEmailBinding,
  toCloudflareEmail,
} from '../../src/mail/providers/cloudflare.js';

/**
 * The Cloudflare Email Service transport against a recording binding: how a message becomes the
 * binding's structured form, and how each documented error code is classified
 * (https://developers.cloudflare.com/email-service/api/send-emails/workers-api/, "Error codes").
 * tests/workerd/email-binding.test.ts runs it over the real local binding in workerd.
 */

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: 'Book Updates <updates@quire.test>',
  to: 'reader@example.com',
  subject: 'Confirm your subscription',
  html: '<p>Confirm</p>',
  text: 'Confirm',
  messageId: '<m1@quire.test>',
  headers: {},
  ...overrides,
});

const failingWith = (error: unknown): SendEmailBinding => ({ send: () => Promise.reject(error) });
const codeError = (code: string, text = `${code} happened`) => Object.assign(new Error(text), { code });

describe('toCloudflareEmail', () => {
  it('fills the structured fields; the display name goes as { name, email }', () => {
    expect(toCloudflareEmail(message())).toEqual({
      from: { email: 'updates@quire.test', name: 'Book Updates' },
      to: 'reader@example.com',
      subject: 'Confirm your subscription',
      html: '<p>Confirm</p>',
      text: 'Confirm',
    });
  });

  it('an empty body part is left out rather than sent empty', () => {
    expect(toCloudflareEmail(message({ html: '' }))).not.toHaveProperty('html');
    expect(toCloudflareEmail(message({ html: '' })).text).toBe('Confirm');
  });

  it('mailboxOf: quoted names, escapes, bare addresses', () => {
    expect(mailboxOf('"Smith, Jo \\"JS\\"" <jo@example.com>')).toEqual({
      email: 'jo@example.com',
      name: 'Smith, Jo "JS"',
    });
    expect(mailboxOf('<jo@example.com>')).toBe('jo@example.com');
    expect(mailboxOf(' jo@example.com ')).toBe('jo@example.com');
  });

  it('Reply-To becomes the replyTo field; service-written fields are left out', () => {
    const email = toCloudflareEmail(
      message({
        headers: {
          'reply-to': 'Author <author@quire.test>',
          'Message-ID': '<m1@quire.test>',
          Date: 'x',
          'MIME-Version': '1.0',
          'Content-Type': 'text/plain',
          'Return-Path': '<bounce@quire.test>',
          'Feedback-ID': 'a:b',
          'ARC-Seal': 'x',
          'auto-submitted': 'auto-generated',
        },
      }),
    );
    expect(email.replyTo).toEqual({ email: 'author@quire.test', name: 'Author' });
    expect(email.headers).toEqual({ 'Auto-Submitted': 'auto-generated' });
  });

  it('a message without extra headers sends no headers object', () => {
    expect(toCloudflareEmail(message())).not.toHaveProperty('headers');
  });
});

describe("cloudflareHeaders: the service's header rules, checked before sending", () => {
  const ok = (headers: Record<string, string>) => cloudflareHeaders(headers).headers;
  const refusal = (headers: Record<string, string>) => {
    try {
      cloudflareHeaders(headers);
    } catch (err) {
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).permanent).toBe(true);
      return (err as MailError).message;
    }
    throw new Error('expected a refusal');
  };

  it('RFC 8058 one-click: List-Unsubscribe with https (and mailto) plus the exact List-Unsubscribe-Post', () => {
    expect(
      ok({
        'list-unsubscribe': '<https://q.test/u/t>, <mailto:u@q.test>',
        'list-unsubscribe-post': 'List-Unsubscribe=One-Click',
      }),
    ).toEqual({
      'List-Unsubscribe': '<https://q.test/u/t>, <mailto:u@q.test>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(ok({ 'List-Unsubscribe': '<mailto:u@q.test>' })).toEqual({ 'List-Unsubscribe': '<mailto:u@q.test>' });
  });

  it('refuses plain http targets, a different Post value, and Post without an https target', () => {
    expect(refusal({ 'List-Unsubscribe': '<http://q.test/u/t>' })).toMatch(/plain http is refused/);
    expect(refusal({ 'List-Unsubscribe': 'https://q.test/u/t' })).toMatch(/List-Unsubscribe must hold/);
    expect(
      refusal({ 'List-Unsubscribe': '<https://q.test/u>', 'List-Unsubscribe-Post': 'List-Unsubscribe=one-click' }),
    ).toMatch(/exactly List-Unsubscribe=One-Click/);
    expect(
      refusal({ 'List-Unsubscribe': '<mailto:u@q.test>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }),
    ).toMatch(/needs an https List-Unsubscribe/);
    expect(refusal({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' })).toMatch(
      /needs an https List-Unsubscribe/,
    );
  });

  it('X- headers pass; names off the allowlist and API fields are refused', () => {
    expect(ok({ 'X-Campaign_ID': 'launch', 'List-Id': 'Book <book.q.test>', Precedence: 'bulk' })).toEqual({
      'X-Campaign_ID': 'launch',
      'List-Id': 'Book <book.q.test>',
      Precedence: 'bulk',
    });
    expect(refusal({ Sender: 'a@q.test' })).toMatch(/header Sender is not on Cloudflare Email Service's allowlist/);
    expect(refusal({ 'X-Bad Name': '1' })).toMatch(/not on Cloudflare Email Service's allowlist/);
    expect(refusal({ To: 'b@q.test' })).toMatch(/header To must be set through the message's own field/);
    expect(refusal({ Subject: 'x' })).toMatch(/own field/);
  });

  it('values: restricted words, no line breaks, not empty, not too long; totals bounded', () => {
    expect(refusal({ Precedence: 'first-class' })).toMatch(/Precedence must be one of bulk, list, junk/);
    expect(refusal({ 'Auto-Submitted': 'yes' })).toMatch(/Auto-Submitted must be one of/);
    expect(ok({ 'Auto-Submitted': 'auto-generated; type=digest' })).toEqual({
      'Auto-Submitted': 'auto-generated; type=digest',
    });
    expect(refusal({ 'X-A': 'one\r\nBcc: victim@example.com' })).toMatch(/empty or spans lines/);
    expect(refusal({ 'X-A': ' ' })).toMatch(/empty or spans lines/);
    expect(refusal({ 'X-A': 'é'.repeat(1025) })).toMatch(/X-A is too long/);
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`X-H${i}`, 'v'.repeat(2000)]));
    expect(refusal(many)).toMatch(/header fields are too large/);
    const allowlisted = [
      'In-Reply-To',
      'References',
      'List-Id',
      'List-Archive',
      'List-Help',
      'List-Owner',
      'List-Post',
      'List-Subscribe',
      'Keywords',
      'Comments',
      'Organization',
      'Expires',
      'Reply-By',
      'Archived-At',
      'Content-Language',
      'Require-Recipient-Valid-Since',
      'Importance',
      'Priority',
      'Sensitivity',
      'Precedence',
      'Auto-Submitted',
    ];
    const values: Record<string, string> = {
      Importance: 'low',
      Priority: 'normal',
      Sensitivity: 'personal',
      Precedence: 'list',
      'Auto-Submitted': 'auto-notified',
    };
    expect(refusal(Object.fromEntries(allowlisted.map((h) => [h, values[h] ?? 'x'])))).toMatch(
      /too many header fields/,
    );
  });

  it('a subject longer than a header line, or a body over the size limit, is refused', () => {
    expect(() => toCloudflareEmail(message({ subject: 's'.repeat(999) }))).toThrow(/subject is too long/);
    expect(() => toCloudflareEmail(message({ html: 'h'.repeat(5 * 1024 * 1024) }))).toThrow(
      /larger than the service accepts/,
    );
  });
});

describe('cloudflareError: every documented code', () => {
  const permanentNotBounce = [
    'E_VALIDATION_ERROR',
    'E_FIELD_MISSING',
    'E_TOO_MANY_RECIPIENTS',
    'E_TOO_MANY_ATTACHMENTS',
    'E_CONTENT_TOO_LARGE',
    'E_HEADER_NOT_ALLOWED',
    'E_HEADER_USE_API_FIELD',
    'E_HEADER_VALUE_INVALID',
    'E_HEADER_VALUE_TOO_LONG',
    'E_HEADER_NAME_INVALID',
    'E_HEADERS_TOO_LARGE',
    'E_HEADERS_TOO_MANY',
    'E_RECIPIENT_NOT_ALLOWED',
  ];
  it.each(permanentNotBounce)('%s: permanent, the message (not the mailbox) at fault', (code) => {
    const e = cloudflareError(codeError(code));
    expect(e).toMatchObject({ permanent: true, suppressed: false, rateLimited: false, relayUnavailable: false });
    expect(e.isHardBounce).toBe(false);
    expect(e.message).toBe(`cloudflare ${code}: ${code} happened`);
  });

  it('E_RECIPIENT_SUPPRESSED: permanent and suppressed', () => {
    expect(cloudflareError(codeError('E_RECIPIENT_SUPPRESSED'))).toMatchObject({ permanent: true, suppressed: true });
  });

  it.each(['E_SENDER_NOT_VERIFIED', 'E_SENDER_DOMAIN_NOT_AVAILABLE'])(
    '%s: the account set-up, retried like an unreachable relay',
    (code) => {
      expect(cloudflareError(codeError(code))).toMatchObject({
        permanent: false,
        relayUnavailable: true,
        rateLimited: false,
      });
    },
  );

  it('rate and daily limits slow the sender down', () => {
    expect(cloudflareError(codeError('E_RATE_LIMIT_EXCEEDED'))).toMatchObject({
      permanent: false,
      rateLimited: true,
      retryAfterMs: undefined,
    });
    const daily = cloudflareError(codeError('E_DAILY_LIMIT_EXCEEDED'));
    expect(daily).toMatchObject({ permanent: false, rateLimited: true });
    expect(daily.retryAfterMs).toBeGreaterThan(0);
  });

  it('delivery and service faults, unknown codes and code-less errors are transient', () => {
    for (const err of [
      codeError('E_DELIVERY_FAILED'),
      codeError('E_INTERNAL_SERVER_ERROR'),
      codeError('E_SOMETHING_NEW'),
      new Error('socket hang up'),
      'boom',
    ]) {
      expect(cloudflareError(err)).toMatchObject({
        permanent: false,
        rateLimited: false,
        relayUnavailable: false,
        suppressed: false,
      });
    }
  });

  it("the local simulator's code-less allowlist refusals", () => {
    expect(cloudflareError(new Error('email to x@example.com not allowed'))).toMatchObject({
      permanent: true,
      relayUnavailable: false,
    });
    expect(cloudflareError(new Error('email from y@quire.test not allowed'))).toMatchObject({
      permanent: false,
      relayUnavailable: true,
    });
  });

  it('keeps one line of the message', () => {
    expect(cloudflareError(codeError('E_DELIVERY_FAILED', `first line\n${'x'.repeat(1000)}`)).message).toBe(
      'cloudflare E_DELIVERY_FAILED: first line',
    );
  });
});

describe('createCloudflareMailer', () => {
  it('sends through the binding and reports its Message-ID; transactional only, one message per call', async () => {
    const sent: CloudflareEmailMessage[] = [];
    const mailer = createCloudflareMailer({
      binding: {
        send: async (m) => {
          sent.push(m);
          return { messageId: '<cf-1@quire.test>' };
        },
      },
    });
    expect(mailer).toMatchObject({ name: 'cloudflare', maxBatch: 1, transactionalOnly: true });
    await expect(mailer.send(message())).resolves.toEqual({
      messageId: '<cf-1@quire.test>',
      providerMessageId: '<cf-1@quire.test>',
    });
    expect(sent).toHaveLength(1);
  });

  it('sendBatch: one outcome per message; a rate limit stops the rest', async () => {
    let calls = 0;
    const mailer = createCloudflareMailer({
      binding: {
        send: async () => {
          calls++;
          if (calls === 2) throw codeError('E_RECIPIENT_SUPPRESSED');
          if (calls === 3) throw codeError('E_RATE_LIMIT_EXCEEDED');
          return { messageId: `<cf-${calls}@q>` };
        },
      },
    });
    const outcomes = await mailer.sendBatch([message(), message(), message(), message()]);
    expect(
      outcomes.map((o) => (o.ok ? 'ok' : o.error.suppressed ? 'suppressed' : o.error.rateLimited ? 'rate' : 'other')),
    ).toEqual(['ok', 'suppressed', 'rate', 'rate']);
    expect(calls).toBe(3);
  });

  it('a refused header never reaches the binding', async () => {
    let calls = 0;
    const mailer = createCloudflareMailer({
      binding: {
        send: async () => {
          calls++;
          return { messageId: 'x' };
        },
      },
    });
    await expect(mailer.send(message({ headers: { Sender: 'x@q.test' } }))).rejects.toMatchObject({ permanent: true });
    expect(calls).toBe(0);
  });

  it('a binding that does not answer in time is a transient fault', async () => {
    const mailer = createCloudflareMailer({ binding: { send: () => new Promise(() => {}) }, timeoutMs: 20 });
    await expect(mailer.send(message())).rejects.toMatchObject({
      permanent: false,
      relayUnavailable: false,
      message: expect.stringMatching(/within 20 ms/),
    });
  });

  it('errors of the binding arrive as MailErrors', async () => {
    const mailer = createCloudflareMailer({ binding: failingWith(codeError('E_SENDER_NOT_VERIFIED')) });
    const err = await mailer.send(message()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailError);
    expect(err).toMatchObject({ relayUnavailable: true });
  });
});
