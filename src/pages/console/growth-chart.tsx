/** @jsxImportSource hono/jsx */
import type { GrowthDay } from '../../core/stats.js';
import { formatNumber, formatShortDate } from './format.js';

/**
 * Confirmed signups (up) and unsubscribes (down) per day, as inline SVG: no script, no library, scales
 * with the page. Screen readers get the title and a summary; the numbers themselves are in a table
 * right below it.
 */

const W = 720;
const H = 240;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 26;

/** A round upper bound for the axis, and its ticks. */
export function scaleFor(max: number): { top: number; ticks: number[] } {
  if (max <= 0) return { top: 1, ticks: [0, 1] };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const rounded = Math.max(1, step);
  const top = Math.ceil(max / rounded) * rounded;
  const ticks: number[] = [];
  for (let v = 0; v <= top; v += rounded) ticks.push(v);
  return { top, ticks };
}

const shortDate = formatShortDate;

export function GrowthChart({ days }: { days: GrowthDay[] }) {
  const up = scaleFor(Math.max(0, ...days.map((d) => d.confirmed)));
  const mostLeft = Math.max(0, ...days.map((d) => d.unsubscribed));
  // With no unsubscribes the lower half is a sliver with no axis of its own.
  const down = mostLeft > 0 ? scaleFor(mostLeft) : { top: up.top / 8, ticks: [] };
  const plotH = H - TOP - BOTTOM;
  // The zero line sits where the two scales meet, in proportion to their ranges.
  const zero = TOP + plotH * (up.top / (up.top + down.top));
  const perUnit = plotH / (up.top + down.top);
  const slot = (W - LEFT - RIGHT) / Math.max(1, days.length);
  const bar = Math.max(1, slot * 0.7);
  const confirmed = days.reduce((a, d) => a + d.confirmed, 0);
  const unsubscribed = days.reduce((a, d) => a + d.unsubscribed, 0);
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  const labelEvery = Math.max(1, Math.ceil(days.length / 6));
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="growth-title growth-desc">
        <title id="growth-title">Confirmed signups and unsubscribes per day</title>
        <desc id="growth-desc">
          {`From ${shortDate(first)} to ${shortDate(last)}: ${formatNumber(confirmed)} confirmed signups, most in one day ${formatNumber(Math.max(0, ...days.map((d) => d.confirmed)))}; ${formatNumber(unsubscribed)} unsubscribes. The table below has every day.`}
        </desc>
        {up.ticks.map((v) => (
          <g key={`u${v}`}>
            <line class="grid" x1={LEFT} x2={W - RIGHT} y1={zero - v * perUnit} y2={zero - v * perUnit} />
            <text class="axis" x={LEFT - 6} y={zero - v * perUnit + 4} text-anchor="end">
              {formatNumber(v)}
            </text>
          </g>
        ))}
        {down.ticks
          .filter((v) => v > 0)
          .map((v) => (
            <g key={`d${v}`}>
              <line class="grid" x1={LEFT} x2={W - RIGHT} y1={zero + v * perUnit} y2={zero + v * perUnit} />
              <text class="axis" x={LEFT - 6} y={zero + v * perUnit + 4} text-anchor="end">
                {`−${formatNumber(v)}`}
              </text>
            </g>
          ))}
        {days.map((d, i) => {
          const x = LEFT + i * slot + (slot - bar) / 2;
          return (
            <g key={d.day}>
              {d.confirmed > 0 ? (
                <rect
                  class="series-confirmed"
                  x={x}
                  y={zero - d.confirmed * perUnit}
                  width={bar}
                  height={d.confirmed * perUnit}
                  data-day={d.day}
                  data-confirmed={d.confirmed}
                >
                  <title>{`${shortDate(d.day)}: ${formatNumber(d.confirmed)} confirmed`}</title>
                </rect>
              ) : null}
              {d.unsubscribed > 0 ? (
                <rect
                  class="series-unsubscribed"
                  x={x}
                  y={zero}
                  width={bar}
                  height={d.unsubscribed * perUnit}
                  data-day={d.day}
                  data-unsubscribed={d.unsubscribed}
                >
                  <title>{`${shortDate(d.day)}: ${formatNumber(d.unsubscribed)} unsubscribed`}</title>
                </rect>
              ) : null}
              {i % labelEvery === 0 ? (
                <text class="axis" x={LEFT + i * slot} y={H - 8}>
                  {shortDate(d.day)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          <li>
            <span class="key confirmed" aria-hidden="true"></span>
            {`${formatNumber(confirmed)} confirmed signups`}
          </li>
          <li>
            <span class="key unsubscribed" aria-hidden="true"></span>
            {`${formatNumber(unsubscribed)} unsubscribes`}
          </li>
        </ul>
      </figcaption>
      <details>
        <summary>The numbers, day by day</summary>
        <div class="table-wrap">
          <table class="data" id="growth-table">
            <caption>Confirmed signups and unsubscribes per day (UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" class="num">
                  Confirmed
                </th>
                <th scope="col" class="num">
                  Unsubscribed
                </th>
              </tr>
            </thead>
            <tbody>
              {[...days].reverse().map((d) => (
                <tr key={d.day}>
                  <th scope="row">
                    <time datetime={d.day}>{d.day}</time>
                  </th>
                  <td class="num">{formatNumber(d.confirmed)}</td>
                  <td class="num">{formatNumber(d.unsubscribed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
