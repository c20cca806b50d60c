/**
 * Reference vectors from pyctcdecode's and parlance/ctcdecode's own tests
 * (../shared/data/metrics_reference_vectors/ctc_decoder_vectors.json; see PROVENANCE.txt there).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  beamSearch,
  CtcStreamDecoder,
  fromRows,
  greedyDecode,
  groupWords,
  Lexicon,
  logSoftmax,
  NgramLm,
  probsToLogProbs,
  type BeamSearchOptions,
  type CtcHypothesis,
  type CtcMatrix,
} from '../../src/ctc/index.js';
import { readSharedJson, sharedPath } from '../helpers/shared.js';

interface PyBeam {
  text: string;
  text_frames: [string, [number, number]][];
  logit_score: number;
}
interface PyCase {
  name: string;
  logits?: 'test_logits' | 'bunny_bunny_probs';
  labels?: string[];
  onehot_sequence?: string[];
  kwargs?: Record<string, unknown>;
  lm: boolean;
  expected_text?: string;
  expected_text_frames?: [string, [number, number]][];
  expected?: Record<string, unknown>;
  computed_beams?: PyBeam[];
  expected_beams?: (PyBeam & { lm_score: number })[];
  expected_text_split_4_no_state?: string;
}
interface Vectors {
  pyctcdecode: {
    defaults: {
      beam_width: number;
      beam_prune_logp: number;
      token_min_logp: number;
      alpha: number;
      beta: number;
      unk_score_offset: number;
      hotword_weight: number;
      min_token_clip_p: number;
    };
    sample_labels: string[];
    test_logits: number[][];
    bunny_bunny_probs: number[][];
    cases: PyCase[];
    libri: {
      labels: string[];
      logits_file: string;
      expected_text: string;
      computed_top_beam: { text: string; logit_score: number; n_beams: number; text_frames: [string, [number, number]][] };
      computed_greedy_best_path: string;
    };
  };
  parlance_ctcdecode: {
    vocab: string[];
    blank_id: number;
    beam_width: number;
    defaults: { alpha: number; beta: number; cutoff_top_n: number; cutoff_prob: number };
    probs_seq1: number[][];
    probs_seq2: number[][];
    expected: Record<string, string>;
    independent_check: {
      seq1: { prefix_beam: string; log_prob: number; greedy: string };
      seq2: { prefix_beam: string; log_prob: number; greedy: string };
      pyctcdecode_no_lm_on_same_input: { seq1: string; seq2: string };
    };
  };
}

const V = readSharedJson<Vectors>('data', 'metrics_reference_vectors', 'ctc_decoder_vectors.json');
const py = V.pyctcdecode;
const pl = V.parlance_ctcdecode;
const caseNamed = (name: string): PyCase => {
  const c = py.cases.find((x) => x.name === name);
  assert.ok(c, `vector case ${name} missing`);
  return c;
};

// pyctcdecode: blank "" is last, " " separates words and whitespace is normalised (collapseSeparators, the default
// for a ' ' separator). Its beam_width counts blank- and token-ending states separately, ours prefixes; at width
// 100 neither binds on these inputs.
const pyLabels = py.sample_labels;
const pyOptions = (labels: string[]): BeamSearchOptions => ({
  labels,
  blank: labels.indexOf(''),
  beamWidth: py.defaults.beam_width,
  tokenMinLogProb: py.defaults.token_min_logp,
  beamPruneLogProb: py.defaults.beam_prune_logp,
  topK: labels.length,
});
// pyctcdecode takes rows summing to 1 as probabilities and clips them at min_token_clip_p before the log
const pyProbs = (rows: number[][]): CtcMatrix => probsToLogProbs(fromRows(rows, { float64: true }), { minProb: py.defaults.min_token_clip_p, float64: true });
const testLogits = fromRows(py.test_logits, { float64: true });
const bunnyBunny = pyProbs(py.bunny_bunny_probs);
const wordFrames = (h: CtcHypothesis, labels: string[]): [string, [number, number]][] =>
  groupWords(h, { labels, blank: labels.indexOf('') }).map((w) => [w.word, [w.startFrame, w.endFrame + 1]]);
const close = (actual: number, expected: number, tol = 1e-9): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
};

describe('pyctcdecode vectors without an LM', () => {
  // pyctcdecode's decode() also prunes beams sharing their last word (prune_history=True); the top results below
  // are the same without that heuristic.
  it('no_lm_decode: "bunny bunny"', () => {
    assert.equal(beamSearch(testLogits, pyOptions(pyLabels))[0].text, caseNamed('no_lm_decode').expected_text);
  });

  it('no_lm_decode_beams: all 16 beams with their acoustic scores and word frames', () => {
    const c = caseNamed('no_lm_decode_beams');
    const expected = c.expected as { n_beams: number; top_text: string; worst_text: string; 'top_logit_score (test_partial_decode)': number };
    const beams = beamSearch(testLogits, pyOptions(pyLabels));
    assert.equal(beams.length, expected.n_beams);
    assert.equal(beams[0].text, expected.top_text);
    assert.equal(beams[beams.length - 1].text, expected.worst_text);
    close(beams[0].logProb, expected['top_logit_score (test_partial_decode)']);
    const computed = c.computed_beams as PyBeam[];
    assert.deepEqual(new Set(beams.map((b) => b.text)), new Set(computed.map((b) => b.text)));
    for (const b of beams) {
      const ref = computed.find((x) => x.text === b.text) as PyBeam;
      close(b.logProb, ref.logit_score);
      assert.equal(b.score, b.logProb);
      assert.deepEqual(wordFrames(b, pyLabels), ref.text_frames, b.text);
    }
    // ranked by score; equal scores (several here) may come in any order
    for (let i = 1; i < beams.length; i++) assert.ok(beams[i - 1].score >= beams[i].score);
  });

  it('no_lm_token_min_logp_0: only argmax tokens survive and still give "bunny bunny"', () => {
    const c = caseNamed('no_lm_token_min_logp_0');
    const beams = beamSearch(testLogits, { ...pyOptions(pyLabels), tokenMinLogProb: c.kwargs?.token_min_logp as number });
    assert.equal(beams[0].text, c.expected_text);
    assert.equal(beams.length, 1);
  });

  it('no_lm_hotword_bugs: the hotword lifts "bugs bunny" over the acoustically better "bunny bunny"', () => {
    const c = caseNamed('no_lm_hotword_bugs');
    const phrases = c.kwargs?.hotwords as string[];
    const beams = beamSearch(testLogits, { ...pyOptions(pyLabels), hotwords: { phrases, weight: py.defaults.hotword_weight } });
    assert.equal(beams[0].text, c.expected_text);
    close(beams[0].hotwordScore, py.defaults.hotword_weight);
    assert.ok(beams[0].logProb < beamSearch(testLogits, pyOptions(pyLabels))[0].logProb);
  });

  it('no_lm_bunny_bunny_probs: probabilities in, "bugs bugs" out', () => {
    const c = caseNamed('no_lm_bunny_bunny_probs');
    assert.equal(beamSearch(bunnyBunny, pyOptions(pyLabels))[0].text, c.expected_text);
  });

  for (const name of ['stretched_frames', 'bpe_frames']) {
    it(`${name}: text and word frames from one-hot rows`, () => {
      const c = caseNamed(name);
      const labels = c.labels as string[];
      const rows = (c.onehot_sequence as string[]).map((l) => labels.map((x) => (x === l ? 1 : 0)));
      const beams = beamSearch(pyProbs(rows), pyOptions(labels));
      assert.equal(beams[0].text, c.expected_text);
      assert.deepEqual(wordFrames(beams[0], labels), c.expected_text_frames);
      assert.equal(greedyDecode(pyProbs(rows), { labels, blank: labels.indexOf('') }).text, c.expected_text);
    });
  }

  describe('LibriSpeech logits (371 frames × 29)', () => {
    const labels = [...py.libri.labels, ''];
    // pyctcdecode log-softmaxes inputs that are not probabilities and clips at ln(min_token_clip_p); this file's
    // rows are quantised and do not sum to 1, so the renormalisation changes the scores
    const raw = JSON.parse(readFileSync(sharedPath('data', 'metrics_reference_vectors', py.libri.logits_file), 'utf8')) as number[][];
    const logits = logSoftmax(fromRows(raw, { float64: true }), { float64: true, floorLogProb: Math.log(py.defaults.min_token_clip_p) });
    const beams = beamSearch(logits, pyOptions(labels));
    const top = py.libri.computed_top_beam;

    it('top text, number of beams and acoustic score', () => {
      assert.equal(beams[0].text, py.libri.expected_text);
      assert.equal(beams.length, top.n_beams);
      close(beams[0].logProb, top.logit_score);
    });

    it('greedy best path', () => {
      assert.equal(greedyDecode(logits, { labels, blank: 28 }).text, py.libri.computed_greedy_best_path);
    });

    it('word frames agree with pyctcdecode to within one frame', () => {
      // Not exactly reproducible by a prefix beam search: when pyctcdecode merges alignments into one state it
      // keeps the frames of the last one merged, i.e. of its lowest-ranked source state. E.g. it starts "have" on
      // frame 33, where 'h' has p ≈ 0.018 and blank p ≈ 0.96, because the ' h h' alignment (score -4.05) is merged
      // after ' _ h' (-0.05). Our spans follow the most probable alignment instead (h from frame 34).
      const ours = wordFrames(beams[0], labels);
      assert.deepEqual(
        ours.map((w) => w[0]),
        top.text_frames.map((w) => w[0]),
      );
      let exact = 0;
      ours.forEach(([, [s, e]], i) => {
        const [rs, re] = top.text_frames[i][1];
        assert.ok(Math.abs(s - rs) <= 1 && Math.abs(e - re) <= 1, `${ours[i][0]}: [${s}, ${e}) vs [${rs}, ${re})`);
        if (s === rs && e === re) exact++;
      });
      assert.ok(exact >= 12, `${exact} of ${ours.length} words exact`);
      assert.deepEqual(ours[1], ['have', [34, 38]]);
    });
  });
});

describe('pyctcdecode vectors with the bugs-bunny KenLM ARPA', () => {
  const lm = NgramLm.load(sharedPath('data', 'metrics_reference_vectors', 'ctc_testdata', 'pyctcdecode_bugs_bunny_kenlm.arpa'));
  const withLm = (kwargs: Record<string, unknown> = {}): BeamSearchOptions => ({
    ...pyOptions(pyLabels),
    beamPruneLogProb: (kwargs.beam_prune_logp as number | undefined) ?? py.defaults.beam_prune_logp,
    lm: {
      model: lm,
      alpha: (kwargs.alpha as number | undefined) ?? py.defaults.alpha,
      beta: py.defaults.beta,
      knownWords: kwargs.unigrams as string[] | undefined,
      unknownLog10Offset: (kwargs.unk_score_offset as number | undefined) ?? py.defaults.unk_score_offset,
    },
  });

  for (const name of ['lm_alpha1', 'lm_alpha0', 'lm_unigrams_bunny_unk_offset_-10', 'lm_unigrams_bunny_unk_offset_0']) {
    it(name, () => {
      const c = caseNamed(name);
      assert.equal(beamSearch(testLogits, withLm(c.kwargs))[0].text, c.expected_text);
    });
  }

  it('lm_default_build_ctcdecoder: exactly one beam, with pyctcdecode’s acoustic and fused scores', () => {
    const c = caseNamed('lm_default_build_ctcdecoder');
    const beams = beamSearch(testLogits, withLm());
    const ref = (c.expected_beams as (PyBeam & { lm_score: number })[])[0];
    assert.equal(beams.length, 1);
    assert.equal(beams[0].text, ref.text);
    assert.deepEqual(wordFrames(beams[0], pyLabels), ref.text_frames);
    close(beams[0].logProb, ref.logit_score);
    close(beams[0].score, ref.lm_score);
  });

  it('lm_unk0_prune_-20: 16 beams, "bugs bunny" then "bunny bunny"', () => {
    const c = caseNamed('lm_unk0_prune_-20');
    const beams = beamSearch(testLogits, withLm(c.kwargs));
    const expected = c.expected as { n_beams: number; beams0: string; beams1: string };
    assert.equal(beams.length, expected.n_beams);
    assert.equal(beams[0].text, expected.beams0);
    assert.equal(beams[1].text, expected.beams1);
  });

  it('lm_stateful: the LM state carries across chunks; decoding the chunks separately loses it', () => {
    const c = caseNamed('lm_stateful');
    const options = withLm(c.kwargs);
    const stream = new CtcStreamDecoder(options);
    const rows = bunnyBunny.data;
    stream.push(rows.subarray(0, 4 * 8));
    stream.push(rows.subarray(4 * 8));
    assert.equal(stream.finish()[0].text, c.expected_text);
    const first = beamSearch({ data: rows.subarray(0, 4 * 8), T: 4, V: 8 }, options)[0].text;
    const second = beamSearch({ data: rows.subarray(4 * 8), T: 7, V: 8 }, options)[0].text;
    assert.equal(`${first} ${second}`, c.expected_text_split_4_no_state);
  });

  it('lm_hotwords (weight 20)', () => {
    const expected = caseNamed('lm_hotwords').expected as Record<string, string>;
    const phrasesOf: Record<string, string[]> = {
      'hotwords=[bunny],w=20': ['bunny'],
      'hotwords=[bugs,bunny],w=20': ['bugs', 'bunny'],
      'hotwords=[bugs bunny],w=20': ['bugs bunny'],
    };
    for (const [key, text] of Object.entries(expected)) {
      const beams = beamSearch(testLogits, { ...withLm(), hotwords: { phrases: phrasesOf[key], weight: 20 } });
      assert.equal(beams[0].text, text, key);
    }
  });
});

describe('parlance/ctcdecode vectors (probabilities, blank_id 6, beam 20)', () => {
  const options: BeamSearchOptions = {
    labels: pl.vocab,
    blank: pl.blank_id,
    beamWidth: pl.beam_width,
    topK: pl.defaults.cutoff_top_n,
    cutoffProb: pl.defaults.cutoff_prob,
    // parlance treats ' ' as an ordinary label: "a " and "a" are different outputs
    collapseSeparators: false,
  };
  const seqs = [
    { key: 'seq1', probs: pl.probs_seq1, check: pl.independent_check.seq1, beam: pl.expected.beam_seq1, greedy: pl.expected['greedy_seq1 (declared in test, not asserted)'] },
    { key: 'seq2', probs: pl.probs_seq2, check: pl.independent_check.seq2, beam: pl.expected.beam_seq2, greedy: pl.expected['greedy_seq2 (declared in test, not asserted)'] },
  ] as const;

  for (const s of seqs) {
    it(`${s.key}: beam "${s.beam}" with the prefix log-probability, greedy "${s.greedy}"`, () => {
      const m = probsToLogProbs(fromRows(s.probs, { float64: true }), { float64: true });
      const beams = beamSearch(m, options);
      assert.equal(beams[0].text, s.beam);
      close(beams[0].logProb, s.check.log_prob);
      assert.equal(greedyDecode(m, options).text, s.greedy);
      // parlance's log_probs_input=True path: the same result from float32 log-probabilities
      const m32 = probsToLogProbs(fromRows(s.probs));
      assert.equal(beamSearch(m32, options)[0].text, s.beam);
    });
  }

  it('the same inputs under pyctcdecode’s settings give its different seq1 result', () => {
    // Not a tie-breaking accident: pyctcdecode treats ' ' as a word boundary and normalises whitespace, so the
    // labelings " acb", "acb ", " acb " … all count for "acb" (ln P -5.23, vs -6.48 for "acdc" as one labeling).
    const expected = pl.independent_check.pyctcdecode_no_lm_on_same_input;
    const py1 = beamSearch(probsToLogProbs(fromRows(pl.probs_seq1, { float64: true }), { float64: true }), pyOptions(pl.vocab.map((l, i) => (i === pl.blank_id ? '' : l))));
    const py2 = beamSearch(probsToLogProbs(fromRows(pl.probs_seq2, { float64: true }), { float64: true }), pyOptions(pl.vocab.map((l, i) => (i === pl.blank_id ? '' : l))));
    assert.equal(py1[0].text, expected.seq1);
    assert.equal(py2[0].text, expected.seq2);
  });

  it('with test.arpa: "a a" (parlance restricts words to the LM vocabulary; alpha = beta = 0)', () => {
    // parlance builds a dictionary of the LM's words that the labels can spell (here only "a") and drops beams
    // that leave it; with its default alpha = beta = 0 the LM itself adds nothing.
    const lm = NgramLm.load(sharedPath('data', 'metrics_reference_vectors', 'ctc_testdata', 'parlance_ctcdecode_test.arpa'));
    const lexicon = Lexicon.fromWords(lm.words().filter((w) => !['<s>', '</s>', '<unk>'].includes(w)));
    const m = probsToLogProbs(fromRows(pl.probs_seq2, { float64: true }), { float64: true });
    const beams = beamSearch(m, { ...options, lexicon, lm: { model: lm, alpha: pl.defaults.alpha, beta: pl.defaults.beta } });
    assert.equal(beams[0].text, pl.expected['beam_seq2_with_lm_test.arpa']);
    for (const b of beams) assert.match(b.text, /^(a( a)* ?)?$/);
  });
});
