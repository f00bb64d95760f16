import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { listUnsubscribeHeaders } from '../../src/mail/headers.js';
import { MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import { createSendgridMailer, type SendgridOptions, toSendgrid } from '../../src/mail/providers/sendgrid.js';
import {
  SENDGRID_TEST_KEY,
  type SendgridStandIn,
  type SendgridStandInOptions,
  startSendgridStandIn,
} from '../stand-ins/sendgrid.js';

const run = randomUUID().slice(0, 8);
const message = (i: number): OutgoingMessage => ({
  from: 'How Teams Think <updates@news.example.com>',
  to: `reader${i}@example.net`,
  subject: `Issue ${i}`,
  html: `<p>Hello reader ${i}</p><p><a href="https://news.example.com/u/${run}-${i}">Unsubscribe</a></p>`,
  text: `Hello reader ${i}\n\nUnsubscribe: https://news.example.com/u/${run}-${i}\n`,
  messageId: `<${run}.${i}@news.example.com>`,
  headers: {
    ...listUnsubscribeHeaders(
      `https://news.example.com/u/${run}-${i}`,
      `mailto:unsubscribe+${run}-${i}@news.example.com`,
    ),
    'List-Id': 'How Teams Think <howteamsthink.news.example.com>',
  },
});

let standIn: SendgridStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function setup(standInOptions: SendgridStandInOptions = {}, mailerOptions: Partial<SendgridOptions> = {}) {
  standIn = await startSendgridStandIn(standInOptions);
  const mailer = createSendgridMailer({ apiKey: SENDGRID_TEST_KEY, baseUrl: standIn.url, ...mailerOptions });
  return { standIn, mailer };
}

async function rejection(p: Promise<unknown>): Promise<MailError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailError);
  return err as MailError;
}

describe('SendGrid transport against its stand-in', () => {
  it('sends one message with its list headers and Message-ID intact, to that recipient only', async () => {
    const { standIn, mailer } = await setup();
    const m = message(1);
    const result = await mailer.send(m);

    expect(standIn.messages).toHaveLength(1);
    const got = standIn.messages[0]!;
    expect(result).toMatchObject({ messageId: m.messageId, providerMessageId: got.xMessageId });
    expect(got.to).toEqual(['reader1@example.net']);
    expect(got.from).toEqual({ email: 'updates@news.example.com', name: 'How Teams Think' });
    expect(got.subject).toBe('Issue 1');
    expect(got.headers).toEqual({ ...m.headers, 'Message-ID': m.messageId });
    expect(got.customArgs).toEqual({ quire_message_id: m.messageId });
    expect(got.content).toEqual([
      { type: 'text/plain', value: m.text },
      { type: 'text/html', value: m.html },
    ]);
  });

  it('sends the fields of a broadcast whose MIME was pre-built, and keeps Reply-To out of the headers', () => {
    const body = toSendgrid({
      ...message(2),
      raw: Buffer.from('ignored'),
      headers: { ...message(2).headers, 'Reply-To': '"Author, The" <author@example.com>' },
    });
    expect(body.reply_to).toEqual({ email: 'author@example.com', name: 'Author, The' });
    expect(Object.keys(body.personalizations[0]!.headers).map((h) => h.toLowerCase())).not.toContain('reply-to');
  });

  it('delivers a batch of 250 exactly once per recipient', async () => {
    const { standIn, mailer } = await setup();
    const all = Array.from({ length: 250 }, (_, i) => message(i));
    const outcomes = [];
    for (let i = 0; i < all.length; i += mailer.maxBatch)
      outcomes.push(...(await mailer.sendBatch(all.slice(i, i + mailer.maxBatch))));

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const ids = outcomes.map((o) => (o.ok ? o.result.providerMessageId : undefined));
    expect(new Set(ids).size).toBe(250);
    const counts = standIn.countByRecipient();
    expect(counts.size).toBe(250);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(standIn.messages.map((g) => g.headers['Message-ID']).sort()).toEqual(all.map((m) => m.messageId).sort());
  });

  it('reports a 429 as rateLimited with the wait X-RateLimit-Reset names, and records nothing for the refused message', async () => {
    const { standIn, mailer } = await setup({ rateLimitPerSecond: 1 });
    await mailer.send(message(1));
    const err = await rejection(mailer.send(message(2)));
    expect(err).toMatchObject({ rateLimited: true, permanent: false, responseCode: 429 });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect([...standIn.countByRecipient().keys()]).toEqual(['reader1@example.net']);
    await expect(mailer.sendBatch([message(3), message(4)])).rejects.toMatchObject({ rateLimited: true });
    expect(standIn.messages).toHaveLength(1);
  });

  it('settles a refused recipient alone, as a bad address, the rest of the batch delivered', async () => {
    const { standIn, mailer } = await setup({ rejectRecipients: ['reader3@example.net'] });
    const outcomes = await mailer.sendBatch([0, 1, 2, 3, 4].map(message));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, true]);
    const failed = outcomes[3]!;
    expect(failed.ok === false && failed.error).toMatchObject({
      permanent: true,
      responseCode: 400,
      isHardBounce: true,
      rateLimited: false,
      relayUnavailable: false,
    });
    expect(failed.ok === false && failed.error.message).toMatch(/personalizations\.0\.to\.0\.email/);
    expect([...standIn.countByRecipient().keys()].sort()).toEqual([
      'reader0@example.net',
      'reader1@example.net',
      'reader2@example.net',
      'reader4@example.net',
    ]);
  });

  it('treats a wrong key as a fault of the whole transport, without the key in the error', async () => {
    const { standIn, mailer } = await setup(
      {},
      { apiKey: 'SG.wrongkey0000000000.1111111111111111111111111111111111111111' },
    );
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false, responseCode: 401 });
    expect(err.message).not.toContain('SG.wrongkey');
    await expect(mailer.sendBatch([message(2), message(3)])).rejects.toMatchObject({ relayUnavailable: true });
    expect(standIn.messages).toHaveLength(0);
  });

  it('accepts but records nothing in sandbox mode', async () => {
    const { standIn, mailer } = await setup({}, { sandbox: true });
    const result = await mailer.send(message(1));
    expect(result.response).toBe('200');
    expect(standIn.messages).toHaveLength(0);
  });

  it('treats a server error as transient, not as the recipient’s fault', async () => {
    const { standIn, mailer } = await setup();
    standIn.failNext(1, 500);
    expect(await rejection(mailer.send(message(1)))).toMatchObject({
      permanent: false,
      relayUnavailable: false,
      responseCode: 500,
    });
  });
});

describe('the SendGrid stand-in is strict', () => {
  const valid = () => toSendgrid(message(1)) as Record<string, unknown>;
  const post = async (
    body: unknown,
    init: { authorization?: string | null; contentType?: string; path?: string } = {},
  ) => {
    const headers: Record<string, string> = { 'content-type': init.contentType ?? 'application/json' };
    if (init.authorization !== null) headers.authorization = init.authorization ?? `Bearer ${SENDGRID_TEST_KEY}`;
    const res = await fetch(`${standIn!.url}${init.path ?? '/v3/mail/send'}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as { errors?: { field: string | null; message: string }[] }) : undefined,
    };
  };
  const personalization = (over: Record<string, unknown>) => ({
    ...valid(),
    personalizations: [{ ...(valid().personalizations as object[])[0], ...over }],
  });

  it('accepts a well-formed request', async () => {
    standIn = await startSendgridStandIn();
    expect((await post(valid())).status).toBe(202);
  });

  it.each<[string, () => { body: unknown; init?: Parameters<typeof post>[1] }, number, string | null]>([
    ['a request without credentials', () => ({ body: valid(), init: { authorization: null } }), 401, null],
    [
      'a Basic instead of a Bearer key',
      () => ({ body: valid(), init: { authorization: `Basic ${SENDGRID_TEST_KEY}` } }),
      401,
      null,
    ],
    [
      'a body that is not JSON',
      () => ({ body: 'personalizations=1', init: { contentType: 'application/x-www-form-urlencoded' } }),
      415,
      null,
    ],
    ['malformed JSON', () => ({ body: '{"personalizations":' }), 400, null],
    ['an unknown field', () => ({ body: { ...valid(), priority: 'high' } }), 400, 'priority'],
    ['no personalizations', () => ({ body: { ...valid(), personalizations: [] } }), 400, 'personalizations'],
    [
      'more personalizations than a request takes',
      () => ({
        body: {
          ...valid(),
          personalizations: Array.from({ length: 1001 }, (_, i) => ({ to: [{ email: `r${i}@example.net` }] })),
        },
      }),
      400,
      'personalizations',
    ],
    [
      'the same address twice',
      () => ({
        body: {
          ...valid(),
          personalizations: [{ to: [{ email: 'a@example.net' }] }, { to: [{ email: 'A@example.net' }] }],
        },
      }),
      400,
      'personalizations.1',
    ],
    ['a personalization without to', () => ({ body: personalization({ to: [] }) }), 400, 'personalizations.0.to'],
    [
      'a reserved header',
      () => ({ body: personalization({ headers: { Subject: 'x' } }) }),
      400,
      'personalizations.0.headers',
    ],
    [
      'a header value that is not a string',
      () => ({ body: personalization({ headers: { 'X-Count': 3 } }) }),
      400,
      'personalizations.0.headers',
    ],
    [
      'custom args that are not strings',
      () => ({ body: personalization({ custom_args: { n: 1 } }) }),
      400,
      'personalizations.0.custom_args',
    ],
    [
      'text/html before text/plain',
      () => ({ body: { ...valid(), content: [...(valid().content as object[])].reverse() } }),
      400,
      'content',
    ],
    [
      'an empty content value',
      () => ({ body: { ...valid(), content: [{ type: 'text/plain', value: '' }] } }),
      400,
      'content.0.value',
    ],
    ['no subject anywhere', () => ({ body: { ...valid(), subject: undefined } }), 400, 'subject'],
    ['a from without an address', () => ({ body: { ...valid(), from: { name: 'Nobody' } } }), 400, 'from'],
  ])('refuses %s', async (_name, make, status, field) => {
    standIn = await startSendgridStandIn();
    const { body, init } = make();
    const res = await post(body, init);
    expect(res.status).toBe(status);
    expect(res.body?.errors?.[0]).toMatchObject({ field, message: expect.any(String) });
    expect(standIn.messages).toHaveLength(0);
  });
});
