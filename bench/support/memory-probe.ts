/**
 * Loaded with `--import` into a process the benchmark measures: every 100 ms (and once at the very
 * start) it appends `[ms since start, rss, heapUsed, heapTotal, external + arrayBuffers, anonymous,
 * file-backed]` in bytes to MEMORY_PROBE_FILE, one JSON array a line. The last two split the RSS as the
 * kernel counts it (/proc/self/smaps_rollup; 0 where there is none). The kernel's own peak (VmHWM) is
 * read beside it.
 */
import { appendFileSync, readFileSync } from 'node:fs';

const file = process.env.MEMORY_PROBE_FILE;

function rssSplit(): [number, number] {
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return [kib('Anonymous'), kib('Rss') - kib('Anonymous')];
  } catch {
    return [0, 0];
  }
}

if (file) {
  const started = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify([Math.round(performance.now() - started), m.rss, m.heapUsed, m.heapTotal, m.external + m.arrayBuffers, ...rssSplit()])}\n`,
    );
  };
  sample();
  setInterval(sample, 100).unref();
}
