import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  cocoRougeLSentence,
  cocoTokenize,
  lcsIndices,
  lcsLength,
  lcsTable,
  porterStem,
  rougeL,
  rougeScoreMulti,
  rougeScoreSentence,
  rougeScoreTokenize,
  summaryLevelLcs,
  unionLcs,
} from '../../src/eval/metrics/rouge.js';
import { SIGNWEAVE_VERSION } from '../../src/version.js';
import { readSharedJson, sharedPath } from '../helpers/shared.js';

interface Triple {
  precision: number;
  recall: number;
  fmeasure: number;
}

interface RougeVectors {
  semantics: Record<string, string>;
  cases: {
    target: string;
    prediction: string;
    rouge_types: string[];
    use_stemmer: boolean;
    expected: Record<string, Triple>;
    assert_places: number;
    note?: string;
  }[];
  lcs_helpers: { fn: string; [k: string]: unknown }[];
  invalid_rouge_types: string[];
  valid_rouge_types: string[];
}

const V = readSharedJson<RougeVectors>('data', 'metrics_reference_vectors', 'rouge_score_vectors.json');
const testdata = (...p: string[]): string => readFileSync(sharedPath('data', 'metrics_reference_vectors', 'rouge_testdata', ...p), 'utf8');

/** Python unittest's assertAlmostEqual(places=p): round(a − b, p) == 0. */
function assertPlaces(actual: number, expected: number, places: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 0.5 * 10 ** -places, `${what}: ${actual} vs ${expected} (to ${places} places)`);
}

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

describe('rouge-score vectors (google-research rouge_scorer_test.py)', () => {
  it('documents score(target, prediction) argument order, which the cases follow', () => {
    assert.match(V.semantics.call, /score\(target, prediction\)/);
  });

  V.cases.forEach((c, idx) => {
    const label = `case ${idx}: ${c.rouge_types.join('+')}${c.use_stemmer ? ' stemmed' : ''}${c.note ? ` (${c.note})` : ''}`;
    it(label, () => {
      const got = rougeScoreSentence(c.target, c.prediction, c.rouge_types, { useStemmer: c.use_stemmer });
      for (const type of c.rouge_types) {
        for (const field of ['precision', 'recall', 'fmeasure'] as const) {
          assertPlaces(got[type][field], c.expected[type][field], c.assert_places, `${type}.${field}`);
        }
      }
    });
  });

  it('the file-based cases are the staged testdata files (line i of target.txt against line i of prediction.txt)', () => {
    const targets = testdata('target.txt').split(/(?<=\n)/);
    const predictions = testdata('prediction.txt').split(/(?<=\n)/);
    const multiTarget = testdata('pyrouge_files', 'target_multi.0.txt');
    const multiPrediction = testdata('pyrouge_files', 'prediction_multi.0.txt');
    let fromFiles = 0;
    for (const c of V.cases) {
      const line = targets.indexOf(c.target);
      if (line >= 0) {
        assert.equal(c.prediction, predictions[line]);
        fromFiles++;
      } else if (c.target === multiTarget) {
        assert.equal(c.prediction, multiPrediction);
        fromFiles++;
      }
    }
    assert.equal(fromFiles, 11);
    const whole = rougeScoreSentence(multiTarget, multiPrediction, ['rougeLsum'], { useStemmer: true }).rougeLsum;
    assertPlaces(whole.fmeasure, 0.47205, 5, 'rougeLsum fmeasure of the whole files');
  });

  it('lcs helpers: _lcs_table + backtrack, empty LCS, _union_lcs, _summary_level_lcs', () => {
    const [table, empty, union, summary] = V.lcs_helpers;
    assert.match(table.fn, /^_lcs_table\(ref=\[1,2,3,4,5\], can=\[2,5,3,4\]\)/);
    const ref = [1, 2, 3, 4, 5];
    const t = lcsTable(ref, [2, 5, 3, 4]);
    assert.equal(t[5][4], table.expected_lcs_len);
    const idx = lcsIndices(ref, [2, 5, 3, 4]);
    assert.deepEqual(idx, table.expected_ref_indices);
    assert.deepEqual(
      idx.map((i) => ref[i]),
      table.expected_values,
    );

    assert.match(empty.fn, /can=\[8,9\]/);
    assert.equal(lcsTable(ref, [8, 9])[5][2], empty.expected_lcs_len);
    assert.deepEqual(lcsIndices(ref, [8, 9]), empty.expected_ref_indices);

    assert.match(union.fn, /^_union_lcs/);
    assert.deepEqual(
      unionLcs(ref, [
        [1, 2, 6, 7, 8],
        [1, 3, 8, 9, 5],
      ]),
      union.expected,
    );

    assert.match(summary.fn, /^_summary_level_lcs/);
    const s = summaryLevelLcs(
      [ref],
      [
        [1, 2, 6, 7, 8],
        [1, 3, 8, 9, 5],
      ],
    );
    const expected = summary.expected as { recall: number; precision: number; fmeasure_3dp: number };
    close(s.recall, expected.recall, 'recall');
    close(s.precision, expected.precision, 'precision');
    assertPlaces(s.fmeasure, expected.fmeasure_3dp, 3, 'fmeasure');
  });

  it('rejects invalid rouge types and accepts valid ones', () => {
    for (const type of V.invalid_rouge_types) {
      assert.throws(() => rougeScoreSentence('testing one two', 'testing', [type]), /Invalid rouge type|requires positive n/, type);
    }
    for (const type of V.valid_rouge_types) {
      assert.doesNotThrow(() => rougeScoreSentence('testing one two', 'testing', [type]), type);
    }
  });
});

describe('rouge-score tokenizer and Porter stemmer', () => {
  it('lowercases, splits on non-alphanumerics and drops empty tokens', () => {
    assert.deepEqual(rougeScoreTokenize("  Don't STOP-me now!! 42x "), ['don', 't', 'stop', 'me', 'now', '42x']);
    assert.deepEqual(rougeScoreTokenize('/'), []);
  });

  it('stems only tokens longer than 3 characters, like nltk PorterStemmer (NLTK_EXTENSIONS)', () => {
    // Expected stems are nltk 3.8 PorterStemmer().stem outputs.
    const nltk: Record<string, string> = {
      caresses: 'caress',
      ponies: 'poni',
      dies: 'die',
      died: 'die',
      spied: 'spi',
      agreed: 'agre',
      hopping: 'hop',
      filing: 'file',
      happy: 'happi',
      enjoy: 'enjoy',
      relational: 'relat',
      generalli: 'gener',
      geologi: 'geolog',
      skies: 'sky',
      dying: 'die',
      news: 'news',
      controll: 'control',
      beautifully: 'beauti',
      stylized: 'styliz',
      decorative: 'decor',
    };
    for (const [word, stem] of Object.entries(nltk)) assert.equal(porterStem(word), stem, word);
    assert.deepEqual(rougeScoreTokenize('The ponies were running', true), ['the', 'poni', 'were', 'run']);
    // "was" has 3 characters and is left alone although the stemmer would strip its "s".
    assert.deepEqual(rougeScoreTokenize('was', true), ['was']);
    assert.equal(porterStem('was'), 'wa');
  });
});

describe('ROUGE-L, COCO variant (pycocoevalcap as vendored by neccam/slt)', () => {
  const version = `signweave-${SIGNWEAVE_VERSION}~pycocoevalcap`;

  it('identical sentences: LCS = length, P = R = 1, F = (1 + β²)/(1 + β²) = 1 → 100', () => {
    const s = rougeL(['the cat sat'], [['the cat sat']]);
    assert.equal(s.name, 'ROUGE-L');
    close(s.score, 100, 'score');
    assert.deepEqual(s.perSentence, [1]);
    assert.equal(s.signature, `nrefs:1|variant:coco|beta:1.2|tok:space|case:mixed|version:${version}`);
  });

  it('disjoint sentences: LCS = 0 → P = R = 0 → F = 0', () => {
    const s = rougeL(['a b'], [['c d']]);
    assert.equal(s.score, 0);
    assert.equal(s.precision, 0);
    assert.equal(s.recall, 0);
  });

  it('multiple references: precision and recall are maximised over the references separately', () => {
    // hyp "a b c d" (4 tokens). ref1 "a b x": LCS 2 → P 2/4, R 2/3. ref2 "a c d y y y": LCS 3 → P 3/4, R 3/6.
    // P_max = 3/4 (ref2), R_max = 2/3 (ref1): F = 2.44·(3/4)·(2/3) / (2/3 + 1.44·3/4) = 1.22 / (131/75) = 183/262.
    const s = cocoRougeLSentence('a b c d', ['a b x', 'a c d y y y']);
    close(s.precision, 0.75, 'P_max');
    close(s.recall, 2 / 3, 'R_max');
    close(s.fmeasure, 183 / 262, 'F');
    // Neither reference alone reaches it: ref1 alone gives 2.44·0.5·(2/3)/(2/3 + 0.72) = 61/104.
    close(cocoRougeLSentence('a b c d', ['a b x']).fmeasure, 61 / 104, 'ref1 only');
    const corpus = rougeL(['a b c d'], [['a b x'], ['a c d y y y']]);
    close(corpus.score, (100 * 183) / 262, 'corpus score');
    assert.match(corpus.signature, /^nrefs:2\|/);
  });

  it('β is configurable: β = 1 gives F1 of P_max and R_max', () => {
    // F1(3/4, 2/3) = 2·(1/2) / (17/12) = 12/17.
    close(cocoRougeLSentence('a b c d', ['a b x', 'a c d y y y'], 1).fmeasure, 12 / 17, 'F1');
    assert.match(rougeL(['a'], [['a']], { beta: 1 }).signature, /\|beta:1\|/);
  });

  it('empty hypothesis: split(" ") gives one empty token, which matches no word → 0 (not an error)', () => {
    assert.deepEqual(cocoTokenize(''), ['']);
    const s = rougeL([''], [['a b']]);
    assert.equal(s.score, 0);
    // ... but it does match an empty reference, so "" against "" scores 1, exactly as pycocoevalcap does.
    close(cocoRougeLSentence('', ['']).fmeasure, 1, 'empty vs empty');
  });

  it('tokens are single-space splits: case and punctuation are kept, a double space adds an empty token', () => {
    assert.deepEqual(cocoTokenize('a  b'), ['a', '', 'b']);
    // hyp "The cat." vs ref "the cat": only "cat." ≠ "cat" and "The" ≠ "the" → LCS 0.
    assert.equal(cocoRougeLSentence('The cat.', ['the cat']).fmeasure, 0);
    // hyp "a  b" (3 tokens) vs ref "a b": LCS 2 → P 2/3, R 1 → F = 2.44·(2/3) / (1 + 1.44·2/3) = 1.6267 / 1.96.
    close(cocoRougeLSentence('a  b', ['a b']).fmeasure, (2.44 * (2 / 3)) / (1 + 0.96), 'double space');
  });

  it('corpus score is the mean of sentence scores × 100 (neccam/slt: Σ score_i / n, then × 100)', () => {
    // Sentence 1: identical → 1. Sentence 2: hyp "a b" vs ref "a c": LCS 1 → P = R = 1/2 → F = 1/2.
    const s = rougeL(['x y', 'a b'], [['x y', 'a c']]);
    close(s.score, 75, 'score');
    assert.deepEqual(s.perSentence, [1, 0.5]);
    close(s.precision, 0.75, 'mean P');
    close(s.recall, 0.75, 'mean R');
    close(s.fmeasure, 0.75, 'mean F');
  });
});

describe('ROUGE-L, rouge-score variant', () => {
  it('corpus value is the mean F-measure × 100', () => {
    // "testing one" vs "testing one two": P 1, R 2/3, F 0.8; identical pair: F 1 → mean 0.9.
    const s = rougeL(['testing one', 'Hello, world'], [['testing one two', 'hello world']], { variant: 'rouge-score' });
    close(s.score, 90, 'score');
    assert.deepEqual(s.perSentence, [0.8, 1]);
    assert.equal(s.name, 'ROUGE-L');
    assert.equal(
      s.signature,
      `nrefs:1|variant:rouge-score|type:rougeL|stem:no|tok:rouge-score|case:lc|multi:max-f|avg:mean-f|version:signweave-${SIGNWEAVE_VERSION}~rouge-score-0.1.2`,
    );
  });

  it('averages like np.mean (pairwise summation), not a running sum', () => {
    // Sentence i: hyp w0..w(i mod 7), ref w0..w(i mod 13 + 1), so F = 2·LCS/(|hyp| + |ref|). numpy 2.4 np.mean of
    // these 300 values is 0.6112414021020832; adding them one by one gives 0.6112414021020833.
    const words = (k: number): string => Array.from({ length: k }, (_, j) => `w${j}`).join(' ');
    const hyps = Array.from({ length: 300 }, (_, i) => words((i % 7) + 1));
    const refs = Array.from({ length: 300 }, (_, i) => words((i % 13) + 2));
    assert.equal(rougeL(hyps, [refs], { variant: 'rouge-score' }).fmeasure, 0.6112414021020832);
  });

  it('multiple references follow score_multi: the whole Score of the reference with the highest F (first on ties)', () => {
    // hyp "testing one": vs "testing" P 1/2 R 1 F 2/3; vs "testing one two three" P 1 R 1/2 F 2/3 → tie → first.
    const best = rougeScoreMulti(['testing', 'testing one two three'], 'testing one', ['rougeL']).rougeL;
    assert.deepEqual(best, { precision: 0.5, recall: 1, fmeasure: 2 / 3 });
    const s = rougeL(['testing one'], [['testing'], ['testing one two three']], { variant: 'rouge-score' });
    assert.equal(s.precision, 0.5);
    assert.equal(s.recall, 1);
    // Unlike the COCO variant, P and R are not maximised separately (that would give P = R = 1).
    assert.equal(rougeL(['testing one'], [['testing'], ['testing one two three']]).score, 100);
  });

  it('rougeLsum splits on newlines and uses the union LCS; stemming is passed through', () => {
    const s = rougeL(['w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5'], [['w1 w2 w3 w4 w5']], { variant: 'rouge-score', type: 'rougeLsum' });
    assert.equal(s.name, 'ROUGE-Lsum');
    assertPlaces(s.fmeasure, 0.5333, 3, 'F');
    const stemmed = rougeL(['the ponies'], [['the pony']], { variant: 'rouge-score', useStemmer: true });
    close(stemmed.score, 100, 'poni = poni');
    assert.match(stemmed.signature, /\|stem:porter\|/);
    assert.equal(rougeL(['the ponies'], [['the pony']], { variant: 'rouge-score' }).score, 50);
  });
});

describe('ROUGE-L argument checks and LCS', () => {
  it('reference stream length mismatch names both counts', () => {
    assert.throws(() => rougeL(['a', 'b'], [['a']]), /refs\[0\] has 1 references but hyps has 2 hypotheses/);
  });

  it('options that belong to the other variant are refused', () => {
    assert.throws(() => rougeL(['a'], [['a']], { variant: 'rouge-score', beta: 2 }), /beta applies to variant 'coco' only/);
    assert.throws(() => rougeL(['a'], [['a']], { useStemmer: true }), /useStemmer and type apply to variant 'rouge-score' only/);
    assert.throws(() => rougeL(['a'], [['a']], { beta: 0 }), /beta must be a positive finite number/);
  });

  it('non-string entries and empty inputs are named', () => {
    assert.throws(() => rougeL(['a', 3 as unknown as string], [['a', 'b']]), /hyps\[1\] is number/);
    assert.throws(() => rougeL(['a'], []), /refs must be a non-empty array/);
    assert.throws(() => rougeL([], [[]]), /hyps is empty/);
  });

  it('lcsLength agrees with the full table and reuses its rows across lengths', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = [2, 9, 4, 6, 8, 8, 1];
    assert.equal(lcsLength(a, a.length, b, b.length), lcsTable(a, b)[8][7]);
    const long = Array.from({ length: 300 }, (_, i) => i % 7);
    assert.equal(lcsLength(long, long.length, long, long.length), 300);
    assert.equal(lcsLength(a, a.length, b, b.length), 4);
  });
});
