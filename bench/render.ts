/**
 * Rendering: broadcast messages per second for each broadcast template, rendered per recipient (React
 * render + toPlainText, the React Email docs' way) vs rendered once and personalised by substitution
 * plus MIME completion (what the delivery engine does). One fresh process, NODE_ENV=production.
 * `npm run bench -- rendering [--quick]`
 */
import { execFileSync } from 'node:child_process';
import type { BenchResult, BenchRow } from './support/report.js';

export async function benchRendering(quick: boolean): Promise<BenchResult> {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'bench/render-run.ts', '--seconds', quick ? '1' : '3'],
    {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
      maxBuffer: 1 << 20,
    },
  );
  const results = JSON.parse(out.trim().split('\n').pop()!) as Record<
    string,
    { perRecipient: number; perRecipientMime: number; once: number; bytes: number }
  >;
  const rows: BenchRow[] = [];
  for (const [name, r] of Object.entries(results)) {
    rows.push(
      { figure: `${name}: render once + substitution + MIME completion`, value: r.once, unit: 'msg/s' },
      { figure: `${name}: baseline, React render + toPlainText per recipient`, value: r.perRecipient, unit: 'msg/s' },
      { figure: `${name}: baseline, … + MailComposer (a complete message)`, value: r.perRecipientMime, unit: 'msg/s' },
      {
        figure: `${name}: ratio once / per-recipient render`,
        value: r.once / r.perRecipient,
        unit: '×',
        headline: true,
      },
    );
  }
  return {
    name: 'rendering',
    rows,
    notes: [
      `One process, one core, NODE_ENV=production (React's production build), ${quick ? 1 : 3} s per figure after a warm-up; 1,000 recipients made in advance (a third without a name, the rest with "<", "&" and quotes to escape; signed unsubscribe and preference links), the same for every method. The substituted message is complete MIME (headers, base64 text and HTML parts, ${Object.values(results)[0]?.bytes.toLocaleString('en')} bytes for the release announcement); the baseline without MailComposer is not.`,
    ],
  };
}
