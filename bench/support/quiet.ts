import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { BENCH_SERVER } from './postgres.js';

/** Idle and total CPU time of the whole machine so far (/proc/stat's first line), in ticks. */
function cpuTicks(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: idle and iowait are the time nobody wanted a core.
  return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

/**
 * Before a benchmark: let the machine settle after the one before it. A CHECKPOINT writes out what the
 * last one left dirty, then this waits until a second passes with the cores at least 85% idle (the last
 * one's databases being dropped and vacuumed, its processes exiting), for at most `maxMs`. Returns how
 * long it waited; a benchmark that starts on a busy machine still says so in its load-average note.
 */
export async function waitForQuiet(maxMs = 60_000): Promise<number> {
  const started = performance.now();
  const sql = postgres(BENCH_SERVER, { max: 1, onnotice: () => {} });
  try {
    await sql`checkpoint`;
  } catch {
    // Not a superuser: the settling below still applies.
  } finally {
    await sql.end();
  }
  while (performance.now() - started < maxMs) {
    const a = cpuTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTicks();
    if ((b.idle - a.idle) / Math.max(1, b.total - a.total) >= 0.85) break;
  }
  return performance.now() - started;
}
