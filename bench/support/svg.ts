/** A small line chart as SVG text, for the memory figure in docs/ (no plotting library needed). */

export interface Series {
  label: string;
  colour: string;
  dashed?: boolean;
  /** [x, y] points. */
  points: [number, number][];
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (a target, a baseline). */
  rules?: { y: number; label: string; colour: string }[];
}

const W = 760;
const H = 400;
const M = { left: 64, right: 180, top: 40, bottom: 48 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round a span up to a tick step of 1, 2 or 5 × 10ⁿ that gives about `count` ticks. */
function step(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
}

export function lineChart(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.rules ?? []).map((r) => r.y)];
  const xMax = Math.max(1, ...xs);
  const yStep = step(Math.max(1, ...ys), 5);
  const yMax = Math.ceil(Math.max(1, ...ys) / yStep) * yStep;
  const xStep = step(xMax, 8);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xMax) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += yStep)
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`,
    );
  for (let v = 0; v <= xMax + 1e-9; v += xStep)
    out.push(`<text x="${x(v)}" y="${M.top + ph + 16}" text-anchor="middle">${+v.toFixed(2)}</text>`);
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  for (const r of c.rules ?? [])
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(r.y)}" y2="${y(r.y)}" stroke="${r.colour}" stroke-dasharray="2 3"/>`,
      `<text x="${M.left + pw + 6}" y="${y(r.y) + 4}" fill="${r.colour}">${esc(r.label)}</text>`,
    );
  for (const [i, s] of c.series.entries()) {
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join('');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<line x1="${M.left + pw + 6}" x2="${M.left + pw + 26}" y1="${M.top + 120 + i * 16}" y2="${M.top + 120 + i * 16}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${M.left + pw + 30}" y="${M.top + 124 + i * 16}">${esc(s.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
