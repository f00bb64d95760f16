import { type Api, print } from './api.js';

export interface Counts {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  bounced: number;
  skipped: number;
}

export interface Broadcast {
  id: string;
  template: string;
  topic: string;
  subject: string;
  status: string;
  statusReason: string | null;
  scheduledAt: string | null;
  audienceCount: number | null;
  createdAt: string;
  counts?: Counts;
}

const TERMINAL = new Set(['sent', 'cancelled', 'paused', 'draft']);

/**
 * One status line, or with --follow a line that updates until the broadcast is sent, paused or
 * cancelled: rewritten in place on a terminal, a new line per change otherwise (logs, CI).
 */
export async function follow(api: Api, id: string, opts: { follow: boolean; intervalMs: number }): Promise<void> {
  const tty = process.stdout.isTTY === true;
  const samples: { t: number; done: number }[] = [];
  let lastKey = '';
  let live = false;
  const onInterrupt = () => {
    if (live) process.stdout.write('\n');
    process.exit(130);
  };
  if (opts.follow) process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      const b = await api.get<Broadcast>(`/admin/v1/broadcasts/${id}`);
      const c = b.counts ?? { queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, skipped: 0 };
      const done = c.sent + c.failed + c.bounced + c.skipped;
      const now = Date.now();
      samples.push({ t: now, done });
      while (samples.length > 2 && now - samples[0]!.t > 10_000) samples.shift();
      const first = samples[0]!;
      const rate = now > first.t ? ((done - first.done) * 1000) / (now - first.t) : 0;
      const finished = !opts.follow || TERMINAL.has(b.status);
      const line = statusLine(b, c, finished ? undefined : rate);

      if (finished) {
        if (live) process.stdout.write('\r\x1b[2K');
        print(line);
        if (b.statusReason && b.status !== 'sent') print(`  ${b.statusReason}`);
        return;
      }
      if (tty) {
        process.stdout.write(`\r\x1b[2K${line}`);
        live = true;
      } else {
        const key = `${b.status} ${JSON.stringify(c)}`;
        if (key !== lastKey) print(line);
        lastKey = key;
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

export function statusLine(b: Broadcast, c: Counts, rate?: number): string {
  const total = b.audienceCount ?? c.queued + c.sending + c.sent + c.failed + c.bounced + c.skipped;
  const parts = [
    b.status === 'freezing' ? `freezing: ${total} recipients so far` : `${b.status}: ${c.sent}/${total} sent`,
  ];
  if (rate !== undefined) parts.push(`${rate.toFixed(1)} msgs/s`);
  parts.push(`${c.failed} failed`, `${c.bounced} bounced`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (b.status === 'scheduled' && b.scheduledAt) parts.push(`starts ${b.scheduledAt}`);
  const remaining = c.queued + c.sending;
  if (rate !== undefined && remaining > 0) parts.push(rate > 0 ? `ETA ${duration(remaining / rate)}` : 'ETA –');
  return parts.join('  ');
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
