/**
 * How the console writes numbers and times: English grouping, times in UTC (the server's days are UTC
 * days). The formatters are made once: building one per call is most of what a page with a ninety-day
 * chart and table would spend.
 */

const NUMBER = new Intl.NumberFormat('en');
const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});
const SHORT_DATE = new Intl.DateTimeFormat('en', { day: 'numeric', month: 'short', timeZone: 'UTC' });

export const formatNumber = (n: number): string => NUMBER.format(n);

/** A share as a whole percent, or with one decimal below ten; "—" when there is nothing to divide. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  const p = (part / whole) * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

/** "25 Nov 2026, 12:00 UTC". */
export const formatDateTime = (d: Date): string => `${DATE_TIME.format(d)} UTC`;

/** "Nov 25", for a chart's axis; `day` is YYYY-MM-DD. */
export const formatShortDate = (day: string): string => SHORT_DATE.format(new Date(`${day}T00:00:00Z`));

export const isoTime = (d: Date): string => d.toISOString();
