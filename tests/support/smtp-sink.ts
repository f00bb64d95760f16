import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  parsed: ParsedMail;
  envelope: { from: string; to: string[] };
}

/**
 * A real SMTP server in this process. It can refuse the next messages with a given reply, or be stopped
 * and started again on the same port, to play a relay that fails.
 */
export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  readonly errors: Error[] = [];
  private server: SMTPServer | undefined;
  private failures: { code: number; message: string }[] = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 200,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const failure = this.failures.shift();
          if (failure) {
            const err = Object.assign(new Error(failure.message), { responseCode: failure.code });
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then(
            (parsed) => {
              this.messages.push({
                raw,
                parsed,
                envelope: {
                  from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
              });
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
    // A client that dies mid-session (a killed worker) resets its socket: that is not the server's failure.
    this.server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.errors.push(err);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port || this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }

  /** Answer the next `count` messages with this SMTP reply (e.g. 451 or "550 5.1.1 …"). */
  failNext(code: number, message: string, count = 1) {
    for (let i = 0; i < count; i++) this.failures.push({ code, message });
  }

  /** Forget the replies queued by failNext that were not used. */
  clearFailures() {
    this.failures.length = 0;
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.envelope.to.includes(address));
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
