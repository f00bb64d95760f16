/**
 * `npm run bench [-- <name>] [--quick]`: run the benchmarks, print their tables, write JSON under
 * bench/results/ and rewrite their sections of docs/benchmarks.md. Benchmarks report; they never fail
 * on a time.
 */
import { benchConsole } from './console.js';
import { benchDelivery } from './delivery.js';
import { benchEdge } from './edge.js';
import { benchProviders } from './providers.js';
import { benchQueue } from './queue.js';
import { benchRendering } from './render.js';
import { benchScale } from './scale.js';
import { benchScaleOut } from './scale-out.js';
import { benchSignup } from './signup.js';
import { benchStartup } from './startup.js';
import { waitForQuiet } from './support/quiet.js';
import { type BenchResult, writeIntro, writeReport } from './support/report.js';
import { versions } from './support/versions.js';

const benches: Record<string, (quick: boolean) => Promise<BenchResult>> = {
  signup: benchSignup,
  delivery: benchDelivery,
  providers: benchProviders,
  scale: benchScale,
  'scale-out': benchScaleOut,
  queue: benchQueue,
  console: benchConsole,
  rendering: benchRendering,
  startup: benchStartup,
  edge: benchEdge,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const selected = names.length ? names : Object.keys(benches);
const unknown = selected.filter((n) => !benches[n]);
if (unknown.length) {
  console.error(`unknown benchmark "${unknown.join('", "')}"; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

// A quick run is a smoke test (CI): it prints and keeps its JSON, but docs/benchmarks.md keeps the
// figures of full runs.
const started = performance.now();
const results: BenchResult[] = [];
const failed: string[] = [];
for (const name of selected) {
  // Each benchmark starts on a settled machine, not on the tail of the one before it.
  const waited = quick ? 0 : await waitForQuiet();
  console.log(
    `bench ${name}${quick ? ' (quick)' : ''} …${waited > 1500 ? ` (after ${(waited / 1000).toFixed(0)} s settling)` : ''}`,
  );
  const t0 = performance.now();
  let result: BenchResult;
  try {
    result = await benches[name]!(quick);
  } catch (err) {
    // One broken benchmark does not cost the others their figures.
    console.error(`bench ${name} failed: ${(err as Error).stack ?? err}`);
    failed.push(name);
    continue;
  }
  console.table(
    result.rows.map((r) => ({
      figure: r.figure,
      value: Number(r.value.toFixed(2)),
      unit: r.unit,
      target: r.target ?? '',
      met: r.met ?? '',
    })),
  );
  console.log(`bench ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  results.push(result);
  await writeReport(result, `npm run bench -- ${name}${quick ? ' --quick' : ''}`, { docs: !quick });
}
const totalSeconds = (performance.now() - started) / 1000;
console.log(
  `all done in ${Math.floor(totalSeconds / 60)} min ${Math.round(totalSeconds % 60)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
);
if (!quick && !names.length)
  await writeIntro({ command: 'npm run bench', totalSeconds, results, versions: await versions() });
process.exit(failed.length ? 1 : 0);
