import SMTPConnection from 'nodemailer/lib/smtp-connection';

/**
 * A pool of nodemailer SMTPConnections that sends messages already in wire form. nodemailer's own pool
 * (`sendMail`) builds a MIME tree for every message, even a raw one, and queues it through its rate
 * checks; for a broadcast whose messages are built by substitution that was most of the sender's time.
 * SMTPConnection itself still speaks the protocol: PIPELINING of MAIL, RCPT and DATA (RFC 2920),
 * STARTTLS, AUTH, dot-stuffing.
 */

export interface SmtpPoolOptions {
  connection: SMTPConnection.Options;
  auth?: { user: string; pass: string } | undefined;
  maxConnections: number;
  /** A connection idle this long is closed, before the server's own idle timeout drops it mid-use. */
  idleMs?: number;
  /** Messages one connection carries before it is replaced (servers may cap them per session). */
  maxMessages?: number;
}

export interface SmtpPool {
  send(envelope: SMTPConnection.Envelope, message: Buffer): Promise<SMTPConnection.SentMessageInfo>;
  close(): void;
}

interface Pooled {
  conn: SMTPConnection;
  sent: number;
  alive: boolean;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  resolve(p: Pooled): void;
  reject(err: unknown): void;
}

export function createSmtpPool(opts: SmtpPoolOptions): SmtpPool {
  const idleMs = opts.idleMs ?? 30_000;
  const maxMessages = opts.maxMessages ?? 10_000;
  const idle: Pooled[] = [];
  const waiting: Waiter[] = [];
  let open = 0;
  let closed = false;

  const connect = () =>
    new Promise<Pooled>((resolve, reject) => {
      const conn = new SMTPConnection(opts.connection);
      const p: Pooled = { conn, sent: 0, alive: true };
      let settled = false;
      // Before the session is up an error fails the connect; after it, the connection is spent (a send in
      // flight gets the same error through its own callback).
      const fail = (err: unknown) => {
        p.alive = false;
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      conn.on('error', fail);
      conn.once('end', () => fail(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      conn.connect((err) => {
        if (err) return fail(err);
        const ready = () => {
          settled = true;
          resolve(p);
        };
        const allowsAuth = (conn as unknown as { allowsAuth?: boolean }).allowsAuth;
        if (!opts.auth || !allowsAuth) return ready();
        conn.login({ credentials: opts.auth }, (loginErr) => (loginErr ? fail(loginErr) : ready()));
      });
    });

  /** Let a connection go: QUIT when it is healthy, closed at once when it is not. */
  const drop = (p: Pooled) => {
    clearTimeout(p.timer);
    open--;
    if (p.alive) p.conn.quit();
    else p.conn.close();
    p.alive = false;
  };

  /** A connection for the next waiter, or a new one while there is room. */
  const acquire = async (): Promise<Pooled> => {
    if (closed) throw Object.assign(new Error('the SMTP pool is closed'), { code: 'ECONNECTION' });
    for (let p = idle.pop(); p; p = idle.pop()) {
      clearTimeout(p.timer);
      if (p.alive) return p;
      drop(p);
    }
    if (open >= opts.maxConnections) return new Promise<Pooled>((resolve, reject) => waiting.push({ resolve, reject }));
    open++;
    try {
      return await connect();
    } catch (err) {
      open--;
      // The relay cannot be reached: those waiting for a connection would fail the same way.
      for (const w of waiting.splice(0)) w.reject(err);
      throw err;
    }
  };

  const release = (p: Pooled) => {
    if (!p.alive || closed || p.sent >= maxMessages) {
      drop(p);
      const w = waiting.shift();
      if (w) acquire().then(w.resolve, w.reject);
      return;
    }
    const w = waiting.shift();
    if (w) return w.resolve(p);
    p.timer = setTimeout(() => {
      const at = idle.indexOf(p);
      if (at >= 0) idle.splice(at, 1);
      drop(p);
    }, idleMs);
    p.timer.unref?.();
    idle.push(p);
  };

  return {
    async send(envelope, message) {
      const p = await acquire();
      try {
        const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
          p.conn.send(envelope, message, (err, sent) => (err ? reject(err) : resolve(sent))),
        );
        p.sent++;
        release(p);
        return info;
      } catch (err) {
        const e = err as { code?: string; responseCode?: number };
        if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && p.alive) {
          // The server refused this message; the session is fine once reset.
          p.conn.reset((resetErr) => {
            if (resetErr) p.alive = false;
            release(p);
          });
        } else {
          p.alive = false;
          release(p);
        }
        throw err;
      }
    },
    close() {
      closed = true;
      for (const w of waiting.splice(0))
        w.reject(Object.assign(new Error('the SMTP pool is closed'), { code: 'ECONNECTION' }));
      for (const p of idle.splice(0)) drop(p);
    },
  };
}
