import { readFileSync } from 'node:fs';
import type postgres from 'postgres';

/** What the kernel counts for a process: CPU seconds (user + system) and peak RSS (VmHWM), in MiB. */
export function procStats(pid: number): { cpuSeconds: number; peakRssMb: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU seconds spent so far by every PostgreSQL backend connected to database `db` (same machine). */
export async function backendCpuSeconds(sql: postgres.Sql, db: string): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${db}`;
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, procStats(pid).cpuSeconds);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The CPU seconds backends spent between two readings (backends that came and went in between are missed). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** The 1-minute load average, for the notes: how busy the shared machine was. */
export const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
