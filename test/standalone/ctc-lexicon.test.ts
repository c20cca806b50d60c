import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beamSearch, CtcStreamDecoder, fromRows, groupWords, Lexicon, probsToLogProbs, type CtcMatrix } from '../../src/ctc/index.js';
import { SignweaveInputError } from '../../src/errors.js';

/** Log-probabilities from per-frame {label: probability} maps (unlisted labels share a tiny floor). */
function frames(labels: readonly string[], rows: Record<string, number>[]): CtcMatrix {
  return probsToLogProbs(fromRows(rows.map((r) => labels.map((l) => r[l] ?? 0)), { float64: true }), { minProb: 1e-9, float64: true });
}

const close = (actual: number, expected: number, tol = 1e-9): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
};

// fingerspelling-like character vocabulary: blank, word separator, letters
const letters = ['_', ' ', 'a', 'c', 'd', 'g', 'n', 'o', 't'];
// "c ? t  d o g", the vowel of the first word leaning to 'o'
const catDog = frames(letters, [
  { c: 1 },
  { _: 1 },
  { o: 0.55, a: 0.45 },
  { t: 1 },
  { ' ': 1 },
  { d: 1 },
  { o: 1 },
  { _: 0.5, g: 0.5 },
  { g: 1 },
]);

describe('lexicon', () => {
  it('character vocabulary: the lexicon overrides the acoustically better non-word', () => {
    assert.equal(beamSearch(catDog, { labels: letters })[0].text, 'cot dog');
    const beams = beamSearch(catDog, { labels: letters, lexicon: Lexicon.fromWords(['cat', 'dog', 'do', 'tag']) });
    assert.equal(beams[0].text, 'cat dog');
    // every surviving hypothesis is made of lexicon words
    for (const b of beams) for (const w of b.text.split(' ').filter((x) => x !== '')) assert.ok(['cat', 'dog', 'do', 'tag'].includes(w), b.text);
    assert.deepEqual(
      groupWords(beams[0], { labels: letters }).map((w) => [w.word, w.startFrame, w.endFrame]),
      [
        ['cat', 0, 3],
        ['dog', 5, 8],
      ],
    );
  });

  it('a hypothesis must end on a complete word', () => {
    // "d o" then silence: with only "dog" in the lexicon the partial "do" cannot end the hypothesis
    const m = frames(letters, [{ d: 1 }, { o: 1 }, { _: 0.9, g: 0.1 }]);
    assert.equal(beamSearch(m, { labels: letters, lexicon: Lexicon.fromWords(['dog']) })[0].text, 'dog');
    assert.equal(beamSearch(m, { labels: letters, lexicon: Lexicon.fromWords(['dog', 'do']) })[0].text, 'do');
  });

  it('separators without a word in between are not words (no collapsing)', () => {
    const m = frames(letters, [{ ' ': 0.6, d: 0.4 }, { d: 1 }, { o: 1 }]);
    const plain = beamSearch(m, { labels: letters, collapseSeparators: false });
    assert.equal(plain[0].text, ' do');
    const lex = beamSearch(m, { labels: letters, collapseSeparators: false, lexicon: Lexicon.fromWords(['do']) });
    assert.equal(lex[0].text, 'do');
    assert.ok(lex.every((b) => !b.text.startsWith(' ')));
  });

  it('gloss vocabulary: tokens outside the lexicon never appear', () => {
    const glosses = ['<blank>', 'HELLO', 'WORLD', 'FOO'];
    const m = frames(glosses, [{ HELLO: 1 }, { FOO: 0.7, WORLD: 0.3 }]);
    assert.equal(beamSearch(m, { labels: glosses, joiner: ' ' })[0].text, 'HELLO FOO');
    const beams = beamSearch(m, { labels: glosses, joiner: ' ', lexicon: Lexicon.fromWords(['HELLO', 'WORLD', 'NOT-A-LABEL']) });
    assert.equal(beams[0].text, 'HELLO WORLD');
    assert.ok(beams.every((b) => !b.tokens.includes(3)));
  });

  it('word-piece vocabulary: words are spelled across pieces', () => {
    const pieces = ['<b>', '▁ca', 't', '▁co', 'ts'];
    const m = frames(pieces, [{ '▁co': 0.6, '▁ca': 0.4 }, { t: 0.55, ts: 0.45 }]);
    assert.equal(beamSearch(m, { labels: pieces })[0].text, 'cot');
    assert.equal(beamSearch(m, { labels: pieces, lexicon: Lexicon.fromWords(['cat', 'cots']) })[0].text, 'cots');
  });

  it('rejects misuse', () => {
    assert.throws(() => Lexicon.fromWords(['new york']), /contains whitespace; use Lexicon\.fromPhrases/);
    assert.throws(() => beamSearch(catDog, { labels: letters, lexicon: Lexicon.fromPhrases(['cat dog']) }), SignweaveInputError);
    const none = frames(letters, [{ c: 1 }, { o: 1 }]);
    assert.throws(() => beamSearch(none, { labels: letters, topK: 1, lexicon: Lexicon.fromWords(['dog']) }), /every hypothesis was pruned at frame 0/);
    assert.equal(Lexicon.fromPhrases(['A B', ['C'], '  ']).size, 2);
  });
});

describe('hotwords', () => {
  const nameLetters = ['_', ' ', 'a', 'e', 'n', 'o'];
  // "a n ? " ambiguous between "ano" (acoustically better) and "ana"
  const m = frames(nameLetters, [{ a: 1 }, { n: 1 }, { o: 0.6, a: 0.4 }]);

  it('a complete match earns the weight and can flip the decision', () => {
    assert.equal(beamSearch(m, { labels: nameLetters })[0].text, 'ano');
    const boosted = beamSearch(m, { labels: nameLetters, hotwords: { phrases: ['ana'], weight: 5 } });
    assert.equal(boosted[0].text, 'ana');
    close(boosted[0].hotwordScore, 5);
    close(boosted[0].score, boosted[0].logProb + 5);
    const other = boosted.find((b) => b.text === 'ano');
    assert.ok(other);
    assert.equal(other.hotwordScore, 0);
  });

  it('a partial match earns weight · len(partial) / len(shortest hotword it starts)', () => {
    const stream = new CtcStreamDecoder({ labels: nameLetters, hotwords: { phrases: ['anne', 'ana'], weight: 6 } });
    stream.push({ data: m.data.subarray(0, 2 * 6), T: 2, V: 6 });
    const partial = stream.best();
    assert.equal(partial.text, 'an');
    close(partial.hotwordScore, (6 * 2) / 3);
  });

  it('multi-word phrases match across words, each match counted once', () => {
    const l = ['_', ' ', 'a', 'b', 'c'];
    const spell = (text: string): CtcMatrix => frames(l, [...text].map((ch) => ({ [ch === ' ' ? ' ' : ch]: 1 })));
    const hw = (text: string, phrases: string[]): number => beamSearch(spell(text), { labels: l, hotwords: { phrases, weight: 1 } })[0].hotwordScore;
    assert.equal(hw('a b c', ['a b']), 1);
    assert.equal(hw('a c b', ['a b']), 0);
    // overlapping phrases: "a b" is counted, "b c" overlaps it
    assert.equal(hw('a b c', ['a b', 'b c']), 1);
    assert.equal(hw('a b a b', ['a b']), 2);
    assert.equal(hw('ab', ['a b']), 0);
  });

  it('gloss vocabulary: a phrase of glosses', () => {
    const glosses = ['<blank>', 'NEW', 'YORK', 'YOUR'];
    const g = frames(glosses, [{ NEW: 1 }, { '<blank>': 1 }, { YOUR: 0.6, YORK: 0.4 }]);
    assert.equal(beamSearch(g, { labels: glosses, joiner: ' ' })[0].text, 'NEW YOUR');
    const boosted = beamSearch(g, { labels: glosses, joiner: ' ', hotwords: { phrases: ['NEW YORK'] } });
    assert.equal(boosted[0].text, 'NEW YORK');
    close(boosted[0].hotwordScore, 10);
  });
});
