/**
 * CTC decoding speed, single-threaded:
 * - prefix beam search on the LibriSpeech logits from pyctcdecode's tests (371 frames × 29) at beam 16 and 64;
 * - the sign-language case: 160 frames over a 10,000-gloss vocabulary (seeded synthetic log-softmax, one true
 *   gloss per short segment with most of the mass, blanks between), beam 16, with and without a lexicon, and
 *   T = 80 … 640 to check that the time per frame stays flat;
 * - greedy decoding of each input as the baseline of the ratio.
 * Goal: < 20 ms per 160-frame, 10k-vocabulary sentence at beam 16.
 *
 *   node --import tsx bench/ctc.ts [--runs 25] [--json]
 */
import { readFileSync } from 'node:fs';
import { CtcBeamDecoder, fromRows, greedyDecode, Lexicon, logSoftmax, type BeamSearchOptions, type CtcMatrix } from '../src/ctc/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport, timeRuns } from './harness.js';
import { mulberry32 } from '../src/util/random.js';

const args = benchArgs();
// a decode takes milliseconds: more runs than the harness default keep the median steady
const runs = Math.max(args.runs, 25);

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

type Row = {
  case: string;
  T: number;
  V: number;
  beam: number;
  'ms/decode': number;
  'frames/s': number;
  'µs/frame': number;
  'greedy ms': number;
  '× greedy': number;
};
const rows: Row[] = [];
const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** 100 ms of untimed calls first: sub-millisecond functions need many calls before they are optimised. */
function medianMs(fn: () => unknown): number {
  const warm = performance.now() + 100;
  while (performance.now() < warm) fn();
  return timeRuns(fn, runs).medianSeconds * 1000;
}

function bench(name: string, m: CtcMatrix, options: BeamSearchOptions): Row {
  const decoder = new CtcBeamDecoder(options);
  const ms = medianMs(() => decoder.decode(m));
  const greedyMs = medianMs(() => greedyDecode(m, options));
  const row: Row = {
    case: name,
    T: m.T,
    V: m.V,
    beam: decoder.beamWidth,
    'ms/decode': round(ms, 3),
    'frames/s': Math.round((m.T / ms) * 1000),
    'µs/frame': round((ms / m.T) * 1000, 1),
    'greedy ms': round(greedyMs, 3),
    '× greedy': round(ms / greedyMs, 1),
  };
  rows.push(row);
  return row;
}

// LibriSpeech (pyctcdecode's sample: 28 labels + blank appended last)
const libriRaw = JSON.parse(readFileSync(sharedPath('data', 'metrics_reference_vectors', 'ctc_testdata', 'pyctcdecode_libri_logits.json'), 'utf8')) as number[][];
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

const setup = { runs, lexiconGlosses: lexiconWords.length, signTopIsTruth: correct };
printReport('ctc', setup, rows, args.json);
if (!args.json) {
  process.stdout.write(
    `sign sentence (160 frames, 10k glosses, beam 16): ${plain['ms/decode']} ms, ${withLexicon['ms/decode']} ms with the lexicon (goal < 20 ms)\n`,
  );
}
