/**
 * quire as it runs in production: `node --import tsx src/runtime/node/main.ts` (HTTP + delivery loop)
 * or with `--worker` (delivery loop only), as child processes the scenarios can SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep, waitFor } from './util.js';

export const SECRET = 'chaos-secret-key-0123456789abcdef0123456789';
export const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
export const MAIL_DOMAIN = 'news.quire.test';

/** Every quire process's stdout and stderr; removed after a passing run, kept (and named) after a failing one. */
export const logDir = mkdtempSync(join(tmpdir(), 'quire-chaos-logs-'));
export const removeLogs = () => rmSync(logDir, { recursive: true, force: true });
let seq = 0;

export interface QuireOptions {
  databaseUrl: string;
  smtpUrl: string;
  worker?: boolean;
  env?: Record<string, string>;
  label?: string;
}

export class QuireProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  port = 0;

  private constructor(opts: QuireOptions, port: number) {
    this.port = port;
    this.logFile = join(logDir, `${opts.label ?? (opts.worker ? 'worker' : 'api')}-${seq++}.log`);
    const out = createWriteStream(this.logFile);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      DATABASE_URL: opts.databaseUrl,
      SMTP_URL: opts.smtpUrl,
      SECRET_KEY: SECRET,
      ADMIN_TOKEN,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      MAIL_FROM: `How Teams Think Before They Build <updates@${MAIL_DOMAIN}>`,
      POSTAL_ADDRESS: 'Quire Chaos Press, 1 Example Street, Springfield',
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'info',
      ...opts.env,
    };
    const args = ['--import', 'tsx', 'src/runtime/node/main.ts', ...(opts.worker ? ['--worker'] : [])];
    this.child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() });
    this.child.stdout!.pipe(out);
    this.child.stderr!.pipe(out);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(opts: QuireOptions): Promise<QuireProcess> {
    const port = opts.worker ? 0 : await freePort();
    const p = new QuireProcess(opts, port);
    const ready = opts.worker
      ? () => p.log().includes('delivery worker started')
      : async () => {
          try {
            return (await fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
          } catch {
            return false;
          }
        };
    let exitCode: number | null | undefined;
    void p.exited.then((c) => (exitCode = c));
    await waitFor(
      `quire ${opts.worker ? 'worker' : 'API'} to start`,
      async () => {
        if (exitCode !== undefined)
          throw new Error(`quire exited with ${exitCode} while starting:\n${p.log().slice(-2000)}`);
        return ready();
      },
      60_000,
      50,
    );
    return p;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.child.pid!;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Log lines at level error, parsed. */
  errors(): Record<string, unknown>[] {
    return this.log()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"level":"error"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within `ms`. */
  async stop(ms = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(ms)]);
    await this.kill('SIGKILL');
  }
}

export const adminHeaders = {
  authorization: `Bearer ${ADMIN_TOKEN}`,
  accept: 'application/json',
  'content-type': 'application/json',
};

export async function adminCall<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: adminHeaders,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
