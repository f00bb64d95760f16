import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BENCH_ADMIN_TOKEN, BENCH_SECRET } from './server.js';

/** A delivery worker as production runs one (`npm run worker`), in its own process. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves when the worker logged that it started (modules loaded, database reached). */
  ready: Promise<void>;
  /** SIGTERM (the rows in hand are settled first); resolves when it has exited. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  databaseUrl: string;
  /** SMTP_URL or MAIL_DSN (an HTTP provider's stand-in). */
  mail: { SMTP_URL: string } | { MAIL_DSN: string };
  env?: Record<string, string>;
  /** Memory samples of this worker go to this file (bench/support/memory-probe.ts). */
  probeFile?: string;
  /** `--cpu-prof` into this directory. */
  profileDir?: string;
}

export const BENCH_MAIL_FROM = 'Jane Author <news@example.com>';
export const BENCH_PUBLIC_URL = 'https://news.example.com';

export function startWorker(opts: WorkerOptions): WorkerProcess {
  const flags = [
    ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []),
    '--import',
    'tsx',
    ...(opts.probeFile ? ['--import', './bench/support/memory-probe.ts'] : []),
  ];
  const child = spawn(process.execPath, [...flags, 'src/runtime/node/main.ts', '--worker'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: opts.databaseUrl,
      SMTP_URL: '',
      MAIL_DSN: '',
      ...opts.mail,
      SECRET_KEY: BENCH_SECRET,
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      PUBLIC_URL: BENCH_PUBLIC_URL,
      MAIL_FROM: BENCH_MAIL_FROM,
      DELIVERY_RATE: '1000000',
      LOG_LEVEL: 'info',
      ...(opts.probeFile ? { MEMORY_PROBE_FILE: opts.probeFile } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('"delivery worker started"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it started`)));
  });
  return {
    child,
    pid: child.pid!,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
