/**
 * Start-up: `npm start` (embedded defaults: PGlite, captured mail) until the first healthy GET /readyz,
 * on a fresh data directory (PGlite creates its cluster, migrations run) and on a warm one (reopen,
 * nothing to migrate); median of 3 each. Baselines in the same run, spawn to exit: `node -e 0`, and for
 * the shares of `npm start` that are not quire, `npm --version` and `node --import tsx -e 0`.
 * `npm run bench -- startup [--quick]`
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './support/report.js';
import { freePort, median } from './support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawn → exit, in ms. */
function runToExit(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', env: process.env });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

/** `npm start` in its own process group with `dataDir`; ms until /readyz answers 200; then stopped. */
async function npmStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, QUIRE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
  for (const k of ['DATABASE_URL', 'SMTP_URL', 'SECRET_KEY', 'NODE_ENV', 'PUBLIC_URL', 'ADMIN_TOKEN']) delete env[k];
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (
        await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return performance.now() - started;
      if (child.exitCode !== null) throw new Error('npm start exited before it was ready');
      if (Date.now() > deadline) throw new Error('npm start was not ready within 60 s');
      await sleep(10);
    }
  } finally {
    // SIGTERM to the whole group (npm, sh, tsx, node): quire closes PGlite and its pid lock cleanly.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await exited;
    // npm exits when its child does; give quire a moment to finish closing the data directory.
    await sleep(300);
    clearTimeout(timer);
  }
}

export async function benchStartup(quick: boolean): Promise<BenchResult> {
  const runs = quick ? 1 : 3;
  const nodeE: number[] = [];
  const npmNoop: number[] = [];
  const tsxNoop: number[] = [];
  const fresh: number[] = [];
  const warm: number[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      nodeE.push(await runToExit(process.execPath, ['-e', '0']));
      npmNoop.push(await runToExit('npm', ['--version']));
      tsxNoop.push(await runToExit(process.execPath, ['--import', 'tsx', '-e', '0']));
      const dir = await mkdtemp(join(tmpdir(), 'quire-bench-start-'));
      dirs.push(dir);
      fresh.push(await npmStart(dir));
    }
    for (let i = 0; i < runs; i++) warm.push(await npmStart(dirs[0]!));
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
  const base = median(nodeE);
  return {
    name: 'startup',
    rows: [
      {
        figure: '`npm start` → first healthy /readyz, fresh data directory',
        value: median(fresh),
        unit: 'ms',
        headline: true,
      },
      {
        figure: '`npm start` → first healthy /readyz, warm data directory',
        value: median(warm),
        unit: 'ms',
        headline: true,
      },
      { figure: 'baseline: `node -e 0`, spawn to exit', value: base, unit: 'ms' },
      { figure: 'baseline: `npm --version`, spawn to exit (npm’s own start)', value: median(npmNoop), unit: 'ms' },
      {
        figure: 'baseline: `node --import tsx -e 0`, spawn to exit (the TypeScript loader)',
        value: median(tsxNoop),
        unit: 'ms',
      },
      { figure: 'ratio fresh / node -e 0', value: median(fresh) / base, unit: '×' },
      { figure: 'ratio warm / node -e 0', value: median(warm) / base, unit: '×' },
    ],
    notes: [
      `Median of ${runs}; embedded defaults (no DATABASE_URL, no SMTP_URL: PGlite in the data directory, mail captured), so "fresh" includes PGlite creating its cluster, the migrations and the generated secret; "warm" reopens the same directory. Readiness polled every 10 ms.`,
    ],
  };
}
