import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SinkMail {
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

/** The parent's handle on tests/chaos/support/sink-process.mjs. */
export class Sink {
  private seq = 0;
  private pending = new Map<number, (body: Record<string, unknown>) => void>();
  private mailWaiters: { match: (m: SinkMail) => boolean; resolve: (m: SinkMail) => void }[] = [];
  /** Mail to the watched domain, parsed, in arrival order. */
  readonly mail: SinkMail[] = [];
  /** Called for each watched mail as it arrives. */
  onMail?: (m: SinkMail) => void;
  /** Keep watched mail in `mail` (off for long runs that only use onMail). */
  keepMail = true;
  port = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { type: string; id?: number } & Record<string, unknown>) => {
      if (m.type === 'reply' && m.id !== undefined) {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      } else if (m.type === 'mail') {
        const mail = m as unknown as SinkMail;
        this.onMail?.(mail);
        if (!this.keepMail) return;
        this.mail.push(mail);
        this.mailWaiters = this.mailWaiters.filter((w) => {
          if (!w.match(mail)) return true;
          w.resolve(mail);
          return false;
        });
      }
    });
  }

  static async start(watchDomain = ''): Promise<Sink> {
    const child = fork(fileURLToPath(new URL('./sink-process.mjs', import.meta.url)), ['0', watchDomain], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const sink = new Sink(child);
    sink.port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`SMTP sink exited (${code})`)));
    });
    return sink;
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.child.pid!;
  }

  private call<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.seq++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (b: Record<string, unknown>) => void);
      this.child.send({ cmd, id, ...args });
    });
  }

  async count(): Promise<number> {
    return (await this.call<{ count: number }>('stats')).count;
  }

  /** Message-IDs in arrival order, `[from, to)`. */
  async ids(from = 0, to?: number): Promise<string[]> {
    return (await this.call<{ ids: string[] }>('ids', { from, ...(to !== undefined ? { to } : {}) })).ids;
  }

  /** Per Message-ID counts of everything received so far. */
  async counts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const id of await this.ids()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Close the listener and destroy every open connection, like a relay that dies. */
  async stop(): Promise<void> {
    await this.call('stop');
  }

  /** Listen again on the same port. */
  async resume(): Promise<void> {
    await this.call('start');
  }

  /** The next (or an already received) watched mail that matches. */
  waitForMail(match: (m: SinkMail) => boolean, timeoutMs = 30_000): Promise<SinkMail> {
    const found = this.mail.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<SinkMail>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.mailWaiters = this.mailWaiters.filter((w) => w.resolve !== done);
        reject(new Error('no matching mail arrived at the sink'));
      }, timeoutMs);
      const done = (m: SinkMail) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.mailWaiters.push({ match, resolve: done });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'exit', id: this.seq++ });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
