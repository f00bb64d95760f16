import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { MailError } from '../../src/mail/mailer.js';
import { classifySmtpError, createSmtpMailer } from '../../src/mail/smtp.js';
import { createSmtpPool } from '../../src/mail/smtp-pool.js';

/**
 * The SMTP client quire sends with (src/mail/smtp-session.ts, smtp-pool.ts) against nodemailer's own
 * server: STARTTLS and AUTH, PIPELINING across messages, refusals that keep the session, and failures that
 * read as nodemailer's did (the engine's classifier decides retries from them).
 */
interface Received {
  from: string;
  to: string[];
  data: string;
  user?: string | undefined;
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function server(
  opts: { auth?: boolean; starttls?: boolean; pipelining?: boolean; refuse?: Record<string, string> } = {},
) {
  const received: Received[] = [];
  const s = new SMTPServer({
    authOptional: !opts.auth,
    disabledCommands: [...(opts.starttls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    hidePIPELINING: opts.pipelining === false,
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, cb) {
      if (auth.username === 'quire' && auth.password === 's3cret') cb(null, { user: 'quire' });
      else cb(Object.assign(new Error('535 5.7.8 Authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const refusal = opts.refuse?.[address.address];
      if (refusal) cb(Object.assign(new Error(refusal), { responseCode: Number(refusal.slice(0, 3)) }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.server.address() as { port: number }).port;
  return { port, received };
}

const session = (port: number, extra: object = {}) => ({
  host: '127.0.0.1',
  port,
  secure: false,
  rejectUnauthorized: false,
  connectionTimeoutMs: 2000,
  greetingTimeoutMs: 2000,
  socketTimeoutMs: 5000,
  ...extra,
});

const message = (i: number) =>
  Buffer.from(`From: a@example.com\r\nTo: r${i}@example.com\r\nSubject: ${i}\r\n\r\nHello ${i}\r\n`);

describe('SMTP sessions', () => {
  it('sends many messages pipelined over few sessions, each once and intact', async () => {
    const { port, received } = await server();
    const pool = createSmtpPool({ session: session(port), maxConnections: 3 });
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => pool.send('bounce@example.com', `r${i}@example.com`, message(i))),
    );
    pool.close();
    expect(replies.every((r) => r.startsWith('250'))).toBe(true);
    expect(received).toHaveLength(60);
    expect(new Set(received.map((m) => m.to[0])).size).toBe(60);
    for (const m of received) expect(m.data).toContain(`Hello ${m.to[0]!.slice(1, m.to[0]!.indexOf('@'))}`);
  });

  it('upgrades with STARTTLS, authenticates, and writes pieces given as they are', async () => {
    const { port, received } = await server({ auth: true, starttls: true });
    const pool = createSmtpPool({
      session: session(port, { auth: { user: 'quire', pass: 's3cret' } }),
      maxConnections: 1,
    });
    await pool.send('a@example.com', 'b@example.com', () => [Buffer.from('Subject: x\r\n\r\n'), 'Hi ümlaut\r\n']);
    pool.close();
    expect(received).toEqual([
      { from: 'a@example.com', to: ['b@example.com'], data: 'Subject: x\r\n\r\nHi ümlaut\r\n', user: 'quire' },
    ]);
  });

  it('doubles leading dots and mends bare line ends (RFC 5321 §4.5.2)', async () => {
    const { port, received } = await server({ pipelining: false });
    const pool = createSmtpPool({ session: session(port), maxConnections: 1 });
    await pool.send('a@example.com', 'b@example.com', Buffer.from('Subject: x\n\n.hidden\n..two\r\nend'));
    pool.close();
    expect(received[0]!.data).toBe('Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n');
  });

  it('a refused recipient fails alone and the session goes on', async () => {
    const { port, received } = await server({ refuse: { 'gone@example.com': '550 5.1.1 No such user' } });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, maxConnections: 1 });
    const send = (to: string) =>
      mailer.send({
        from: 'a@example.com',
        to,
        subject: 's',
        html: '<p>h</p>',
        text: 't',
        messageId: `<${to}>`,
        headers: {},
      });
    const [ok1, gone, ok2] = await Promise.allSettled([
      send('one@example.com'),
      send('gone@example.com'),
      send('two@example.com'),
    ]);
    await mailer.close();
    expect(ok1.status).toBe('fulfilled');
    expect(ok2.status).toBe('fulfilled');
    const err = (gone as PromiseRejectedResult).reason as MailError;
    expect(err).toBeInstanceOf(MailError);
    expect(err).toMatchObject({ permanent: true, isHardBounce: true, responseCode: 550 });
    expect(received.map((m) => m.to[0])).toEqual(['one@example.com', 'two@example.com']);
  });

  it('a relay that is not there reads as unreachable, so the engine holds the batch', async () => {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const pool = createSmtpPool({ session: session(port), maxConnections: 2 });
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => pool.send('a@example.com', `r${i}@example.com`, message(i))),
    );
    pool.close();
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(classifySmtpError((r as PromiseRejectedResult).reason).relayUnavailable).toBe(true);
    }
  });

  it('refuses an envelope address that would add a command', async () => {
    const { port, received } = await server();
    const pool = createSmtpPool({ session: session(port), maxConnections: 1 });
    await expect(pool.send('a@example.com', 'b@example.com>\r\nRCPT TO:<c@example.com', message(1))).rejects.toThrow(
      /Invalid envelope address/,
    );
    pool.close();
    expect(received).toEqual([]);
  });
});
