/**
 * Brute force on small inputs: every one of the V^T alignments is enumerated, so each labeling's exact probability
 * (the sum over the alignments collapsing to it) and its most probable alignment are known.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  beamSearch,
  greedyDecode,
  Lexicon,
  logSoftmax,
  NgramLm,
  type BeamSearchOptions,
  type CtcMatrix,
} from '../../src/ctc/index.js';
import { mulberry32 } from '../../src/util/random.js';

function randomLogProbs(rand: () => number, T: number, V: number, spread: number): CtcMatrix {
  const data = new Float64Array(T * V);
  for (let i = 0; i < data.length; i++) data[i] = (rand() * 2 - 1) * spread;
  return logSoftmax({ data, T, V }, { float64: true });
}

interface Labeling {
  tokens: number[];
  prob: number;
  bestLogProb: number;
  bestPath: number[];
}

/** Collapse repeats and drop blanks; with `separator` also drop leading / trailing / doubled separators. */
function collapse(path: readonly number[], blank: number, separator = -1): number[] {
  const out: number[] = [];
  let prev = -1;
  for (const a of path) {
    if (a !== blank && a !== prev) {
      const absorbed = a === separator && (out.length === 0 || out[out.length - 1] === separator);
      if (!absorbed) out.push(a);
    }
    prev = a;
  }
  if (separator >= 0 && out[out.length - 1] === separator) out.pop();
  return out;
}

function enumerate(m: CtcMatrix, blank: number, separator = -1): Map<string, Labeling> {
  const { data, T, V } = m;
  const out = new Map<string, Labeling>();
  const path = new Array<number>(T).fill(0);
  for (let n = 0; n < V ** T; n++) {
    let x = n;
    let lp = 0;
    for (let t = 0; t < T; t++) {
      path[t] = x % V;
      x = Math.floor(x / V);
      lp += data[t * V + path[t]];
    }
    const tokens = collapse(path, blank, separator);
    const key = tokens.join(',');
    const seen = out.get(key);
    if (!seen) out.set(key, { tokens, prob: Math.exp(lp), bestLogProb: lp, bestPath: path.slice() });
    else {
      seen.prob += Math.exp(lp);
      if (lp > seen.bestLogProb) {
        seen.bestLogProb = lp;
        seen.bestPath = path.slice();
      }
    }
  }
  return out;
}

/** Spans of a path: each token's run of frames, with its mean posterior. */
function pathSpans(m: CtcMatrix, path: readonly number[], blank: number): { token: number; startFrame: number; endFrame: number; confidence: number }[] {
  const spans: { token: number; startFrame: number; endFrame: number; sum: number; n: number }[] = [];
  path.forEach((a, t) => {
    if (a === blank) return;
    const p = Math.exp(m.data[t * m.V + a]);
    const last = spans[spans.length - 1];
    if (t > 0 && path[t - 1] === a) {
      last.endFrame = t;
      last.sum += p;
      last.n++;
    } else spans.push({ token: a, startFrame: t, endFrame: t, sum: p, n: 1 });
  });
  return spans.map((s) => ({ token: s.token, startFrame: s.startFrame, endFrame: s.endFrame, confidence: s.sum / s.n }));
}

const close = (actual: number, expected: number, what: string, tol = 1e-9): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
};

function best(labelings: Iterable<Labeling>, score: (l: Labeling) => number): Labeling {
  let top: Labeling | undefined;
  for (const l of labelings) if (!top || score(l) > score(top)) top = l;
  return top as Labeling;
}

const WIDE = { beamWidth: 5000, nBest: 5000 };

function trials(seed: number, n: number, fn: (rand: () => number, trial: number) => void): void {
  const rand = mulberry32(seed);
  for (let i = 0; i < n; i++) fn(rand, i);
}

describe('CTC decoding against exhaustive enumeration (T ≤ 5, V ≤ 4)', () => {
  it('greedy = collapse of the single most probable alignment, with its log-probability and spans', () => {
    trials(1, 150, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const V = 2 + Math.floor(rand() * 3);
      const blank = Math.floor(rand() * V);
      const m = randomLogProbs(rand, T, V, 4);
      const labels = Array.from({ length: V }, (_, i) => String.fromCharCode(97 + i));
      const top = best(enumerate(m, blank).values(), (l) => l.bestLogProb);
      const g = greedyDecode(m, { labels, blank });
      assert.deepEqual(g.tokens, top.tokens);
      close(g.logProb, top.bestLogProb, 'greedy logProb');
      const spans = pathSpans(m, top.bestPath, blank);
      assert.deepEqual(
        g.spans.map((s) => [s.token, s.startFrame, s.endFrame]),
        spans.map((s) => [s.token, s.startFrame, s.endFrame]),
      );
      g.spans.forEach((s, i) => close(s.confidence, spans[i].confidence, 'greedy confidence'));
    });
  });

  it('a beam that keeps every prefix returns every labeling with its exact summed probability and Viterbi spans', () => {
    trials(2, 150, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const V = 2 + Math.floor(rand() * 3);
      const blank = Math.floor(rand() * V);
      const m = randomLogProbs(rand, T, V, 3);
      const labels = Array.from({ length: V }, (_, i) => String.fromCharCode(97 + i));
      const all = enumerate(m, blank);
      const beams = beamSearch(m, { labels, blank, topK: V, ...WIDE });
      assert.equal(beams.length, all.size);
      for (const h of beams) {
        const ref = all.get(h.tokens.join(','));
        assert.ok(ref, `unexpected labeling ${h.tokens}`);
        close(h.logProb, Math.log(ref.prob), `logProb of [${h.tokens}]`);
        assert.equal(h.score, h.logProb);
        const spans = pathSpans(m, ref.bestPath, blank);
        assert.deepEqual(
          h.spans.map((s) => [s.token, s.startFrame, s.endFrame]),
          spans.map((s) => [s.token, s.startFrame, s.endFrame]),
          `spans of [${h.tokens}]`,
        );
        h.spans.forEach((s, i) => close(s.confidence, spans[i].confidence, 'confidence'));
      }
      assert.deepEqual(beams[0].tokens, best(all.values(), (l) => l.prob).tokens);
      for (let i = 1; i < beams.length; i++) assert.ok(beams[i - 1].score >= beams[i].score);
    });
  });

  it('collapsing separators: hypotheses are whitespace-normalised labelings with the pooled probability', () => {
    trials(3, 120, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const labels = ['_', ' ', 'a', 'b'];
      const m = randomLogProbs(rand, T, 4, 3);
      const all = enumerate(m, 0, 1);
      const beams = beamSearch(m, { labels, blank: 0, topK: 4, ...WIDE });
      assert.equal(beams.length, all.size);
      for (const h of beams) {
        const ref = all.get(h.tokens.join(','));
        assert.ok(ref, `unexpected labeling ${h.tokens}`);
        close(h.logProb, Math.log(ref.prob), `logProb of "${h.text}"`);
        assert.equal(h.spans.length, h.tokens.length);
      }
      assert.deepEqual(beams[0].tokens, best(all.values(), (l) => l.prob).tokens);
      assert.deepEqual(greedyDecode(m, { labels }).tokens, best(all.values(), (l) => l.bestLogProb).tokens);
    });
  });

  it('narrow beams and per-frame pruning never overstate a probability, and stay ranked', () => {
    trials(4, 200, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const V = 2 + Math.floor(rand() * 3);
      const m = randomLogProbs(rand, T, V, 3);
      const labels = Array.from({ length: V }, (_, i) => String.fromCharCode(97 + i));
      const all = enumerate(m, 0);
      const options: BeamSearchOptions = {
        labels,
        beamWidth: 1 + Math.floor(rand() * 3),
        topK: 1 + Math.floor(rand() * V),
        tokenMinLogProb: rand() < 0.5 ? -Infinity : -1 - rand() * 2,
        cutoffProb: rand() < 0.5 ? 1 : 0.5 + rand() * 0.5,
        beamPruneLogProb: rand() < 0.5 ? -Infinity : -rand() * 3,
      };
      const beams = beamSearch(m, options);
      assert.ok(beams.length >= 1 && beams.length <= (options.beamWidth as number));
      for (const h of beams) {
        const ref = all.get(h.tokens.join(','));
        assert.ok(ref);
        assert.ok(h.logProb <= Math.log(ref.prob) + 1e-12, `${h.logProb} > ${Math.log(ref.prob)}`);
      }
      for (let i = 1; i < beams.length; i++) assert.ok(beams[i - 1].score >= beams[i].score);
      if (options.beamPruneLogProb !== -Infinity) {
        for (const h of beams) assert.ok(h.score >= beams[0].score + (options.beamPruneLogProb as number));
      }
    });
  });

  it('a phrase lexicon keeps exactly the labelings made of its phrases, with exact probabilities', () => {
    trials(5, 100, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const labels = ['<b>', 'A', 'B', 'C'];
      const m = randomLogProbs(rand, T, 4, 3);
      const phrases = [['A'], ['B', 'C'], ['B', 'C', 'A'], ['C', 'C']].filter(() => rand() < 0.75);
      if (phrases.length === 0) phrases.push(['A']);
      const allowed = (tokens: number[]): boolean => {
        // concatenation of phrases, by dynamic programming over prefixes
        const ok = [true];
        for (let i = 1; i <= tokens.length; i++) {
          ok[i] = phrases.some((p) => p.length <= i && ok[i - p.length] && p.every((w, k) => labels[tokens[i - p.length + k]] === w));
        }
        return ok[tokens.length];
      };
      const all = [...enumerate(m, 0).values()].filter((l) => allowed(l.tokens));
      const beams = beamSearch(m, { labels, joiner: ' ', topK: 4, lexicon: Lexicon.fromPhrases(phrases), ...WIDE });
      assert.equal(beams.length, all.length);
      for (const h of beams) {
        const ref = all.find((l) => l.tokens.join(',') === h.tokens.join(','));
        assert.ok(ref, `labeling "${h.text}" is not made of ${JSON.stringify(phrases)}`);
        close(h.logProb, Math.log(ref.prob), h.text);
      }
    });
  });

  it('token-level shallow fusion: score = ln P_ctc + α·ln P_LM(… </s>) + β·#tokens, best first', () => {
    const lm = NgramLm.parse(
      ['\\data\\', 'ngram 1=5', 'ngram 2=4', '', '\\1-grams:', '-1.0\t</s>', '-99\t<s>\t-0.3', '-0.5\tA\t-0.2', '-0.6\tB\t-0.1', '-0.9\tC', '',
        '\\2-grams:', '-0.1\t<s> A', '-0.2\tA B', '-1.5\tB B', '-0.05\tB </s>', '', '\\end\\'].join('\n'),
      'tiny.arpa',
    );
    trials(6, 100, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const labels = ['<b>', 'A', 'B', 'C'];
      const m = randomLogProbs(rand, T, 4, 2);
      const alpha = rand() * 2;
      const beta = rand() * 2 - 1;
      const total = (l: Labeling): number =>
        Math.log(l.prob) + alpha * Math.LN10 * lm.sentenceLog10Prob(l.tokens.map((t) => labels[t])) + beta * l.tokens.length;
      const all = enumerate(m, 0);
      const beams = beamSearch(m, { labels, joiner: ' ', topK: 4, lm: { model: lm, alpha, beta }, ...WIDE });
      assert.equal(beams.length, all.size);
      for (const h of beams) {
        const ref = all.get(h.tokens.join(',')) as Labeling;
        close(h.logProb, Math.log(ref.prob), h.text);
        close(h.score, total(ref), `score of "${h.text}"`);
        close(h.lmScore, h.score - h.logProb, 'lmScore');
      }
      assert.deepEqual(beams[0].tokens, best(all.values(), total).tokens);
    });
  });

  it('character vocabulary with a spelling lexicon and a word-level LM (words scored at separators and at the end)', () => {
    const lm = NgramLm.parse(
      ['\\data\\', 'ngram 1=6', 'ngram 2=3', '', '\\1-grams:', '-0.8\t</s>', '-99\t<s>\t-0.5', '-1.2\t<unk>', '-0.4\ta\t-0.3', '-0.7\tab\t-0.1', '-0.9\tba', '',
        '\\2-grams:', '-0.2\t<s> ab', '-0.3\ta ba', '-0.1\tba </s>', '', '\\end\\'].join('\n'),
      'words.arpa',
    );
    const words = ['a', 'ab', 'ba', 'bb'];
    trials(7, 100, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const labels = ['_', ' ', 'a', 'b'];
      const m = randomLogProbs(rand, T, 4, 3);
      const alpha = rand() * 2;
      const beta = rand() * 2 - 1;
      const wordsOf = (l: Labeling): string[] => l.tokens.map((t) => labels[t]).join('').split(' ').filter((w) => w !== '');
      const all = [...enumerate(m, 0, 1).values()].filter((l) => wordsOf(l).every((w) => words.includes(w)));
      const total = (l: Labeling): number => Math.log(l.prob) + alpha * Math.LN10 * lm.sentenceLog10Prob(wordsOf(l)) + beta * wordsOf(l).length;
      const beams = beamSearch(m, { labels, topK: 4, lexicon: Lexicon.fromWords(words), lm: { model: lm, alpha, beta }, ...WIDE });
      assert.equal(beams.length, all.length);
      for (const h of beams) {
        const ref = all.find((l) => l.tokens.join(',') === h.tokens.join(','));
        assert.ok(ref, `"${h.text}" is not spelled from the lexicon`);
        close(h.logProb, Math.log(ref.prob), h.text);
        close(h.score, total(ref), `score of "${h.text}"`);
      }
      if (all.length > 0) assert.deepEqual(beams[0].tokens, best(all, total).tokens);
    });
  });

  it('word-piece vocabulary: a word completes when the next word-initial piece arrives, and at the end', () => {
    // "b" and "ba" are not in the LM: they score as <unk>
    const lm = NgramLm.parse(
      ['\\data\\', 'ngram 1=5', 'ngram 2=2', '', '\\1-grams:', '-0.8\t</s>', '-99\t<s>\t-0.5', '-1.5\t<unk>', '-0.4\ta\t-0.3', '-0.7\taa\t-0.1', '',
        '\\2-grams:', '-0.2\t<s> aa', '-0.3\ta aa', '', '\\end\\'].join('\n'),
      'pieces.arpa',
    );
    trials(8, 100, (rand) => {
      const T = 1 + Math.floor(rand() * 5);
      const labels = ['_', '▁a', '▁b', 'a'];
      const m = randomLogProbs(rand, T, 4, 3);
      const alpha = rand() * 2;
      const beta = rand() * 2 - 1;
      const lexicon = ['a', 'aa', 'b', 'ba'];
      const wordsOf = (l: Labeling): string[] => l.tokens.map((t) => labels[t]).join('').split('▁').filter((w) => w !== '');
      const all = [...enumerate(m, 0).values()].filter((l) => wordsOf(l).every((w) => lexicon.includes(w)));
      const total = (l: Labeling): number => Math.log(l.prob) + alpha * Math.LN10 * lm.sentenceLog10Prob(wordsOf(l)) + beta * wordsOf(l).length;
      const beams = beamSearch(m, { labels, topK: 4, lexicon: Lexicon.fromWords(lexicon), lm: { model: lm, alpha, beta }, ...WIDE });
      assert.equal(beams.length, all.length);
      for (const h of beams) {
        const ref = all.find((l) => l.tokens.join(',') === h.tokens.join(','));
        assert.ok(ref, `"${h.text}" is not spelled from the lexicon`);
        assert.equal(h.text, wordsOf(ref).join(' '));
        close(h.logProb, Math.log(ref.prob), h.text);
        close(h.score, total(ref), `score of "${h.text}"`);
      }
      if (all.length > 0) assert.deepEqual(beams[0].tokens, best(all, total).tokens);
    });
  });
});
