import { connectApi, parseCommand, print } from './api.js';

const STATS_USAGE = `usage: quire stats [--json]

The list at a glance, as the console's overview shows it: people by status and by topic, confirmed
signups and unsubscribes over the last 90 days, the share of signup requests that were confirmed, the
last broadcasts with their figures, and the state of the consent ledger.`;

/** What GET /admin/v1/overview answers (src/routes/admin/subscribers/overview.ts). */
interface Overview {
  computedAt: string;
  kept: boolean;
  total: number;
  byStatus: Record<string, number>;
  topics: { slug: string; name: string; active: number }[];
  growth: { days: { day: string; confirmed: number; unsubscribed: number }[]; confirmed: number; unsubscribed: number };
  confirmation: { asked: number; confirmed: number };
  broadcasts: {
    subject: string;
    status: string;
    audienceCount: number | null;
    counts: { sent: number; failed: number; bounced: number; queued: number; sending: number };
  }[];
  ledger: { sealed: number; pending: number; pendingCapped: boolean; tail: { checked: number; ok: boolean } };
}

const n = (v: number) => v.toLocaleString('en');
const STATUSES = ['active', 'pending', 'unsubscribed', 'bounced', 'complained', 'erased'];
const BLOCKS = '▁▂▃▄▅▆▇█';

/** One character a day, the tallest for the busiest day: the shape of the chart in a terminal line. */
function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v === 0 ? ' ' : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

export async function statsCommand(args: string[]) {
  const { values } = parseCommand(args, { json: { type: 'boolean' } } as const, STATS_USAGE);
  const o = await connectApi().get<Overview>('/admin/v1/overview');
  if (values.json) return print(JSON.stringify(o, null, 2));
  for (const line of describe(o)) print(line);
  if (!o.ledger.tail.ok) process.exitCode = 1;
}

function describe(o: Overview): string[] {
  const lines: string[] = [];
  const active = o.byStatus.active ?? 0;
  lines.push(`${n(active)} waiting for the book, of ${n(o.total)} on the list`);
  const width = Math.max(...[...STATUSES, ...o.topics.map((t) => t.name)].map((s) => s.length));
  for (const s of STATUSES) lines.push(`  ${s.padEnd(width)}  ${n(o.byStatus[s] ?? 0).padStart(10)}`);
  lines.push('', 'Waiting, by topic');
  for (const t of o.topics) lines.push(`  ${t.name.padEnd(width)}  ${n(t.active).padStart(10)}`);
  const { growth: g, confirmation: c } = o;
  const share = c.asked ? ` (${Math.round((c.confirmed / c.asked) * 100)}%)` : '';
  lines.push(
    '',
    `Last 90 days: ${n(g.confirmed)} confirmed signups, ${n(g.unsubscribed)} unsubscribes; ${n(c.confirmed)} confirmations for ${n(c.asked)} signup requests${share}`,
    `  confirmed     |${sparkline(g.days.map((d) => d.confirmed))}|`,
    `  unsubscribed  |${sparkline(g.days.map((d) => d.unsubscribed))}|`,
    `                 ${g.days[0]?.day ?? ''}${' '.repeat(Math.max(1, g.days.length - 20))}${g.days.at(-1)?.day ?? ''}`,
  );
  lines.push('', o.broadcasts.length ? 'Last broadcasts' : 'No broadcasts yet');
  for (const b of o.broadcasts) {
    const waiting = b.counts.queued + b.counts.sending;
    lines.push(
      `  ${b.status.padEnd(9)} ${b.subject}`,
      `            ${n(b.counts.sent)} sent of ${b.audienceCount === null ? '—' : n(b.audienceCount)}, ${n(waiting)} waiting, ${n(b.counts.failed)} failed, ${n(b.counts.bounced)} bounced`,
    );
  }
  const l = o.ledger;
  lines.push(
    '',
    `Consent ledger: ${n(l.sealed)} events in the chain, ${n(l.pending)}${l.pendingCapped ? '+' : ''} waiting to be sealed; ` +
      (l.tail.ok
        ? `the newest ${n(l.tail.checked)} links check out (quire consent verify walks all of them)`
        : 'a recent link does NOT match its event: run quire consent verify'),
  );
  if (o.kept) lines.push('', `(figures counted at ${o.computedAt}; a list this size is counted once a minute)`);
  return lines;
}
