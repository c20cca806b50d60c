/**
 * Decoder training speed on CPU: the default decoder LLaMA (train config defaults: d = 128, 2 layers, 4 heads, FF 344,
 * a 4,000-piece tokenizer) on How2Sign training pairs (English → ASL rule pseudo-gloss), through `train()` as
 * `signweave train decoder` runs it, with and without length bucketing.
 * - ms/step: median over the steps after warm-up; tokens/s: real (unpadded) sequence positions per second, and the
 *   padded positions the graph computed per second, so bucketing's saving shows;
 * - the estimated time of one epoch over all 31,086 pairs at that speed.
 * Reports, asserts nothing.
 *
 *   node --import tsx bench/train-decoder.ts [--steps 40] [--warmup 5] [--batch 16] [--bucket 8] [--threads 2] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RuleGlosser } from '../pseudogloss/rules.js';
import { trainTokenizer } from '../src/llm/tokenizer.js';
import { TRAIN_DEFAULTS, resolveTrainConfig } from '../src/train/config.js';
import { TrainingSet } from '../src/train/data.js';
import { decoderTask, pairItems, type TextPair } from '../src/train/llama.js';
import { train, type TrainProgress } from '../src/train/trainer.js';
import { integerArg, loadHow2SignTexts, printReport } from './harness.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '5' },
    batch: { type: 'string', default: '16' },
    bucket: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const steps = integerArg('steps', values.steps, 1);
const warmup = integerArg('warmup', values.warmup, 0);
const batchSize = integerArg('batch', values.batch, 1);
const bucket = integerArg('bucket', values.bucket, 0);
const threads = integerArg('threads', values.threads, 1);

const texts = loadHow2SignTexts();
const glosser = new RuleGlosser({ mode: 'asl' });
const pairs: TextPair[] = texts.map((english, i) => ({ id: `h2s-${i}`, gloss: glosser.glossSync(english).tokens.join(' '), english }));
const { architecture, tokenizer: tokenizerConfig } = TRAIN_DEFAULTS.decoder;
// The tokenizer of all pairs, as `signweave train decoder` would train it: its size sets the output layer's.
let started = performance.now();
const tokenizer = trainTokenizer(
  pairs.flatMap((p) => [p.gloss, p.english]),
  { vocabSize: tokenizerConfig.vocabSize },
);
const tokenizerSeconds = (performance.now() - started) / 1000;
const { items, skipped } = pairItems(pairs.slice(0, (steps + warmup) * batchSize), tokenizer, architecture.maxLen);
const set = TrainingSet.fromArrays(items, { vocabSize: tokenizer.size });
const arch = { vocabSize: tokenizer.size, ...architecture };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits: number): number => Number(x.toFixed(digits));

async function run(bucketPools: number): Promise<Record<string, string | number>> {
  const out = mkdtempSync(join(tmpdir(), 'signweave-bench-decoder-'));
  const config = resolveTrainConfig({ format: 'signweave-train/1', epochs: 1, batchSize, bucket: bucketPools, dropout: 0, schedule: { warmupSteps: 10 } });
  const timed: Extract<TrainProgress, { type: 'step' }>[] = [];
  const padded: number[] = [];
  // The padded length of each batch, from the plan the trainer follows.
  const plan = set.epochPlan(0, { batchSize, seed: config.config.seed, bucket: bucketPools });
  started = performance.now();
  try {
    await train({
      task: decoderTask(arch, tokenizer),
      set,
      config,
      out,
      threads,
      onProgress: (e) => {
        if (e.type !== 'step' || e.step <= warmup) return;
        timed.push(e);
        const lengths = plan[e.step - 1].map((i) => set.items[i].input.shape[0]);
        padded.push(lengths.length * Math.max(...lengths));
      },
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const ms = timed.reduce((a, e) => a + e.ms, 0);
  const stepMs = median(timed.map((e) => e.ms));
  return {
    bucket: bucketPools === 0 ? 'none' : `${bucketPools} batches`,
    'ms/step': round(stepMs, 1),
    'tokens/s': Math.round((timed.reduce((a, e) => a + e.positions, 0) * 1000) / ms),
    'padded tokens/s': Math.round((padded.reduce((a, b) => a + b, 0) * 1000) / ms),
    'padding %': round((100 * (padded.reduce((a, b) => a + b, 0) - timed.reduce((a, e) => a + e.positions, 0))) / padded.reduce((a, b) => a + b, 0), 1),
    'loss first→last': `${timed[0].loss.toFixed(3)}→${timed.at(-1)!.loss.toFixed(3)}`,
    'epoch of 31,086 pairs (min)': round((Math.ceil(texts.length / batchSize) * stepMs) / 60000, 1),
  };
}

const rows = [await run(0), ...(bucket > 0 ? [await run(bucket)] : [])];
const setup = {
  architecture: arch,
  pairs: items.length,
  skipped: skipped.length,
  batchSize,
  steps,
  warmup,
  threads,
  tokenizer: { pieces: tokenizer.size, trainedOn: `${pairs.length} pairs`, seconds: round(tokenizerSeconds, 1) },
};
printReport('train-decoder', setup, rows, values.json);
