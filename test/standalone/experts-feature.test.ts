import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { writeBundle } from '../../src/bundles/writer.js';
import { Lexicon } from '../../src/ctc/lexicon.js';
import { buildFingerspellHead, FINGERSPELL_VOCAB, FingerspellExpert } from '../../src/experts/fingerspell/index.js';
import { FeatureCtcExpert } from '../../src/experts/shared.js';
import { buildSignHead, SignExpert, signVocabulary } from '../../src/experts/sign/index.js';
import type { Sequence } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-experts-'));
after(() => rmSync(root, { recursive: true, force: true }));

const GLOSSES = ['HELLO', 'YOU', 'NAME', 'WHAT', 'GOOD'];
const SIGN_VOCAB = signVocabulary(GLOSSES);
const D = 12;
const MAX = 32;
const session = { intraOpThreads: 1 };

function randomFeatures(T: number, dim: number, seed: number, fps = 25): Sequence {
  const rand = mulberry32(seed);
  return { data: Float32Array.from({ length: T * dim }, () => 4 * rand() - 2), shape: [T, dim], fps };
}

/**
 * A head that reads labels off one-hot features: dim = |vocab|, head = 10·identity, no bias, positions zero — so
 * feature row t = one-hot(label) makes that label the argmax of frame t.
 */
function oneHotHead(kind: 'sign' | 'fingerspell', vocab: readonly string[], name: string): string {
  const V = vocab.length;
  const head = new Float32Array(V * V);
  for (let i = 0; i < V; i++) head[i * V + i] = 10;
  const weights = { 'pos.weight': new Float32Array(MAX * V), 'head.weight': head, 'head.bias': new Float32Array(V) };
  const model = kind === 'sign' ? buildSignHead({ dim: V, vocabSize: V, maxLen: MAX, weights }) : buildFingerspellHead({ dim: V, maxLen: MAX, weights });
  const dir = join(root, name);
  writeBundle(dir, { kind, name, model, vocab, input: { type: 'features', name: 'features', dim: V, maxFrames: MAX }, weights: 'synthetic' });
  return dir;
}

function oneHotFeatures(vocab: readonly string[], frames: string[], fps: number): Sequence {
  const V = vocab.length;
  const data = new Float32Array(frames.length * V);
  frames.forEach((label, t) => {
    const i = vocab.indexOf(label === '_' ? '<blank>' : label);
    assert.ok(i >= 0, label);
    data[t * V + i] = 1;
  });
  return { data, shape: [frames.length, V], fps };
}

/** Plain-TypeScript forward pass of the head: (x + pos[t]) · W + b, in float64. */
function forward(weights: Record<string, Float32Array>, x: Sequence, V: number): Float64Array {
  const [T, dim] = x.shape;
  const pos = weights['pos.weight'];
  const W = weights['head.weight'];
  const b = weights['head.bias'];
  const out = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      let s = b[v];
      for (let d = 0; d < dim; d++) s += (x.data[t * dim + d] + pos[t * dim + d]) * W[d * V + v];
      out[t * V + v] = s;
    }
  }
  return out;
}

/** Best path by hand: argmax per frame, repeats merged, blanks dropped, with frame spans. */
function bestPath(logits: ArrayLike<number>, T: number, V: number): { token: number; first: number; last: number }[] {
  const spans: { token: number; first: number; last: number }[] = [];
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let arg = 0;
    for (let v = 1; v < V; v++) if (logits[t * V + v] > logits[t * V + arg]) arg = v;
    if (arg !== 0 && arg === prev) spans[spans.length - 1].last = t;
    else if (arg !== 0) spans.push({ token: arg, first: t, last: t });
    prev = arg;
  }
  return spans;
}

describe('sign and fingerspelling experts (features → positional embedding → linear CTC head)', () => {
  const signDir = join(root, 'sign');
  writeBundle(signDir, {
    kind: 'sign',
    name: 'random-sign',
    model: buildSignHead({ dim: D, vocabSize: SIGN_VOCAB.length, maxLen: MAX, seed: 5 }),
    vocab: SIGN_VOCAB,
    input: { type: 'features', name: 'features', dim: D, maxFrames: MAX },
    weights: 'random',
  });

  it('logits are the plain-TypeScript forward pass of the bundle weights; tokens are its best path, timed by fps', async () => {
    await using expert = await SignExpert.load(signDir, { session });
    const x = randomFeatures(20, D, 1, 30);
    const result = await expert.run(x, { decoder: 'greedy' });
    const V = SIGN_VOCAB.length;
    assert.equal(result.kind, 'sign');
    assert.deepEqual(result.logits.shape, [20, V]);
    assert.equal(result.logits.fps, 30);
    const expected = forward(expert.bundle.readWeights(), x, V);
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(result.logits.data[i] - expected[i]));
    assert.ok(diff < 1e-4, `max deviation ${diff}`);
    const path = bestPath(expected, 20, V);
    assert.ok(path.length > 1, 'random weights give several tokens');
    assert.deepEqual(
      result.stream.tokens.map((t) => [t.token, t.start, t.end]),
      path.map((s) => [SIGN_VOCAB[s.token], s.first / 30, (s.last + 1) / 30]),
    );
    assert.equal(result.text, result.stream.tokens.map((t) => t.token).join(' '));
    for (const t of result.stream.tokens) assert.ok(t.score > 0 && t.score <= 1);
    assert.deepEqual(result.bundle, expert.bundle.ref);
    assert.equal(result.stream.logits, result.logits);
    assert.equal(result.missingFrames, undefined);
  });

  it('beam search (the default) and a lexicon are the caller’s options', async () => {
    await using expert = await SignExpert.load(signDir, { session });
    const x = randomFeatures(24, D, 2);
    const greedy = await expert.run(x, { decoder: 'greedy' });
    const beam = await expert.run(x);
    const wide = await expert.run(x, { beamWidth: 64 });
    assert.ok(beam.stream.tokens.length > 0);
    assert.deepEqual(beam, wide, 'beams of 16 and 64 agree on this small vocabulary');
    assert.ok(greedy.text.length > 0);
    const only = await expert.run(x, { lexicon: Lexicon.fromWords(['HELLO']) });
    assert.ok(only.stream.tokens.every((t) => t.token === 'HELLO'));
    await assert.rejects(expert.run(x, { decoder: 'greedy', lexicon: Lexicon.fromWords(['HELLO']) }), inputError(/need decoder 'beam'/));
  });

  it('sign text joins glosses with spaces; times follow the frames exactly', async () => {
    const dir = oneHotHead('sign', SIGN_VOCAB, 'sign-onehot');
    await using expert = await SignExpert.load(dir, { session });
    const frames = ['_', 'HELLO', 'HELLO', '_', 'YOU', 'YOU', 'YOU', 'NAME', '_', '_'];
    const result = await expert.run(oneHotFeatures(SIGN_VOCAB, frames, 10), { decoder: 'greedy' });
    assert.equal(result.text, 'HELLO YOU NAME');
    assert.deepEqual(
      result.stream.tokens.map((t) => [t.token, t.start, t.end]),
      [
        ['HELLO', 0.1, 0.3],
        ['YOU', 0.4, 0.7],
        ['NAME', 0.7, 0.8],
      ],
    );
    assert.deepEqual((await expert.run(oneHotFeatures(SIGN_VOCAB, frames, 10))).text, 'HELLO YOU NAME');
  });

  it('fingerspelling text joins letters directly, with the space label between words', async () => {
    const dir = oneHotHead('fingerspell', FINGERSPELL_VOCAB, 'fs-onehot');
    await using expert = await FingerspellExpert.load(dir, { session });
    const frames = [' ', 'h', 'h', 'i', ' ', ' ', 'y', 'o', '_', 'o', ' '];
    const result = await expert.run(oneHotFeatures(FINGERSPELL_VOCAB, frames, 20), { decoder: 'greedy' });
    assert.equal(result.kind, 'fingerspell');
    assert.equal(result.text, 'hi yoo');
    assert.deepEqual(
      result.stream.tokens.map((t) => t.token),
      ['h', 'i', ' ', 'y', 'o', 'o'],
    );
    assert.deepEqual(
      result.stream.tokens.map((t) => [t.start, t.end]),
      [
        [0.05, 0.15],
        [0.15, 0.2],
        [0.2, 0.3],
        [0.3, 0.35],
        [0.35, 0.4],
        [0.45, 0.5],
      ],
    );
    assert.equal((await expert.run(oneHotFeatures(FINGERSPELL_VOCAB, frames, 20))).text, 'hi yoo');
  });

  it('input errors name the bundle and the field: feature dim, maxFrames, fps, kind', async () => {
    await using expert = await SignExpert.load(signDir, { session });
    await assert.rejects(expert.run(randomFeatures(5, D + 1, 1)), inputError(new RegExp(`^bundle ${signDir}: input\\.dim is ${D} but the features have D = ${D + 1}`)));
    await assert.rejects(expert.run(randomFeatures(MAX + 1, D, 1)), inputError(/input\.maxFrames: the model takes at most 32 frames, the input has 33/));
    await assert.rejects(expert.run(randomFeatures(4, D, 1, 0)), inputError(/fps must be a positive number, got 0/));
    await assert.rejects(expert.run({ data: new Float32Array(0), shape: [0, D], fps: 25 }), inputError(/the input has 0 frames/));
    await assert.rejects(FingerspellExpert.load(signDir), inputError(/kind: is "sign" but a "fingerspell" bundle is needed here/));
    assert.equal(expert.bundle.hasSession, false, 'refused before ONNX Runtime is involved');
  });

  it('the session is made on first run and released with the expert', async () => {
    const expert = new FeatureCtcExpert(await loadBundle(signDir, { expectKind: 'sign', session }));
    assert.equal(expert.bundle.hasSession, false);
    await expert.run(randomFeatures(3, D, 4));
    const s = await expert.bundle.session();
    await expert.dispose();
    assert.equal(s.isDisposed, true);
  });
});
