/** Writes each scenario's figures into its own marked section of docs/reliability.md. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { machine, type ScenarioResult } from './util.js';

const FILE = 'docs/reliability.md';
const INTRO = `# Reliability

Fault and load figures for quire, written by the scripts that measure them: \`npm run test:chaos\`
(\`-- --quick\` in CI) and \`npm run test:soak\`. Each section below is replaced when its scenario runs
again; a section records the command, the machine and the date it was measured on. How the scenarios
work, what they prove and what they leave out is at the end of this file.
`;

const cell = (v: unknown) => String(v).replace(/\|/g, '\\|');

export function renderSection(r: ScenarioResult, command: string): string {
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const verdict = r.failures.length === 0 ? 'all invariants held' : `**${r.failures.length} invariant(s) broken**`;
  return [
    `<!-- chaos:${r.name}:start -->`,
    `### ${r.title}`,
    '',
    `\`${command}\` — ${stamp} UTC — ${machine()} — ${r.seconds.toFixed(0)} s — ${verdict}`,
    '',
    '| figure | value | expected | ok |',
    '|---|---:|---|---|',
    ...r.rows.map(
      (row) =>
        `| ${cell(row.figure)} | ${cell(row.value)} | ${cell(row.expected ?? '')} | ${row.ok === undefined ? '' : row.ok ? 'yes' : '**no**'} |`,
    ),
    ...(r.failures.length ? ['', ...r.failures.map((f) => `- broken: ${f}`)] : []),
    ...(r.notes.length ? ['', ...r.notes.map((n) => `- ${n}`)] : []),
    `<!-- chaos:${r.name}:end -->`,
  ].join('\n');
}

/**
 * Replace the scenario's section; new sections go before the "How these figures are made" part so
 * the figures stay together at the top.
 */
export async function writeSection(r: ScenarioResult, command: string): Promise<void> {
  const section = renderSection(r, command);
  let doc = await readFile(FILE, 'utf8').catch(() => INTRO);
  const re = new RegExp(`<!-- chaos:${r.name}:start -->[\\s\\S]*?<!-- chaos:${r.name}:end -->`);
  if (re.test(doc)) {
    doc = doc.replace(re, () => section);
  } else {
    const anchor = doc.indexOf('\n## How these figures are made');
    doc =
      anchor >= 0
        ? `${doc.slice(0, anchor).trimEnd()}\n\n${section}\n${doc.slice(anchor)}`
        : `${doc.trimEnd()}\n\n${section}\n`;
  }
  await mkdir('docs', { recursive: true });
  await writeFile(FILE, doc);
}

export function printResult(r: ScenarioResult): void {
  console.log(`\n== ${r.title} (${r.seconds.toFixed(0)} s): ${r.failures.length === 0 ? 'PASS' : 'FAIL'}`);
  const width = Math.max(...r.rows.map((row) => row.figure.length), 10);
  for (const row of r.rows) {
    const mark = row.ok === undefined ? ' ' : row.ok ? '✓' : '✗';
    console.log(
      `  ${mark} ${row.figure.padEnd(width)}  ${String(row.value)}${row.expected ? `   (expected ${row.expected})` : ''}`,
    );
  }
  for (const n of r.notes) console.log(`    · ${n}`);
  for (const f of r.failures) console.log(`  BROKEN: ${f}`);
}
