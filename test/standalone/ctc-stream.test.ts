import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CtcBeamDecoder,
  CtcStreamDecoder,
  greedyDecode,
  Lexicon,
  logSoftmax,
  NgramLm,
  type CtcMatrix,
  type CtcStreamOptions,
} from '../../src/ctc/index.js';
import { mulberry32 } from '../../src/util/random.js';

/** Random frames that look like a CTC model's: mostly blank, now and then one token dominates. */
function randomFrames(rand: () => number, T: number, V: number, blank: number): CtcMatrix {
  const data = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const peak = rand() < 0.4 ? Math.floor(rand() * V) : blank;
    for (let v = 0; v < V; v++) data[t * V + v] = rand() * 3 + (v === peak ? 2 + rand() * 4 : 0);
  }
  return logSoftmax({ data, T, V });
}

/** Splits [0, T) at random points (empty chunks included). */
function chunks(rand: () => number, T: number): [number, number][] {
  const cuts = [0, T];
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) cuts.push(Math.floor(rand() * (T + 1)));
  cuts.sort((a, b) => a - b);
  return cuts.slice(1).map((end, i) => [cuts[i], end]);
}

function streamed(options: CtcStreamOptions | CtcBeamDecoder, m: CtcMatrix, rand: () => number): ReturnType<CtcStreamDecoder['finish']> {
  const stream = new CtcStreamDecoder(options);
  for (const [a, b] of chunks(rand, m.T)) {
    stream.push({ data: m.data.subarray(a * m.V, b * m.V), T: b - a, V: m.V });
    assert.equal(stream.frames, b);
    // reading the partial result must not disturb the state
    const partial = stream.best();
    assert.equal(partial.tokens.length, partial.spans.length);
  }
  return stream.finish();
}

const letters = ['_', ' ', 'a', 'b', 'n', 'o', 's', 't'];
const wordLm = NgramLm.parse(
  ['\\data\\', 'ngram 1=7', 'ngram 2=3', '', '\\1-grams:', '-1\t</s>', '-99\t<s>\t-0.5', '-2\t<unk>', '-0.6\tboat\t-0.3', '-0.8\tsnob\t-0.2', '-0.9\tto', '-1.1\tta', '',
    '\\2-grams:', '-0.2\t<s> to', '-0.3\tto boat', '-0.1\tboat </s>', '', '\\end\\'].join('\n'),
  'stream.arpa',
);
const glosses = ['<blank>', 'I', 'GO', 'STORE', 'YESTERDAY', 'HOME'];
const glossLm = NgramLm.parse(
  ['\\data\\', 'ngram 1=8', 'ngram 2=3', 'ngram 3=1', '', '\\1-grams:', '-1\t</s>', '-99\t<s>\t-0.4', '-1.5\t<unk>', '-0.7\tI\t-0.2', '-0.8\tGO\t-0.3', '-1\tSTORE', '-1.2\tYESTERDAY', '-1.1\tHOME', '',
    '\\2-grams:', '-0.3\t<s> I\t-0.1', '-0.2\tI GO\t-0.1', '-0.4\tGO HOME', '', '\\3-grams:', '-0.05\t<s> I GO', '', '\\end\\'].join('\n'),
  'gloss.arpa',
);

describe('CtcStreamDecoder: chunked decoding = whole-sequence decoding', () => {
  it('greedy', () => {
    const rand = mulberry32(11);
    for (let trial = 0; trial < 30; trial++) {
      const m = randomFrames(rand, 20 + Math.floor(rand() * 60), letters.length, 0);
      assert.deepEqual(streamed({ mode: 'greedy', labels: letters }, m, rand), [greedyDecode(m, { labels: letters })]);
    }
  });

  const configs: [string, CtcStreamOptions][] = [
    ['beam, no LM', { labels: letters, beamWidth: 8 }],
    ['beam, pruned per frame and by score', { labels: letters, beamWidth: 6, topK: 4, tokenMinLogProb: -4, cutoffProb: 0.99, beamPruneLogProb: -8 }],
    ['beam + word LM + lexicon + hotwords', { labels: letters, beamWidth: 10, lexicon: Lexicon.fromWords(['boat', 'to', 'ta', 'snob', 'no', 'on']), hotwords: { phrases: ['snob'], weight: 3 }, lm: { model: wordLm, alpha: 0.8, beta: 1 } }],
    ['beam + character LM, separators kept', { labels: letters, beamWidth: 8, collapseSeparators: false, lm: { model: wordLm, alpha: 0.3, beta: 0.5, level: 'token' } }],
    ['gloss beam + 3-gram LM', { labels: glosses, joiner: ' ', beamWidth: 12, lm: { model: glossLm, alpha: 0.7, beta: 0.5 } }],
    ['gloss beam + phrase lexicon + hotword phrase', { labels: glosses, joiner: ' ', beamWidth: 12, lexicon: Lexicon.fromPhrases(['I GO', 'STORE', 'HOME', 'YESTERDAY', 'I']), hotwords: { phrases: ['GO HOME'] } }],
  ];
  for (const [name, options] of configs) {
    it(name, () => {
      const rand = mulberry32(name.length * 7919);
      const decoder = new CtcBeamDecoder(options as CtcStreamOptions & { mode?: 'beam' });
      const texts = new Set<string>();
      for (let trial = 0; trial < 25; trial++) {
        const m = randomFrames(rand, 20 + Math.floor(rand() * 60), options.labels.length, 0);
        const whole = decoder.decode(m);
        assert.deepEqual(streamed(decoder, m, rand), whole);
        assert.deepEqual(streamed(options, m, rand), whole);
        texts.add(whole[0].text);
      }
      assert.ok(texts.size >= 10, `only ${texts.size} distinct results`);
    });
  }

  it('best() follows the frames; bare Float32Array chunks; misuse is reported', () => {
    const stream = new CtcStreamDecoder({ labels: glosses, joiner: ' ' });
    const row = (g: string): Float32Array => Float32Array.from(glosses, (l) => (l === g ? Math.log(0.96) : Math.log(0.01)));
    stream.push(row('I'));
    assert.equal(stream.best().text, 'I');
    stream.push(row('<blank>'));
    stream.push(Float32Array.from([...row('GO'), ...row('GO')]));
    const partial = stream.best();
    assert.equal(partial.text, 'I GO');
    assert.deepEqual(
      partial.spans.map((s) => [s.label, s.startFrame, s.endFrame]),
      [
        ['I', 0, 0],
        ['GO', 2, 3],
      ],
    );
    assert.throws(() => stream.push(new Float32Array(5)), /chunk of 5 values is not whole frames of V = 6/);
    const out = stream.finish();
    assert.equal(out[0].text, 'I GO');
    assert.throws(() => stream.push(row('I')), /CTC stream: push\(\) after finish\(\)/);
    assert.throws(() => stream.finish(), /CTC stream: finish\(\) called twice/);
    const greedy = new CtcStreamDecoder({ mode: 'greedy', labels: glosses });
    greedy.finish();
    assert.throws(() => greedy.push(row('I')), /push\(\) after finish\(\)/);
    const state = new CtcBeamDecoder({ labels: glosses }).start();
    state.finish();
    assert.throws(() => state.push({ data: row('I'), T: 1, V: 6 }), /beam search: push\(\) after finish\(\)/);
    assert.throws(() => state.finish(), /beam search: finish\(\) called twice/);
  });
});
