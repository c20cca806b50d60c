/**
 * Router speed on one 10 s video at 24 fps: 240 frames × 384 dims (DINOv2 ViT-S/14 CLS features), window 16, hop 8
 * (29 segments), MLP 384 → 128 → 3 with GELU, seeded demo weights and features.
 * - the whole `route` call (pooling, MLP, softmax; Gumbel sampling in train mode) with the mathjs engine the design
 *   asks for, and with the plain-loop engine doing the same in the same run;
 * - its parts: pooling alone, the MLP alone per engine;
 * - the per-video budget it is measured against: the backbone, ~200 ms per frame (notes.md: 170–310 ms per 224²
 *   image on 2 threads), i.e. ~48 s for these 240 frames.
 *
 *   node --import tsx bench/router.ts [--runs 25] [--json]
 */
import { initLinearLayers, Mlp, poolSegments, Router, type RouteOptions, type RouterEngine } from '../src/router/index.js';
import type { Sequence } from '../src/types.js';
import { mulberry32 } from '../src/util/random.js';
import { benchArgs, printReport, timeRuns } from './harness.js';

const args = benchArgs();
// one call takes milliseconds: more runs than the harness default keep the median steady
const runs = Math.max(args.runs, 25);

const T = 240;
const D = 384;
const fps = 24;
const window = 16;
const hop = 8;
const sizes = [D, 128, 3];
const backboneMsPerFrame = 200;
const budgetMs = backboneMsPerFrame * T;

const rand = mulberry32(240);
const features: Sequence = { data: Float32Array.from({ length: T * D }, () => rand() * 2 - 1), shape: [T, D], fps };
const layers = initLinearLayers(sizes, 384);
const pooled = poolSegments(features, { window, hop });
const S = pooled.segments.length;

/** 100 ms of untimed calls first: functions this short need many calls before they are optimised. */
function medianMs(fn: () => unknown): number {
  const warm = performance.now() + 100;
  while (performance.now() < warm) fn();
  return timeRuns(fn, runs).medianSeconds * 1000;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

type Row = {
  case: string;
  engine: RouterEngine | '—';
  'µs/video': number;
  'µs/segment': number;
  '× loop': number | string;
  '% of backbone': number;
};
const rows: Row[] = [];

function row(name: string, engine: RouterEngine | '—', ms: number, loopMs?: number): Row {
  const r: Row = {
    case: name,
    engine,
    'µs/video': round(ms * 1000, 0),
    'µs/segment': round((ms * 1000) / S, 1),
    '× loop': loopMs === undefined ? '—' : round(ms / loopMs, 2),
    '% of backbone': round((ms / budgetMs) * 100, 4),
  };
  rows.push(r);
  return r;
}

function routeMs(engine: RouterEngine, options: RouteOptions): number {
  const router = new Router({ layers, window, hop, engine });
  return medianMs(() => router.route(features, options));
}

const results: Record<string, Row> = {};
for (const [mode, options] of [
  ['inference', { mode: 'inference' }],
  ['train (Gumbel, τ = 1)', { mode: 'train', seed: 1 }],
] as const) {
  const loopMs = routeMs('loop', options);
  const mathjsMs = routeMs('mathjs', options);
  results[mode] = row(`route, ${mode}`, 'mathjs', mathjsMs, loopMs);
  row(`route, ${mode}`, 'loop', loopMs, loopMs);
}

row('pooling only', '—', medianMs(() => poolSegments(features, { window, hop })));
const mlp = new Mlp(layers, 'gelu');
const mlpLoopMs = medianMs(() => mlp.forward(pooled.data, S, 'loop'));
row('MLP only', 'mathjs', medianMs(() => mlp.forward(pooled.data, S, 'mathjs')), mlpLoopMs);
row('MLP only', 'loop', mlpLoopMs, mlpLoopMs);

const setup = { runs, T, D, fps, window, hop, segments: S, mlp: sizes.join(' → '), activation: 'gelu', backboneMsPerFrame, budgetMs };
printReport('router', setup, rows, args.json);
if (!args.json) {
  const inference = results.inference;
  const share = inference['% of backbone'];
  const verdict = share < 1 ? 'not a hot spot' : 'a hot spot worth replacing with the loop engine';
  process.stdout.write(
    `mathjs router, inference: ${round(inference['µs/video'] / 1000, 2)} ms per 10 s video (${inference['× loop']}× the plain loop), ` +
      `${share} % of the ~${budgetMs / 1000} s the backbone spends on the same 240 frames: ${verdict}\n`,
  );
}
