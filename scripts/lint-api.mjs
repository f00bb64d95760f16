#!/usr/bin/env node
// `npm run lint:api`: write the OpenAPI document the app serves at /openapi.json, then lint it with
// Redocly's recommended rules (redocly.yaml). Any error or warning fails the run: Redocly itself exits 0
// on warnings, so its JSON report is read here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { createApp } = await import('../src/app.tsx');
const { openApiDocument } = await import('../src/routes/openapi/document.ts');

// The document needs no services: the app is only asked for its routes. The server is a stand-in
// PUBLIC_URL (the served document names the real one).
const doc = openApiDocument(createApp({}), 'https://news.howteamsthink.example');
const dir = mkdtempSync(join(tmpdir(), 'quire-openapi-'));
const file = join(dir, 'openapi.json');
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
const run = spawnSync('redocly', ['lint', file, '--format=json', '--max-problems=1000'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
rmSync(dir, { recursive: true, force: true });
let report;
try {
  report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
} catch {
  console.error(run.stdout);
  console.error('lint:api: Redocly gave no report');
  process.exit(1);
}
for (const p of report.problems) {
  const where = p.location?.[0]?.pointer ?? '';
  console.log(`${p.severity.padEnd(7)} ${p.ruleId.padEnd(28)} ${where}  ${p.message}`);
}
const { errors, warnings } = report.totals;
console.log(`lint:api: ${errors} errors, ${warnings} warnings (Redocly recommended rules)`);
process.exit(errors + warnings === 0 && run.status === 0 ? 0 : 1);
