import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { listUnsubscribeHeaders } from '../../src/mail/headers.js';
import { MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import { createMailgunMailer, type MailgunOptions } from '../../src/mail/providers/mailgun.js';
import { composeMime } from '../../src/mail/providers/per-message.js';
import {
  MAILGUN_TEST,
  type MailgunStandIn,
  type MailgunStandInOptions,
  startMailgunStandIn,
} from '../stand-ins/mailgun.js';

const run = randomUUID().slice(0, 8);
const message = (i: number): OutgoingMessage => ({
  from: 'How Teams Think <updates@mg.example.com>',
  to: `reader${i}@example.net`,
  subject: `Issue ${i}`,
  html: `<p>Hello reader ${i}</p><p><a href="https://news.example.com/u/${run}-${i}">Unsubscribe</a></p>`,
  text: `Hello reader ${i}\n\nUnsubscribe: https://news.example.com/u/${run}-${i}\n`,
  messageId: `<${run}.${i}@mg.example.com>`,
  headers: {
    ...listUnsubscribeHeaders(
      `https://news.example.com/u/${run}-${i}`,
      `mailto:unsubscribe+${run}-${i}@mg.example.com`,
    ),
    'List-Id': 'How Teams Think <howteamsthink.mg.example.com>',
  },
});

let standIn: MailgunStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function setup(standInOptions: MailgunStandInOptions = {}, mailerOptions: Partial<MailgunOptions> = {}) {
  standIn = await startMailgunStandIn(standInOptions);
  const mailer = createMailgunMailer({ ...MAILGUN_TEST, baseUrl: standIn.url, ...mailerOptions });
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

describe('Mailgun transport against its stand-in', () => {
  it('sends one message as MIME with its list headers and Message-ID intact, to that recipient only', async () => {
    const { standIn, mailer } = await setup();
    const m = message(1);
    const result = await mailer.send(m);

    expect(standIn.messages).toHaveLength(1);
    const got = standIn.messages[0]!;
    expect(result).toMatchObject({ messageId: m.messageId, providerMessageId: m.messageId.slice(1, -1) });
    expect(got.to).toEqual(['reader1@example.net']);
    expect(got.options).toEqual({});
    expect(got.headers.get('message-id')).toEqual([m.messageId]);
    expect(got.headers.get('list-unsubscribe')).toEqual([m.headers['List-Unsubscribe']]);
    expect(got.headers.get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(got.headers.get('list-id')).toEqual([m.headers['List-Id']]);
    expect(got.parsed.text?.trim()).toBe(m.text.trim());
    expect(got.parsed.html).toContain(`/u/${run}-1`);
  });

  it('sends a pre-built MIME message (a broadcast) byte for byte, in test mode when asked', async () => {
    const { standIn, mailer } = await setup({}, { testMode: true });
    const raw = await composeMime(message(2));
    await mailer.send({ ...message(2), raw });
    expect(standIn.messages[0]!.raw.equals(raw)).toBe(true);
    expect(standIn.messages[0]!.options).toEqual({ 'o:testmode': ['yes'] });
  });

  it('delivers a batch of 250 exactly once per recipient', async () => {
    const { standIn, mailer } = await setup();
    const all = Array.from({ length: 250 }, (_, i) => message(i));
    const outcomes = [];
    for (let i = 0; i < all.length; i += mailer.maxBatch)
      outcomes.push(...(await mailer.sendBatch(all.slice(i, i + mailer.maxBatch))));

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const counts = standIn.countByRecipient();
    expect(counts.size).toBe(250);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(standIn.messages.map((g) => g.headers.get('message-id')![0]).sort()).toEqual(
      all.map((m) => m.messageId).sort(),
    );
  });

  it('reports a 429 as rateLimited with the wait it names, and records nothing for the refused message', async () => {
    const { standIn, mailer } = await setup({ rateLimitPerSecond: 1 });
    await mailer.send(message(1));
    const err = await rejection(mailer.send(message(2)));
    expect(err).toMatchObject({ rateLimited: true, permanent: false, responseCode: 429 });
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(1000);
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
    expect([...standIn.countByRecipient().keys()].sort()).toEqual([
      'reader0@example.net',
      'reader1@example.net',
      'reader2@example.net',
      'reader4@example.net',
    ]);
  });

  it('treats a wrong key as a fault of the whole transport, without the key in the error', async () => {
    const { standIn, mailer } = await setup({}, { apiKey: 'key-wrong1111111111111111111111111' });
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false, responseCode: 401 });
    expect(err.message).not.toContain('key-wrong1111');
    await expect(mailer.sendBatch([message(2), message(3)])).rejects.toMatchObject({ relayUnavailable: true });

    const otherDomain = createMailgunMailer({ ...MAILGUN_TEST, domain: 'other.example.com', baseUrl: standIn.url });
    expect(await rejection(otherDomain.send(message(4)))).toMatchObject({ relayUnavailable: true, responseCode: 404 });
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
    await mailer.send(message(1));
    expect(standIn.messages).toHaveLength(1);
  });

  it('uses the API host of the domain’s region', async () => {
    const urls: string[] = [];
    const fetch = async (req: Request) => {
      urls.push(req.url);
      return Response.json({ id: '<x@mg.example.com>', message: 'Queued. Thank you.' });
    };
    await createMailgunMailer({ ...MAILGUN_TEST, region: 'eu', fetch: fetch as typeof globalThis.fetch }).send(
      message(1),
    );
    await createMailgunMailer({ ...MAILGUN_TEST, fetch: fetch as typeof globalThis.fetch }).send(message(1));
    expect(urls).toEqual([
      'https://api.eu.mailgun.net/v3/mg.example.com/messages.mime',
      'https://api.mailgun.net/v3/mg.example.com/messages.mime',
    ]);
  });
});

describe('the Mailgun stand-in is strict', () => {
  const auth = `Basic ${Buffer.from(`api:${MAILGUN_TEST.apiKey}`).toString('base64')}`;
  const mime = 'From: a@mg.example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n';
  const form = (fields: [string, string | Blob][]) => {
    const f = new FormData();
    for (const [k, v] of fields) f.append(k, v);
    return f;
  };
  const file = (text = mime) => new Blob([text], { type: 'message/rfc822' });
  const post = async (
    body: FormData | string,
    init: { path?: string; authorization?: string | null; contentType?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (init.authorization !== null) headers.authorization = init.authorization ?? auth;
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(`${standIn!.url}${init.path ?? `/v3/${MAILGUN_TEST.domain}/messages.mime`}`, {
      method: 'POST',
      headers,
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it('accepts a well-formed request', async () => {
    standIn = await startMailgunStandIn();
    expect(
      (
        await post(
          form([
            ['to', 'b@example.net'],
            ['message', file()],
          ]),
        )
      ).status,
    ).toBe(200);
  });

  it.each<[string, () => { body: FormData | string; init?: Parameters<typeof post>[1] }, number]>([
    [
      'a request without credentials',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
        ]),
        init: { authorization: null },
      }),
      401,
    ],
    [
      'a user other than api',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
        ]),
        init: { authorization: `Basic ${Buffer.from(`admin:${MAILGUN_TEST.apiKey}`).toString('base64')}` },
      }),
      401,
    ],
    [
      'an unknown domain',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
        ]),
        init: { path: '/v3/nope.example.com/messages.mime' },
      }),
      404,
    ],
    [
      'a urlencoded body',
      () => ({ body: 'to=b%40example.net&message=x', init: { contentType: 'application/x-www-form-urlencoded' } }),
      400,
    ],
    [
      'an unknown parameter',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
          ['priority', 'high'],
        ]),
      }),
      400,
    ],
    [
      'the message as a plain field, not a file',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', mime],
        ]),
      }),
      400,
    ],
    ['a missing to', () => ({ body: form([['message', file()]]) }), 400],
    [
      'a to that is not an address',
      () => ({
        body: form([
          ['to', 'not-an-address'],
          ['message', file()],
        ]),
      }),
      400,
    ],
    [
      'more recipients than a request takes',
      () => ({
        body: form([
          ['to', Array.from({ length: 1001 }, (_, i) => `r${i}@example.net`).join(',')],
          ['message', file()],
        ]),
      }),
      400,
    ],
    [
      'a yes/no option that says neither',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
          ['o:testmode', 'maybe'],
        ]),
      }),
      400,
    ],
    [
      'MIME without a From header',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file('To: b@example.net\r\n\r\nhello\r\n')],
        ]),
      }),
      400,
    ],
    [
      'options over the size limit',
      () => ({
        body: form([
          ['to', 'b@example.net'],
          ['message', file()],
          ['v:data', 'x'.repeat(17 * 1024)],
        ]),
      }),
      400,
    ],
  ])('refuses %s', async (_name, make, status) => {
    standIn = await startMailgunStandIn();
    const { body, init } = make();
    const res = await post(body, init);
    expect(res.status).toBe(status);
    if (status === 400) expect(JSON.parse(res.text)).toEqual({ message: expect.any(String) });
    if (status === 401) expect(res.text).toBe('Forbidden');
    expect(standIn.messages).toHaveLength(0);
  });
});
