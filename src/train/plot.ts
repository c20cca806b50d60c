/**
 * A training log as a self-contained SVG: three panels stacked over a shared step axis — loss (training, and
 * evaluation where the log has it; optionally on a log scale), learning rate, and gradient norm — each with axes,
 * ticks, tick labels and a label. The output depends only on the lines and the options (coordinates are rounded to
 * 0.01 px), so the same log always gives the same file.
 */
import type { TrainLogLine } from './log.js';

export interface PlotOptions {
  /** Plot the loss on a log₁₀ scale (default false). */
  logLoss?: boolean;
  /** Width in px (default 720). */
  width?: number;
  title?: string;
}

interface Series {
  name: string;
  className: string;
  color: string;
  points: [number, number][];
}

const PANEL_HEIGHT = 200;
const MARGIN = { left: 72, right: 20, top: 36, bottom: 40 };
const GAP = 28;

const escapeXml = (s: string): string => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const px = (v: number): string => String(Math.round(v * 100) / 100);

/** A tick label: few digits, exponent form for very small or large values. */
function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** About `count` round ticks (1, 2 or 5 × 10ⁿ apart) inside [lo, hi]. */
function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [lo, hi] (in log₁₀ units), with 2× and 5× in between when the span is under two decades. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const fine = hi - lo < 2;
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of fine ? [1, 2, 5] : [1]) {
      const t = Math.log10(m) + e;
      if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : linearTicks(lo, hi);
}

/** A padded range holding every value; a single value gets a range around it. */
function extent(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = lo === hi ? Math.abs(lo) * 0.1 || 1 : (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function panel(svg: string[], top: number, width: number, xRange: [number, number], label: string, series: Series[], log: boolean): void {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = top + PANEL_HEIGHT;
  // On a log scale only positive values can be drawn; y values are plotted as log₁₀.
  const usable = series.map((s) => ({ ...s, points: s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0)).map(([x, y]): [number, number] => [x, log ? Math.log10(y) : y]) }));
  const ys = usable.flatMap((s) => s.points.map(([, y]) => y));
  svg.push(`<g class="panel" data-panel="${escapeXml(label)}">`);
  svg.push(`<text class="axis-label y-label" x="16" y="${px(top + PANEL_HEIGHT / 2)}" transform="rotate(-90 16 ${px(top + PANEL_HEIGHT / 2)})" text-anchor="middle">${escapeXml(label)}${log ? ' (log scale)' : ''}</text>`);
  svg.push(`<line class="axis x-axis" x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#000"/>`);
  svg.push(`<line class="axis y-axis" x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#000"/>`);
  const [x0, x1] = xRange;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  for (const t of linearTicks(x0, x1)) {
    svg.push(`<line class="tick x-tick" x1="${px(sx(t))}" y1="${bottom}" x2="${px(sx(t))}" y2="${bottom + 5}" stroke="#000"/>`);
    svg.push(`<text class="tick-label x-tick-label" x="${px(sx(t))}" y="${bottom + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  svg.push(`<text class="axis-label x-label" x="${px((left + right) / 2)}" y="${bottom + 34}" text-anchor="middle">step</text>`);
  if (ys.length === 0) {
    svg.push(`<text class="no-data" x="${px((left + right) / 2)}" y="${px(top + PANEL_HEIGHT / 2)}" text-anchor="middle">no data</text>`, '</g>');
    return;
  }
  const [y0, y1] = extent(ys);
  const sy = (y: number) => bottom - ((y - y0) / (y1 - y0)) * PANEL_HEIGHT;
  for (const t of log ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    svg.push(`<line class="tick y-tick" x1="${left - 5}" y1="${px(sy(t))}" x2="${left}" y2="${px(sy(t))}" stroke="#000"/>`);
    svg.push(`<line class="grid" x1="${left}" y1="${px(sy(t))}" x2="${right}" y2="${px(sy(t))}" stroke="#ddd"/>`);
    svg.push(`<text class="tick-label y-tick-label" x="${left - 8}" y="${px(sy(t) + 4)}" text-anchor="end">${formatTick(log ? 10 ** t : t)}</text>`);
  }
  usable.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${px(sx(x))} ${px(sy(y))}`).join(' ');
    svg.push(`<path class="series ${s.className}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (series.length > 1) {
      const y = top + 14 + 16 * i;
      svg.push(`<line class="legend-swatch" x1="${right - 130}" y1="${y - 4}" x2="${right - 110}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"/>`);
      svg.push(`<text class="legend" x="${right - 104}" y="${y}">${escapeXml(s.name)}</text>`);
    }
  });
  svg.push('</g>');
}

/** The SVG of a training log's lines (see `readTrainingLog`). */
export function plotTrainingLog(lines: readonly TrainLogLine[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const steps = lines.flatMap((l) => (l.type === 'step' ? [l] : []));
  const evals = lines.flatMap((l) => (l.type === 'eval' ? [l] : []));
  const xs = [...steps, ...evals].map((l) => l.step);
  const xRange: [number, number] = xs.length === 0 ? [0, 1] : Math.min(...xs) === Math.max(...xs) ? [Math.min(...xs) - 1, Math.max(...xs) + 1] : [Math.min(...xs), Math.max(...xs)];
  const height = MARGIN.top + 3 * PANEL_HEIGHT + 2 * (GAP + MARGIN.bottom) + MARGIN.bottom;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${px(width / 2)}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title ?? 'training')}</text>`,
  ];
  const panels: [string, Series[], boolean][] = [
    [
      'loss',
      [
        { name: 'training loss', className: 'train-loss', color: '#1f77b4', points: steps.map((l) => [l.step, l.loss]) },
        ...(evals.length > 0 ? [{ name: 'evaluation loss', className: 'eval-loss', color: '#d62728', points: evals.map((l): [number, number] => [l.step, l.loss]) }] : []),
      ],
      options.logLoss ?? false,
    ],
    ['learning rate', [{ name: 'learning rate', className: 'lr', color: '#2ca02c', points: steps.map((l) => [l.step, l.lr]) }], false],
    ['gradient norm', [{ name: 'gradient norm', className: 'grad-norm', color: '#9467bd', points: steps.map((l) => [l.step, l.gradNorm]) }], false],
  ];
  panels.forEach(([label, series, log], i) => panel(svg, MARGIN.top + i * (PANEL_HEIGHT + GAP + MARGIN.bottom), width, xRange, label, series, log));
  svg.push('</svg>');
  return `${svg.join('\n')}\n`;
}
