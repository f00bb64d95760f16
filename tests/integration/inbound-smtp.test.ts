import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verpAddress } from '../../src/mail/headers.js';
import { type InboundSmtp, MAX_CLIENTS_PER_SENDER, startInboundSmtp } from '../../src/runtime/node/inbound-smtp.js';
import type { Services } from '../../src/services.js';
import { activeSubscriber, lastMailTo, pendingSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { dsnMail, largeMail, plainMail, unsubscribeMail } from './inbound-mail.js';

/**
 * The Node inbound SMTP listener (src/runtime/node/inbound-smtp.ts) on 127.0.0.1, driven by a real SMTP
 * client (nodemailer): RCPT TO only for our two addresses (550 5.1.1 otherwise), SIZE announced and
 * enforced (552), junk accepted and dropped, and 451 when the database fails, so an opt-out is retried.
 */

const BOUNCES = 'bounces@quire.test';
const UNSUBSCRIBE = 'unsubscribe@quire.test';
const MAX = 16_384;

type SmtpFailure = Error & { responseCode?: number; response?: string };

describe.each(databaseKinds)('the inbound SMTP listener on %s', (kind) => {
  let h: Harness;
  let listener: InboundSmtp;
  beforeAll(async () => {
    h = await createHarness(kind, { BOUNCE_ADDRESS: BOUNCES, INBOUND_MAX_BYTES: String(MAX) });
    listener = await startInboundSmtp(h.services, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await listener?.close();
    await h?.close();
  });

  const send = (raw: string | Buffer, to: string[], from = '', port = listener.port) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    return transport.sendMail({ envelope: { from, to }, raw }).finally(() => transport.close());
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('the listener accepted the message');
      },
      (err: SmtpFailure) => err,
    );
  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]?.status;
  const inboundLogs = () =>
    h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'inbound mail');

  it('a mailto unsubscribe over SMTP unsubscribes, with its ledger event', async () => {
    const sub = await activeSubscriber(h);
    const token = sub.unsubscribeUrl.split('/').pop();
    const info = await send(
      unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${token}` }),
      [UNSUBSCRIBE],
      sub.email,
    );
    expect(info.accepted).toEqual([UNSUBSCRIBE]);
    expect(await statusOf(sub.id)).toBe('unsubscribed');
    const events = await h.query<{ kind: string; source: string }>(
      "select kind, source from consent_events where subscriber_id = $1 and kind = 'unsubscribed'",
      [sub.id],
    );
    expect(events).toEqual([{ kind: 'unsubscribed', source: 'mailto' }]);
  });

  it('a DSN from the null sender to the VERP address suppresses', async () => {
    const { email } = await pendingSubscriber(h);
    const to = lastMailTo(h, email).envelope.from;
    expect(to).toMatch(/^bounces\+[0-9a-f-]{36}@quire\.test$/);
    const info = await send(dsnMail({ recipient: email }), [to]);
    expect(info.accepted).toEqual([to]);
    const [row] = await h.query<{ status: string }>('select status from subscribers where email = $1', [email]);
    expect(row!.status).toBe('bounced');
    expect(inboundLogs().at(-1)).toMatchObject({ via: 'smtp', status: 'done', route: 'bounce', suppressed: 1 });
  });

  it('refuses RCPT TO for any other address with 550 5.1.1, before the message is sent', async () => {
    const err = await failure(send(plainMail({ to: 'author@quire.test' }), ['author@quire.test']));
    expect(err.responseCode).toBe(550);
    expect(err.response).toMatch(/^550 5\.1\.1 This address takes no mail/);
  });

  it('announces SIZE and refuses larger mail with 552, declared or not', async () => {
    // Declared (RFC 1870): nodemailer reads the announced limit and will not even try; a client that
    // ignores it is refused at MAIL FROM.
    const transcript = await converse(listener.port, ['EHLO client.example', `MAIL FROM:<> SIZE=${MAX * 4}`, 'QUIT']);
    expect(transcript[1]).toMatch(new RegExp(`^250[- ]SIZE ${MAX}$`, 'm'));
    expect(transcript[2]).toMatch(/^552 /);
    // Undeclared: read past the limit, refused after DATA, nothing past the limit kept.
    const err = await failure(send(largeMail(UNSUBSCRIBE, MAX * 2), [UNSUBSCRIBE]));
    expect(err.responseCode).toBe(552);
    expect(err.response).toMatch(/^552 5\.3\.4 /);
    expect(inboundLogs().at(-1)).toMatchObject({ status: 'rejected', reason: 'too_large' });
  });

  it('accepts and drops junk, never a 5xx for a malformed body', async () => {
    const verp = verpAddress(BOUNCES, randomUUID());
    for (const raw of [randomBytes(2048), 'not a message at all', plainMail({ to: verp, subject: 'Out of office' })]) {
      const info = await send(raw, [verp, UNSUBSCRIBE]);
      expect(info.accepted).toEqual([verp, UNSUBSCRIBE]);
    }
    const dropped = inboundLogs().slice(-6);
    expect(dropped.every((l) => l.status === 'dropped')).toBe(true);
  });

  it('answers 451 when the database fails, so the sender keeps the opt-out and tries again', async () => {
    const sub = await activeSubscriber(h);
    const token = sub.unsubscribeUrl.split('/').pop();
    const down = {
      ...h.services,
      db: { transaction: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) },
    } as unknown as Services;
    const broken = await startInboundSmtp(down, { port: 0, host: '127.0.0.1' });
    try {
      const raw = unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${token}` });
      const err = await failure(send(raw, [UNSUBSCRIBE], '', broken.port));
      expect(err.responseCode).toBe(451);
      expect(err.response).toMatch(/^451 4\.3\.0 /);
    } finally {
      await broken.close();
    }
    expect(await statusOf(sub.id)).toBe('active');
  });

  // Regression: one sender holding 50 idle connections kept every other sender out until they timed out.
  it('tells one sender past its share of connections 421, and still greets the others', async () => {
    const from = (localAddress: string) => greeting(listener.port, localAddress);
    const held = await Promise.all(Array.from({ length: MAX_CLIENTS_PER_SENDER }, () => from('127.0.0.2')));
    try {
      expect(held.map((c) => c.reply.slice(0, 3))).toEqual(Array(MAX_CLIENTS_PER_SENDER).fill('220'));
      const refused = await from('127.0.0.2');
      expect(refused.reply).toMatch(/^421 /);
      refused.socket.destroy();
      const other = await from('127.0.0.3');
      expect(other.reply).toMatch(/^220 /);
      other.socket.destroy();
      // The local MTA quire sits behind (a client on the listener's own address) has no share to exceed.
      const local = await from('127.0.0.1');
      expect(local.reply).toMatch(/^220 /);
      local.socket.destroy();
      // A connection closed gives its place back.
      held.pop()!.socket.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const again = await from('127.0.0.2');
      expect(again.reply).toMatch(/^220 /);
      again.socket.destroy();
    } finally {
      for (const c of held) c.socket.destroy();
    }
  });
});

/** Open a connection from `localAddress` and read the listener's first reply. */
function greeting(port: number, localAddress: string): Promise<{ socket: Socket; reply: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes('\r\n')) resolve({ socket, reply: buffer.trimEnd() });
    });
    socket.once('error', reject);
  });
}

/** Speak SMTP line by line: the greeting, then one reply per command (multi-line replies joined). */
async function converse(port: number, commands: string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const replies: string[] = [];
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // A reply ends with a line whose code is followed by a space.
    for (let m = /^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/.exec(buffer); m; m = /^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/.exec(buffer)) {
      replies.push(m[0].trimEnd());
      buffer = buffer.slice(m[0].length);
      waiting?.();
    }
  });
  const next = (n: number) =>
    new Promise<void>((resolve) => {
      waiting = () => replies.length >= n && resolve();
      waiting();
    });
  await next(1);
  for (const [i, command] of commands.entries()) {
    socket.write(`${command}\r\n`);
    await next(i + 2);
  }
  socket.destroy();
  return replies;
}
