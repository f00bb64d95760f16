import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A server the benchmark started in its own process, and how to stop it. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first healthy readiness answer. */
  readyMs: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export const BENCH_SECRET = 'bench-secret-key-that-is-long-enough-0123456789';
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawn `node <args>` with `env`, and wait until GET `readyPath` answers 2xx. */
export async function startProcess(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { port: number; readyPath: string; timeoutMs?: number; pollMs?: number; command?: string },
): Promise<ServerProcess> {
  const started = performance.now();
  const child = spawn(opts.command ?? process.execPath, args, {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let readyMs = 0;
  for (;;) {
    const ok = await fetch(`${url}${opts.readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      readyMs = performance.now() - started;
      break;
    }
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} was not ready within ${opts.timeoutMs ?? 120_000} ms`);
    }
    await sleep(opts.pollMs ?? 50);
  }
  return {
    url,
    child,
    readyMs,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface QuireOptions {
  /** PostgreSQL; without it the server runs on PGlite in `dataDir` (which needs NODE_ENV=development). */
  databaseUrl?: string;
  dataDir?: string;
  smtpUrl?: string;
  /** Extra environment (RATE_LIMIT_IP, LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[];
}

/**
 * The quire server as production runs it: `node --import tsx src/runtime/node/main.ts` in its own
 * process, HTTP server plus its in-process delivery loop. Production mode needs PostgreSQL; the PGlite (embedded)
 * variant runs with NODE_ENV=development, which only adds the demo page and /_dev/mail.
 */
export async function startQuire(opts: QuireOptions): Promise<ServerProcess> {
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: opts.databaseUrl ? 'production' : 'development',
    PORT: String(port),
    PUBLIC_URL: 'https://news.bench.example',
    SECRET_KEY: BENCH_SECRET,
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    TRUST_PROXY: 'true',
    MAIL_FROM: 'How Teams Think Before They Build <updates@bench.example>',
    DATABASE_URL: opts.databaseUrl,
    QUIRE_DATA_DIR: opts.dataDir,
    SMTP_URL: opts.smtpUrl,
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return startProcess([...(opts.nodeFlags ?? []), '--import', 'tsx', 'src/runtime/node/main.ts'], env, {
    port,
    readyPath: '/readyz',
  });
}

/** How long `fn` took, and what it answered. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Nearest-rank percentile of unsorted samples. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
