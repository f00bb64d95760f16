import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/harness.js';
import { createTestDatabase } from '../support/postgres.js';
import { SmtpSink } from '../support/smtp-sink.js';

/**
 * Regression (issue 7, chaos `pg-outage`): when PostgreSQL went away under a signup load, postgres.js
 * 3.4.9 threw `TypeError: Cannot read properties of null (reading 'write')` from a setImmediate callback
 * (a transaction's ROLLBACK written to a connection that had just closed) and the whole quire process
 * died; and requests waited for pooled connections far past DB_TIMEOUT_MS. A TCP proxy between quire and
 * the server plays the database crashing (every connection closed at once), being down (connections
 * refused) and starting up (connections accepted, never answered); quire must stay up, answer 202 or 503
 * within DB_TIMEOUT_MS + 1 s, and recover by itself.
 */
const DB_TIMEOUT_MS = 2000;

class CuttableProxy {
  private server: net.Server | undefined;
  private pairs = new Set<[net.Socket, net.Socket]>();
  private held = new Set<net.Socket>();
  /** Accept connections and never answer (a server that is starting, or a network that drops packets). */
  blackhole = false;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.blackhole) {
        this.held.add(client);
        client.on('error', () => {}).on('close', () => this.held.delete(client));
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Every open connection closed at once, as when the server crashes. */
  cut(): void {
    for (const client of this.held) client.destroy();
    this.held.clear();
    for (const [client, upstream] of this.pairs) {
      upstream.destroy();
      client.destroy();
    }
    this.pairs.clear();
  }

  /** Refuse connections until listen() again. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cut();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}

describe.runIf(process.env.TEST_DATABASE_URL)('quire when PostgreSQL crashes under load (PostgreSQL)', () => {
  let proxy: CuttableProxy;
  let smtp: SmtpSink;
  let quire: ChildProcess;
  let drop = async () => {};
  let output = '';
  let port = 0;

  beforeAll(async () => {
    port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const db = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    drop = db.drop;
    const target = new URL(db.url);
    proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.listen();
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    smtp = await new SmtpSink().start();
    quire = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: viaProxy.toString(),
        SMTP_URL: smtp.url,
        SECRET_KEY: TEST_SECRET,
        ADMIN_TOKEN: 'test-admin-token-0123456789',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        PORT: String(port),
        TRUST_PROXY: 'true',
        RATE_LIMIT_IP: '100000',
        DB_TIMEOUT_MS: String(DB_TIMEOUT_MS),
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    quire.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    quire.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline || quire.exitCode !== null) throw new Error(`quire did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    quire?.kill('SIGKILL');
    await smtp?.stop();
    await proxy?.down();
    await drop();
  });

  it('stays up, answers 202 or 503 in the envelope, and recovers by itself', async () => {
    const results: { at: number; status: number; ms: number; code?: string | undefined }[] = [];
    let running = true;
    let n = 0;
    const loops = Array.from({ length: 12 }, async () => {
      while (running) {
        const started = Date.now();
        const i = n++;
        const res = await fetch(`http://127.0.0.1:${port}/v1/subscriptions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'x-forwarded-for': `198.18.${i % 250}.${1 + (i % 200)}`,
          },
          body: JSON.stringify({ email: `restart.${i}@example.com`, consent: true }),
          signal: AbortSignal.timeout(DB_TIMEOUT_MS + 8000),
        }).then(
          async (r) => ({
            status: r.status,
            code: r.status === 202 ? undefined : ((await r.json()) as { error?: { code?: string } }).error?.code,
          }),
          () => ({ status: 0, code: 'no answer' }),
        );
        results.push({ at: Date.now(), ms: Date.now() - started, ...res });
      }
    });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(1000);
    for (let i = 0; i < 6; i++) {
      proxy.cut(); // the server "crashes" with transactions in flight
      await pause(300);
    }
    await proxy.down(); // and stays down for a moment
    await pause(2000);
    await proxy.listen();
    proxy.blackhole = true; // listening again, but answering nothing yet (as while it starts up)
    proxy.cut();
    await pause(4000);
    proxy.blackhole = false;
    proxy.cut();
    const upAt = Date.now();
    await pause(3000);
    running = false;
    await Promise.all(loops);

    expect(quire.exitCode, output).toBeNull();
    const unexpected = results.filter(
      (r) => !(r.status === 202 || (r.status === 503 && r.code === 'service_unavailable')),
    );
    expect(unexpected, JSON.stringify(unexpected.slice(0, 5))).toEqual([]);
    expect(results.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    // Every request answers by DB_TIMEOUT_MS + 1 s (the request deadline), with room for a busy event loop.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(DB_TIMEOUT_MS + 2000);
    // Recovered: a second after the database is back, every signup is accepted again.
    const late = results.filter((r) => r.at > upAt + 1000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.every((r) => r.status === 202)).toBe(true);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
  }, 60_000);
});
