/*
 * File: tools/chart.ts
 * Purpose: a small SVG line chart, no dependencies: the demo's "map entries over the run"
 *          for the three VM levels.
 *
 *   lineChart([{ label: 'L0', points: [[0, 1], [120, 4], ...] }, ...], { title, xLabel, yLabel })
 *
 * Series are drawn as steps (a value holds until the next sample), a dot on the last
 * value; the legend (right) names them. Axes start at 0 and get "nice" round ticks. The y axis is
 * linear, or logarithmic (base 10, from 1) with `logY`. Text is escaped; the output is a
 * complete standalone SVG document.
 */

export interface ChartSeries {
  label: string;
  /** [x, y] in increasing x */
  points: ReadonlyArray<readonly [number, number]>;
  /** a CSS colour (default: from a palette) */
  color?: string;
}

export interface ChartOptions {
  title?: string;
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** logarithmic y axis */
  logY?: boolean;
  /** formats x tick values (default: the number) */
  formatX?: (x: number) => string;
}

const PALETTE = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];

/** XML text escaping. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values from 0 to at least `max` (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Powers of ten from 1 to at least `max`. */
function logTicks(max: number): number[] {
  const ticks = [1];
  while (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! * 10);
  return ticks;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4)));
}

/** The SVG document. */
export function lineChart(series: readonly ChartSeries[], o: ChartOptions = {}): string {
  const W = o.width ?? 820;
  const H = o.height ?? 460;
  const m = { left: 78, right: 190, top: o.subtitle ? 62 : 44, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xMax = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const yMax = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const xt = niceTicks(xMax, 6);
  const yt = o.logY ? logTicks(yMax) : niceTicks(yMax, 5);
  const xTop = xt[xt.length - 1]!;
  const yTop = yt[yt.length - 1]!;
  const X = (x: number): number => m.left + (x / xTop) * pw;
  const Y = o.logY
    ? (y: number): number => m.top + ph - (Math.log10(Math.max(1, y)) / Math.log10(Math.max(10, yTop))) * ph
    : (y: number): number => m.top + ph - (y / yTop) * ph;
  const r = (n: number): string => n.toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  if (o.title) out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.subtitle) out.push(`<text x="${m.left}" y="44" fill="#555">${escapeXml(o.subtitle)}</text>`);
  // Grid and ticks.
  for (const v of yt) {
    const y = Y(v);
    out.push(`<line x1="${m.left}" y1="${r(y)}" x2="${m.left + pw}" y2="${r(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${r(y + 4)}" text-anchor="end" fill="#333">${escapeXml(fmt(v))}</text>`);
  }
  for (const v of xt) {
    const x = X(v);
    out.push(`<line x1="${r(x)}" y1="${m.top}" x2="${r(x)}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${r(x)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${escapeXml(o.formatX ? o.formatX(v) : fmt(v))}</text>`);
  }
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  if (o.xLabel) out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) {
    out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  }
  // Series, as steps.
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    if (s.points.length === 0) return;
    const pts: string[] = [];
    let prev: readonly [number, number] | null = null;
    for (const p of s.points) {
      if (prev !== null) pts.push(`${r(X(p[0]))},${r(Y(prev[1]))}`);
      pts.push(`${r(X(p[0]))},${r(Y(p[1]))}`);
      prev = p;
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"><title>${escapeXml(s.label)}</title></polyline>`);
    const last = s.points[s.points.length - 1]!;
    out.push(`<circle cx="${r(X(last[0]))}" cy="${r(Y(last[1]))}" r="3" fill="${color}"/>`);
  });
  // Legend.
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const y = m.top + 8 + k * 18;
    out.push(`<line x1="${W - m.right + 14}" y1="${y}" x2="${W - m.right + 34}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - m.right + 40}" y="${y + 4}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
