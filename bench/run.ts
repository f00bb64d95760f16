/**
 * `npm run bench [-- <name>] [--quick]`: run the benchmarks, print their tables, write JSON under
 * bench/results/ and rewrite their sections of docs/benchmarks.md. Benchmarks report; they never fail
 * on a time.
 */
import { benchDelivery } from './delivery.js';
import { benchEdge } from './edge.js';
import { benchSignup } from './signup.js';
import { writeReport, type BenchResult } from './support/report.js';

const benches: Record<string, (quick: boolean) => Promise<BenchResult>> = {
  signup: benchSignup,
  delivery: benchDelivery,
  edge: benchEdge,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const selected = names.length ? names : Object.keys(benches);
for (const name of selected) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`bench ${name}${quick ? ' (quick)' : ''} …`);
  const result = await bench(quick);
  console.table(result.rows.map((r) => ({ figure: r.figure, value: Number(r.value.toFixed(2)), unit: r.unit, target: r.target ?? '', met: r.met ?? '' })));
  await writeReport(result, `npm run bench -- ${name}${quick ? ' --quick' : ''}`);
}
process.exit(0);
