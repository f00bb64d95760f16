/**
 * A bare SMTP client over a TCP socket, for sessions no well-behaved client would hold: bytes sent as
 * given (no dot-stuffing, no line checks), replies read whole (RFC 5321 §4.2.1 multiline), every reply
 * code kept, and the connection ended however the caller likes — QUIT, a half-close (FIN), or a reset.
 */
import net from 'node:net';

export interface Reply {
  /** 0 when the connection closed, or no reply came in time. */
  code: number;
  text: string;
}

export class SmtpConnection {
  /** Every reply code received, in order (the greeting first). */
  readonly codes: number[] = [];
  private buffer = '';
  private lines: string[] = [];
  private readonly replies: Reply[] = [];
  private waiting: ((r: Reply) => void)[] = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w({ code: 0, text: 'closed' });
    });
  }

  /** Connect and read the greeting. */
  static async open(port: number, timeoutMs = 15_000): Promise<{ conn: SmtpConnection; greeting: Reply }> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const conn = new SmtpConnection(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return { conn, greeting: await conn.reply(timeoutMs) };
  }

  private take(chunk: string) {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\r\n'); i >= 0; i = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.lines.push(line);
      // `250-…` continues a reply, `250 …` (or a bare code) ends it.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
        this.lines = [];
        this.codes.push(reply.code);
        const w = this.waiting.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
  }

  /** The next reply; code 0 if the connection closes or nothing comes within `timeoutMs`. */
  reply(timeoutMs = 15_000): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve({ code: 0, text: 'closed' });
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        resolve({ code: 0, text: 'no reply' });
      }, timeoutMs);
      const done = (r: Reply) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiting.push(done);
    });
  }

  write(data: string | Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Send one command line and read its reply. */
  async command(line: string, timeoutMs?: number): Promise<Reply> {
    await this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /** QUIT, then wait for the server to close. */
  async quit(): Promise<void> {
    if (!this.closed) await this.command('QUIT', 5_000);
    this.destroy();
  }

  /** Half-close: send FIN and stop writing; the server decides what to do with what it has. */
  async halfClose(): Promise<void> {
    this.socket.end();
    await new Promise<void>((resolve) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => {
        this.destroy();
        resolve();
      }, 10_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Drop the connection at once (RST when data is unread). */
  destroy(): void {
    try {
      this.socket.resetAndDestroy();
    } catch {
      this.socket.destroy(); // not connected (yet or any more): nothing to reset
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** RFC 5321 §4.5.2: a line that starts with a dot gets one more, so the body cannot end the DATA early. */
export const dotStuff = (body: string) => body.replace(/(^|\r\n)\./g, '$1..');
