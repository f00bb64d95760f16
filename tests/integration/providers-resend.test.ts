import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchOutcome, MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import { createResendMailer, type ResendOptions } from '../../src/mail/providers/resend.js';
import { type ResendStandIn, type ResendStandInOptions, startResendStandIn } from '../stand-ins/resend.js';
import { sampleMessage } from '../stand-ins/support.js';

const KEY = 're_test_Zq81kLw0PmX';
let standIn: ResendStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function start(opts: Partial<ResendStandInOptions> = {}) {
  standIn = await startResendStandIn({ apiKey: KEY, ...opts });
  return standIn;
}
const mailerFor = (s: { url: string }, opts: Partial<ResendOptions> = {}) =>
  createResendMailer({ apiKey: KEY, baseUrl: s.url, timeoutMs: 5000, ...opts });
const messages = (count: number, from = 0) => Array.from({ length: count }, (_, i) => sampleMessage(from + i));
const ids = (outcomes: BatchOutcome[]) => outcomes.map((o) => (o.ok ? o.result.providerMessageId : undefined));
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected a MailError'),
    (e: unknown) => {
      expect(e).toBeInstanceOf(MailError);
      return e as MailError;
    },
  );

/** Every message recorded once, and each outcome's provider id naming the recorded message to that recipient. */
function expectExactlyOnce(s: ResendStandIn, sent: OutgoingMessage[], outcomes: BatchOutcome[]) {
  const counts = s.countByRecipient();
  expect(counts.size).toBe(sent.length);
  for (const m of sent) expect(counts.get(m.to)).toBe(1);
  const byId = new Map(s.messages.map((r) => [r.id, r]));
  outcomes.forEach((o, i) => {
    expect(o.ok).toBe(true);
    if (o.ok) expect(byId.get(o.result.providerMessageId!)?.to).toEqual([sent[i]!.to]);
  });
}

describe('Resend transport', () => {
  it('sends one message with every header intact', async () => {
    const s = await start();
    const m = sampleMessage(1);
    const result = await mailerFor(s).send(m);

    expect(s.messages).toHaveLength(1);
    const got = s.messages[0]!;
    expect(got).toMatchObject({
      endpoint: '/emails',
      from: m.from,
      to: [m.to],
      subject: m.subject,
      html: m.html,
      text: m.text,
    });
    expect(got.headers).toEqual({ 'Message-ID': m.messageId, ...m.headers });
    expect(result).toMatchObject({ messageId: m.messageId, providerMessageId: got.id });

    const request = s.requests[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['idempotency-key']).toBe(m.idempotencyKey);
    expect(request.headers['user-agent']).toBe('quire');
  });

  it('sends 250 messages as batches of at most 100, each exactly once', async () => {
    const s = await start();
    const sent = messages(250);
    const outcomes = await mailerFor(s).sendBatch(sent);

    expect(s.requests.map((r) => [r.path, (JSON.parse(r.body) as unknown[]).length])).toEqual([
      ['/emails/batch', 100],
      ['/emails/batch', 100],
      ['/emails/batch', 50],
    ]);
    expectExactlyOnce(s, sent, outcomes);
    for (const r of s.messages) expect(r.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('reports a 429 as rate limited with its Retry-After, and nothing is recorded', async () => {
    const s = await start({ rateLimitPerSecond: 1, retryAfterSeconds: 7 });
    const mailer = mailerFor(s);
    await mailer.send(sampleMessage(1));

    const batch = await rejection(mailer.sendBatch(messages(3, 10)));
    expect(batch).toMatchObject({ rateLimited: true, retryAfterMs: 7000, permanent: false, responseCode: 429 });
    const single = await rejection(mailer.send(sampleMessage(2)));
    expect(single).toMatchObject({ rateLimited: true, retryAfterMs: 7000 });
    expect(s.messages).toHaveLength(1);
    expect(s.requests.at(-1)!.status).toBe(429);
  });

  it('settles the accepted part of a split batch and reports the rest as rate limited', async () => {
    const s = await start({ rateLimitPerSecond: 2, retryAfterSeconds: 1 });
    const sent = messages(250);
    const outcomes = await mailerFor(s).sendBatch(sent);

    expect(outcomes.slice(0, 200).every((o) => o.ok)).toBe(true);
    for (const o of outcomes.slice(200))
      expect(o).toMatchObject({ ok: false, error: { rateLimited: true, retryAfterMs: 1000 } });
    expect(s.messages).toHaveLength(200);
    expectExactlyOnce(s, sent.slice(0, 200), outcomes.slice(0, 200));
  });

  it('settles a message Resend refuses on its own, and sends the others', async () => {
    const s = await start({ invalid: ['nobody@example.org'] });
    const sent = [sampleMessage(1), sampleMessage(2, { to: 'nobody@example.org' }), sampleMessage(3)];
    const outcomes = await mailerFor(s).sendBatch(sent);

    expect(s.requests[0]!.headers['x-batch-validation']).toBe('permissive');
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const refused = outcomes[1]!;
    if (refused.ok) throw new Error('unreachable');
    expect(refused.error).toMatchObject({
      permanent: true,
      isHardBounce: true,
      suppressed: false,
      relayUnavailable: false,
    });
    expect(s.messages.map((m) => m.to[0])).toEqual([sent[0]!.to, sent[2]!.to]);
    expectExactlyOnce(s, [sent[0]!, sent[2]!], [outcomes[0]!, outcomes[2]!]);
  });

  it('refuses a single invalid message for good', async () => {
    const s = await start({ invalid: ['nobody@example.org'] });
    const error = await rejection(mailerFor(s).send(sampleMessage(1, { to: 'nobody@example.org' })));
    expect(error).toMatchObject({ permanent: true, isHardBounce: true, responseCode: 400 });
    expect(s.messages).toHaveLength(0);
  });

  it('fails the whole call on a wrong key, as a transport fault, never showing the key', async () => {
    const s = await start();
    const wrong = 're_wrong_9Hq2LxVv0b';
    const mailer = mailerFor(s, { apiKey: wrong });
    for (const attempt of [mailer.send(sampleMessage(1)), mailer.sendBatch(messages(3))]) {
      const error = await rejection(attempt);
      expect(error).toMatchObject({
        relayUnavailable: true,
        permanent: false,
        isHardBounce: false,
        suppressed: false,
        responseCode: 403,
      });
      expect(error.message).not.toContain(wrong);
      expect(error.message).not.toContain(KEY);
    }
    expect(s.messages).toHaveLength(0);
  });

  it('records the same batch once when it is sent twice, in any order', async () => {
    const s = await start();
    const mailer = mailerFor(s);
    const sent = messages(5);
    const first = await mailer.sendBatch(sent);
    const again = await mailer.sendBatch([...sent].reverse());

    expect(s.messages).toHaveLength(5);
    expect(ids(again)).toEqual(ids(first).reverse());
    const keys = s.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^quire-batch\/[0-9a-f]{64}$/);
    expect(keys[1]).toBe(keys[0]);
    expectExactlyOnce(s, sent, first);
  });

  it('does not send again after Resend accepted a batch whose answer was lost', async () => {
    const s = await start();
    const mailer = mailerFor(s);
    const sent = messages(150);
    s.dropResponses(1);
    const lost = await rejection(mailer.sendBatch(sent));
    // Not "unreachable": the request went out, and may have been taken.
    expect(lost).toMatchObject({ relayUnavailable: false, rateLimited: false, permanent: false });
    expect(s.messages).toHaveLength(100);

    const retried = await mailer.sendBatch(sent);
    expectExactlyOnce(s, sent, retried);
    expect(s.requests).toHaveLength(3);
  });

  it('deduplicates a single message by its own key, also when it comes as a batch of one', async () => {
    const s = await start();
    const mailer = mailerFor(s);
    const m = sampleMessage(1);
    const a = await mailer.send(m);
    const b = await mailer.send(m);
    const [c] = await mailer.sendBatch([m]);
    expect(s.messages).toHaveLength(1);
    expect(b.providerMessageId).toBe(a.providerMessageId);
    expect(c).toMatchObject({ ok: true, result: { providerMessageId: a.providerMessageId } });
  });

  // Regression: a message rendered again after a crash (new signed links) was failed for good, though
  // Resend had already sent it under that key.
  it('counts the same rows with other content as sent before, and sends nothing again', async () => {
    const s = await start();
    const mailer = mailerFor(s);
    await mailer.sendBatch(messages(2));
    const changed = await mailer.sendBatch(messages(2).map((m) => ({ ...m, subject: `${m.subject} (edited)` })));
    for (const o of changed)
      expect(o).toMatchObject({ ok: true, result: { response: expect.stringMatching(/accepted before/) } });
    const [single] = messages(1);
    await mailer.send(single!);
    await expect(mailer.send({ ...single!, subject: 'rendered again' })).resolves.toMatchObject({
      messageId: single!.messageId,
    });
    expect(s.messages).toHaveLength(3);
  });

  it('never reads a refusal of a whole batch as a verdict on each recipient', async () => {
    const body = { statusCode: 400, name: 'validation_error', message: 'emails[1]: Invalid `to` field.' };
    const fetchStub = (async () => Response.json(body, { status: 400 })) as unknown as typeof fetch;
    const outcomes = await createResendMailer({
      apiKey: KEY,
      baseUrl: 'http://127.0.0.1:9',
      fetch: fetchStub,
    }).sendBatch(messages(3));
    for (const o of outcomes)
      expect(o).toMatchObject({ ok: false, error: { permanent: true, isHardBounce: false, suppressed: false } });
  });

  it('tells transient faults from an unreachable API', async () => {
    const s = await start({ delayMs: 0 });
    const mailer = mailerFor(s);
    s.failNext(1, 500);
    expect(await rejection(mailer.send(sampleMessage(1)))).toMatchObject({
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

    const slow = await startResendStandIn({ apiKey: KEY, delayMs: 400 });
    try {
      const timedOut = await rejection(mailerFor(slow, { timeoutMs: 50 }).send(sampleMessage(1)));
      expect(timedOut).toMatchObject({ permanent: false, relayUnavailable: false });
      expect(timedOut.message).toContain('no response within 50 ms');
    } finally {
      await slow.close();
    }

    const gone = await startResendStandIn({ apiKey: KEY });
    await gone.close();
    expect(await rejection(mailerFor(gone).sendBatch(messages(2)))).toMatchObject({
      relayUnavailable: true,
      permanent: false,
    });
  });
});

describe('Resend stand-in', () => {
  const post = (s: ResendStandIn, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      body: (await r.json().catch(() => undefined)) as Record<string, unknown>,
    }));
  const email = (n = 1) => ({
    from: 'The Author <news@author.example>',
    to: [`reader${n}@example.org`],
    subject: 'Hi',
    text: 'Hello',
  });

  it('refuses what Resend documents as wrong, recording nothing', async () => {
    const s = await start();
    expect(await post(s, '/emails', { ...email(), reply: 'x@example.org' })).toMatchObject({
      status: 400,
      body: { name: 'validation_error', statusCode: 400 },
    });
    expect(await post(s, '/emails', email(), { Authorization: '' })).toMatchObject({
      status: 401,
      body: { name: 'missing_api_key' },
    });
    expect(await post(s, '/emails', email(), { Authorization: 'Bearer re_other' })).toMatchObject({
      status: 403,
      body: { name: 'invalid_api_key' },
    });
    expect(
      await post(
        s,
        '/emails/batch',
        Array.from({ length: 101 }, (_, i) => email(i)),
      ),
    ).toMatchObject({ status: 422 });
    expect(await post(s, '/emails', { ...email(), to: 'not an address' })).toMatchObject({
      status: 400,
      body: { name: 'validation_error' },
    });
    expect(await post(s, '/emails', { from: email().from, to: email().to, subject: 'x' })).toMatchObject({
      status: 422,
      body: { name: 'missing_required_field' },
    });
    expect(await post(s, '/emails', { ...email(), headers: { 'Bad Name': 'x' } })).toMatchObject({ status: 400 });
    expect(await post(s, '/emails', 'from=a', { 'Content-Type': 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 400,
    });
    expect(await post(s, '/emails', email(), { 'Idempotency-Key': 'k'.repeat(257) })).toMatchObject({
      status: 400,
      body: { name: 'invalid_idempotency_key' },
    });
    expect(await post(s, '/emails/batch', [email(1), { ...email(2), attachments: [] }])).toMatchObject({ status: 400 });
    expect(await post(s, '/emails/batch', [email(1), { ...email(2), to: 'nope' }])).toMatchObject({ status: 400 });
    expect(await post(s, '/email', email())).toMatchObject({ status: 404, body: { name: 'not_found' } });
    expect((await fetch(`${s.url}/emails`, { headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(405);
    expect(s.messages).toHaveLength(0);
  });

  it('answers a repeated key with the first response, and a changed body with 409', async () => {
    const s = await start();
    const first = await post(s, '/emails', email(), { 'Idempotency-Key': 'welcome/1' });
    expect(await post(s, '/emails', email(), { 'Idempotency-Key': 'welcome/1' })).toMatchObject({
      status: 200,
      body: first.body,
    });
    expect(await post(s, '/emails', email(2), { 'Idempotency-Key': 'welcome/1' })).toMatchObject({
      status: 409,
      body: { name: 'invalid_idempotent_request' },
    });
    expect(s.messages).toHaveLength(1);
  });

  it('answers a permissive batch with data for the created emails and errors by index', async () => {
    const s = await start();
    const answer = await post(s, '/emails/batch', [email(1), { ...email(2), to: 'nope' }, email(3)], {
      'x-batch-validation': 'permissive',
    });
    expect(answer.status).toBe(200);
    expect((answer.body.data as unknown[]).length).toBe(2);
    expect(answer.body.errors).toEqual([{ index: 1, message: expect.stringContaining('`to`') }]);
  });

  it('sends the rate-limit headers and a retry-after with its 429', async () => {
    const s = await start({ rateLimitPerSecond: 1 });
    const ok = await post(s, '/emails', email());
    expect(ok.headers.get('ratelimit-limit')).toBe('1');
    const limited = await post(s, '/emails', email(2));
    expect(limited).toMatchObject({ status: 429, body: { name: 'rate_limit_exceeded' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(s.messages).toHaveLength(1);
  });

  it('runs as a process of its own', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/stand-ins/resend.ts', '--port', '0', '--api-key', KEY],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      await mailerFor({ url }).sendBatch(messages(3));
      const counts = (await (await fetch(`${url}/_stand-in/recipients`)).json()) as Record<string, number>;
      expect(Object.values(counts)).toEqual([1, 1, 1]);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
