import { randomUUID } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { listUnsubscribeHeaders } from '../../src/mail/headers.js';
import { MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import { composeMime } from '../../src/mail/providers/per-message.js';
import { createSesMailer, type SesOptions } from '../../src/mail/providers/ses.js';
import { SES_TEST_CREDENTIALS, type SesStandIn, type SesStandInOptions, startSesStandIn } from '../stand-ins/ses.js';

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

let standIn: SesStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function setup(standInOptions: SesStandInOptions = {}, mailerOptions: Partial<SesOptions> = {}) {
  standIn = await startSesStandIn(standInOptions);
  const mailer = createSesMailer({ ...SES_TEST_CREDENTIALS, baseUrl: standIn.url, ...mailerOptions });
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

describe('Amazon SES v2 transport against its stand-in', () => {
  it('sends one message with its list headers and Message-ID intact, to that recipient only', async () => {
    const { standIn, mailer } = await setup();
    const m = message(1);
    const result = await mailer.send(m);

    expect(standIn.messages).toHaveLength(1);
    const got = standIn.messages[0]!;
    expect(result).toMatchObject({ messageId: m.messageId, providerMessageId: got.sesMessageId });
    expect(got.destination).toEqual(['reader1@example.net']);
    expect(got.fromEmailAddress).toBe('updates@news.example.com');
    expect(got.headers.get('message-id')).toEqual([m.messageId]);
    expect(got.headers.get('list-unsubscribe')).toEqual([m.headers['List-Unsubscribe']]);
    expect(got.headers.get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(got.headers.get('list-id')).toEqual([m.headers['List-Id']]);
    expect(got.parsed.text?.trim()).toBe(m.text.trim());
    expect(got.parsed.html).toContain(`/u/${run}-1`);
  });

  it('sends a pre-built MIME message (a broadcast) byte for byte', async () => {
    const { standIn, mailer } = await setup();
    const raw = await composeMime(message(2));
    await mailer.send({ ...message(2), raw });
    expect(standIn.messages[0]!.raw.equals(raw)).toBe(true);
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
    const perRecipient = new Map<string, number>();
    for (const got of standIn.messages)
      for (const to of got.destination) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    expect(perRecipient.size).toBe(250);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(standIn.messages.map((g) => g.headers.get('message-id')![0]).sort()).toEqual(
      all.map((m) => m.messageId).sort(),
    );
  });

  it('reports throttling as rateLimited with a wait, and records nothing for the refused message', async () => {
    const { standIn, mailer } = await setup({ rateLimitPerSecond: 1 });
    await mailer.send(message(1));
    const err = await rejection(mailer.send(message(2)));
    expect(err).toMatchObject({ rateLimited: true, permanent: false, responseCode: 429 });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(standIn.messages.map((g) => g.destination[0])).toEqual(['reader1@example.net']);

    // A batch refused as a whole throws, as the Mailer contract says.
    const batchErr = await rejection(mailer.sendBatch([message(3), message(4)]));
    expect(batchErr.rateLimited).toBe(true);
    expect(standIn.messages).toHaveLength(1);
  });

  it('settles a rejected recipient alone, the rest of the batch delivered', async () => {
    const { standIn, mailer } = await setup({ rejectRecipients: ['reader3@example.net'] });
    const outcomes = await mailer.sendBatch([0, 1, 2, 3, 4].map(message));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, true]);
    const failed = outcomes[3]!;
    expect(failed.ok === false && failed.error).toMatchObject({
      permanent: true,
      responseCode: 400,
      rateLimited: false,
      relayUnavailable: false,
    });
    expect(failed.ok === false && failed.error.message).toMatch(/MessageRejected/);
    expect(standIn.messages.map((g) => g.destination[0]).sort()).toEqual([
      'reader0@example.net',
      'reader1@example.net',
      'reader2@example.net',
      'reader4@example.net',
    ]);
  });

  it('treats bad credentials as a fault of the whole transport, without the secret in the error', async () => {
    const { standIn, mailer } = await setup({}, { secretAccessKey: 'wrong/Secret+Key0000000000000000000000000' });
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false, responseCode: 403 });
    expect(err.message).toMatch(/SignatureDoesNotMatch/);
    expect(err.message).not.toContain('wrong/Secret+Key');
    await expect(mailer.sendBatch([message(2), message(3)])).rejects.toMatchObject({ relayUnavailable: true });

    const unknownKey = createSesMailer({
      ...SES_TEST_CREDENTIALS,
      accessKeyId: 'AKIDUNKNOWN000000000',
      baseUrl: standIn.url,
    });
    expect(await rejection(unknownKey.send(message(4)))).toMatchObject({ relayUnavailable: true, responseCode: 403 });
    expect(standIn.messages).toHaveLength(0);
  });

  it('treats a paused account as a fault of the whole transport, not of the recipient', async () => {
    const { mailer } = await setup({ sending: 'paused' });
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false, responseCode: 400 });
    expect(err.message).toMatch(/SendingPausedException/);
  });

  it('signs for the regional endpoint by default', async () => {
    const seen: { url: string; authorization: string | null }[] = [];
    const fetch = async (req: Request) => {
      seen.push({ url: req.url, authorization: req.headers.get('authorization') });
      return Response.json({ MessageId: 'm-1' });
    };
    const result = await createSesMailer({ ...SES_TEST_CREDENTIALS, fetch: fetch as typeof globalThis.fetch }).send(
      message(1),
    );
    expect(result.providerMessageId).toBe('m-1');
    expect(seen[0]!.url).toBe('https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails');
    expect(seen[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN0EXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('treats an unverified sender as a fault of the whole transport, not of the recipient', async () => {
    const { standIn, mailer } = await setup({ verifiedIdentities: ['other.example.com'] });
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false, responseCode: 400 });
    expect(err.message).toMatch(/MessageRejected: Email address is not verified/);
    await standIn.close();
    const verified = await setup({ verifiedIdentities: ['news.example.com'] });
    await verified.mailer.send(message(1));
    expect(verified.standIn.messages).toHaveLength(1);
  });

  it('waits longer for the daily quota than for the sending rate', async () => {
    const throttled = (text: string) => async () =>
      new Response(JSON.stringify({ message: text }), {
        status: 400,
        headers: {
          'x-amzn-ErrorType': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/',
        },
      });
    const send = (text: string) =>
      createSesMailer({ ...SES_TEST_CREDENTIALS, fetch: throttled(text) as unknown as typeof fetch }).send(message(1));
    const rate = await rejection(send('Maximum sending rate exceeded.'));
    const daily = await rejection(send('Daily message quota exceeded.'));
    expect(rate).toMatchObject({ rateLimited: true, retryAfterMs: 1_000 });
    expect(daily).toMatchObject({ rateLimited: true, retryAfterMs: 600_000 });
  });

  it('reports an unreachable endpoint as nothing transmitted', async () => {
    const { standIn, mailer } = await setup();
    await standIn.close();
    const err = await rejection(mailer.send(message(1)));
    expect(err).toMatchObject({ relayUnavailable: true, permanent: false });
  });

  it('passes the VERP envelope sender as the feedback address only when asked', async () => {
    const { standIn, mailer } = await setup(
      {},
      { forwardFeedbackToEnvelopeFrom: true, configurationSetName: 'newsletter' },
    );
    await mailer.send({ ...message(1), envelopeFrom: 'bounces+abc@news.example.com' });
    expect(standIn.messages[0]).toMatchObject({
      feedbackForwardingEmailAddress: 'bounces+abc@news.example.com',
      configurationSetName: 'newsletter',
    });
    const plain = createSesMailer({ ...SES_TEST_CREDENTIALS, baseUrl: standIn.url });
    await plain.send({ ...message(2), envelopeFrom: 'bounces+def@news.example.com' });
    expect(standIn.messages[1]!.feedbackForwardingEmailAddress).toBeUndefined();
  });
});

describe('the SES stand-in is strict', () => {
  const aws = new AwsClient({ ...SES_TEST_CREDENTIALS, service: 'ses', retries: 0 });
  const post = async (url: string, body: unknown, init: { sign?: boolean; path?: string } = {}) => {
    const target = `${url}${init.path ?? '/v2/email/outbound-emails'}`;
    const req = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
    const res = init.sign === false ? await fetch(target, req) : await fetch(await aws.sign(target, req));
    return {
      status: res.status,
      type: res.headers.get('x-amzn-errortype')?.split(':')[0],
      body: (await res.json()) as { message?: string },
    };
  };
  const raw = async (over: Partial<OutgoingMessage> = {}) =>
    (await composeMime({ ...message(1), ...over })).toString('base64');

  it('accepts a well-formed signed request', async () => {
    standIn = await startSesStandIn();
    const res = await post(standIn.url, {
      Destination: { ToAddresses: ['a@example.net'] },
      Content: { Raw: { Data: await raw() } },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    [
      'an unsigned request',
      async () => ({ body: { Content: { Raw: { Data: await raw() } } }, sign: false }),
      403,
      'MissingAuthenticationTokenException',
    ],
    [
      'an unknown field',
      async () => ({ body: { Content: { Raw: { Data: await raw() } }, Priority: 'high' } }),
      400,
      'BadRequestException',
    ],
    [
      'data that is not base64',
      async () => ({ body: { Content: { Raw: { Data: 'not base64!' } } } }),
      400,
      'BadRequestException',
    ],
    [
      'Simple content',
      async () => ({ body: { Content: { Simple: { Subject: { Data: 'x' } } } } }),
      400,
      'BadRequestException',
    ],
    [
      'a wrong path',
      async () => ({ body: { Content: { Raw: { Data: await raw() } } }, path: '/v2/email/outbound-email' }),
      404,
      'UnknownOperationException',
    ],
    ['malformed JSON', async () => ({ body: '{"Content":' }), 400, 'BadRequestException'],
    [
      'a duplicated Message-ID header',
      async () => ({
        body: {
          Content: {
            Raw: {
              Data: Buffer.from(
                `From: a@example.com\r\nTo: b@example.net\r\nMessage-ID: <1@x>\r\nMessage-ID: <2@x>\r\n\r\nhi\r\n`,
              ).toString('base64'),
            },
          },
        },
      }),
      400,
      'MessageRejected',
    ],
    [
      'a line longer than the limit',
      async () => ({
        body: {
          Content: {
            Raw: {
              Data: Buffer.from(`From: a@example.com\r\nTo: b@example.net\r\n\r\n${'x'.repeat(1200)}\r\n`).toString(
                'base64',
              ),
            },
          },
        },
      }),
      400,
      'MessageRejected',
    ],
    [
      'no recipient at all',
      async () => ({
        body: { Content: { Raw: { Data: Buffer.from('From: a@example.com\r\n\r\nhi\r\n').toString('base64') } } },
      }),
      400,
      'MessageRejected',
    ],
  ])('refuses %s', async (_name, make, status, type) => {
    standIn = await startSesStandIn();
    const { body, sign, path } = (await make()) as { body: unknown; sign?: boolean; path?: string };
    const res = await post(standIn.url, body, { ...(sign === undefined ? {} : { sign }), ...(path ? { path } : {}) });
    expect({ status: res.status, type: res.type }).toEqual({ status, type });
    expect(typeof res.body.message).toBe('string');
    expect(standIn.messages).toHaveLength(0);
  });

  it('refuses a request signed for another region', async () => {
    standIn = await startSesStandIn();
    const other = new AwsClient({ ...SES_TEST_CREDENTIALS, region: 'us-east-1', service: 'ses', retries: 0 });
    const res = await fetch(
      await other.sign(`${standIn.url}/v2/email/outbound-emails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Content: { Raw: { Data: await raw() } } }),
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^SignatureDoesNotMatch/);
  });
});
