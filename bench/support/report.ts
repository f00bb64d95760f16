import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';

export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  target?: string;
  met?: boolean;
  /** Quoted in the summary at the top of docs/benchmarks.md (and in the README). */
  headline?: boolean;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  notes?: string[];
}

export const fmt = (v: number, unit: string) =>
  unit === '×' ? v.toFixed(2) : v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(1);

/** Write the raw JSON under bench/results/ and (unless `docs: false`) replace this benchmark's section in docs/benchmarks.md. */
export async function writeReport(result: BenchResult, command: string, opts: { docs?: boolean } = {}): Promise<void> {
  const stamp = new Date().toISOString();
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    `bench/results/${result.name}-${stamp.replace(/[:.]/g, '-')}.json`,
    JSON.stringify({ ...result, at: stamp, command }, null, 2),
  );

  if (opts.docs === false) return;
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const lines = [
    `<!-- bench:${result.name}:start -->`,
    `### ${result.name}`,
    '',
    `\`${command}\` — ${stamp.slice(0, 16).replace('T', ' ')} UTC — ${machine}`,
    '',
    '| figure | value | target | met |',
    '|---|---:|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.figure} | ${fmt(r.value, r.unit)} ${r.unit} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    ),
    ...(result.notes?.length ? ['', ...result.notes.map((n) => `- ${n}`)] : []),
    `<!-- bench:${result.name}:end -->`,
  ].join('\n');

  const file = 'docs/benchmarks.md';
  let doc = await readFile(file, 'utf8').catch(
    () =>
      '# Benchmarks\n\nEvery figure is measured against a baseline in the same run; `npm run bench` rewrites the sections below.\n',
  );
  const re = new RegExp(`<!-- bench:${result.name}:start -->[\\s\\S]*?<!-- bench:${result.name}:end -->`);
  doc = re.test(doc) ? doc.replace(re, lines) : `${doc.trimEnd()}\n\n${lines}\n`;
  await mkdir('docs', { recursive: true });
  await writeFile(file, doc);
}

/**
 * The top of docs/benchmarks.md: how to read the figures, the machine, the versions, the exact command,
 * how long the whole run took, and the headline figures of every benchmark. Written after a full run.
 */
export async function writeIntro(info: {
  command: string;
  totalSeconds: number;
  results: BenchResult[];
  versions: Record<string, string>;
}): Promise<void> {
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const headlines = info.results.flatMap((r) =>
    r.rows.filter((row) => row.headline).map((row) => ({ bench: r.name, row })),
  );
  const lines = [
    '<!-- bench:intro:start -->',
    '# Benchmarks',
    '',
    '**Ratios, not absolute numbers.** These machines are small and shared (2 cores; other engineers run test',
    'suites on them now and then), so an absolute figure says as much about the neighbours as about quire. Every',
    'figure below is therefore measured next to a baseline in the same run — the same work done by the bare',
    'stack, by the database alone, or by the naive approach — and the ratio is the claim. Targets are marked',
    'met or **not met** as measured; benchmarks report, they never fail a build. Where a target is missed, its',
    'section says why, with the profile or `EXPLAIN ANALYZE` from the same run; what the first runs found and',
    'what was changed because of it is at the end ("Findings").',
    '',
    `Last full run: \`${info.command}\` on ${stamp} UTC, ${Math.round(info.totalSeconds / 60)} min ${Math.round(info.totalSeconds % 60)} s in all.`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}.`,
    '',
    `Versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    'Reproduce: `npm run bench` (everything, under 20 minutes here), `npm run bench -- signup` (one: `signup`,',
    '`delivery`, `providers`, `scale`, `scale-out`, `queue`, `console`, `rendering`, `startup`, `edge`), `npm run bench -- --quick`',
    '(a short smoke run for CI).',
    'Each benchmark starts what it needs — the server in production mode as its own process, an SMTP sink in',
    'another, a fresh migrated database on the local PostgreSQL — and stops it; raw results land in',
    '`bench/results/*.json`.',
    '',
    '## Headlines',
    '',
    '| benchmark | figure | value | target | met |',
    '|---|---|---:|---|---|',
    ...headlines.map(
      ({ bench, row }) =>
        `| ${bench} | ${row.figure} | ${fmt(row.value, row.unit)} ${row.unit} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Each benchmark',
    '<!-- bench:intro:end -->',
  ].join('\n');
  const file = 'docs/benchmarks.md';
  let doc = await readFile(file, 'utf8').catch(() => '');
  const re = /<!-- bench:intro:start -->[\s\S]*?<!-- bench:intro:end -->/;
  if (re.test(doc)) doc = doc.replace(re, lines);
  else doc = `${lines}\n\n${doc.replace(/^# Benchmarks\n+(Every figure is measured[^\n]*\n+)?/, '')}`;
  // Sections in the order the run made them (each run appends a section it has not written before).
  const section = (name: string) => new RegExp(`<!-- bench:${name}:start -->[\\s\\S]*?<!-- bench:${name}:end -->\\n*`);
  const blocks = info.results.map((r) => section(r.name).exec(doc)?.[0]).filter((b): b is string => b !== undefined);
  for (const b of blocks) doc = doc.replace(b, '');
  const intro = re.exec(doc)![0];
  doc = doc
    .replace(intro, `${intro}\n\n${blocks.map((b) => b.trimEnd()).join('\n\n')}`)
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd();
  await mkdir('docs', { recursive: true });
  await writeFile(file, `${doc}\n`);
}
