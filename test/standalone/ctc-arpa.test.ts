import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beamSearch, fromRows, NgramLm, probsToLogProbs, type CtcMatrix, type LmStep } from '../../src/ctc/index.js';
import { SignweaveInputError } from '../../src/errors.js';
import { sharedPath } from '../helpers/shared.js';

const parlancePath = sharedPath('data', 'metrics_reference_vectors', 'ctc_testdata', 'parlance_ctcdecode_test.arpa');
const bugsPath = sharedPath('data', 'metrics_reference_vectors', 'ctc_testdata', 'pyctcdecode_bugs_bunny_kenlm.arpa');
const close = (actual: number, expected: number, tol = 1e-9): void => {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
};

describe('ARPA loading', () => {
  const lm = NgramLm.load(parlancePath);

  it('parlance test.arpa: a 5-gram model with the header counts', () => {
    assert.equal(lm.order, 5);
    assert.deepEqual(lm.counts, [37, 47, 11, 6, 4]);
    assert.equal(lm.vocabularySize, 37);
    assert.deepEqual(lm.words().slice(0, 6), [',', '.', '</s>', '<s>', '<unk>', 'a']);
    assert.deepEqual(lm.entry(['<s>', 'looking', 'on', 'a', 'little']), { log10: -0.003061223, backoff: 0 });
    assert.deepEqual(lm.entry(['bar']), { log10: -2.718281, backoff: 3 });
    assert.deepEqual(lm.entry(['baz']), { log10: -6.535897, backoff: -0 });
    assert.equal(lm.entry(['a', 'loin']), undefined);
  });

  it('pyctcdecode bugs_bunny_kenlm.arpa: a bigram model with the header counts', () => {
    const bugs = NgramLm.load(bugsPath);
    assert.equal(bugs.order, 2);
    assert.deepEqual(bugs.counts, [5, 5]);
    close(bugs.sentenceLog10Prob(['bugs', 'bunny']), 0);
    // P(bunny|<s>) = -10, "bunny bugs" backs off to P(bugs) with bo(bunny) = 0, P(</s>|bugs) = -10
    close(bugs.sentenceLog10Prob(['bunny', 'bugs']), -20);
  });

  it('sentence log10 probabilities, hand-computed', () => {
    // every step found at the longest order: 2-, 3-, 4-, 5-, 5-, 5-gram, then "loin </s>" (its longer contexts
    // "a little more loin", "little more loin", "more loin" exist without backoff weights, i.e. 0)
    close(lm.sentenceLog10Prob(['looking', 'on', 'a', 'little', 'more', 'loin']), -0.4846522 - 0.3488368 - 0.01552657 - 0.003061223 - 0.001813953 - 0.0432557 - 0.6708385);
    // "<s> a" is missing: bo(<s>) + P(a); then "a little"; then </s> backs off twice: bo(a little) + bo(little) + P(</s>)
    close(lm.sentenceLog10Prob(['a', 'little']), -0.4149733 - 1.285941 + -0.09132547 + (-0.69897 - 0.69897 - 1.029493));
    // an unknown word scores as <unk>, whose backoff is -20
    close(lm.sentenceLog10Prob(['zebra']), -0.4149733 - 1.995635 + (-20 - 1.029493));
    // a 5-gram's context is cut to its longest known suffix ("looking"), not its last four words
    close(lm.sentenceLog10Prob(['also', 'would', 'consider', 'higher', 'looking', 'on'], { bos: false, eos: false }), -1.687872 - 2 - 3 - 4 - 5 - 0.4638903);
  });

  it('score() walks the backoff chain and returns the next state', () => {
    const step: LmStep = { log10: 0, state: 0 };
    const s0 = lm.startState();
    lm.score(s0, lm.index('screening'), step);
    close(step.log10, -1.051485);
    lm.score(step.state, lm.index('a'), step);
    close(step.log10, -0.1649931);
    lm.score(step.state, lm.index('little'), step);
    close(step.log10, -0.0283603); // "screening a little"
    lm.score(step.state, lm.index('watch'), step);
    // "screening a little watch", "a little watch", "little watch" missing: bo(screening a little) + bo(a little) + bo(little) + P(watch)
    close(step.log10, -0.4771212 - 0.69897 - 0.69897 - 1.687872);
    assert.equal(lm.index('zebra'), -1);
  });

  it('parse errors name the file and line', () => {
    const bad = (text: string, pattern: RegExp): void => {
      assert.throws(() => NgramLm.parse(text, 'bad.arpa'), (err: unknown) => err instanceof SignweaveInputError && pattern.test(err.message));
    };
    const head = ['\\data\\', 'ngram 1=2', 'ngram 2=1', '', '\\1-grams:', '-1\ta', '-1\tb', '', '\\2-grams:'];
    bad('hello', /^bad\.arpa:1: no \\data\\ section/);
    bad([...head, '-0.5\ta b', '', '\\end\\'].join('\n').replace('ngram 1=2', 'ngram 1=3'), /^bad\.arpa:5: \\1-grams: has 2 entries but \\data\\ declares 3/);
    bad([...head, '-0.5\ta c', '', '\\end\\'].join('\n'), /^bad\.arpa:10: word "c" is not among the 1-grams/);
    bad([...head, 'x\ta b', '', '\\end\\'].join('\n'), /^bad\.arpa:10: bad log10 probability "x"/);
    bad([...head, '-0.5\ta b\t-1\textra', '', '\\end\\'].join('\n'), /^bad\.arpa:10: a 2-gram line needs/);
    bad([...head, '-0.5\ta b'].join('\n'), /^bad\.arpa:10: expected \\end\\/);
    bad(['\\data\\', 'ngram 1=1', 'ngram 3=1'].join('\n'), /^bad\.arpa:3: expected the count of 2-grams/);
    bad(['\\data\\', 'ngram 1=2', 'ngram 2=1', '\\1-grams:', '-1\ta', '-1\tb', '\\2-grams:', '-1\ta a', '-1\ta b', '\\end\\'].join('\n'), /^bad\.arpa:7: \\2-grams: has 2 entries/);
    bad(['\\data\\', 'ngram 1=1', 'ngram 2=1', 'ngram 3=1', '\\1-grams:', '-1\ta', '\\2-grams:', '-1\ta a', '\\3-grams:', '-1\ta b a', '\\end\\'].join('\n'), /word "b"/);
    bad(['\\data\\', 'ngram 1=2', 'ngram 2=1', 'ngram 3=1', '\\1-grams:', '-1\ta', '-1\tb', '\\2-grams:', '-1\ta a', '\\3-grams:', '-1\tb a a', '\\end\\'].join('\n'), /^bad\.arpa:11: the 3-gram's prefix "b a" is not in the model/);
    bad(['\\data\\', 'ngram 1=2', '\\1-grams:', '-1\ta', '-1\ta', '\\end\\'].join('\n'), /^bad\.arpa:5: duplicate 1-gram "a"/);
    assert.throws(() => NgramLm.load('/nonexistent/x.arpa'), /cannot read ARPA file \/nonexistent\/x\.arpa: ENOENT/);
  });
});

describe('shallow fusion', () => {
  const lm = NgramLm.load(parlancePath);
  const onehotish = (labels: string[], frames: Record<string, number>[]): CtcMatrix =>
    probsToLogProbs(
      fromRows(frames.map((f) => labels.map((l) => f[l] ?? 0))),
      { minProb: 1e-6 },
    );

  it('a word-level LM decides what the acoustics leave open (gloss vocabulary)', () => {
    const labels = ['<blank>', 'a', 'little', 'more', 'loin', 'watch'];
    // "a little ?" where the acoustics lean to "loin" (0.50 vs 0.45) but the LM knows "a little more"
    const m = onehotish(labels, [{ a: 1 }, { '<blank>': 1 }, { little: 1 }, { '<blank>': 1 }, { loin: 0.5, more: 0.45, '<blank>': 0.05 }, { '<blank>': 1 }]);
    const options = { labels, joiner: ' ' };
    assert.equal(beamSearch(m, options)[0].text, 'a little loin');
    const fused = beamSearch(m, { ...options, lm: { model: lm, alpha: 1, beta: 0 } });
    assert.equal(fused[0].text, 'a little more');
    // lmScore is α·ln P_LM of "<s> a little more </s>"
    close(fused[0].lmScore, Math.LN10 * lm.sentenceLog10Prob(['a', 'little', 'more']));
    assert.ok(fused[0].logProb < beamSearch(m, options)[0].logProb);
  });

  it('β is an insertion bonus per word', () => {
    const labels = ['<blank>', 'a', 'little'];
    const m = onehotish(labels, [{ a: 1 }, { little: 0.4, '<blank>': 0.6 }]);
    const run = (beta: number): string => beamSearch(m, { labels, joiner: ' ', lm: { model: lm, alpha: 0, beta } })[0].text;
    assert.equal(run(0), 'a');
    assert.equal(run(1), 'a little');
  });

  it('a character-level LM scores every token (the separator as <space>)', () => {
    const chars = NgramLm.parse(
      ['\\data\\', 'ngram 1=6', 'ngram 2=2', '', '\\1-grams:', '-1\t</s>', '-99\t<s>\t0', '-1\t<space>\t0', '-0.5\ta\t0', '-0.5\tb\t-2', '-0.5\tc\t0', '',
        '\\2-grams:', '-0.01\tb a', '-3\tb c', '', '\\end\\'].join('\n'),
      'chars.arpa',
    );
    const labels = ['_', ' ', 'a', 'b', 'c'];
    // "b?" with c slightly ahead of a acoustically; the character LM knows "ba"
    const m = onehotish(labels, [{ b: 1 }, { c: 0.52, a: 0.48 }]);
    assert.equal(beamSearch(m, { labels })[0].text, 'bc');
    const fused = beamSearch(m, { labels, lm: { model: chars, alpha: 1, beta: 0, level: 'token' } });
    assert.equal(fused[0].text, 'ba');
    close(fused[0].lmScore, Math.LN10 * chars.sentenceLog10Prob(['b', 'a']));
    // the separator is the LM unit <space>
    const withSpace = beamSearch(onehotish(labels, [{ a: 1 }, { ' ': 1 }, { b: 1 }]), { labels, lm: { model: chars, alpha: 1, beta: 0, level: 'token' } });
    assert.equal(withSpace[0].text, 'a b');
    close(withSpace[0].lmScore, Math.LN10 * chars.sentenceLog10Prob(['a', '<space>', 'b']));
  });

  it('sentence boundaries can be left out', () => {
    const labels = ['<blank>', 'a', 'little'];
    const m = onehotish(labels, [{ a: 1 }, { little: 1 }]);
    const h = beamSearch(m, { labels, joiner: ' ', lm: { model: lm, alpha: 1, beta: 0, sentenceBoundaries: false } })[0];
    close(h.lmScore, Math.LN10 * lm.sentenceLog10Prob(['a', 'little'], { bos: false, eos: false }));
  });
});
