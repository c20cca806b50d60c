/**
 * CTC decoding benchmark: `node --import tsx bench/ctc.ts [--json]`.
 * - prefix beam search on the LibriSpeech logits from pyctcdecode's tests (371 frames × 29) at beam 16 and 64;
 * - the sign-language case: 160 frames over a 10,000-gloss vocabulary (seeded synthetic log-softmax, one true
 *   gloss per short segment with most of the mass, blanks between), beam 16, with and without a lexicon, plus
 *   T = 80 … 640 to check that time per frame stays flat;
 * - greedy decoding of the same inputs as the baseline for the ratios.
 * Single-threaded; the goal is < 20 ms per 160-frame, 10k-vocabulary sentence at beam 16.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CtcBeamDecoder, fromRows, greedyDecode, Lexicon, logSoftmax, type BeamSearchOptions, type CtcMatrix } from '../src/ctc/index.js';

const json = process.argv.includes('--json');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedRoot = process.env.SIGNWEAVE_SHARED ?? join(repoRoot, '..', 'shared');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Median wall time of `fn` in ms over at least `minRuns` runs and `minMs` total, after warm-up. */
function time(fn: () => unknown, minRuns = 7, minMs = 400): number {
  for (let i = 0; i < 3; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * Synthetic gloss logits: segments of 2–5 frames of one true gloss (logit +9, three confusable glosses +6.5,
 * blank +6) separated by 1–4 blank frames (blank +9, one stray gloss +5), over uniform noise in [0, 2).
 */
function signLogits(T: number, V: number, seed: number): { m: CtcMatrix; truth: number[] } {
  const rand = mulberry32(seed);
  const data = new Float32Array(T * V);
  for (let i = 0; i < data.length; i++) data[i] = rand() * 2;
  const truth: number[] = [];
  let t = 0;
  while (t < T) {
    const gloss = 1 + Math.floor(rand() * (V - 1));
    truth.push(gloss);
    const confusable = [0, 1, 2].map(() => 1 + Math.floor(rand() * (V - 1)));
    for (let k = 2 + Math.floor(rand() * 4); k > 0 && t < T; k--, t++) {
      data[t * V + gloss] += 9;
      for (const c of confusable) data[t * V + c] += 6.5;
      data[t * V] += 6;
    }
    for (let k = 1 + Math.floor(rand() * 4); k > 0 && t < T; k--, t++) {
      data[t * V] += 9;
      data[t * V + 1 + Math.floor(rand() * (V - 1))] += 5;
    }
  }
  return { m: logSoftmax({ data, T, V }), truth };
}

interface Row {
  case: string;
  T: number;
  V: number;
  beam: number;
  msPerDecode: number;
  framesPerSecond: number;
  msPerFrame: number;
  greedyMs: number;
  ratioToGreedy: number;
  text?: string;
}
const rows: Row[] = [];

function bench(name: string, m: CtcMatrix, options: BeamSearchOptions): Row {
  const decoder = new CtcBeamDecoder(options);
  const ms = time(() => decoder.decode(m));
  const greedyMs = time(() => greedyDecode(m, options));
  const row: Row = {
    case: name,
    T: m.T,
    V: m.V,
    beam: decoder.beamWidth,
    msPerDecode: ms,
    framesPerSecond: (m.T / ms) * 1000,
    msPerFrame: ms / m.T,
    greedyMs,
    ratioToGreedy: ms / greedyMs,
  };
  rows.push(row);
  return row;
}

// LibriSpeech (pyctcdecode's sample: 28 labels + blank appended last)
const libriRaw = JSON.parse(readFileSync(join(sharedRoot, 'data', 'metrics_reference_vectors', 'ctc_testdata', 'pyctcdecode_libri_logits.json'), 'utf8')) as number[][];
const libri = logSoftmax(fromRows(libriRaw));
const libriLabels = [' ', ...'abcdefghijklmnopqrstuvwxyz', "'", ''];
for (const beam of [16, 64]) bench(`librispeech beam ${beam}`, libri, { labels: libriLabels, blank: 28, beamWidth: beam });

// sign language: 10,000 glosses + blank at 0
const V = 10_001;
const glosses = ['<blank>', ...Array.from({ length: V - 1 }, (_, i) => `G${i}`)];
const sentence = signLogits(160, V, 160);
const lexiconWords = glosses.slice(1).filter((_, i) => i % 4 !== 3 || sentence.truth.includes(i + 1));
const lexicon = Lexicon.fromWords(lexiconWords);
const signOptions: BeamSearchOptions = { labels: glosses, joiner: ' ', beamWidth: 16 };
const plain = bench('sign 10k glosses, beam 16', sentence.m, signOptions);
const withLexicon = bench(`sign 10k glosses, beam 16, lexicon of ${lexiconWords.length} glosses`, sentence.m, { ...signOptions, lexicon });
const top = new CtcBeamDecoder(signOptions).decode(sentence.m)[0];
const correct = top.tokens.length === sentence.truth.length && top.tokens.every((t, i) => t === sentence.truth[i]);
for (const T of [80, 160, 320, 640]) bench(`sign 10k glosses, beam 16, T=${T} (linearity)`, signLogits(T, V, T).m, signOptions);

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, rows, signTopIsTruth: correct }, null, 2)}\n`);
} else {
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`node ${process.version}, one thread\n`);
  console.log(`${pad('case', 62)}${pad('ms/decode', 11)}${pad('frames/s', 11)}${pad('µs/frame', 10)}${pad('greedy ms', 11)}× greedy`);
  for (const r of rows) {
    console.log(
      `${pad(r.case, 62)}${pad(r.msPerDecode.toFixed(2), 11)}${pad(Math.round(r.framesPerSecond).toString(), 11)}${pad((r.msPerFrame * 1000).toFixed(1), 10)}${pad(r.greedyMs.toFixed(2), 11)}${r.ratioToGreedy.toFixed(1)}`,
    );
  }
  console.log(`\nsign sentence: ${plain.msPerDecode.toFixed(2)} ms without, ${withLexicon.msPerDecode.toFixed(2)} ms with the lexicon (goal < 20 ms); top hypothesis ${correct ? 'equals' : 'differs from'} the true glosses`);
}
