/**
 * Loaded with `--import` into a process the benchmark measures: every 100 ms (and once at the very
 * start) it appends `[ms since start, rss, heapUsed, heapTotal, external + arrayBuffers]` in bytes to
 * MEMORY_PROBE_FILE, one JSON array a line. The kernel's own peak (VmHWM) is read beside it.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  const started = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify([Math.round(performance.now() - started), m.rss, m.heapUsed, m.heapTotal, m.external + m.arrayBuffers])}\n`,
    );
  };
  sample();
  setInterval(sample, 100).unref();
}
