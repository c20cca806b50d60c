import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  beamSearch,
  CtcBeamDecoder,
  CtcVocabulary,
  fromRows,
  fromSequence,
  greedyDecode,
  groupWords,
  logSoftmax,
  probsToLogProbs,
  toTokenStream,
  toWordStream,
  validateLogProbs,
  type CtcMatrix,
} from '../../src/ctc/index.js';
import { SignweaveInputError } from '../../src/errors.js';

const labels = ['_', ' ', 'a', 'b'];
const good = (): CtcMatrix => logSoftmax(fromRows([[0, 1, 2, 3], [3, 2, 1, 0]]));
const inputError = (pattern: RegExp) => (err: unknown): boolean => err instanceof SignweaveInputError && pattern.test(err.message);

describe('input validation', () => {
  it('shape, vocabulary size, blank index, NaN, non-log-probabilities', () => {
    assert.throws(() => greedyDecode({ data: new Float32Array(7), T: 2, V: 4 }, { labels }), inputError(/expected T·V = 2·4 = 8 values, got 7/));
    assert.throws(() => greedyDecode({ data: new Float32Array(8), T: 2.5, V: 4 }, { labels }), inputError(/T must be a non-negative integer/));
    assert.throws(() => beamSearch(good(), { labels: ['_', 'a', 'b'] }), inputError(/vocabulary has 3 labels but the matrix has V = 4 columns/));
    assert.throws(() => greedyDecode(good(), { labels, blank: 4 }), inputError(/blank index 4 is out of range for a vocabulary of 4 labels/));
    assert.throws(() => new CtcBeamDecoder({ labels, blank: -1 }), inputError(/blank index -1 is out of range/));
    const nan = good();
    nan.data[6] = NaN;
    assert.throws(() => beamSearch(nan, { labels }), inputError(/NaN at frame 1, column 2 \("a"\)/));
    assert.throws(() => greedyDecode(fromRows([[0.1, 0.2, 0.3, 0.4]]), { labels }), inputError(/value 0\.1\d* at frame 0, column 0 is not a log-probability/));
    assert.doesNotThrow(() => validateLogProbs(good(), labels, 0));
  });

  it('options', () => {
    assert.throws(() => new CtcBeamDecoder({ labels, beamWidth: 0 }), inputError(/beamWidth must be a positive integer/));
    assert.throws(() => new CtcBeamDecoder({ labels, nBest: 1.5 }), inputError(/nBest must be a positive integer/));
    assert.throws(() => new CtcBeamDecoder({ labels, topK: 0 }), inputError(/topK must be ≥ 1/));
    assert.throws(() => new CtcBeamDecoder({ labels, cutoffProb: 0 }), inputError(/cutoffProb must be in \(0, 1\]/));
    assert.throws(() => new CtcBeamDecoder({ labels, beamPruneLogProb: 2 }), inputError(/beamPruneLogProb must be ≤ 0/));
    assert.throws(() => new CtcBeamDecoder({ labels, words: { kind: 'separator', separator: '|' } }), inputError(/word separator "\|" is not a label/));
    assert.throws(() => new CtcVocabulary({ labels: [] }), inputError(/no labels/));
  });

  it('an empty sequence decodes to the empty hypothesis', () => {
    const empty = { data: new Float32Array(0), T: 0, V: 4 };
    assert.equal(greedyDecode(empty, { labels }).text, '');
    const beams = beamSearch(empty, { labels });
    assert.equal(beams.length, 1);
    assert.deepEqual(beams[0].tokens, []);
    assert.equal(beams[0].logProb, 0);
  });
});

describe('conversions', () => {
  it('logSoftmax normalises rows, ignores row offsets and can floor', () => {
    const m = logSoftmax(fromRows([[1, 2, 3], [101, 102, 103]], { float64: true }), { float64: true });
    for (let t = 0; t < 2; t++) {
      const row = Array.from(m.data.subarray(t * 3, t * 3 + 3));
      assert.ok(Math.abs(row.reduce((s, x) => s + Math.exp(x), 0) - 1) < 1e-12);
    }
    for (let v = 0; v < 3; v++) assert.ok(Math.abs(m.data[v] - m.data[3 + v]) < 1e-12);
    const floored = logSoftmax(fromRows([[0, -100]]), { floorLogProb: -20 });
    assert.equal(floored.data[1], -20);
    assert.ok(floored.data instanceof Float32Array);
    assert.throws(() => logSoftmax(fromRows([[0, Infinity]])), inputError(/non-finite logit Infinity at frame 0, column 1/));
  });

  it('probsToLogProbs checks rows and clips zeros', () => {
    const m = probsToLogProbs(fromRows([[0, 1]], { float64: true }), { minProb: 1e-15, float64: true });
    assert.equal(m.data[0], Math.log(1e-15));
    assert.equal(m.data[1], 0);
    assert.equal(probsToLogProbs(fromRows([[0, 1]])).data[0], -Infinity);
    assert.throws(() => probsToLogProbs(fromRows([[0.2, 0.2]])), inputError(/probabilities at frame 0 sum to 0\.4/));
    assert.throws(() => probsToLogProbs(fromRows([[-0.5, 1.5]])), inputError(/probability -0\.5 at frame 0, column 0 is outside \[0, 1\]/));
    assert.throws(() => fromRows([[1, 2], [3]]), inputError(/row 1 has 1 values, row 0 has 2/));
  });

  it('fromSequence views a stage Sequence', () => {
    const data = new Float32Array([0, -1, -2, -3]);
    const m = fromSequence({ data, shape: [2, 2], fps: 25 });
    assert.equal(m.data, data);
    assert.equal(m.T, 2);
    assert.equal(m.V, 2);
  });
});

describe('token streams', () => {
  // "ab ba" with two frames of 'b' at 2-3 and a separator at 4
  const letters = ['_', ' ', 'a', 'b'];
  const m = probsToLogProbs(
    fromRows([
      [0, 0, 0.9, 0.1],
      [1, 0, 0, 0],
      [0, 0, 0.2, 0.8],
      [0, 0, 0, 1],
      [0, 1, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]),
    { minProb: 1e-12 },
  );
  const h = beamSearch(m, { labels: letters })[0];

  it('toTokenStream: seconds from frames, confidence as score', () => {
    assert.equal(h.text, 'ab ba');
    const stream = toTokenStream(h, 25);
    assert.deepEqual(
      stream.tokens.map((t) => [t.token, t.start, t.end]),
      [
        ['a', 0, 1 / 25],
        ['b', 2 / 25, 4 / 25],
        [' ', 4 / 25, 5 / 25],
        ['b', 5 / 25, 6 / 25],
        ['a', 6 / 25, 7 / 25],
      ],
    );
    assert.ok(Math.abs(stream.tokens[1].score - (0.8 + 1) / 2) < 1e-6);
    assert.deepEqual(
      toTokenStream(h, 25, ['<b>', '<sp>', 'A', 'B']).tokens.map((t) => t.token),
      ['A', 'B', '<sp>', 'B', 'A'],
    );
    assert.throws(() => toTokenStream(h, 0), inputError(/fps must be a positive number/));
    assert.throws(() => toTokenStream(h, 25, ['x']), inputError(/no label for token 2/));
  });

  it('toWordStream and groupWords: words with the frames of their letters', () => {
    assert.deepEqual(
      groupWords(h, { labels: letters }).map((w) => [w.word, w.startFrame, w.endFrame]),
      [
        ['ab', 0, 3],
        ['ba', 5, 6],
      ],
    );
    assert.deepEqual(
      toWordStream(h, 10, { labels: letters }).tokens.map((t) => [t.token, t.start, t.end]),
      [
        ['ab', 0, 0.4],
        ['ba', 0.5, 0.7],
      ],
    );
    const gloss = beamSearch(m, { labels: ['<b>', 'HOUSE', 'GO', 'YOU'], joiner: ' ' })[0];
    assert.equal(gloss.text, 'GO YOU HOUSE YOU GO');
    assert.deepEqual(
      groupWords(gloss, { labels: ['<b>', 'HOUSE', 'GO', 'YOU'], joiner: ' ' }).map((w) => w.word),
      ['GO', 'YOU', 'HOUSE', 'YOU', 'GO'],
    );
  });
});
