import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  BLEU_PRESETS,
  bleuPreset,
  bleuSignature,
  computeBleu,
  corpusBleu,
  formatBleuScore,
  sentenceBleu,
  type BleuOptions,
  type BleuSmoothMethod,
} from '../../src/eval/metrics/bleu.js';
import { chrfSignature, chrfWords, corpusChrf, formatChrfScore, sentenceChrf, type ChrfOptions } from '../../src/eval/metrics/chrf.js';
import { SACREBLEU_VERSION_FIELD, formatFixedPython, rstripPython, splitPythonWhitespace } from '../../src/eval/metrics/sacrebleu-common.js';
import { corpusTer, formatTerScore, sentenceTer, terSignature, tercomTokenize, translationEditRate } from '../../src/eval/metrics/ter.js';
import { BLEU_TOKENIZERS, isBleuTokenizerName, tokenizeForBleu, type BleuTokenizerName } from '../../src/eval/metrics/tokenizers.js';
import { metricImplVersion } from '../../src/version.js';
import { readSharedJson, sharedPath } from '../helpers/shared.js';

// ---------------------------------------------------------------------------------------------------------------
// Reference vectors (../shared/data/metrics_reference_vectors/sacrebleu_vectors.json)

interface BleuComputed {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sys_len: number;
  ref_len: number;
}
interface CorpusBleuCase {
  api: string;
  hyps: string[];
  refs: string[][];
  kwargs: { tokenize?: BleuTokenizerName; smooth_method?: BleuSmoothMethod };
  expected_score: number;
  tolerance: number;
  computed_2_6_0: BleuComputed;
}
interface RawCorpusBleuCase {
  api: string;
  note?: string;
  hyps: string[];
  refs: string[][];
  expected_score_over_100: number;
  tolerance: number;
  computed_2_6_0: BleuComputed;
}
interface ChrfCase {
  hyps: string[];
  refs: string[][];
  kwargs: { char_order: number; word_order: number; beta: number; eps_smoothing?: boolean; remove_whitespace?: boolean };
  expected_score: number;
  tolerance: number;
  computed_2_6_0: number;
}
interface Vectors {
  source: { repo: string; commit: string };
  verification: string;
  conventions: Record<string, string>;
  bleu: {
    corpus_bleu_cases: CorpusBleuCase[];
    raw_corpus_bleu_cases: RawCorpusBleuCase[];
    statistics_case: { api: string; hyps: string[]; refs: string[][]; expected_counts: number[]; expected_totals: number[] };
    offset_case: {
      hyps: string[];
      refs: string[][];
      'expected_over_100_with_default_floor_0.1': number;
      expected_over_100_with_smooth_value_0: number;
      tolerance: number;
    };
    compute_bleu_from_stats: {
      correct: number[];
      total: number[];
      sys_len: number;
      ref_len: number;
      smooth: string;
      smooth_value?: number;
      expected_score_over_100: number;
      computed_2_6_0?: number;
    }[];
    max_ngram_order_cases: { max_ngram_order: number; hyps: string[]; refs: string[][]; expected_score_str_2dp: string; computed_2_6_0: number }[];
    sentence_bleu_cases: {
      hyp: string;
      refs: string[];
      smooth_method: BleuSmoothMethod;
      smooth_value: number | null;
      lowercase: boolean;
      tokenize: BleuTokenizerName;
      effective_order: boolean;
      expected_score: number;
      tolerance: number;
      computed_2_6_0?: number;
    }[];
    readme_examples: {
      hyps: string[];
      refs: string[][];
      expected_bleu_string: string;
      expected_signature: string;
      expected_chrf_string: string;
      computed_2_6_0: { bleu: BleuComputed; bleu_str: string; chrf: number; chrf_str: string };
      variable_refs_case: {
        refs: string[][];
        expected_bleu_string: string;
        expected_signature_prefix: string;
        computed_2_6_0: { bleu: BleuComputed; bleu_str: string; signature: string };
      };
    };
  };
  chrf: {
    api: string;
    eps_smoothing_cases: ChrfCase[];
    effective_order_cases: ChrfCase[];
    keep_whitespace_cases: ChrfCase[];
    sentence_level_cases: { api: string; hyp: string; refs: string[]; expected_score: number; tolerance: number; computed_2_6_0: number }[];
  };
  ter: { api: string; cases: { hyps: string[]; refs: string[][]; expected_score: number; tolerance: number; computed_2_6_0: number }[] };
  ter_tokenizer: {
    api: string;
    default: { input: string; expected: string }[];
    no_punct: { input: string; expected: string }[];
    normalized: { input: string; expected: string }[];
    normalized_asian_support: { input: string; expected: string }[];
  };
}

const vectors = readSharedJson<Vectors>('data', 'metrics_reference_vectors', 'sacrebleu_vectors.json');

/** Agreement with the full-precision sacrebleu 2.6.0 output stored beside each expectation (libm differences aside). */
const COMPUTED_TOLERANCE = 1e-9;

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

function assertBleuMatchesComputed(score: ReturnType<typeof corpusBleu>, computed: BleuComputed, what: string): void {
  assertClose(score.score, computed.score, COMPUTED_TOLERANCE, `${what} score`);
  assert.deepEqual(score.counts, computed.counts, `${what} counts`);
  assert.deepEqual(score.totals, computed.totals, `${what} totals`);
  assert.equal(score.precisions.length, computed.precisions.length, `${what} precisions length`);
  score.precisions.forEach((p, i) => assertClose(p, computed.precisions[i], COMPUTED_TOLERANCE, `${what} precision ${i + 1}`));
  assertClose(score.bp, computed.bp, COMPUTED_TOLERANCE, `${what} bp`);
  assert.equal(score.sysLen, computed.sys_len, `${what} sysLen`);
  assert.equal(score.refLen, computed.ref_len, `${what} refLen`);
}

/** The `smooth_value=…` of an `api` string such as `sacrebleu.raw_corpus_bleu(smooth_value=0.01)`. */
function apiSmoothValue(api: string): number {
  const match = /smooth_value=([0-9.]+)/.exec(api);
  assert.ok(match, `no smooth_value in ${api}`);
  return Number(match[1]);
}

/**
 * `raw_corpus_bleu` in sacrebleu 2.6.0 (compat.py) is `corpus_bleu(tokenize='none', smooth_method='floor',
 * force=True, use_effective_order=True)`; the vectors' "conventions" text says effective_order=False, but their own
 * expected scores (e.g. "a little test" vs "a test" = 0.0322) need the effective order of the real source.
 */
function rawCorpusBleuOptions(smoothValue: number): BleuOptions {
  return { tokenize: 'none', smoothMethod: 'floor', smoothValue, effectiveOrder: true };
}

function chrfOptions(kwargs: ChrfCase['kwargs']): ChrfOptions {
  return {
    charOrder: kwargs.char_order,
    wordOrder: kwargs.word_order,
    beta: kwargs.beta,
    epsSmoothing: kwargs.eps_smoothing,
    whitespace: kwargs.remove_whitespace === undefined ? undefined : !kwargs.remove_whitespace,
  };
}

/** Signatures compared up to the version field, which names signweave + sacrebleu-2.6.0 here. */
function withoutVersion(signature: string): string {
  return signature.replace(/\|version:[^|]*$/, '');
}

describe('sacrebleu vectors: file layout', () => {
  it('has exactly the sections this test runs', () => {
    assert.equal(vectors.source.repo, 'mjpost/sacrebleu');
    assert.deepEqual(Object.keys(vectors).sort(), ['bleu', 'chrf', 'conventions', 'source', 'ter', 'ter_tokenizer', 'verification']);
    assert.deepEqual(Object.keys(vectors.bleu).sort(), [
      'compute_bleu_from_stats',
      'corpus_bleu_cases',
      'max_ngram_order_cases',
      'offset_case',
      'raw_corpus_bleu_cases',
      'readme_examples',
      'sentence_bleu_cases',
      'statistics_case',
    ]);
    assert.deepEqual(Object.keys(vectors.chrf).sort(), [
      'api',
      'effective_order_cases',
      'eps_smoothing_cases',
      'keep_whitespace_cases',
      'sentence_level_cases',
    ]);
    assert.deepEqual(Object.keys(vectors.ter).sort(), ['api', 'cases']);
    assert.deepEqual(Object.keys(vectors.ter_tokenizer).sort(), ['api', 'default', 'no_punct', 'normalized', 'normalized_asian_support']);
    assert.match(vectors.conventions.references_layout, /refs\[k\]\[i\] is the k-th reference for hypothesis i/);
  });
});

describe('sacrebleu vectors: corpus_bleu_cases', () => {
  for (const [n, c] of vectors.bleu.corpus_bleu_cases.entries()) {
    it(`case ${n} ${JSON.stringify(c.kwargs)}`, () => {
      assert.equal(c.api, 'sacrebleu.corpus_bleu');
      const score = corpusBleu(c.hyps, c.refs, { tokenize: c.kwargs.tokenize, smoothMethod: c.kwargs.smooth_method });
      assertClose(score.score, c.expected_score, c.tolerance, 'expected_score');
      assertBleuMatchesComputed(score, c.computed_2_6_0, 'computed_2_6_0');
    });
  }
});

describe('sacrebleu vectors: raw_corpus_bleu_cases', () => {
  for (const [n, c] of vectors.bleu.raw_corpus_bleu_cases.entries()) {
    it(`case ${n} ${c.note ?? ''} ${JSON.stringify(c.hyps)}`, () => {
      const score = corpusBleu(c.hyps, c.refs, rawCorpusBleuOptions(apiSmoothValue(c.api)));
      assertClose(score.score / 100, c.expected_score_over_100, c.tolerance, 'expected_score_over_100');
      assertBleuMatchesComputed(score, c.computed_2_6_0, 'computed_2_6_0');
    });
  }

  it('needs effective order to reproduce them (the conventions note is wrong about it)', () => {
    const c = vectors.bleu.raw_corpus_bleu_cases.find((x) => x.hyps[0] === 'a little test');
    assert.ok(c);
    const without = corpusBleu(c.hyps, c.refs, { ...rawCorpusBleuOptions(apiSmoothValue(c.api)), effectiveOrder: false });
    assert.ok(Math.abs(without.score / 100 - c.expected_score_over_100) > 1e-3);
  });
});

describe('sacrebleu vectors: statistics_case and offset_case', () => {
  it('statistics_case counts and totals', () => {
    const c = vectors.bleu.statistics_case;
    const score = corpusBleu(c.hyps, c.refs, rawCorpusBleuOptions(apiSmoothValue(c.api)));
    assert.deepEqual(score.counts, c.expected_counts);
    assert.deepEqual(score.totals, c.expected_totals);
  });

  it('offset_case with the default floor (0.1) and with floor 0', () => {
    const c = vectors.bleu.offset_case;
    const floorDefault = corpusBleu(c.hyps, c.refs, { tokenize: 'none', smoothMethod: 'floor', effectiveOrder: true });
    assertClose(floorDefault.score / 100, c['expected_over_100_with_default_floor_0.1'], c.tolerance, 'floor 0.1');
    const floorZero = corpusBleu(c.hyps, c.refs, rawCorpusBleuOptions(0));
    assertClose(floorZero.score / 100, c.expected_over_100_with_smooth_value_0, c.tolerance, 'floor 0');
  });
});

describe('sacrebleu vectors: compute_bleu_from_stats', () => {
  for (const [n, c] of vectors.bleu.compute_bleu_from_stats.entries()) {
    it(`case ${n} ${c.smooth} ${c.smooth_value ?? ''} correct=${c.correct} total=${c.total}`, () => {
      const smoothMethod = c.smooth.split(' ')[0] as BleuSmoothMethod;
      const result = computeBleu(c.correct, c.total, c.sys_len, c.ref_len, { smoothMethod, smoothValue: c.smooth_value });
      // The expectations are printed to 10 decimals (score / 100).
      assertClose(result.score / 100, c.expected_score_over_100, 5e-11, 'expected_score_over_100');
      if (c.computed_2_6_0 !== undefined) assertClose(result.score / 100, c.computed_2_6_0, 1e-12, 'computed_2_6_0');
    });
  }
});

describe('sacrebleu vectors: max_ngram_order_cases', () => {
  for (const c of vectors.bleu.max_ngram_order_cases) {
    it(`max_ngram_order=${c.max_ngram_order}`, () => {
      const score = corpusBleu(c.hyps, c.refs, { maxNgramOrder: c.max_ngram_order });
      assert.equal(formatFixedPython(score.score, 2), c.expected_score_str_2dp);
      assertClose(score.score, c.computed_2_6_0, COMPUTED_TOLERANCE, 'computed_2_6_0');
      assert.equal(score.counts.length, c.max_ngram_order);
    });
  }
});

describe('sacrebleu vectors: sentence_bleu_cases', () => {
  for (const [n, c] of vectors.bleu.sentence_bleu_cases.entries()) {
    it(`case ${n} tok=${c.tokenize} smooth=${c.smooth_method}[${c.smooth_value}] lc=${c.lowercase}`, () => {
      const score = sentenceBleu(c.hyp, c.refs, {
        tokenize: c.tokenize,
        smoothMethod: c.smooth_method,
        smoothValue: c.smooth_value,
        lowercase: c.lowercase,
        effectiveOrder: c.effective_order,
      });
      assertClose(score.score, c.expected_score, c.tolerance, 'expected_score');
      if (c.computed_2_6_0 !== undefined) assertClose(score.score, c.computed_2_6_0, COMPUTED_TOLERANCE, 'computed_2_6_0');
    });
  }
});

describe('sacrebleu vectors: readme_examples', () => {
  const ex = vectors.bleu.readme_examples;

  it('BLEU line, statistics and signature', () => {
    const score = corpusBleu(ex.hyps, ex.refs);
    assert.equal(formatBleuScore(score), ex.expected_bleu_string);
    assert.equal(formatBleuScore(score), ex.computed_2_6_0.bleu_str);
    assertBleuMatchesComputed(score, ex.computed_2_6_0.bleu, 'computed_2_6_0');
    assert.equal(withoutVersion(score.signature), withoutVersion(ex.expected_signature));
    assert.equal(score.signature, `${withoutVersion(ex.expected_signature)}|version:${metricImplVersion('sacrebleu-2.6.0')}`);
  });

  it('chrF line', () => {
    const score = corpusChrf(ex.hyps, ex.refs);
    assert.equal(formatChrfScore(score), ex.expected_chrf_string);
    assert.equal(formatChrfScore(score), ex.computed_2_6_0.chrf_str);
    assertClose(score.score, ex.computed_2_6_0.chrf, COMPUTED_TOLERANCE, 'computed_2_6_0');
  });

  it('variable_refs_case: an empty-string reference is a reference (nrefs:2 in 2.6.0)', () => {
    const v = ex.variable_refs_case;
    const score = corpusBleu(ex.hyps, v.refs);
    assert.equal(formatBleuScore(score), v.expected_bleu_string);
    assert.equal(formatBleuScore(score), v.computed_2_6_0.bleu_str);
    assertBleuMatchesComputed(score, v.computed_2_6_0.bleu, 'computed_2_6_0');
    assert.equal(withoutVersion(score.signature), withoutVersion(v.computed_2_6_0.signature));
  });

  it('variable_refs_case: a missing (null) reference gives the README signature prefix nrefs:var', () => {
    const v = ex.variable_refs_case;
    const refs = v.refs.map((stream) => stream.map((line) => (line === '' ? null : line)));
    const score = corpusBleu(ex.hyps, refs);
    assert.ok(score.signature.startsWith(`${v.expected_signature_prefix}|`), score.signature);
    assert.equal(formatBleuScore(score), v.expected_bleu_string);
  });
});

describe('sacrebleu vectors: chrF', () => {
  const sections = ['eps_smoothing_cases', 'effective_order_cases', 'keep_whitespace_cases'] as const;
  for (const section of sections) {
    for (const [n, c] of vectors.chrf[section].entries()) {
      it(`${section} ${n} ${JSON.stringify(c.hyps)}`, () => {
        const score = corpusChrf(c.hyps, c.refs, chrfOptions(c.kwargs));
        assertClose(score.score, c.expected_score, c.tolerance, 'expected_score');
        assertClose(score.score, c.computed_2_6_0, COMPUTED_TOLERANCE, 'computed_2_6_0');
        assert.equal(score.name, `chrF${c.kwargs.beta}`);
      });
    }
  }
  for (const [n, c] of vectors.chrf.sentence_level_cases.entries()) {
    it(`sentence_level_cases ${n}`, () => {
      assert.match(c.api, /eps_smoothing=True/);
      const score = sentenceChrf(c.hyp, c.refs, { epsSmoothing: true });
      assertClose(score.score, c.expected_score, c.tolerance, 'expected_score');
      assertClose(score.score, c.computed_2_6_0, COMPUTED_TOLERANCE, 'computed_2_6_0');
    });
  }
});

describe('sacrebleu vectors: TER', () => {
  for (const [n, c] of vectors.ter.cases.entries()) {
    it(`case ${n} ${JSON.stringify(c.hyps).slice(0, 60)}`, () => {
      const score = corpusTer(c.hyps, c.refs);
      assertClose(score.score, c.expected_score, c.tolerance, 'expected_score');
      assertClose(score.score, c.computed_2_6_0, COMPUTED_TOLERANCE, 'computed_2_6_0');
    });
  }

  const groups = {
    default: {},
    no_punct: { noPunct: true },
    normalized: { normalized: true },
    normalized_asian_support: { normalized: true, asianSupport: true },
  } as const;
  for (const [group, options] of Object.entries(groups)) {
    for (const c of vectors.ter_tokenizer[group as keyof typeof groups]) {
      it(`ter_tokenizer ${group} ${JSON.stringify(c.input)}`, () => {
        assert.equal(tercomTokenize(c.input, options), c.expected);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Beyond the vectors; expected values come from running sacrebleu 2.6.0 on the same inputs.

const README_HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const README_REF1 = ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'];
const README_REF2 = ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'];
const VERSION = `version:${SACREBLEU_VERSION_FIELD}`;

describe('BLEU tokenizers', () => {
  const cases: { input: string; '13a': string; intl: string; char: string }[] = [
    {
      input: "Hello, world! It's 3.14 -- and 1,000-2 &amp; &quot;x&quot; <skipped>y",
      '13a': 'Hello , world ! It\'s 3.14 -- and 1,000 - 2 & " x " y',
      intl: "Hello , world ! It ' s 3.14 - - and 1,000-2 & amp ; & quot ; x & quot ; < skipped > y",
      char: "H e l l o ,   w o r l d !   I t ' s   3 . 1 4   - -   a n d   1 , 0 0 0 - 2   & a m p ;   & q u o t ; x & q u o t ;   < s k i p p e d > y",
    },
    {
      input: 'end-\nof line\nnext',
      '13a': 'endof line next',
      intl: 'end - of line next',
      char: 'e n d - \n o f   l i n e \n n e x t',
    },
    {
      input: 'Pay $5.00 (or €4), 50% off; e-mail: a@b.com.',
      '13a': 'Pay $ 5.00 ( or €4 ) , 50 % off ; e-mail : a @ b . com .',
      intl: 'Pay $ 5.00 ( or € 4 ) , 50 % off ; e - mail : a @ b . com .',
      char: 'P a y   $ 5 . 0 0   ( o r   € 4 ) ,   5 0 %   o f f ;   e - m a i l :   a @ b . c o m .',
    },
    {
      // Python whitespace: U+001C and U+3000 split, U+FEFF does not.
      input: 'a\x1cb\xa0c\ufeffd\u3000e',
      '13a': 'a b c\ufeffd e',
      intl: 'a b c\ufeffd e',
      char: 'a \x1c b \xa0 c \ufeff d \u3000 e',
    },
    {
      input: 'Die Zahl 1.000,5 ist «groß»… ½ x² ١٢',
      '13a': 'Die Zahl 1.000,5 ist «groß»… ½ x² ١٢',
      intl: 'Die Zahl 1.000,5 ist « groß » … ½ x² ١٢',
      char: 'D i e   Z a h l   1 . 0 0 0 , 5   i s t   « g r o ß » …   ½   x ²   ١ ٢',
    },
    {
      input: 'emoji 😀! 𝔘nicode.',
      '13a': 'emoji 😀 ! 𝔘nicode .',
      intl: 'emoji 😀 ! 𝔘nicode .',
      char: 'e m o j i   😀 !   𝔘 n i c o d e .',
    },
    // mteval-v14 leaves a sentence-final period on a number.
    { input: 'The year 2024.', '13a': 'The year 2024 .', intl: 'The year 2024.', char: 'T h e   y e a r   2 0 2 4 .' },
  ];
  for (const c of cases) {
    for (const name of ['13a', 'intl', 'char'] as const) {
      it(`${name}: ${JSON.stringify(c.input)}`, () => {
        assert.equal(tokenizeForBleu(name, c.input), c[name]);
        assert.deepEqual(BLEU_TOKENIZERS[name].tokens(c.input), splitPythonWhitespace(c[name]));
      });
    }
  }

  it('none returns the line untouched and splits on Python whitespace only', () => {
    const line = ' a\x1cb\x85c\ufeffd  ';
    assert.equal(tokenizeForBleu('none', line), line);
    assert.deepEqual(BLEU_TOKENIZERS.none.tokens(line), ['a', 'b', 'c\ufeffd']);
    assert.equal(rstripPython('x \x1f\x85\u3000'), 'x');
    assert.equal(rstripPython('x\ufeff'), 'x\ufeff');
  });

  it('knows its names and rejects others', () => {
    assert.ok(isBleuTokenizerName('13a'));
    assert.ok(!isBleuTokenizerName('zh'));
    assert.ok(!isBleuTokenizerName('toString'));
    assert.throws(() => tokenizeForBleu('zh' as BleuTokenizerName, 'x'), /unknown BLEU tokenizer "zh"/);
  });

  it('chrF++ splits one punctuation mark off word ends, else off word starts', () => {
    assert.deepEqual(chrfWords('(hi) "a" b. ,c !'), ['(hi', ')', '"a', '"', 'b', '.', ',', 'c', '!']);
  });
});

describe('signatures', () => {
  it('BLEU: defaults, floor/add-k values with Python rounding, case, tokenizer, effective order', () => {
    assert.equal(corpusBleu(README_HYPS, [README_REF1]).signature, `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|${VERSION}`);
    assert.equal(
      bleuSignature({ smoothMethod: 'floor', smoothValue: 0.125, lowercase: true, tokenize: 'intl' }, 2),
      `nrefs:2|case:lc|eff:no|tok:intl|smooth:floor[0.12]|${VERSION}`,
    );
    assert.equal(bleuSignature({ smoothMethod: 'floor' }, 1), `nrefs:1|case:mixed|eff:no|tok:13a|smooth:floor[0.10]|${VERSION}`);
    assert.equal(
      bleuSignature({ smoothMethod: 'add-k', smoothValue: 2, effectiveOrder: true }, 'var'),
      `nrefs:var|case:mixed|eff:yes|tok:13a|smooth:add-k[2.00]|${VERSION}`,
    );
    assert.equal(bleuSignature({ smoothMethod: 'none', tokenize: 'char' }, 1), `nrefs:1|case:mixed|eff:no|tok:char|smooth:none|${VERSION}`);
    assert.equal(sentenceBleu('a b', ['a b']).signature, `nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|${VERSION}`);
  });

  it('chrF, chrF++ and TER', () => {
    assert.equal(corpusChrf(['a'], [['a']]).signature, `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|${VERSION}`);
    assert.equal(
      chrfSignature({ wordOrder: 2, lowercase: true, epsSmoothing: true, whitespace: true, charOrder: 4 }, 'var'),
      `nrefs:var|case:lc|eff:no|nc:4|nw:2|space:yes|${VERSION}`,
    );
    assert.equal(corpusTer(['a'], [['a']]).signature, `nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|${VERSION}`);
    assert.equal(
      terSignature({ normalized: true, noPunct: true, asianSupport: true, caseSensitive: true }, 2),
      `nrefs:2|case:mixed|tok:tercom|norm:yes|punct:no|asian:yes|${VERSION}`,
    );
  });

  it('the version field names signweave and sacrebleu 2.6.0', () => {
    assert.match(SACREBLEU_VERSION_FIELD, /^signweave-\d+\.\d+\.\d+.*~sacrebleu-2\.6\.0$/);
  });
});

describe('cumulative BLEU-n', () => {
  it('equals BLEU with max order n on the same statistics, for every n', () => {
    const six = corpusBleu(README_HYPS, [README_REF1, README_REF2], { maxNgramOrder: 6 });
    assert.equal(six.cumulative.length, 6);
    for (const c of vectors.bleu.max_ngram_order_cases) {
      assertClose(six.cumulative[c.max_ngram_order - 1], c.computed_2_6_0, COMPUTED_TOLERANCE, `BLEU-${c.max_ngram_order}`);
      const direct = corpusBleu(README_HYPS, [README_REF1, README_REF2], { maxNgramOrder: c.max_ngram_order });
      assert.equal(six.cumulative[c.max_ngram_order - 1], direct.score);
    }
    assert.equal(six.cumulative[5], six.score);
  });

  it('uses the same smoothing and effective order', () => {
    const options: BleuOptions = { smoothMethod: 'add-k', smoothValue: 2, effectiveOrder: true, maxNgramOrder: 3 };
    const score = corpusBleu(README_HYPS, [README_REF1], options);
    assertClose(score.score, 54.61392744504511, COMPUTED_TOLERANCE, 'add-k BLEU-3');
    // sacrebleu reports add-k counts with k added to orders >= 2.
    assert.deepEqual(score.counts, [12, 8, 6]);
    assert.deepEqual(score.totals, [17, 16, 13]);
    for (let n = 1; n <= 3; n++) {
      assert.equal(score.cumulative[n - 1], corpusBleu(README_HYPS, [README_REF1], { ...options, maxNgramOrder: n }).score);
    }
  });

  it('computeBleu reports cumulative scores too', () => {
    const r = computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11);
    assert.equal(r.cumulative.length, 4);
    assertClose(r.cumulative[0], 90, 1e-12, 'BLEU-1');
    assertClose(r.cumulative[1], 100 * Math.sqrt(0.9 * 0.875), 1e-12, 'BLEU-2');
    assert.equal(r.cumulative[3], r.score);
  });
});

describe('multiple and missing references', () => {
  it('BLEU: null marks a missing reference (nrefs:var); the empty string is a zero-length reference', () => {
    const missing = corpusBleu(README_HYPS, [[null, README_REF1[1], README_REF1[2]], README_REF2]);
    assertClose(missing.score, 29.443657650964873, COMPUTED_TOLERANCE, 'missing');
    assert.equal(missing.refLen, 19);
    assert.ok(missing.signature.startsWith('nrefs:var|'));

    // The closest reference length for "a" is the empty reference's 0, not 3.
    const empty = corpusBleu(['a'], [[''], ['a b c']]);
    assert.equal(empty.refLen, 0);
    assert.equal(empty.score, 0);
    assert.equal(formatBleuScore(empty), 'BLEU = 0.00 100.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 1 ref_len = 0)');
    const effective = corpusBleu(['a'], [[''], ['a b c']], { effectiveOrder: true });
    assertClose(effective.score, 100.00000000000004, COMPUTED_TOLERANCE, 'effective order');
    assert.ok(effective.signature.startsWith('nrefs:2|'));
  });

  it('chrF picks the reference with the best sentence F-score', () => {
    assertClose(corpusChrf(README_HYPS, [README_REF1, README_REF2]).score, 59.72751782684763, COMPUTED_TOLERANCE, 'chrF');
    const plusPlus = corpusChrf(README_HYPS, [README_REF1, README_REF2], { wordOrder: 2 });
    assertClose(plusPlus.score, 59.15310444399262, COMPUTED_TOLERANCE, 'chrF++');
    assert.equal(formatChrfScore(plusPlus), 'chrF2++ = 59.15');
    assert.equal(plusPlus.statistics.length, 3 * 8);
    const missing = corpusChrf(README_HYPS, [[null, README_REF1[1], README_REF1[2]], README_REF2], { wordOrder: 2, lowercase: true });
    assertClose(missing.score, 51.87601158094676, COMPUTED_TOLERANCE, 'chrF++ lc var');
    assert.ok(missing.signature.startsWith('nrefs:var|case:lc|'));
  });

  it('chrF counts code points and can keep whitespace', () => {
    const astral = corpusChrf(['😀😀 x', '𝔘a'], [['😀 x😀', '𝔘b']]);
    assertClose(astral.score, 37.77777777777778, COMPUTED_TOLERANCE, 'astral');
    const spaced = corpusChrf(README_HYPS, [README_REF1], { whitespace: true, beta: 1, charOrder: 4 });
    assertClose(spaced.score, 60.25945961349514, COMPUTED_TOLERANCE, 'whitespace');
    assert.equal(formatChrfScore(spaced), 'chrF1 = 60.26');
  });

  it('TER takes the fewest edits and the average reference length', () => {
    const multi = corpusTer(README_HYPS, [README_REF1, README_REF2]);
    assert.equal(multi.score, 40);
    assert.equal(multi.numEdits, 6);
    assert.equal(multi.refLength, 15);
    assert.equal(formatTerScore(multi), 'TER = 40.00');
    const options = { normalized: true, noPunct: true, asianSupport: true, caseSensitive: true };
    assert.equal(corpusTer(README_HYPS, [README_REF1, README_REF2], options).score, 40);
    const missing = corpusTer(README_HYPS, [[null, README_REF1[1], README_REF1[2]], README_REF2]);
    assertClose(missing.score, 45.16129032258064, COMPUTED_TOLERANCE, 'missing');
    assert.equal(missing.refLength, 15.5);
  });

  it('sentence-level scores against two references', () => {
    const hyp = "It wasn't surprising.";
    const refs = ['It was not unexpected.', 'No one was surprised.'];
    assertClose(sentenceBleu(hyp, refs).score, 14.794015674776452, COMPUTED_TOLERANCE, 'sentence BLEU');
    assertClose(sentenceChrf(hyp, refs).score, 35.34635301425291, COMPUTED_TOLERANCE, 'sentence chrF');
    assert.equal(sentenceTer(hyp, refs).score, 75);
    assert.ok(sentenceTer(hyp, refs).signature.startsWith('nrefs:2|'));
  });

  it('BLEU takes the closest reference length, the shorter one on ties', () => {
    assert.equal(corpusBleu(['a b c'], [['a b'], ['a b c d']]).refLen, 2);
    assert.equal(corpusBleu(['a b c'], [['a b c d'], ['a b']]).refLen, 2);
    assert.equal(corpusBleu(['a b c'], [['a'], ['a b c d']]).refLen, 4);
  });

  it('chrF keeps the first reference when sentence F-scores tie', () => {
    // "aa" scores 0 against both "bb" and " "; the first one's reference n-grams enter the corpus statistics.
    assertClose(corpusChrf(['aa', 'ab'], [['bb', 'ab'], [' ', 'b']]).score, 50, COMPUTED_TOLERANCE, 'tie');
  });

  it('TER counts a block shift as one edit', () => {
    assert.deepEqual(translationEditRate('d e f g h a b c'.split(' '), 'a b c d e f g h'.split(' ')), { numEdits: 1, refLength: 8 });
    assert.deepEqual(translationEditRate(['a', 'b'], []), { numEdits: 2, refLength: 0 });
  });

  it('TER prefers the earliest target among equally good shifts', () => {
    assertClose(corpusTer(['man a . mat on cat sat'], [['man mat on sat a . cat']]).score, 28.57142857142857, COMPUTED_TOLERANCE, 'TER');
  });

  it('TER stops shifting once 1000 shift candidates were tried, dropping the shift found last', () => {
    const hyp =
      'cat cat on the sat a mat cat mat bit cat . a on . man the a on a dog man sat dog dog man man dog on sat dog bit ' +
      'mat a . on mat man mat man a dog the dog on a cat . sat cat';
    const ref =
      'cat cat on the sat cat dog dog cat a dog man sat on sat dog bit a dog . the dog . a on . man the mat a on a mat ' +
      'bit cat man dog on man a mat cat . sat mat man mat man on a';
    const score = corpusTer([hyp], [[ref]]);
    assert.equal(score.numEdits, 16);
    assert.equal(score.score, 32);
  });
});

describe('slt-legacy mode (neccam/slt signjoey, Sign2GPT)', () => {
  it('is raw BLEU with floor 0 and no effective order, marked in the signature', () => {
    const preset = bleuPreset('slt-legacy');
    assert.deepEqual(preset, BLEU_PRESETS['slt-legacy']);
    const score = corpusBleu(README_HYPS, [README_REF1, README_REF2], preset);
    assert.equal(score.signature, `nrefs:2|case:mixed|eff:no|tok:none|smooth:floor[0.00]|mode:slt-legacy|${VERSION}`);
    assertClose(score.score, 49.19195660047277, COMPUTED_TOLERANCE, 'BLEU-4 = sacrebleu tok:none');
    assert.equal(score.cumulative[3], score.score);
  });

  it('gives BLEU-4 = 0 when no hypothesis has 4 tokens, unlike effective-order raw_corpus_bleu', () => {
    const legacy = corpusBleu(['the cat sat'], [['the cat sat']], { mode: 'slt-legacy' });
    assert.deepEqual(legacy.cumulative.slice(0, 3).map((x) => Math.round(x * 1e9) / 1e9), [100, 100, 100]);
    assert.equal(legacy.cumulative[3], 0);
    assert.equal(legacy.score, 0);
    const raw = corpusBleu(['the cat sat'], [['the cat sat']], rawCorpusBleuOptions(0));
    assertClose(raw.score, 100, 1e-9, 'raw_corpus_bleu');
  });

  it('allows lowercasing but refuses options that would change the legacy computation', () => {
    assert.ok(corpusBleu(['A'], [['a']], { mode: 'slt-legacy', lowercase: true }).signature.includes('case:lc'));
    assert.throws(() => corpusBleu(['a'], [['a']], { mode: 'slt-legacy', tokenize: '13a' }), /slt-legacy fixes tokenize to "none", got "13a"/);
    assert.throws(() => corpusBleu(['a'], [['a']], { mode: 'slt-legacy', effectiveOrder: true }), /fixes effectiveOrder/);
    assert.throws(() => sentenceBleu('a', ['a'], { mode: 'slt-legacy', smoothValue: 0.1 }), /fixes smoothValue/);
    assert.equal(corpusBleu(['a'], [['a']], { mode: 'slt-legacy', smoothValue: null }).signature, corpusBleu(['a'], [['a']], BLEU_PRESETS['slt-legacy']).signature);
    assert.throws(() => corpusBleu(['a'], [['a']], { mode: 'toString' as 'sacrebleu' }), /unknown BLEU mode "toString"/);
  });
});

describe('Python float formatting', () => {
  it('rounds exact ties to even like f-strings', () => {
    assert.equal(formatFixedPython(0.125, 2), '0.12');
    assert.equal(formatFixedPython(0.375, 2), '0.38');
    assert.equal(formatFixedPython(-0.125, 2), '-0.12');
    assert.equal(formatFixedPython(12.25, 1), '12.2');
    assert.equal(formatFixedPython(2.5, 0), '2');
    assert.equal(formatFixedPython(0.5, 0), '0');
    assert.equal(formatFixedPython(1.5, 0), '2');
    assert.equal(formatFixedPython(1.005, 2), '1.00');
    assert.equal(formatFixedPython(48.530827009929865, 2), '48.53');
  });

  it('prints the signature with the BLEU line on request', () => {
    const score = corpusBleu(README_HYPS, [README_REF1, README_REF2]);
    assert.equal(
      formatBleuScore(score, { withSignature: true, width: 1 }),
      `BLEU|${score.signature} = 48.5 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`,
    );
  });
});

describe('argument errors', () => {
  it('names both counts when hyps and a reference stream differ in length', () => {
    assert.throws(() => corpusBleu(['a', 'b', 'c'], [['a', 'b']]), (e: Error) => /hyps has 3 lines but refs\[0\] has 2/.test(e.message));
    assert.throws(() => corpusChrf(['a'], [['a'], ['a', 'b']]), /corpusChrf: hyps has 1 lines but refs\[1\] has 2/);
    assert.throws(() => corpusTer(['a', 'b'], [['a']]), /corpusTer: hyps has 2 lines but refs\[0\] has 1/);
  });

  it('rejects empty input, missing references and bad options', () => {
    assert.throws(() => corpusBleu([], [[]]), /corpusBleu: hyps is empty/);
    assert.throws(() => corpusBleu(['a'], []), /refs has no reference stream/);
    assert.throws(() => corpusBleu(['a', 'b'], [['a', null], ['b', undefined]]), /hypothesis 1 has no reference/);
    assert.throws(() => corpusBleu(['a'], [[3 as unknown as string]]), /refs\[0\]\[0\] is not a string/);
    assert.throws(() => corpusBleu([null as unknown as string], [['a']]), /hyps\[0\] is not a string/);
    assert.throws(() => corpusBleu(['a'], [['a']], { smoothMethod: 'add-one' as BleuSmoothMethod }), /unknown smoothMethod "add-one"/);
    assert.throws(() => corpusBleu(['a'], [['a']], { smoothMethod: 'floor', smoothValue: Number.NaN }), /smoothValue must be a finite number/);
    assert.throws(() => corpusBleu(['a'], [['a']], { maxNgramOrder: 7 }), /maxNgramOrder must be an integer from 1 to 6, got 7/);
    assert.throws(() => corpusBleu(['a'], [['a']], { tokenize: 'spm' as BleuTokenizerName }), /unknown BLEU tokenizer "spm"/);
    assert.throws(() => computeBleu([1, 2], [3], 1, 1), /one entry per n-gram order \(got 2 and 1\)/);
    assert.throws(() => corpusChrf(['a'], [['a']], { charOrder: 0, wordOrder: 0 }), /charOrder and wordOrder are both 0/);
    assert.throws(() => corpusChrf(['a'], [['a']], { wordOrder: 1.5 }), /wordOrder must be a non-negative integer/);
    assert.throws(() => corpusTer(['a'], [['a']], { normalized: 'yes' as unknown as boolean }), /normalized must be true or false/);
    assert.throws(() => sentenceBleu('a', 'a' as unknown as string[]), /sentenceBleu: refs must be an array/);
  });
});

describe('How2Sign train labels, hypothesis i = reference i+1 (sacrebleu 2.6.0 numbers)', () => {
  const path = sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl');
  const refs = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  const hyps = [...refs.slice(1), refs[0]];

  it('BLEU', () => {
    const score = corpusBleu(hyps, [refs]);
    assertClose(score.score, 4.126823539904157, COMPUTED_TOLERANCE, 'BLEU');
    assert.deepEqual(score.counts, [135639, 26903, 11686, 6966]);
    assert.deepEqual(score.totals, [613256, 582170, 551084, 520549]);
    assert.equal(score.sysLen, 613256);
    assert.equal(score.refLen, 613256);
  });

  it('chrF and chrF++', () => {
    assertClose(corpusChrf(hyps, [refs]).score, 19.593945396277128, COMPUTED_TOLERANCE, 'chrF2');
    assertClose(corpusChrf(hyps, [refs], { wordOrder: 2 }).score, 18.03168698681373, COMPUTED_TOLERANCE, 'chrF2++');
  });

  it('BLEU with the other tokenizers and the legacy mode', () => {
    assertClose(corpusBleu(hyps, [refs], { tokenize: 'intl' }).score, 4.7821634650162315, COMPUTED_TOLERANCE, 'intl');
    assertClose(corpusBleu(hyps, [refs], { tokenize: 'char' }).score, 20.4360181638314, COMPUTED_TOLERANCE, 'char');
    assertClose(corpusBleu(hyps, [refs], { tokenize: 'none' }).score, 3.31896971218054, COMPUTED_TOLERANCE, 'none');
    assertClose(corpusBleu(hyps, [refs], { mode: 'slt-legacy' }).score, 3.31896971218054, COMPUTED_TOLERANCE, 'slt-legacy');
  });
});
