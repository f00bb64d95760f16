import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  notes?: string[];
}

const fmt = (v: number, unit: string) =>
  unit === '×' ? v.toFixed(2) : v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(1);

/** Write the raw JSON under bench/results/ and replace this benchmark's section in docs/benchmarks.md. */
export async function writeReport(result: BenchResult, command: string): Promise<void> {
  const stamp = new Date().toISOString();
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${result.name}-${stamp.replace(/[:.]/g, '-')}.json`, JSON.stringify({ ...result, at: stamp, command }, null, 2));

  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const lines = [
    `<!-- bench:${result.name}:start -->`,
    `### ${result.name}`,
    '',
    `\`${command}\` — ${stamp.slice(0, 16).replace('T', ' ')} UTC — ${machine}`,
    '',
    '| figure | value | target | met |',
    '|---|---:|---|---|',
    ...result.rows.map((r) => `| ${r.figure} | ${fmt(r.value, r.unit)} ${r.unit} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`),
    ...(result.notes?.length ? ['', ...result.notes.map((n) => `- ${n}`)] : []),
    `<!-- bench:${result.name}:end -->`,
  ].join('\n');

  const file = 'docs/benchmarks.md';
  let doc = await readFile(file, 'utf8').catch(() => '# Benchmarks\n\nEvery figure is measured against a baseline in the same run; `npm run bench` rewrites the sections below.\n');
  const re = new RegExp(`<!-- bench:${result.name}:start -->[\\s\\S]*?<!-- bench:${result.name}:end -->`);
  doc = re.test(doc) ? doc.replace(re, lines) : `${doc.trimEnd()}\n\n${lines}\n`;
  await mkdir('docs', { recursive: true });
  await writeFile(file, doc);
}
