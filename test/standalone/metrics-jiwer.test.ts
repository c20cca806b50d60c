import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { letterAccuracy, phonemeAccuracy, phonemeErrorRate } from '../../src/eval/metrics/accuracy.js';
import {
  cer,
  cerContiguous,
  cerScore,
  EditTable,
  levenshteinOpcodes,
  mer,
  processCharacters,
  processWords,
  visualizeAlignment,
  visualizeErrorCounts,
  wer,
  werContiguous,
  werDefault,
  werScore,
  wil,
  wip,
  type AlignmentChunk,
} from '../../src/eval/metrics/wer.js';
import { SIGNWEAVE_VERSION } from '../../src/version.js';
import { readSharedJson } from '../helpers/shared.js';

interface Measures {
  wer: number;
  mer: number;
  wil: number;
  wip: number;
  hits: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

type Sentences = string | string[];

interface JiwerVectors {
  semantics: Record<string, string>;
  wer_default_transform: { reference: Sentences; hypothesis: Sentences; expected: Partial<Measures>; computed: Measures }[];
  wer_contiguous_transform: { reference: Sentences; hypothesis: Sentences; expected: Partial<Measures>; computed: Measures }[];
  cer: { reference: Sentences; hypothesis: Sentences; expected_cer: number; computed_cer: number }[];
  error_counts: {
    reference: string[];
    hypothesis: string[];
    expected_word_visualization: string;
    computed_word_visualization: string;
    computed_word_measures: Measures;
  };
  alignment: {
    reference: string;
    hypothesis: string;
    expected_alignment_body?: string;
    computed_visualization?: string;
    computed: Measures;
    expected?: Record<string, number | string>;
    alignment_chunks?: { type: string; ref_start: number; ref_end: number; hyp_start: number; hyp_end: number }[];
  }[];
}

const V = readSharedJson<JiwerVectors>('data', 'metrics_reference_vectors', 'jiwer_vectors.json');

const close = (actual: number, expected: number, what: string, tol = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

function assertMeasures(got: Measures, computed: Measures, expected: Partial<Measures>): void {
  for (const k of ['hits', 'substitutions', 'deletions', 'insertions'] as const) assert.equal(got[k], computed[k], k);
  for (const k of ['wer', 'mer', 'wil', 'wip'] as const) {
    close(got[k], computed[k], `${k} (jiwer 4.0.0 output)`);
    if (expected[k] !== undefined) close(got[k], expected[k], `${k} (test expectation)`, 1e-9);
  }
}

const show = (s: Sentences): string => JSON.stringify(s);

describe('jiwer vectors: default word transform', () => {
  it('documents that jiwer 4 accepts empty references', () => {
    assert.match(V.semantics.empty_reference, /not an error/);
  });
  for (const c of V.wer_default_transform) {
    it(`${show(c.reference)} vs ${show(c.hypothesis)}`, () => {
      const out = processWords(c.reference, c.hypothesis);
      assertMeasures(out, c.computed, c.expected);
      close(wer(c.reference, c.hypothesis), c.computed.wer, 'wer()');
      close(mer(c.reference, c.hypothesis), c.computed.mer, 'mer()');
      close(wil(c.reference, c.hypothesis), c.computed.wil, 'wil()');
      close(wip(c.reference, c.hypothesis), c.computed.wip, 'wip()');
    });
  }
});

describe('jiwer vectors: wer_contiguous transform', () => {
  for (const c of V.wer_contiguous_transform) {
    it(`${show(c.reference)} vs ${show(c.hypothesis)}`, () => {
      const out = processWords(c.reference, c.hypothesis, { referenceTransform: werContiguous, hypothesisTransform: werContiguous });
      assertMeasures(out, c.computed, c.expected);
    });
  }
});

describe('jiwer vectors: CER', () => {
  for (const c of V.cer) {
    it(`${show(c.reference)} vs ${show(c.hypothesis)}`, () => {
      close(cer(c.reference, c.hypothesis), c.computed_cer, 'cer (jiwer 4.0.0 output)');
      close(cer(c.reference, c.hypothesis), c.expected_cer, 'cer (test expectation)', 1e-9);
    });
  }
});

describe('jiwer vectors: error counts and alignments', () => {
  it('visualize_error_counts and measures of the error_counts corpus', () => {
    const c = V.error_counts;
    const out = processWords(c.reference, c.hypothesis);
    assertMeasures(out, c.computed_word_measures, {});
    assert.equal(visualizeErrorCounts(out), c.computed_word_visualization);
    assert.equal(c.computed_word_visualization, c.expected_word_visualization);
  });

  for (const c of V.alignment) {
    it(`alignment of ${show(c.reference)} vs ${show(c.hypothesis)}`, () => {
      const out = processWords(c.reference, c.hypothesis);
      assertMeasures(out, c.computed, {});
      if (c.alignment_chunks) {
        const expected: AlignmentChunk[] = c.alignment_chunks.map((k) => ({
          type: k.type as AlignmentChunk['type'],
          refStartIdx: k.ref_start,
          refEndIdx: k.ref_end,
          hypStartIdx: k.hyp_start,
          hypEndIdx: k.hyp_end,
        }));
        assert.deepEqual(out.alignments, [expected]);
      }
      if (c.computed_visualization !== undefined) {
        const text = visualizeAlignment(out, { showMeasures: false });
        assert.equal(text, c.computed_visualization);
        assert.ok(c.expected_alignment_body !== undefined && text.endsWith(c.expected_alignment_body));
      }
      if (c.expected) {
        for (const k of ['substitutions', 'deletions', 'insertions', 'hits'] as const) assert.equal(out[k], c.expected[k], k);
        const summary = visualizeAlignment(out);
        for (const k of ['mer', 'wil', 'wip', 'wer'] as const) assert.ok(summary.includes(`\n${k}=${c.expected[`${k}_pct`]}`), `${k} in\n${summary}`);
      }
    });
  }
});

describe('rapidfuzz opcodes and jiwer behaviour beyond the vectors', () => {
  it('reproduces the rapidfuzz documentation example Levenshtein.opcodes("qabxcd", "abycdf")', () => {
    const ids = (s: string): number[] => Array.from(s, (ch) => ch.charCodeAt(0));
    assert.deepEqual(levenshteinOpcodes(ids('qabxcd'), ids('abycdf')), [
      { type: 'delete', refStartIdx: 0, refEndIdx: 1, hypStartIdx: 0, hypEndIdx: 0 },
      { type: 'equal', refStartIdx: 1, refEndIdx: 3, hypStartIdx: 0, hypEndIdx: 2 },
      { type: 'substitute', refStartIdx: 3, refEndIdx: 4, hypStartIdx: 2, hypEndIdx: 3 },
      { type: 'equal', refStartIdx: 4, refEndIdx: 6, hypStartIdx: 3, hypEndIdx: 5 },
      { type: 'insert', refStartIdx: 6, refEndIdx: 6, hypStartIdx: 5, hypEndIdx: 6 },
    ]);
  });

  it('breaks ties like the visualize_alignment example in jiwer 4.0.0 alignment.py (insertion before substitution)', () => {
    // The docstring prints (with '#' where jiwer 4 prints '*'):
    //   REF:    # short one here          REF: quite a bit of  #    #  longer sentence    #
    //   HYP: shoe order one    *          HYP: quite * bit of an even longest sentence here
    //           I     S        D                      D         I    I       S             I
    // and the summary substitutions=2 deletions=2 insertions=4 hits=5, mer=61.54% wil=74.75% wip=25.25% wer=88.89%.
    const out = processWords(['short one here', 'quite a bit of longer sentence'], ['shoe order one', 'quite bit of an even longest sentence here']);
    const ops = out.alignments.map((chunks) =>
      chunks.flatMap((c) => Array<string>(Math.max(c.refEndIdx - c.refStartIdx, c.hypEndIdx - c.hypStartIdx)).fill(c.type[0])),
    );
    assert.deepEqual(ops, [
      ['i', 's', 'e', 'd'],
      ['e', 'd', 'e', 'e', 'i', 'i', 's', 'e', 'i'],
    ]);
    const text = visualizeAlignment(out);
    assert.ok(text.includes('REF: quite a bit of ** ****  longer sentence ****\nHYP: quite * bit of an even longest sentence here\n'), text);
    assert.ok(text.endsWith('substitutions=2 deletions=2 insertions=4 hits=5\n\nmer=61.54%\nwil=74.75%\nwip=25.25%\nwer=88.89%\n'), text);
  });

  it('matches the common prefix and suffix before aligning the rest, as rapidfuzz does', () => {
    // "b" vs "a b b": the shared suffix "b" is set aside, leaving "" vs "a b" → two insertions before the match
    // (a plain backtrack over the whole table would give insert, equal, insert instead).
    assert.deepEqual(processWords('b', 'a b b').alignments, [
      [
        { type: 'insert', refStartIdx: 0, refEndIdx: 0, hypStartIdx: 0, hypEndIdx: 2 },
        { type: 'equal', refStartIdx: 0, refEndIdx: 1, hypStartIdx: 2, hypEndIdx: 3 },
      ],
    ]);
  });

  it('long sequences (Hirschberg split) still give an optimal alignment covering both sequences', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const ref = Array.from({ length: 2600 }, () => rand(5));
    const hyp = ref.filter(() => rand(10) !== 0).map((x) => (rand(8) === 0 ? rand(5) : x));
    const chunks = levenshteinOpcodes(ref, hyp);
    let r = 0;
    let h = 0;
    let errors = 0;
    for (const c of chunks) {
      assert.equal(c.refStartIdx, r);
      assert.equal(c.hypStartIdx, h);
      if (c.type === 'equal') assert.deepEqual(ref.slice(c.refStartIdx, c.refEndIdx), hyp.slice(c.hypStartIdx, c.hypEndIdx));
      errors += c.type === 'insert' ? c.hypEndIdx - c.hypStartIdx : c.type === 'equal' ? 0 : c.refEndIdx - c.refStartIdx;
      r = c.refEndIdx;
      h = c.hypEndIdx;
    }
    assert.equal(r, ref.length);
    assert.equal(h, hyp.length);
    assert.equal(errors, new EditTable(ref, hyp).distance);
  });

  it('an empty reference next to a non-empty one counts the insertions against the other words', () => {
    const out = processWords(['hello world', ''], ['hello world', 'done']);
    assert.deepEqual(out.references, [['hello', 'world'], []]);
    assert.equal(out.wer, 0.5);
  });

  it('only spaces split words; multiple whitespace collapses to one space first (tabs are not separators)', () => {
    assert.deepEqual(werDefault.apply(['  a\t\tb  c\td ']), [['a', 'b', 'c\td']]);
    assert.deepEqual(werDefault.apply([]), [[]]);
  });

  it('CER counts inner spaces and code points, after stripping the ends', () => {
    const out = processCharacters(' a b😀 ', 'a b😀');
    assert.deepEqual(out.references, [['a', ' ', 'b', '😀']]);
    assert.equal(out.cer, 0);
    const contiguous = processCharacters(['ab', 'c'], ['abc'], { referenceTransform: cerContiguous, hypothesisTransform: cerContiguous });
    // "ab c" vs "abc": one deletion of the joining space over 4 characters.
    assert.equal(contiguous.cer, 0.25);
  });

  it('sentence-count mismatch is an error naming both counts; non-strings name their index', () => {
    assert.throws(() => processWords(['a', 'b'], ['a']), /got 2 reference and 1 hypothesis sentences/);
    assert.throws(() => processWords(['a', 5 as unknown as string], ['a', 'b']), /reference\[1\] is number/);
    assert.throws(() => processWords('a', null as unknown as string), /hypothesis must be a string or an array of strings/);
  });

  it('werScore / cerScore: score = rate × 100 with a signature', () => {
    const s = werScore(['this is a test'], ['this is test']);
    assert.equal(s.name, 'WER');
    assert.equal(s.score, 25);
    assert.equal(s.referenceWords, 4);
    assert.equal(s.deletions, 1);
    assert.equal(s.signature, `metric:wer|transform:jiwer-default|case:mixed|version:signweave-${SIGNWEAVE_VERSION}~jiwer-4.0.0`);
    const c = cerScore('abcd', 'abed');
    assert.equal(c.score, 25);
    assert.equal(c.referenceChars, 4);
    assert.match(c.signature, /^metric:cer\|transform:jiwer-cer-default\|/);
  });

  it('visualizeAlignment summary for characters reports cer', () => {
    const text = visualizeAlignment(processCharacters('abcd', 'abed'));
    assert.equal(text, '=== SENTENCE 1 ===\n\nREF: abcd\nHYP: abed\n       S \n\n=== SUMMARY ===\nnumber of sentences: 1\nsubstitutions=1 deletions=0 insertions=0 hits=3\n\ncer=25.00%\n');
  });
});

describe('letter accuracy (ChicagoFSWild compute_acc)', () => {
  it('perfect output is 100', () => {
    const s = letterAccuracy(['hello', 'pet sit'], ['hello', 'pet sit']);
    assert.equal(s.score, 100);
    assert.equal(s.referenceChars, 12);
    assert.equal(s.name, 'LetterAcc');
    assert.match(s.signature, /^metric:letter-acc\|unit:char\|space:counted\|case:mixed\|costs:htk-7-7-10\|version:signweave-.*~chicagofswild-compute_acc$/);
  });

  it('the space is a character: "newyork" for "new york" is one deletion in N = 8 → 87.5', () => {
    const s = letterAccuracy(['new york'], ['newyork']);
    assert.equal(s.deletions, 1);
    assert.equal(s.score, 87.5);
  });

  it('can be negative: "abc" → "xyzw" is 3 substitutions + 1 insertion over N = 3 → −33.33', () => {
    const s = letterAccuracy(['abc'], ['xyzw']);
    assert.deepEqual([s.substitutions, s.deletions, s.insertions, s.hits], [3, 0, 1, 0]);
    assert.equal(s.score, (100 * (3 - 4)) / 3);
  });

  it('uses HTK weights: "abc" → "cxy" aligns c–c (2 D + 2 I, cost 28) rather than 3 substitutions (cost 30)', () => {
    // Unit-cost Levenshtein would count 3 errors (accuracy 0); the HTK alignment counts 4.
    const s = letterAccuracy(['abc'], ['cxy']);
    assert.deepEqual([s.hits, s.substitutions, s.deletions, s.insertions], [1, 0, 2, 2]);
    assert.equal(s.score, (100 * (3 - 4)) / 3);
  });

  it('sums over the corpus before dividing', () => {
    // "ab" vs "ab": 0 errors, N 2; "abcdef" vs "abcxef": 1 substitution, N 6 → 100 · 7/8.
    assert.equal(letterAccuracy(['ab', 'abcdef'], ['ab', 'abcxef']).score, 87.5);
  });

  it('length mismatch and empty references are errors naming the counts', () => {
    assert.throws(() => letterAccuracy(['a', 'b', 'c'], ['a']), /refs has 3 sentences but hyps has 1/);
    assert.throws(() => letterAccuracy([''], ['abc']), /N = 0/);
  });
});

describe('phoneme error rate and accuracy (ARPAbet tokens)', () => {
  it('PER = (S + D + I) / N × 100 and accuracy = 100 − PER over the corpus', () => {
    // "K AE1 T" → "K AH1 T S": 1 substitution + 1 insertion; "HH AH0 L OW1" exact. N = 7 → PER = 200/7.
    const refs = ['K AE1 T', 'HH AH0 L OW1'];
    const hyps = ['K AH1 T S', 'HH AH0 L OW1'];
    const per = phonemeErrorRate(refs, hyps);
    assert.deepEqual([per.hits, per.substitutions, per.deletions, per.insertions, per.referencePhonemes], [6, 1, 0, 1, 7]);
    close(per.score, 200 / 7, 'PER');
    assert.equal(per.name, 'PER');
    const acc = phonemeAccuracy(refs, hyps);
    close(acc.score, 100 - 200 / 7, 'accuracy');
    assert.equal(acc.name, 'PhonemeAcc');
  });

  it('stress digits make different phonemes, and PER can exceed 100', () => {
    const s = phonemeErrorRate(['AH0'], ['AH1 B C']);
    assert.equal(s.score, 300);
    assert.equal(s.accuracy, -200);
  });

  it('length mismatch is an error naming both counts', () => {
    assert.throws(() => phonemeErrorRate(['AH'], []), /refs has 1 sentences but hyps has 0/);
    assert.throws(() => phonemeAccuracy([''], ['AH']), /N = 0/);
  });
});
