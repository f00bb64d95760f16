/**
 * `npm run test:chaos [-- --quick] [--only worker-kill,smtp-outage,pg-outage,multi-instance,provider-trouble,…]
 *   [--seed N] [--report|--no-report]`
 *
 * Fault scenarios against real processes: quire's Node entry (API and `--worker`), a private PostgreSQL
 * cluster (initdb + pg_ctl in a temporary directory, never the machine's shared server), an SMTP sink and
 * the mail provider stand-ins (tests/stand-ins/), each in its own process. Prints a summary per scenario,
 * rewrites its section of docs/reliability.md (full runs; `--quick`, which CI runs, only with --report),
 * and exits non-zero when an invariant breaks (a recipient lost, duplicates past the bound, a 500, a
 * half-written signup, …).
 */
import { parseArgs } from 'node:util';
import { inboundJunk } from './inbound-junk.js';
import { multiInstance } from './multi-instance.js';
import { pgOutage } from './pg-outage.js';
import { providerTrouble } from './provider-trouble.js';
import { smtpOutage } from './smtp-outage.js';
import { startPrivateCluster } from './support/cluster.js';
import { logDir, removeLogs } from './support/quire.js';
import { printResult, writeSection } from './support/report.js';
import { type ScenarioResult, seededRandom } from './support/util.js';
import { webhookFlood } from './webhook-flood.js';
import { workerKill } from './worker-kill.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string' },
    report: { type: 'boolean' },
    'no-report': { type: 'boolean' },
  },
});
const quick = values.quick!;
// Full runs rewrite their sections of docs/reliability.md; quick runs (CI) only print, unless --report.
const report = values['no-report'] ? false : (values.report ?? !quick);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = seededRandom(seed);

type Scenario = (
  cluster: Awaited<ReturnType<typeof startPrivateCluster>>,
  opts: { quick: boolean; random: () => number },
) => Promise<ScenarioResult>;
const scenarios: Record<string, Scenario> = {
  'worker-kill': workerKill,
  'smtp-outage': smtpOutage,
  'pg-outage': pgOutage,
  'multi-instance': multiInstance,
  'provider-trouble': providerTrouble,
  'webhook-flood': webhookFlood,
  'inbound-junk': inboundJunk,
};
const selected = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(scenarios);
for (const name of selected) {
  if (!scenarios[name]) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
}

/** The command that repeats a scenario with the same random points. */
const commandFor = (name: string) =>
  `npm run test:chaos -- ${quick ? '--quick ' : ''}${values.only ? `--only ${name} ` : ''}--seed ${seed}`;
console.log(
  `quire chaos${quick ? ' (quick)' : ''}: ${selected.join(', ')} — seed ${seed} (repeat with --seed ${seed})`,
);
const started = performance.now();
const cluster = await startPrivateCluster();
console.log(`private PostgreSQL cluster on port ${cluster.port} (${cluster.dir})`);
const results: ScenarioResult[] = [];
try {
  for (const name of selected) {
    console.log(`\n→ ${name}`);
    const result = await scenarios[name]!(cluster, { quick, random });
    results.push(result);
    printResult(result);
    if (report) await writeSection(result, commandFor(name));
  }
} finally {
  cluster.destroy();
}

const failed = results.filter((r) => r.failures.length > 0);
console.log(
  `\nquire chaos: ${results.length - failed.length}/${results.length} scenarios held in ${((performance.now() - started) / 1000).toFixed(0)} s${report ? '; figures in docs/reliability.md' : ''}.`,
);
if (failed.length) {
  for (const r of failed) for (const f of r.failures) console.error(`  ${r.name}: ${f}`);
  console.error(`quire's logs: ${logDir}`);
  process.exit(1);
}
removeLogs();
process.exit(0);
