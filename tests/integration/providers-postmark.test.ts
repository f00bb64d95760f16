import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchOutcome, MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import {
  createPostmarkMailer,
  POSTMARK_MAX_BATCH_BYTES,
  type PostmarkOptions,
} from '../../src/mail/providers/postmark.js';
import { type PostmarkStandIn, type PostmarkStandInOptions, startPostmarkStandIn } from '../stand-ins/postmark.js';
import { sampleMessage } from '../stand-ins/support.js';

const TOKEN = 'pm-server-7c1d0e5a-93b2-4f0e-b8a1-2d6c4e9f1a3b';
let standIn: PostmarkStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function start(opts: Partial<PostmarkStandInOptions> = {}) {
  standIn = await startPostmarkStandIn({ serverToken: TOKEN, ...opts });
  return standIn;
}
const mailerFor = (s: { url: string }, opts: Partial<PostmarkOptions> = {}) =>
  createPostmarkMailer({ serverToken: TOKEN, baseUrl: s.url, messageStream: 'broadcast', timeoutMs: 5000, ...opts });
const messages = (count: number, from = 0) => Array.from({ length: count }, (_, i) => sampleMessage(from + i));
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected a MailError'),
    (e: unknown) => {
      expect(e).toBeInstanceOf(MailError);
      return e as MailError;
    },
  );
const headerMap = (headers: { Name: string; Value: string }[]) =>
  Object.fromEntries(headers.map((h) => [h.Name, h.Value]));

function expectExactlyOnce(s: PostmarkStandIn, sent: OutgoingMessage[], outcomes: BatchOutcome[]) {
  const counts = s.countByRecipient();
  expect(counts.size).toBe(sent.length);
  for (const m of sent) expect(counts.get(m.to)).toBe(1);
  const byId = new Map(s.messages.map((r) => [r.MessageID, r]));
  outcomes.forEach((o, i) => {
    expect(o.ok).toBe(true);
    if (o.ok) expect(byId.get(o.result.providerMessageId!)?.To).toEqual([sent[i]!.to]);
  });
}

describe('Postmark transport', () => {
  it('sends one message with every header intact', async () => {
    const s = await start();
    const m = sampleMessage(1);
    const result = await mailerFor(s).send(m);

    expect(s.messages).toHaveLength(1);
    const got = s.messages[0]!;
    expect(got).toMatchObject({
      endpoint: '/email',
      From: m.from,
      To: [m.to],
      Subject: m.subject,
      HtmlBody: m.html,
      TextBody: m.text,
      MessageStream: 'broadcast',
    });
    expect(headerMap(got.Headers)).toEqual({ 'Message-ID': m.messageId, ...m.headers });
    expect(result).toMatchObject({ messageId: m.messageId, providerMessageId: got.MessageID });

    const request = s.requests[0]!;
    expect(request.headers).toMatchObject({
      'x-postmark-server-token': TOKEN,
      accept: 'application/json',
      'content-type': 'application/json',
    });
  });

  it('sends 250 messages in one batch request, each exactly once', async () => {
    const s = await start();
    const sent = messages(250);
    const outcomes = await mailerFor(s).sendBatch(sent);

    expect(s.requests.map((r) => [r.path, (JSON.parse(r.body) as unknown[]).length])).toEqual([['/email/batch', 250]]);
    expectExactlyOnce(s, sent, outcomes);
  });

  it('splits a batch that would pass the payload limit', async () => {
    const s = await start({ maxBatchBytes: 20_000 });
    const sent = messages(40);
    const outcomes = await mailerFor(s, { maxBatchBytes: 20_000 }).sendBatch(sent);

    expect(s.requests.length).toBeGreaterThan(1);
    for (const r of s.requests) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(20_000);
    expectExactlyOnce(s, sent, outcomes);
    expect(POSTMARK_MAX_BATCH_BYTES).toBe(50_000_000);
  });

  it('reports a 429 as rate limited with its Retry-After, and nothing is recorded', async () => {
    const s = await start({ rateLimitPerSecond: 1, retryAfterSeconds: 7 });
    const mailer = mailerFor(s);
    await mailer.send(sampleMessage(1));

    const batch = await rejection(mailer.sendBatch(messages(3, 10)));
    expect(batch).toMatchObject({ rateLimited: true, retryAfterMs: 7000, permanent: false, responseCode: 429 });
    expect(await rejection(mailer.send(sampleMessage(2)))).toMatchObject({ rateLimited: true, retryAfterMs: 7000 });
    expect(s.messages).toHaveLength(1);
  });

  it('settles an inactive recipient as suppressed and an invalid address as a hard bounce, sending the rest', async () => {
    const s = await start({ inactive: ['gone@example.org'] });
    const sent = [
      sampleMessage(1),
      sampleMessage(2, { to: 'gone@example.org' }),
      sampleMessage(3, { to: 'no-at-sign.example.org' }),
      sampleMessage(4),
    ];
    const outcomes = await mailerFor(s).sendBatch(sent);

    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    const [, inactive, invalid] = outcomes;
    if (inactive!.ok || invalid!.ok) throw new Error('unreachable');
    expect(inactive!.error).toMatchObject({
      permanent: true,
      suppressed: true,
      isHardBounce: false,
      relayUnavailable: false,
      responseCode: 422,
    });
    expect(inactive!.error.message).toContain('ErrorCode 406');
    expect(invalid!.error).toMatchObject({
      permanent: true,
      suppressed: false,
      isHardBounce: true,
      relayUnavailable: false,
    });
    expect(invalid!.error.message).toContain('ErrorCode 300');
    expectExactlyOnce(s, [sent[0]!, sent[3]!], [outcomes[0]!, outcomes[3]!]);
  });

  it('refuses a single inactive recipient for good, as suppressed', async () => {
    const s = await start({ inactive: ['gone@example.org'] });
    const error = await rejection(mailerFor(s).send(sampleMessage(1, { to: 'gone@example.org' })));
    expect(error).toMatchObject({ permanent: true, suppressed: true, responseCode: 422 });
    expect(s.messages).toHaveLength(0);
  });

  it('fails the whole call on a wrong token, as a transport fault, never showing the token', async () => {
    const s = await start();
    const wrong = 'pm-server-00000000-wrong-token-value';
    const mailer = mailerFor(s, { serverToken: wrong });
    for (const attempt of [mailer.send(sampleMessage(1)), mailer.sendBatch(messages(3))]) {
      const error = await rejection(attempt);
      expect(error).toMatchObject({
        relayUnavailable: true,
        permanent: false,
        isHardBounce: false,
        suppressed: false,
        responseCode: 401,
      });
      expect(error.message).not.toContain(wrong);
      expect(error.message).not.toContain(TOKEN);
    }
    expect(s.messages).toHaveLength(0);
  });

  it('treats an unknown message stream as misconfiguration, for the whole batch', async () => {
    const s = await start();
    const error = await rejection(mailerFor(s, { messageStream: 'newsletter' }).sendBatch(messages(3)));
    expect(error).toMatchObject({ relayUnavailable: true, permanent: false });
    expect(error.message).toContain('ErrorCode 1235');
  });

  it('chooses the stream per message when asked to', async () => {
    const s = await start();
    const mailer = mailerFor(s, { messageStream: (m) => (m.headers['List-Id'] ? 'broadcast' : undefined) });
    const transactional = sampleMessage(2, { headers: {} });
    await mailer.sendBatch([sampleMessage(1), transactional]);
    expect(s.messages.map((m) => m.MessageStream)).toEqual(['broadcast', 'outbound']);
    expect(JSON.parse(s.requests[0]!.body)[1]).not.toHaveProperty('MessageStream');
  });

  it('never reads a refusal of a whole batch as a verdict on each recipient', async () => {
    for (const body of [
      { ErrorCode: 300, Message: "Invalid 'To' address: 'x'." },
      { ErrorCode: 406, Message: 'You tried to send to recipient(s) that have been marked as inactive.' },
    ]) {
      const fetchStub = (async () => Response.json(body, { status: 422 })) as unknown as typeof fetch;
      const outcomes = await createPostmarkMailer({
        serverToken: TOKEN,
        baseUrl: 'http://127.0.0.1:9',
        fetch: fetchStub,
      }).sendBatch(messages(3));
      for (const o of outcomes)
        expect(o).toMatchObject({ ok: false, error: { permanent: true, isHardBounce: false, suppressed: false } });
    }
  });

  it('tells transient faults from an unreachable API', async () => {
    const s = await start();
    const mailer = mailerFor(s);
    s.failNext(1, 500);
    expect(await rejection(mailer.sendBatch(messages(2)))).toMatchObject({
      permanent: false,
      relayUnavailable: false,
      responseCode: 500,
    });
    s.failNext(1, 503);
    expect(await rejection(mailer.send(sampleMessage(1)))).toMatchObject({
      permanent: false,
      relayUnavailable: true,
      responseCode: 503,
    });
    expect(s.messages).toHaveLength(0);

    const gone = await startPostmarkStandIn({ serverToken: TOKEN });
    await gone.close();
    expect(await rejection(mailerFor(gone).send(sampleMessage(1)))).toMatchObject({
      relayUnavailable: true,
      permanent: false,
    });
  });
});

describe('Postmark stand-in', () => {
  const post = (s: PostmarkStandIn, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'X-Postmark-Server-Token': TOKEN,
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => undefined)) as unknown }));
  const message = (n = 1) => ({
    From: 'news@author.example',
    To: `reader${n}@example.org`,
    Subject: 'Hi',
    TextBody: 'Hello',
  });

  it('refuses what Postmark documents as wrong, recording nothing', async () => {
    const s = await start();
    expect(await post(s, '/email', { ...message(), Unknown: 1 })).toMatchObject({
      status: 422,
      body: { ErrorCode: 403 },
    });
    expect(await post(s, '/email', { ...message(), Headers: { 'List-Id': 'x' } })).toMatchObject({
      status: 422,
      body: { ErrorCode: 403 },
    });
    expect(
      await post(s, '/email', { ...message(), Headers: [{ Name: 'List-Id', Value: 'x', Extra: 1 }] }),
    ).toMatchObject({ status: 422 });
    expect(await post(s, '/email', message(), { 'X-Postmark-Server-Token': '' })).toMatchObject({
      status: 401,
      body: { ErrorCode: 10 },
    });
    expect(await post(s, '/email', message(), { Accept: '' })).toMatchObject({ status: 422, body: { ErrorCode: 409 } });
    expect(await post(s, '/email', '{not json')).toMatchObject({ status: 422, body: { ErrorCode: 402 } });
    expect(await post(s, '/email', { ...message(), TextBody: undefined })).toMatchObject({
      status: 422,
      body: { ErrorCode: 300 },
    });
    expect(await post(s, '/email', { ...message(), MessageStream: 'nope' })).toMatchObject({
      status: 422,
      body: { ErrorCode: 1235 },
    });
    expect(
      await post(
        s,
        '/email/batch',
        Array.from({ length: 501 }, (_, i) => message(i)),
      ),
    ).toMatchObject({ status: 422, body: { ErrorCode: 410 } });
    expect(await post(s, '/emails', message())).toMatchObject({ status: 404 });
    expect(s.messages).toHaveLength(0);
  });

  it('refuses a batch over the payload limit', async () => {
    const s = await start({ maxBatchBytes: 1000 });
    const big = Array.from({ length: 5 }, (_, i) => ({ ...message(i), TextBody: 'x'.repeat(300) }));
    expect(await post(s, '/email/batch', big)).toMatchObject({ status: 413 });
    expect(s.messages).toHaveLength(0);
  });

  it('answers a batch with one result per message, as documented', async () => {
    const s = await start({ inactive: ['reader2@example.org'] });
    const answer = await post(s, '/email/batch', [message(1), message(2)]);
    expect(answer).toMatchObject({
      status: 200,
      body: [
        {
          ErrorCode: 0,
          Message: 'OK',
          To: 'reader1@example.org',
          MessageID: expect.any(String),
          SubmittedAt: expect.any(String),
        },
        { ErrorCode: 406, Message: expect.stringContaining('Found inactive addresses: reader2@example.org.') },
      ],
    });
    expect(Object.keys((answer.body as object[])[1]!)).toEqual(['ErrorCode', 'Message']);
    expect(s.messages).toHaveLength(1);
  });

  it('runs as a process of its own', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/stand-ins/postmark.ts',
        '--port',
        '0',
        '--server-token',
        TOKEN,
        '--inactive',
        'reader00001@example.org',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      const outcomes = await mailerFor({ url }).sendBatch(messages(3));
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      const counts = (await (await fetch(`${url}/_stand-in/recipients`)).json()) as Record<string, number>;
      expect(counts).toEqual({ 'reader00000@example.org': 1, 'reader00002@example.org': 1 });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
