/**
 * Malformed SMTP sessions for the inbound listener: garbage bodies, truncated and pathological MIME,
 * oversized messages (declared and not), addresses that are not ours or not addresses, connections
 * half-closed or reset mid-session, protocol garbage, token-shaped noise, and a hundred recipients for
 * one body. Each session is one of `JUNK_KINDS`, chosen by its number, and reports the reply codes it got.
 */
import { randomUUID } from 'node:crypto';
import { dotStuff, SmtpConnection } from './smtp-client.js';

export interface JunkTarget {
  port: number;
  /** unsubscribe@<MAIL_FROM's domain> */
  unsubscribe: string;
  /** BOUNCE_ADDRESS, `local@domain`; VERP adds `+<delivery id>`. */
  bounces: string;
  maxBytes: number;
  random: () => number;
}

export interface JunkResult {
  kind: string;
  codes: number[];
  /** Replies that broke what this kind of session must get (e.g. a 250 for an address that is not ours). */
  wrong: string[];
}

const verp = (t: JunkTarget) => t.bounces.replace('@', `+${randomUUID()}@`);

/** `n` bytes of noise: 8-bit, NUL, bare CR and LF, very long lines. */
function noise(random: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(random() * 256));
  return s;
}

const token = (random: () => number) =>
  Array.from(
    { length: 51 },
    () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(random() * 64)],
  ).join('');

/** EHLO, MAIL FROM, RCPT TO each of `to`, DATA, the body, the final dot; the reply to the dot (or the first refusal). */
async function deliver(c: SmtpConnection, to: string[], body: string, mailFrom = 'MAIL FROM:<>') {
  await c.command('EHLO junk.example');
  const mail = await c.command(mailFrom);
  if (mail.code !== 250) return mail;
  let accepted = 0;
  for (const r of to) if ((await c.command(`RCPT TO:<${r}>`)).code === 250) accepted++;
  const data = await c.command('DATA');
  if (data.code !== 354 || accepted === 0) return data;
  await c.write(Buffer.from(`${dotStuff(body)}\r\n.\r\n`, 'latin1'));
  return c.reply(30_000);
}

const header = (to: string, extra: string[] = []) =>
  [
    'From: Mail Delivery System <MAILER-DAEMON@relay.example.net>',
    `To: ${to}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <junk-${randomUUID()}@relay.example.net>`,
    'MIME-Version: 1.0',
    ...extra,
  ].join('\r\n');

type Session = (c: SmtpConnection, t: JunkTarget, i: number, wrong: string[]) => Promise<void>;

const SESSIONS: [string, Session][] = [
  [
    'garbage body to the unsubscribe address',
    async (c, t) => void (await deliver(c, [t.unsubscribe], noise(t.random, 1024 + Math.floor(t.random() * 65_536)))),
  ],
  [
    'garbage body to a VERP bounce address',
    async (c, t) => void (await deliver(c, [verp(t)], noise(t.random, 1024 + Math.floor(t.random() * 65_536)))),
  ],
  [
    'truncated multipart/report, base64 cut mid-way',
    async (c, t) => {
      const body = `${header(verp(t), ['Content-Type: multipart/report; report-type=delivery-status; boundary="b1"'])}\r\n\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\nFinal-Recipient: rfc822; x@\r\nAction: fai\r\n--b1\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogYUBi${'QUJD'.repeat(200)}Q`;
      await deliver(c, [verp(t)], body);
    },
  ],
  [
    'header without end or body',
    async (c, t) =>
      void (await deliver(c, [t.unsubscribe], `Subject: unsubscribe\r\nContent-Type: multipart/mixed; boundary=`)),
  ],
  [
    'multiparts nested 2,000 deep',
    async (c, t, i) => {
      const depth = 2_000;
      const open = Array.from(
        { length: depth },
        (_, d) => `Content-Type: multipart/mixed; boundary="n${d}"\r\n\r\n--n${d}\r\n`,
      ).join('');
      await deliver(
        c,
        [i % 2 ? verp(t) : t.unsubscribe],
        `${header(t.bounces)}\r\n${open}Content-Type: text/plain\r\n\r\nbottom`,
      );
    },
  ],
  [
    'broken encodings and charsets',
    async (c, t) => {
      const body = `${header(t.unsubscribe, ['Content-Type: text/plain; charset="x-no-such-charset-\u00ff"', 'Content-Transfer-Encoding: quoted-printable'])}\r\nSubject: =?utf-8?B?${'@@@'.repeat(50)}?= =?x-unknown?Q?=ZZ=?=\r\nX-Nul: a\u0000b\r\n\r\n=ZZ=\r\n=${noise(t.random, 2048)}`;
      await deliver(c, [t.unsubscribe], body);
    },
  ],
  [
    'oversized, declared with SIZE',
    async (c, t, _i, wrong) => {
      await c.command('EHLO junk.example');
      const r = await c.command(`MAIL FROM:<> SIZE=${t.maxBytes * 4}`);
      if (r.code !== 552) wrong.push(`SIZE over the limit answered ${r.code}`);
    },
  ],
  [
    'oversized, undeclared',
    async (c, t, _i, wrong) => {
      const line = `${'x'.repeat(998)}\r\n`;
      const r = await deliver(c, [t.unsubscribe], line.repeat(Math.ceil((t.maxBytes * 1.25) / line.length)));
      if (r.code !== 552) wrong.push(`a message over the limit answered ${r.code}`);
    },
  ],
  [
    'addresses that are not ours or not addresses',
    async (c, t, _i, wrong) => {
      await c.command('EHLO junk.example');
      await c.command('MAIL FROM:<not an address>');
      await c.command('MAIL FROM:<>');
      const [local, domain] = t.unsubscribe.split('@');
      for (const rcpt of [
        '<>',
        '<@>',
        `<${local}@${domain}@${domain}>`,
        '<reader@example.com>',
        `<${'x'.repeat(2_000)}@${domain}>`,
        `<${local}@${domain}.evil.example>`,
        `<"${local}"@[127.0.0.1]>`,
        '<\u00e9@\u00e9.example>',
      ]) {
        const r = await c.command(`RCPT TO:${rcpt}`);
        if (r.code === 250) wrong.push(`RCPT TO:${rcpt.slice(0, 40)} accepted`);
      }
      await c.command('DATA');
    },
  ],
  [
    'half-closed or reset mid-session',
    async (c, t, i) => {
      const variant = i % 4;
      if (variant === 0) return c.halfClose();
      await c.command('EHLO junk.example');
      if (variant === 1) return c.halfClose();
      await c.command('MAIL FROM:<>');
      await c.command(`RCPT TO:<${t.unsubscribe}>`);
      await c.command('DATA');
      await c.write(Buffer.from(dotStuff(noise(t.random, 16_384 + Math.floor(t.random() * 262_144))), 'latin1'));
      if (variant === 2) return c.halfClose();
      c.destroy();
    },
  ],
  [
    'protocol garbage',
    async (c, t) => {
      await c.write(Buffer.from(noise(t.random, 4096), 'latin1'));
      await c.write(`${'A'.repeat(65_536)}\r\n`);
      for (const verb of ['DATA', 'RCPT TO:<x>', 'BDAT 10 LAST', 'XCLIENT ADDR=1.2.3.4', 'STARTTLS', 'AUTH PLAIN AAAA'])
        await c.command(verb, 5_000);
    },
  ],
  [
    'token-shaped noise to the unsubscribe address',
    async (c, t) => {
      const tokens = Array.from({ length: 60 }, () => token(t.random));
      const body = `Subject: unsubscribe ${tokens[0]}\r\n\r\n${tokens.join(' ')}\r\n${tokens.join('%20')}`;
      await deliver(c, [t.unsubscribe], body);
    },
  ],
  [
    'one garbage body for 100 recipients',
    async (c, t) =>
      void (await deliver(
        c,
        Array.from({ length: 100 }, () => (t.random() < 0.5 ? t.unsubscribe : verp(t))),
        noise(t.random, 4096),
      )),
  ],
];

export const JUNK_KINDS = SESSIONS.map(([kind]) => kind);

/** Junk session number `i`; it never throws. */
export async function junkSession(t: JunkTarget, i: number): Promise<JunkResult> {
  const [kind, session] = SESSIONS[i % SESSIONS.length]!;
  const wrong: string[] = [];
  let conn: SmtpConnection | undefined;
  try {
    const opened = await SmtpConnection.open(t.port);
    conn = opened.conn;
    if (opened.greeting.code !== 220) wrong.push(`greeting ${opened.greeting.code}`);
    await session(conn, t, i, wrong);
    if (!conn.isClosed) await conn.quit();
  } catch (err) {
    wrong.push(`client error: ${(err as Error).message}`);
  } finally {
    conn?.destroy();
  }
  return { kind, codes: conn?.codes ?? [], wrong };
}
