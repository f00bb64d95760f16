import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { dataOf } from './smtp-wire.js';

/** After pieces whose last line ends in CRLF. */
const END = '.\r\n';

/**
 * One SMTP session (RFC 5321) that sends messages already in wire form, pipelined (RFC 2920): a message's
 * body, its end and the next message's MAIL, RCPT and DATA go out in one write, so a message costs one
 * system call each way. nodemailer's SMTPConnection waits for every reply and writes each step apart;
 * a socket write is a system call, and those were the sender's limit (docs/benchmarks.md, "delivery").
 * Errors carry what nodemailer's do (`code`, `responseCode`, `response`, `syscall`, `timeoutType`), so
 * one classifier reads both (src/mail/smtp.ts).
 */

export interface SmtpSessionOptions {
  host: string;
  port: number;
  /** TLS from the start (smtps, port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string } | undefined;
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
}

export interface SmtpJob {
  from: string;
  to: string;
  /**
   * A whole message, or what makes the pieces already in wire form (src/mail/mailer.ts, `wire`): called
   * as they are written, so a message waiting its turn holds none of its bytes.
   */
  message: Buffer | (() => readonly (Buffer | string)[]);
  resolve(response: string): void;
  reject(err: unknown): void;
  /** Set once its data may have reached the server: until then it may go out on another session. */
  dataSent?: boolean;
  /** It went out on another session once already (that one died before its data). */
  moved?: boolean;
}

type Reply = { code: number; text: string };

export const smtpError = (message: string, fields: Record<string, unknown>) =>
  Object.assign(new Error(message), fields);

const fromReply = (code: string, command: string, r: Reply) =>
  smtpError(`${command}: ${r.text}`, { code, command, responseCode: r.code, response: r.text });

const ehloName = (() => {
  try {
    const name = os.hostname();
    return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(name) ? name : '[127.0.0.1]';
  } catch {
    return '[127.0.0.1]';
  }
})();

export class SmtpSession {
  readonly queue: SmtpJob[] = [];
  alive = true;
  private socket!: net.Socket;
  private extensions = new Set<string>();
  private buffer = '';
  private lines: string[] = [];
  private readers: { resolve(r: Reply): void; reject(e: unknown): void }[] = [];
  private pumping = false;
  private failure: unknown;

  private constructor(
    private readonly opts: SmtpSessionOptions,
    /** Jobs whose data was not sent when the session ended: another session may send them. */
    private readonly onOrphans: (jobs: SmtpJob[], err: unknown) => void,
  ) {}

  static async open(
    opts: SmtpSessionOptions,
    onOrphans: (jobs: SmtpJob[], err: unknown) => void,
  ): Promise<SmtpSession> {
    const s = new SmtpSession(opts, onOrphans);
    await s.start();
    return s;
  }

  private async start() {
    const { host, port, secure, rejectUnauthorized } = this.opts;
    const socket = secure ? tls.connect({ host, port, servername: host, rejectUnauthorized }) : net.connect(port, host);
    await this.attach(socket, secure ? 'secureConnect' : 'connect', this.opts.connectionTimeoutMs, 'CONNECT_TIMEOUT');
    await this.greet();
    if (!secure && this.extensions.has('STARTTLS')) {
      await this.command('STARTTLS', 'STARTTLS', 'ETLS');
      const plain = this.socket;
      for (const event of ['data', 'error', 'close', 'timeout']) plain.removeAllListeners(event);
      const upgraded = tls.connect({ socket: plain, servername: host, rejectUnauthorized });
      await this.attach(upgraded, 'secureConnect', this.opts.connectionTimeoutMs, 'CONNECT_TIMEOUT');
      await this.ehlo();
    }
    const auth = this.opts.auth;
    const methods = [...this.extensions].find((e) => e.startsWith('AUTH '))?.split(' ') ?? [];
    if (auth && methods.includes('PLAIN'))
      await this.command(
        `AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.pass}`).toString('base64')}`,
        'AUTH PLAIN',
        'EAUTH',
      );
    else if (auth && methods.length) {
      await this.command('AUTH LOGIN', 'AUTH LOGIN', 'EAUTH', 334);
      await this.command(Buffer.from(auth.user).toString('base64'), 'AUTH LOGIN', 'EAUTH', 334);
      await this.command(Buffer.from(auth.pass).toString('base64'), 'AUTH LOGIN', 'EAUTH');
    }
    this.socket.setTimeout(this.opts.socketTimeoutMs);
  }

  /** Take over a socket once it is connected; a failure before then is a connect failure. */
  private attach(socket: net.Socket, event: string, timeoutMs: number, timeoutType: string) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end(smtpError('Connection closed', { code: 'ECONNECTION' })));
    socket.on('timeout', () => socket.destroy(smtpError('Timeout', { code: 'ETIMEDOUT', timeoutType: 'SOCKET' })));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => socket.destroy(smtpError('Connection timeout', { code: 'ETIMEDOUT', timeoutType })),
        timeoutMs,
      );
      socket.once(event, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(this.failure ?? smtpError('Connection closed', { code: 'ECONNECTION' }));
      });
    });
  }

  private async greet() {
    const timer = setTimeout(
      () =>
        this.socket.destroy(
          smtpError('Greeting never received', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' }),
        ),
      this.opts.greetingTimeoutMs,
    );
    const greeting = await this.reply().finally(() => clearTimeout(timer));
    if (greeting.code !== 220) throw fromReply('EPROTOCOL', 'CONN', greeting);
    await this.ehlo();
  }

  private async ehlo() {
    this.socket.write(`EHLO ${ehloName}\r\n`);
    const r = await this.reply();
    if (r.code !== 250) {
      await this.command(`HELO ${ehloName}`, 'HELO', 'EPROTOCOL');
      return;
    }
    this.extensions = new Set(
      r.text
        .split('\n')
        .slice(1)
        .map((l) => l.trim().toUpperCase()),
    );
  }

  private async command(line: string, name: string, code: string, expect = 0): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    const r = await this.reply();
    if (expect ? r.code !== expect : r.code >= 400) throw fromReply(code, name, r);
    return r;
  }

  private read(chunk: Buffer) {
    this.buffer += chunk.toString('latin1');
    for (let at = this.buffer.indexOf('\n'); at >= 0; at = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, at).replace(/\r$/, '');
      this.buffer = this.buffer.slice(at + 1);
      this.lines.push(line);
      if (line.charAt(3) === '-') continue;
      const reply = { code: Number(line.slice(0, 3)) || 0, text: this.lines.map((l) => l.slice(4)).join('\n') };
      reply.text = `${line.slice(0, 3)} ${reply.text}`;
      this.lines = [];
      const reader = this.readers.shift();
      if (reader) reader.resolve(reply);
      else if (reply.code === 421) this.socket.destroy(fromReply('ECONNECTION', 'CONN', reply));
    }
  }

  private reply(): Promise<Reply> {
    if (!this.alive) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  private end(err: unknown) {
    if (!this.alive) return;
    this.alive = false;
    // As nodemailer names it: a name that does not resolve is the relay being unreachable, not a reply.
    if ((err as { syscall?: string }).syscall === 'getaddrinfo') (err as { code?: string }).code = 'EDNS';
    this.failure = err;
    for (const r of this.readers.splice(0)) r.reject(err);
    this.socket.destroy();
    const orphans = this.queue.filter((j) => !j.dataSent);
    for (const j of this.queue.splice(0)) if (j.dataSent) j.reject(err);
    if (orphans.length) this.onOrphans(orphans, err);
  }

  send(job: SmtpJob) {
    if (/[\r\n<>]/.test(job.from + job.to))
      return job.reject(smtpError('Invalid envelope address', { code: 'EENVELOPE', responseCode: 553 }));
    this.queue.push(job);
    if (!this.pumping) void this.pump();
  }

  private envelope(job: SmtpJob): string {
    const utf8 = this.extensions.has('SMTPUTF8') && /[^ -~]/.test(job.from + job.to) ? ' SMTPUTF8' : '';
    return `MAIL FROM:<${job.from}>${utf8}\r\nRCPT TO:<${job.to}>\r\nDATA\r\n`;
  }

  /** Replies to an envelope written as one group: MAIL, RCPT, DATA. */
  private expectEnvelope(): Promise<Reply>[] {
    return [this.reply(), this.reply(), this.reply()];
  }

  private async pump() {
    this.pumping = true;
    const pipelining = this.extensions.has('PIPELINING');
    let pending: Promise<Reply>[] | undefined;
    let inFlight: SmtpJob | undefined;
    try {
      while (this.alive && this.queue.length) {
        const job = this.queue[0]!;
        if (!pending) {
          if (pipelining) {
            this.socket.write(this.envelope(job));
            pending = this.expectEnvelope();
          } else {
            const [mail, rcpt, data] = this.envelope(job).split('\r\n');
            const replies: Reply[] = [];
            for (const line of [mail, rcpt, data]) {
              this.socket.write(`${line}\r\n`);
              const r = await this.reply();
              replies.push(r);
              if (r.code >= 400) break;
            }
            pending = replies.map((r) => Promise.resolve(r));
          }
        }
        const [mail, rcpt, data] = await Promise.all(pending);
        pending = undefined;
        if (mail?.code !== 250 || (rcpt?.code !== 250 && rcpt?.code !== 251) || data?.code !== 354) {
          // Refused before the message: the session is fine once reset (DATA with no recipient fails too).
          if (data?.code === 354) {
            this.socket.write('.\r\n');
            await this.reply();
          }
          const failed =
            mail?.code !== 250 ? ['MAIL FROM', mail] : rcpt && rcpt.code >= 400 ? ['RCPT TO', rcpt] : ['DATA', data];
          this.queue.shift();
          job.reject(fromReply('EENVELOPE', failed[0] as string, failed[1] as Reply));
          await this.command('RSET', 'RSET', 'EPROTOCOL');
          continue;
        }
        this.queue.shift();
        inFlight = job;
        job.dataSent = true;
        const next = pipelining ? this.queue[0] : undefined;
        this.socket.cork();
        for (const piece of job.message instanceof Uint8Array ? dataOf(job.message) : [...job.message(), END])
          this.socket.write(piece);
        const final = this.reply();
        if (next) {
          this.socket.write(this.envelope(next));
          pending = this.expectEnvelope();
        }
        this.socket.uncork();
        const r = await final;
        inFlight = undefined;
        if (r.code >= 200 && r.code < 300) job.resolve(r.text);
        else job.reject(fromReply('EMESSAGE', 'DATA', r));
      }
    } catch (err) {
      inFlight?.reject(err);
      this.end(err);
    } finally {
      this.pumping = false;
    }
  }

  /** QUIT, politely, when nothing is queued; the socket closes whatever the answer. */
  quit() {
    if (!this.alive) return;
    this.socket.write('QUIT\r\n');
    this.socket.end();
    this.alive = false;
  }
}
