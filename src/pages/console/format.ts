/** How the console writes numbers and times: English grouping, times in UTC (the server's days are UTC days). */

export const formatNumber = (n: number): string => n.toLocaleString('en');

/** A share as a whole percent, or with one decimal below ten; "—" when there is nothing to divide. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  const p = (part / whole) * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

/** "25 Nov 2026, 12:00 UTC". */
export const formatDateTime = (d: Date): string =>
  `${d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })} UTC`;

export const isoTime = (d: Date): string => d.toISOString();
