import { type SmtpJob, SmtpSession, type SmtpSessionOptions, smtpError } from './smtp-session.js';

/**
 * SMTP sessions shared by every message of the process. A message joins the session with the fewest
 * waiting while one has room for another (so a session usually has the next envelope to pipeline behind
 * the message in flight), else a new session, up to `maxConnections`. A message that never reached a
 * session's server (it died first) goes out on another one.
 */

export interface SmtpPoolOptions {
  session: SmtpSessionOptions;
  maxConnections: number;
  /** Messages waiting on one session before another is opened. */
  depth?: number;
  /** A session idle this long is closed, before the server's own idle timeout drops it mid-use. */
  idleMs?: number;
  /** Messages one session carries before it is replaced (servers may cap them per session). */
  maxMessages?: number;
}

export interface SmtpPool {
  /** Resolves with the server's reply to the message's data. */
  /** `message`: a whole message (made wire-clean here), or pieces that already are (mailer.ts, `wire`). */
  send(from: string, to: string, message: Buffer | (() => readonly (Buffer | string)[])): Promise<string>;
  close(): void;
}

interface Slot {
  session?: SmtpSession;
  /** Messages given to it before it connected, or waiting in it. */
  waiting: SmtpJob[];
  sent: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export function createSmtpPool(opts: SmtpPoolOptions): SmtpPool {
  const depth = opts.depth ?? 2;
  const idleMs = opts.idleMs ?? 30_000;
  const maxMessages = opts.maxMessages ?? 10_000;
  const slots = new Set<Slot>();
  let closed = false;

  const load = (slot: Slot) => (slot.session ? slot.session.queue.length : slot.waiting.length);

  const open = (): Slot => {
    const slot: Slot = { waiting: [], sent: 0 };
    slots.add(slot);
    SmtpSession.open(opts.session, (orphans, err) => {
      slots.delete(slot);
      for (const job of orphans) job.moved ? job.reject(err) : dispatch({ ...job, moved: true });
    }).then(
      (session) => {
        if (closed) {
          for (const job of slot.waiting.splice(0))
            job.reject(smtpError('the SMTP pool is closed', { code: 'ECONNECTION' }));
          return session.quit();
        }
        slot.session = session;
        for (const job of slot.waiting.splice(0)) session.send(job);
      },
      (err: unknown) => {
        // The relay cannot be reached: what waits on this slot fails the same way, nothing was sent.
        slots.delete(slot);
        for (const job of slot.waiting.splice(0)) job.reject(err);
      },
    );
    return slot;
  };

  const dispatch = (job: SmtpJob) => {
    if (closed) return job.reject(smtpError('the SMTP pool is closed', { code: 'ECONNECTION' }));
    let best: Slot | undefined;
    for (const slot of slots) {
      if ((slot.session && !slot.session.alive) || slot.sent >= maxMessages) {
        if (load(slot) === 0) retire(slot);
        continue;
      }
      if (!best || load(slot) < load(best)) best = slot;
    }
    const slot = best && (load(best) < depth || slots.size >= opts.maxConnections) ? best : open();
    clearTimeout(slot.idleTimer);
    slot.sent++;
    const done = () => {
      if (load(slot) === 0 && !closed) slot.idleTimer = setTimeout(() => retire(slot), idleMs);
      slot.idleTimer?.unref?.();
    };
    const tracked: SmtpJob = {
      ...job,
      resolve: (r) => {
        job.resolve(r);
        done();
      },
      reject: (e) => {
        job.reject(e);
        done();
      },
    };
    if (slot.session) slot.session.send(tracked);
    else slot.waiting.push(tracked);
  };

  const retire = (slot: Slot) => {
    clearTimeout(slot.idleTimer);
    if (load(slot) > 0) return;
    slots.delete(slot);
    slot.session?.quit();
  };

  return {
    send(from, to, message) {
      return new Promise<string>((resolve, reject) => dispatch({ from, to, message, resolve, reject }));
    },
    close() {
      closed = true;
      for (const slot of slots) retire(slot);
    },
  };
}
