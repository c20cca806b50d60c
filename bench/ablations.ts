/**
 * The paper's fusion ablations (SignBind-LLM Tables 4, 7, 8) as a study on simulated expert outputs
 * (docs/ablations.md): How2Sign training and test sentences go through `signweave simulate`'s generative model with
 * one set of settings (lips lag the hands by a per-sentence offset around 5 frames, so alignment matters), the fusion
 * module of each variant is trained with one seed and budget, and the fused logits of the test sentences are decoded
 * greedily and scored with WER against the pseudo-gloss. The sign stream decoded alone is the no-fusion reference.
 *
 * One gloss vocabulary covers both sets: the training glosses by frequency, then the test-only glosses (which no
 * fusion model can learn to emit; their share of the test tokens is reported as `testOov`). Every variant starts from
 * the architecture `signweave train fusion` builds by default (TRAIN_DEFAULTS.fusion: d 64, 2 pre-norm layers, 4 heads,
 * posteriors in).
 *
 *   node --import tsx bench/ablations.ts [--train 150] [--test 60] [--epochs 20] [--seed 1] [--batch 4] [--lr 1e-2] [--threads 2]
 *                                        [--variants gated,no-lip,…] [--json] [--out results.json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FUSION_VARIANTS, FUSION_VARIANT_NAMES, fusionVariantConfig, loadFusionBundle, type FusionVariant } from '../src/bundles/fusion.js';
import { createProgress } from '../src/cli/progress.js';
import { interruptSignal } from '../src/cli/interrupt.js';
import { greedyDecode } from '../src/ctc/greedy.js';
import { CtcVocabulary } from '../src/ctc/vocab.js';
import { scoreCorpus } from '../src/eval/metrics/registry.js';
import type { WerScore } from '../src/eval/metrics/wer.js';
import type { FusionConfig } from '../src/fusion/config.js';
import { decodeCtc } from '../src/pipeline/decoding.js';
import { Simulator, resolveSimulationSettings, settingsHash } from '../src/simulate/index.js';
import { corpusTargets } from '../src/simulate/sources.js';
import { TRAIN_DEFAULTS, TRAIN_FORMAT, resolveTrainConfig } from '../src/train/config.js';
import { TrainingSet } from '../src/train/data.js';
import { TRAIN_TASKS, fusionItems, fusionSampleOf } from '../src/train/tasks.js';
import { train } from '../src/train/trainer.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { SIGNWEAVE_VERSION } from '../src/version.js';
import { sharedPath } from '../test/helpers/shared.js';
import { integerArg } from './harness.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '150' },
    test: { type: 'string', default: '60' },
    epochs: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '4' },
    lr: { type: 'string', default: '1e-2' },
    variants: { type: 'string', default: FUSION_VARIANT_NAMES.join(',') },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const N = integerArg('train', values.train, 1);
const M = integerArg('test', values.test, 1);
const epochs = integerArg('epochs', values.epochs, 1);
const seed = integerArg('seed', values.seed, 0);
const threads = integerArg('threads', values.threads, 1);
const batchSize = integerArg('batch', values.batch, 1);
const lr = Number(values.lr);
if (!(lr > 0)) throw new Error(`--lr must be a positive number, got ${values.lr}`);
const variants = values.variants.split(',').map((v) => v.trim()) as FusionVariant[];
const unknown = variants.filter((v) => !(v in FUSION_VARIANTS));
if (unknown.length > 0) throw new Error(`--variants: unknown ${unknown.join(', ')} (known: ${FUSION_VARIANT_NAMES.join(', ')})`);

/** What the study changes in the simulator's defaults: lips lag by normal(5, 2) frames, drawn once per sentence. */
const SIMULATION_OVERRIDES = { seed, lip: { offset: { mode: 'per-sentence', frames: 5, sd: 2 } } };
/** What it changes in the training defaults: batch and learning rate for a budget of a few hundred steps (warm-up: below). */
const TRAIN_OVERRIDES = { seed, epochs, batchSize, optimizer: { lr } };

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
const started = performance.now();
const signal = interruptSignal();

// --- simulate -----------------------------------------------------------------------------------------------------
const labels = (split: string) => sharedPath('data', 'how2sign', 'unisign_labels_jsonl', `labels.${split}.jsonl`);
const [trainSource, testSource] = [await corpusTargets('how2sign', labels('train'), N), await corpusTargets('how2sign', labels('test'), M)];
const trainGlosses = new Set(trainSource.vocab.gloss);
const vocab = { ...trainSource.vocab, gloss: [...trainSource.vocab.gloss, ...testSource.vocab.gloss.filter((g) => !trainGlosses.has(g))] };
const settings = resolveSimulationSettings(SIMULATION_OVERRIDES, 'bench/ablations.ts');
const simulator = new Simulator(settings, vocab);
const simulated = { train: trainSource.sentences.map((s) => simulator.simulate(s)), test: testSource.sentences.map((s) => simulator.simulate(s)) };
const simulateSeconds = (performance.now() - started) / 1000;

const samples = { train: simulated.train.map(fusionSampleOf), test: simulated.test.map(fusionSampleOf) };
const set = TrainingSet.fromArrays(fusionItems(samples.train), { vocabSize: vocab.gloss.length });
const ctcVocab = new CtcVocabulary({ labels: vocab.gloss, joiner: ' ' });
const references = simulated.test.map((s) => s.target.map((id) => vocab.gloss[id]).join(' '));
const testTokens = simulated.test.reduce((n, s) => n + s.target.length, 0);
const oovTokens = simulated.test.reduce((n, s) => n + s.target.filter((id) => id >= trainSource.vocab.gloss.length).length, 0);
const longest = Math.max(...[...samples.train, ...samples.test].map((s) => s.sign.shape[0]));

const base: FusionConfig = {
  ...TRAIN_DEFAULTS.fusion.architecture,
  inputs: { sign: vocab.gloss.length, fingerspell: vocab.letters.length, lips: vocab.phonemes.length },
  vocabSize: vocab.gloss.length,
  lipStride: settings.lip.stride,
  maxLen: Math.max(1024, longest),
};

function wer(hyps: string[]): WerScore {
  const [{ result }] = scoreCorpus(['wer'], hyps, [references]);
  return result as unknown as WerScore;
}

interface Row {
  variant: string;
  changes: Record<string, unknown>;
  werPct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  hits: number;
  signature: string;
  steps?: number;
  msPerStep?: number;
  finalLoss?: number;
  /** Mean manual share of the gate over the test frames (1 = manual only), for the gated fusions with lips. */
  gateMean?: number;
  trainSeconds?: number;
}

const row = (variant: string, changes: Record<string, unknown>, score: WerScore): Row => ({
  variant,
  changes,
  werPct: round(score.score),
  substitutions: score.substitutions,
  deletions: score.deletions,
  insertions: score.insertions,
  hits: score.hits,
  signature: score.signature,
});

const rows: Row[] = [row('sign stream alone (no fusion)', {}, wer(simulated.test.map((s) => greedyDecode({ data: s.sign.data, T: s.sign.shape[0], V: s.sign.shape[1] }, ctcVocab).text)))];
const stepsPerEpoch = set.stepsPerEpoch({ batchSize, seed });
// Warm-up over the first tenth of the steps (the default 500 would outlast the whole budget).
const schedule = { warmupSteps: Math.max(1, Math.round(0.1 * stepsPerEpoch * epochs)) };
const trainConfig = resolveTrainConfig({ format: TRAIN_FORMAT, ...TRAIN_OVERRIDES, schedule });

for (const variant of variants) {
  if (signal.aborted) break;
  const architecture = fusionVariantConfig(base, variant);
  const task = TRAIN_TASKS.fusion({ architecture, vocab: vocab.gloss, samples: samples.train, dropout: trainConfig.config.dropout > 0 });
  const out = mkdtempSync(join(tmpdir(), `signweave-ablation-${variant}-`));
  try {
    const t0 = performance.now();
    let progress: ReturnType<typeof createProgress> | undefined;
    const result = await train({
      task,
      set,
      config: trainConfig,
      out,
      threads,
      signal,
      onProgress: (e) => {
        if (e.type === 'start') progress = createProgress(`train ${variant}`, e.totalSteps, !values.json);
        else if (e.type === 'step') progress?.update(e.step, `loss ${e.loss.toFixed(3)}`);
      },
    });
    progress?.stop();
    if (result.interrupted) break;
    const trainSeconds = (performance.now() - t0) / 1000;
    await using bundle = await loadFusionBundle(out);
    const hyps: string[] = [];
    const gates: number[] = [];
    for (const s of samples.test) {
      const fps = settings.fps;
      const fused = await bundle.run({
        sign: { ...s.sign, fps },
        fingerspell: { ...s.fingerspell!, fps },
        router: { ...s.router, fps },
        lips: { ...s.lips!, fps: fps / settings.lip.stride },
      });
      hyps.push(decodeCtc(fused.logits, ctcVocab, { decoder: 'greedy' }).text);
      if (fused.gateMean) gates.push(...fused.gateMean);
    }
    rows.push({
      ...row(variant, FUSION_VARIANTS[variant], wer(hyps)),
      steps: result.steps,
      msPerStep: round(result.msPerStep, 1),
      finalLoss: round(result.finalLoss, 4),
      ...(gates.length > 0 && { gateMean: round(gates.reduce((a, b) => a + b, 0) / gates.length, 3) }),
      trainSeconds: round(trainSeconds, 1),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const report = {
  bench: 'ablations',
  signweave: SIGNWEAVE_VERSION,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtEnd: loadavg().map((l) => round(l)) },
  command: `node --import tsx bench/ablations.ts ${process.argv.slice(2).join(' ')}`.trim(),
  data: {
    train: { file: trainSource.provenance.path, sha256: trainSource.provenance.sha256, sentences: simulated.train.length },
    test: { file: testSource.provenance.path, sha256: testSource.provenance.sha256, sentences: simulated.test.length, tokens: testTokens },
    vocab: { gloss: vocab.gloss.length, trainGloss: trainSource.vocab.gloss.length, letters: vocab.letters.length, phonemes: vocab.phonemes.length },
    testOov: { tokens: oovTokens, pct: round((100 * oovTokens) / testTokens) },
  },
  simulation: { seed: settings.seed, settingsHash: settingsHash(settings), overrides: SIMULATION_OVERRIDES, seconds: round(simulateSeconds, 1) },
  training: { seed, epochs, stepsPerEpoch, threads, overrides: { ...TRAIN_OVERRIDES, schedule }, architecture: base },
  decoding: 'greedy CTC on the fused logits (log-softmaxed); WER (jiwer) of the pseudo-gloss against the simulated target',
  rows,
  wallSeconds: round((performance.now() - started) / 1000, 1),
  interrupted: signal.aborted,
};
if (values.out) writeFileAtomic(values.out, `${JSON.stringify(report, null, 2)}\n`);
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const { rows: _, ...setup } = report;
  process.stdout.write(`${JSON.stringify(setup)}\n`);
  console.table(rows.map(({ signature: _s, changes: _c, ...r }) => r));
  process.stdout.write(`WER signature: ${rows[0].signature}\n`);
}
if (signal.aborted) process.exit(130);
