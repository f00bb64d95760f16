import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { OutgoingMessage } from '../../src/mail/mailer.js';

/*
 * Shared pieces of the provider stand-ins: a node:http server on 127.0.0.1 (port 0 by default), a record of
 * every request and of every accepted message, a requests-per-second limit, injected faults, and a control
 * API under /_stand-in/ for a test that runs the stand-in as a separate process. The control API is not
 * part of any provider's contract; every other path gets the provider's own answer.
 *
 * Control API:
 *   GET  /_stand-in/messages, /_stand-in/requests   the records; `?fields=a,b` keeps those fields, any other
 *                                                   `?name=value` keeps records whose field has that value
 *   GET  /_stand-in/recipients                      accepted messages per recipient
 *   GET  /_stand-in/faults                          faults still pending, requests being processed, and how
 *                                                   many messages and requests were recorded
 *   POST /_stand-in/faults?fail=N&status=S          the next N requests get status S (500 by default)
 *                         ?drop=N                   the next N requests are processed, then not answered
 *                         ?delay_ms=N               from now on, take up each request after N ms (0: at once)
 *                         ?rate=N                   from now on, at most N requests a second (0: no limit)
 *   POST /_stand-in/reset                           forget messages and requests
 */

export interface RecordedRequest {
  method: string;
  path: string;
  /** Header names lower-cased, as node:http gives them. */
  headers: Record<string, string>;
  body: string;
  /** The status answered; 0 when the connection was dropped on purpose (`dropResponses`). */
  status: number;
  /**
   * Whether the answer was written to a live connection: false when it was dropped on purpose, or when the
   * client had closed the connection before the answer was ready (it gave up waiting, so it never learned
   * that the request was processed).
   */
  answered: boolean;
  receivedAt: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string. */
  body?: unknown;
}

export interface IncomingCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** When the request was taken up (after any `delayMs`), in ms since the epoch. */
  now: number;
}

/** Options every stand-in takes, from a test or from the command line. */
export interface CommonOptions {
  host?: string | undefined;
  port?: number | undefined;
  /** Accepted requests per second (a sliding one-second window); more get the provider's 429. */
  rateLimitPerSecond?: number | undefined;
  /** The Retry-After to send with a 429, in seconds; by default the time until the window frees a slot. */
  retryAfterSeconds?: number | undefined;
  /** Answer every request after this long (latency of a real API). */
  delayMs?: number | undefined;
}

export interface StandIn<M> {
  url: string;
  port: number;
  /** Every message accepted, in order; a repeat answered from an idempotency key is not recorded again. */
  messages: M[];
  requests: RecordedRequest[];
  /** Accepted messages per recipient address (lower-cased). */
  countByRecipient(): Map<string, number>;
  /** The next `count` authenticated requests get a server error (the provider's 5xx shape). */
  failNext(count: number, status?: number): void;
  /**
   * The next `count` requests are processed in full (messages recorded, idempotency keys stored) and then
   * the connection is dropped without an answer: a crash between the provider's acceptance and our settle.
   */
  dropResponses(count: number): void;
  close(): Promise<void>;
}

export interface Handler<M> {
  /** Answers one call; `accept` records messages only when the request is accepted. */
  handle(call: IncomingCall, ctx: HandlerContext<M>): Reply | Promise<Reply>;
  recipientsOf(message: M): string[];
}

export interface HandlerContext<M> {
  accept(messages: M[]): void;
  /** A request-rate check; undefined when allowed, else the seconds to put in Retry-After. */
  rateLimited(): number | undefined;
  /** When set, the handler answers this status with its provider's server-error body. */
  injectedFault(): number | undefined;
  rate: { limit: number | undefined; remaining: () => number | undefined; resetSeconds: () => number };
}

/** Records whose fields equal every `name=value` given, each cut down to `fields=a,b` when that is given. */
function view(records: readonly unknown[], params: URLSearchParams): unknown[] {
  const fields = params.get('fields')?.split(',').filter(Boolean);
  const filters = [...params].filter(([name]) => name !== 'fields');
  return records
    .filter((r) => filters.every(([name, value]) => String((r as Record<string, unknown>)[name]) === value))
    .map((r) => (fields ? Object.fromEntries(fields.map((f) => [f, (r as Record<string, unknown>)[f]])) : r));
}

/** A body larger than any provider here takes is not read into memory. */
const MAX_BODY = 64 * 1024 * 1024;

export async function startStandIn<M>(handler: Handler<M>, opts: CommonOptions): Promise<StandIn<M>> {
  const messages: M[] = [];
  const requests: RecordedRequest[] = [];
  const window: number[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let drops = 0;
  let inFlight = 0;
  // What the control API may change while the stand-in runs; the caller's options object is left alone.
  const live = { delayMs: opts.delayMs, rateLimitPerSecond: opts.rateLimitPerSecond };
  const sockets = new Set<Socket>();

  const prune = (now: number) => {
    while (window.length > 0 && window[0]! <= now - 1000) window.shift();
  };

  const server = createServer((req, res) => {
    void serve(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const part of req as AsyncIterable<Buffer>) {
      size += part.length;
      if (size <= MAX_BODY) chunks.push(part);
    }
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers,
      body: size > MAX_BODY ? '' : Buffer.concat(chunks).toString('utf8'),
      status: 0,
      answered: false,
      receivedAt: Date.now(),
    };

    if (url.pathname.startsWith('/_stand-in/')) return control(url, record.method, res);
    requests.push(record);
    inFlight++;
    try {
      await answer(record, size > MAX_BODY, req, res);
    } finally {
      inFlight--;
    }
  }

  async function answer(record: RecordedRequest, tooLarge: boolean, req: IncomingMessage, res: ServerResponse) {
    if (live.delayMs) await new Promise((r) => setTimeout(r, live.delayMs));

    const now = Date.now();
    let pending: M[] = [];
    const ctx: HandlerContext<M> = {
      accept: (ms) => (pending = pending.concat(ms)),
      rateLimited() {
        const limit = live.rateLimitPerSecond;
        if (!limit) return undefined;
        prune(now);
        if (window.length < limit) {
          window.push(now);
          return undefined;
        }
        return opts.retryAfterSeconds ?? Math.max(1, Math.ceil((window[0]! + 1000 - now) / 1000));
      },
      injectedFault() {
        if (failures.count <= 0) return undefined;
        failures.count--;
        return failures.status;
      },
      rate: {
        limit: live.rateLimitPerSecond,
        remaining: () => (live.rateLimitPerSecond ? Math.max(0, live.rateLimitPerSecond - window.length) : undefined),
        resetSeconds: () => (window.length ? Math.max(0, Math.ceil((window[0]! + 1000 - now) / 1000)) : 0),
      },
    };
    const reply = tooLarge
      ? { status: 413, body: 'request entity too large' }
      : await handler.handle({ ...record, now }, ctx);
    messages.push(...pending);
    if (drops > 0) {
      drops--;
      res.socket?.destroy();
      return;
    }
    record.status = reply.status;
    record.answered = !req.socket.destroyed;
    const text =
      typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body);
    const type = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    res.writeHead(reply.status, { 'content-type': type, ...reply.headers });
    res.end(text);
  }

  function control(url: URL, method: string, res: ServerResponse) {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = url.pathname;
    const params = url.searchParams;
    if (path === '/_stand-in/messages' && method === 'GET') return json(200, view(messages, params));
    if (path === '/_stand-in/requests' && method === 'GET') return json(200, view(requests, params));
    if (path === '/_stand-in/recipients' && method === 'GET') return json(200, Object.fromEntries(countByRecipient()));
    if (path === '/_stand-in/faults' && method === 'POST') {
      const names = ['fail', 'status', 'drop', 'delay_ms', 'rate'];
      const bad = [...params].filter(([k, v]) => !names.includes(k) || !/^\d{1,9}$/.test(v)).map(([k]) => k);
      if (bad.length) return json(400, { error: `unknown fault parameter or not a whole number: ${bad.join(', ')}` });
      const count = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
      const fail = count('fail');
      if (fail !== undefined) failures = { count: fail, status: count('status') ?? 500 };
      const drop = count('drop');
      if (drop !== undefined) drops = drop;
      if (params.has('delay_ms')) live.delayMs = count('delay_ms') || undefined;
      if (params.has('rate')) live.rateLimitPerSecond = count('rate') || undefined;
    }
    if (path === '/_stand-in/faults')
      return json(200, {
        fail: failures.count,
        status: failures.status,
        drop: drops,
        delayMs: live.delayMs ?? 0,
        rate: live.rateLimitPerSecond ?? 0,
        inFlight,
        messages: messages.length,
        requests: requests.length,
      });
    if (path === '/_stand-in/reset' && method === 'POST') {
      messages.length = 0;
      requests.length = 0;
      return json(200, { ok: true });
    }
    return json(404, { error: 'unknown control path' });
  }

  const countByRecipient = () => {
    const counts = new Map<string, number>();
    for (const m of messages)
      for (const r of handler.recipientsOf(m)) counts.set(r.toLowerCase(), (counts.get(r.toLowerCase()) ?? 0) + 1);
    return counts;
  };

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    messages,
    requests,
    countByRecipient,
    failNext(count, status = 500) {
      failures = { count, status };
    },
    dropResponses(count) {
      drops = count;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `--name value` pairs from the command line, and the options every stand-in shares. */
export function parseArgs(argv: readonly string[]): { values: Map<string, string>; common: CommonOptions } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) values.set(arg.slice(2), argv[++i]!);
    else values.set(arg.slice(2), 'true');
  }
  const num = (name: string) => (values.has(name) ? Number(values.get(name)) : undefined);
  return {
    values,
    common: {
      host: values.get('host'),
      port: num('port'),
      rateLimitPerSecond: num('rate'),
      retryAfterSeconds: num('retry-after'),
      delayMs: num('delay-ms'),
    },
  };
}

/**
 * Run a stand-in as its own process when `moduleUrl` is the entry point: print one JSON line with its URL
 * (a parent reads it to learn the port), and close on SIGTERM or SIGINT.
 */
export async function runIfMain(
  moduleUrl: string,
  start: (argv: readonly string[]) => Promise<StandIn<unknown>>,
): Promise<void> {
  const entry = process.argv[1];
  if (!entry || moduleUrl !== pathToFileURL(entry).href) return;
  const standIn = await start(process.argv.slice(2));
  process.stdout.write(`${JSON.stringify({ url: standIn.url, port: standIn.port })}\n`);
  const stop = () => void standIn.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A plausible mailbox (RFC 5322 addr-spec, dot-atom form) — what a provider's own validation accepts. */
export function isAddress(value: string): boolean {
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(
    value,
  );
}

/** `Name <addr>` or `addr` → the address, or undefined when it is not one. */
export function mailboxAddress(value: string): string | undefined {
  const m = /^\s*(?:(?:"(?:[^"\\]|\\.)*"|[^<>"]*?)\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(value);
  const address = m?.[1] ?? m?.[2];
  return address && isAddress(address) ? address : undefined;
}

/** RFC 5322 §3.6.8 field-name: printable US-ASCII except colon. Values may not break the header line. */
export const isFieldName = (name: string) => /^[!-9;-~]+$/.test(name);
export const isFieldValue = (value: string) => !/[\r\n\0]/.test(value);

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A message as the delivery engine hands it to a transport, for tests: every list header a broadcast
 * carries, and an idempotency key that sorts in the order of `n`.
 */
export function sampleMessage(n: number, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  const id = String(n).padStart(5, '0');
  return {
    from: 'The Author <news@author.example>',
    to: `reader${id}@example.org`,
    subject: `Issue ${n}: a letter from the desk`,
    html: `<p>Dear reader ${n},</p><p>News from the desk.</p>`,
    text: `Dear reader ${n},\n\nNews from the desk.`,
    messageId: `<out-${id}@author.example>`,
    headers: {
      'List-Unsubscribe': `<https://author.example/u/tok${id}>, <mailto:unsubscribe+${id}@author.example>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': 'Letters from the desk <letters.author.example>',
      'Auto-Submitted': 'auto-generated',
    },
    idempotencyKey: `outbox-${id}`,
    ...overrides,
  };
}
