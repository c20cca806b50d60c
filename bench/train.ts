/**
 * Training speed on CPU: notes.md's reference model (B = 8, T = 128, d = 384, 2 pre-norm transformer layers, 6 heads,
 * FF 1536, GELU, a 1000-way CTC head) on synthetic features and targets, one step = forward on ONNX Runtime, CTC
 * loss in TypeScript, backward on ONNX Runtime, global-norm clipping and AdamW in TypeScript.
 * - ms/step and each part's median over the steps after warm-up, in the two modes of `TrainingSession`: 'split'
 *   (the forward run hands its activations to the backward run) and 'recompute' (the backward run is the whole
 *   training graph, which recomputes the forward pass). With `--mode both` (the default) the two train their own
 *   copies of the model in one process, a step of each in turns (the order rotating), so a busy machine slows both alike;
 * - resident memory of the process after steps 1, 100, 200 and 300, to see that it stays flat (run `--mode split`
 *   or `--mode recompute` to see one mode's alone);
 * - CPU time per step (all threads), less sensitive than wall-clock time to other processes on a shared machine
 *   (though ONNX Runtime's threads spin while they wait), and the load average before and after.
 *
 *   node --import tsx bench/train.ts [--runs 300] [--warmup 10] [--threads 2] [--mode both|split|recompute] [--json]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { GraphBuilder } from '../src/graph/builder.js';
import { layerNorm, linear, positionalEmbedding, transformerEncoderLayer } from '../src/graph/modules.js';
import { bool, float32, type HostTensor } from '../src/graph/tensor.js';
import { buildTrainingGraph, TrainingSession, type TrainingMode } from '../src/train/autodiff.js';
import { ctcLoss } from '../src/train/loss.js';
import { AdamW, clipGradNorm } from '../src/train/optim.js';
import { mulberry32 } from '../src/util/random.js';
import { integerArg, printReport } from './harness.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    mode: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const steps = integerArg('runs', values.runs, 1);
const warmup = integerArg('warmup', values.warmup, 0);
const threads = integerArg('threads', values.threads, 1);
if (!['both', 'split', 'recompute'].includes(values.mode)) throw new Error(`--mode must be both, split or recompute, got ${values.mode}`);

const B = 8;
const T = 128;
const D = 384;
const LAYERS = 2;
const HEADS = 6;
const FF = 1536;
const V = 1000;
const BLANK = 0;
/** Synthetic batches cycled through, so the loss can be seen to fall on data the model has seen. */
const BATCHES = 4;
const RSS_AT = [1, 100, 200, 300];
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const setup = { B, T, d: D, layers: LAYERS, heads: HEADS, ff: FF, vocab: V, steps, warmup, threads, optimizer: 'AdamW lr 3e-4, clip 1.0' };

type Row = Record<string, string | number>;

function define(g: GraphBuilder): void {
  const features = g.input('features', 'float32', ['B', 'T', D]);
  const padding = g.input('padding', 'bool', ['B', 'T']);
  let h = positionalEmbedding('pos', 512, D).apply(g, features);
  for (let i = 0; i < LAYERS; i++) h = transformerEncoderLayer(`encoder.${i}`, D, HEADS, FF, { norm: 'pre', activation: 'gelu' }).apply(g, h, { keyPaddingMask: padding });
  g.output(linear('head', D, V).apply(g, layerNorm('norm', D).apply(g, h)), 'logits');
}

interface SyntheticBatch {
  inputs: Record<string, HostTensor>;
  lengths: number[];
  targets: number[][];
}

/** Uniform features, 96–128 valid frames per sample (the rest padding), 16–32 random non-blank labels each. */
function syntheticBatch(seed: number): SyntheticBatch {
  const rand = mulberry32(seed);
  const lengths = Array.from({ length: B }, () => 96 + Math.floor(rand() * (T - 96 + 1)));
  const targets = lengths.map(() => Array.from({ length: 16 + Math.floor(rand() * 17) }, () => 1 + Math.floor(rand() * (V - 1))));
  const features = float32(
    Float32Array.from({ length: B * T * D }, () => rand() * 2 - 1),
    [B, T, D],
  );
  const padding = bool(
    Array.from({ length: B * T }, (_, i) => (i % T >= lengths[Math.floor(i / T)] ? 1 : 0)),
    [B, T],
  );
  return { inputs: { features, padding }, lengths, targets };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const PARTS = ['forward', 'ctc', 'backward', 'clip', 'adamw'] as const;

/** One model, optimiser and timings per mode. */
interface Run {
  mode: TrainingMode;
  session: TrainingSession;
  weights: Record<string, Float32Array>;
  optimizer: AdamW;
  /** Wall-clock ms per part and step, and CPU ms (all threads) per step. */
  times: Record<(typeof PARTS)[number] | 'step' | 'cpu', number[]>;
  losses: number[];
}

async function train(modes: readonly TrainingMode[]): Promise<Row[]> {
  const training = buildTrainingGraph(define, { seed: 1 });
  const batches = Array.from({ length: BATCHES }, (_, k) => syntheticBatch(100 + k));
  const grad = new Float32Array(B * T * V);
  const runs: Run[] = [];
  for (const mode of modes) {
    const session = await TrainingSession.create(training, { mode, intraOpThreads: threads });
    const times = { forward: [], ctc: [], backward: [], clip: [], adamw: [], step: [], cpu: [] };
    runs.push({ mode, session, weights: training.initialWeights(), optimizer: new AdamW(training.parameters), times, losses: [] });
  }
  const rss: Row = {};
  const loadBefore = load();
  for (let step = 1; step <= steps + warmup; step++) {
    const batch = batches[step % BATCHES];
    for (let k = 0; k < runs.length; k++) {
      const { session, weights, optimizer, times, losses } = runs[(step + k) % runs.length];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { logits } = await session.forward(batch.inputs, weights);
      const t1 = performance.now();
      const { loss } = ctcLoss(logits as HostTensor & { dtype: 'float32' }, batch.lengths, batch.targets, BLANK, { grad });
      const t2 = performance.now();
      const gradients = await session.backward({ logits: float32(grad, logits.shape) });
      const t3 = performance.now();
      clipGradNorm(gradients, 1);
      const t4 = performance.now();
      optimizer.update(weights, gradients, 3e-4);
      const t5 = performance.now();
      losses.push(loss as number);
      if (step <= warmup) continue;
      [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4].forEach((ms, p) => times[PARTS[p]].push(ms));
      times.step.push(t5 - t0);
      const cpu = process.cpuUsage(cpu0);
      times.cpu.push((cpu.user + cpu.system) / 1000);
    }
    if (RSS_AT.includes(step)) rss[`RSS@${step} MiB`] = round(process.memoryUsage().rss / 2 ** 20, 0);
  }
  const loadAfter = load();
  const rows: Row[] = [];
  for (const { mode, session, times, losses } of runs) {
    await session.dispose();
    const row: Row = { mode, 'step ms': round(median(times.step), 1), 'CPU ms/step': round(median(times.cpu), 1) };
    for (const part of PARTS) row[`${part} ms`] = round(median(times[part]), 1);
    rows.push({
      ...row,
      ...rss,
      'saved MiB': mode === 'split' ? round(savedBytes(training.saved) / 2 ** 20, 1) : 0,
      'loss first→last': `${losses[0].toPrecision(3)}→${losses.at(-1)!.toPrecision(3)}`,
      'load before': loadBefore,
      'load after': loadAfter,
    });
  }
  return rows;
}

/** The bytes of the activations split mode holds between the two runs at this batch size. */
function savedBytes(saved: readonly { dtype: string; shape: readonly (number | string | null)[] }[]): number {
  const dims: Record<string, number> = { B, T };
  const size = (shape: readonly (number | string | null)[]): number => shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : typeof d === 'string' ? dims[d] : 1), 1);
  return saved.reduce((sum, s) => sum + size(s.shape) * (s.dtype === 'float32' ? 4 : s.dtype === 'int64' ? 8 : 1), 0);
}

const modes: TrainingMode[] = values.mode === 'both' ? ['recompute', 'split'] : [values.mode as TrainingMode];
const rows = await train(modes);
printReport('train', setup, rows, values.json);
if (!values.json && rows.length === 2) {
  const [recompute, split] = rows.map((r) => Number(r['step ms']));
  const change = round((100 * (split - recompute)) / recompute, 1);
  process.stdout.write(`split mode: ${round(split, 1)} ms/step, recompute mode: ${round(recompute, 1)} ms/step (split ${change > 0 ? '+' : ''}${change}%)\n`);
}
