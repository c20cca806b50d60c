import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { GraphBuilder, Value } from '../../src/graph/builder.js';
import { conv1d, layerNorm, linear, mlp, multiHeadAttention, positionalEmbedding, temporalUpsample, transformerEncoderLayer } from '../../src/graph/modules.js';
import { decodeModel } from '../../src/graph/proto.js';
import { OnnxSession } from '../../src/graph/session.js';
import { bool, float32, type HostTensor } from '../../src/graph/tensor.js';
import { buildTrainingGraph, TrainingSession, type GraphDefinition, type TrainingGraphOptions, type TrainingMode } from '../../src/train/autodiff.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

function rand(shape: number[], seed: number): HostTensor & { dtype: 'float32' } {
  const r = mulberry32(seed);
  return float32(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1),
    shape,
  );
}

/** The largest difference relative to the largest magnitude of `b`, and how many values differ at all. */
function compare(a: Float32Array, b: Float32Array): { worst: number; differing: number } {
  assert.equal(a.length, b.length);
  let scale = 1e-30;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    differing++;
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  return { worst, differing };
}

/** The upstream gradient of every differentiated output, shaped like the forward outputs. */
function upstream(outputs: Record<string, HostTensor>, names: readonly string[]): Record<string, HostTensor> {
  return Object.fromEntries(names.map((name, k) => [name, rand([...outputs[name].shape], 500 + k)]));
}

/**
 * Gradients of one step in each mode of `TrainingSession` and of `TrainingGraph.run` (the one-run training model),
 * held to each other: identical, or within 1e-6 of the tensor's largest value where ONNX Runtime fuses the models differently.
 */
async function sameGradients(define: GraphDefinition, inputs: Record<string, HostTensor>, options: TrainingGraphOptions = {}): Promise<void> {
  const training = buildTrainingGraph(define, { seed: 5, ...options });
  const weights = training.initialWeights();
  const oneRun = await OnnxSession.create(training.toBytes(), { intraOpThreads: 1 });
  try {
    const results: Record<string, { outputs: Record<string, HostTensor>; gradients: Record<string, Float32Array> }> = {};
    let grads: Record<string, HostTensor> | undefined;
    for (const mode of ['recompute', 'split'] as TrainingMode[]) {
      const session = await TrainingSession.create(training, { mode, intraOpThreads: 1 });
      try {
        const outputs = await session.forward(inputs, weights);
        grads ??= upstream(outputs, Object.keys(training.gradientInputs));
        results[mode] = { outputs, gradients: await session.backward(grads) };
      } finally {
        await session.dispose();
      }
    }
    results.run = await training.run(oneRun, inputs, weights, grads!);
    const names = [...training.parameters.map((p) => p.name), ...(options.inputGradients ?? [])];
    assert.deepEqual(Object.keys(results.split.gradients).sort(), [...names].sort());
    for (const other of ['recompute', 'run']) {
      for (const name of Object.keys(results.split.outputs)) {
        const { worst } = compare(results.split.outputs[name].data as Float32Array, results[other].outputs[name].data as Float32Array);
        assert.ok(worst <= 1e-6, `output ${name}: split vs ${other} differ by ${worst.toExponential(2)}`);
      }
      for (const name of names) {
        const { worst, differing } = compare(results.split.gradients[name], results[other].gradients[name]);
        stats.worst = Math.max(stats.worst, worst);
        stats.differing += differing;
        stats.values += results.split.gradients[name].length;
        assert.ok(worst <= 1e-6, `${name}: split vs ${other} gradients differ by ${worst.toExponential(2)} relative (${differing} values)`);
      }
    }
  } finally {
    await oneRun.dispose();
  }
}

const stats = { worst: 0, differing: 0, values: 0 };
after(() => console.log(`# split vs recompute: ${stats.differing} of ${stats.values} gradient values differ, at worst by ${stats.worst.toExponential(2)}`));

const x = rand([2, 5, 8], 11);
const pad = bool([0, 0, 0, 1, 1, 0, 0, 0, 0, 0], [2, 5]);
const sequence = (g: GraphBuilder): Value => g.input('x', 'float32', ['B', 'T', 8]);
const mask = (g: GraphBuilder): Value => g.input('pad', 'bool', ['B', 'T']);
const all = { inputGradients: ['x'] };

describe('autodiff split mode: the same gradients as recomputing, module by module', () => {
  it('linear, mlp (GELU), layerNorm, positionalEmbedding', async () => {
    await sameGradients((g) => void g.output(linear('lin', 8, 3).apply(g, sequence(g)), 'y'), { x }, all);
    await sameGradients((g) => void g.output(mlp('mlp', [8, 6, 3], { activation: 'gelu', finalActivation: true }).apply(g, sequence(g)), 'y'), { x }, all);
    await sameGradients((g) => void g.output(layerNorm('ln', 8).apply(g, sequence(g)), 'y'), { x }, all);
    await sameGradients((g) => void g.output(positionalEmbedding('pos', 9, 8).apply(g, sequence(g)), 'y'), { x }, all);
  });

  it('multiHeadAttention and transformerEncoderLayer (post-norm, pre-norm GELU) with a padding mask', async () => {
    await sameGradients((g) => void g.output(multiHeadAttention('attn', 8, 2).apply(g, sequence(g), { keyPaddingMask: mask(g) }), 'y'), { x, pad }, all);
    await sameGradients((g) => void g.output(transformerEncoderLayer('enc', 8, 2, 16).apply(g, sequence(g), { keyPaddingMask: mask(g) }), 'y'), { x, pad }, all);
    await sameGradients((g) => void g.output(transformerEncoderLayer('enc', 8, 2, 16, { norm: 'pre', activation: 'gelu' }).apply(g, sequence(g), { keyPaddingMask: mask(g) }), 'y'), { x, pad }, all);
  });

  it('conv1d and temporalUpsample', async () => {
    const lin = (g: GraphBuilder, v: Value): Value => linear('lin', 8, 3).apply(g, v);
    await sameGradients((g) => void g.output(conv1d('conv', 8, 4, 3, { stride: 2, padding: 1, groups: 2 }).apply(g, sequence(g)), 'y'), { x }, all);
    await sameGradients((g) => void g.output(temporalUpsample('up', { factor: 2 }).apply(g, lin(g, sequence(g))), 'y'), { x }, all);
    await sameGradients(
      (g) => void g.output(temporalUpsample('up', 'like', { alignCorners: true }).apply(g, lin(g, sequence(g)), g.input('manual', 'float32', ['B', 'S', 2])), 'y'),
      { x, manual: rand([2, 7, 2], 12) },
      all,
    );
  });

  it('a two-layer encoder with a CTC-style head and two outputs, only the head and the last layer trainable', async () => {
    const define: GraphDefinition = (g) => {
      const keyPaddingMask = mask(g);
      let h = positionalEmbedding('pos', 9, 8).apply(g, sequence(g));
      for (let i = 0; i < 2; i++) h = transformerEncoderLayer(`enc.${i}`, 8, 2, 16, { norm: 'pre', activation: 'gelu' }).apply(g, h, { keyPaddingMask });
      g.output(linear('head', 8, 6).apply(g, h), 'logits');
      g.output(g.tanh(h), 'features');
    };
    await sameGradients(define, { x, pad });
    await sameGradients(define, { x, pad }, { trainable: (name) => name.startsWith('head.') || name.startsWith('enc.1.') });
  });
});

describe('autodiff split mode: the two models and the session', () => {
  const define: GraphDefinition = (g) => {
    const h = multiHeadAttention('attn', 8, 2).apply(g, sequence(g), { keyPaddingMask: mask(g) });
    g.output(linear('head', 8, 3).apply(g, h), 'logits');
  };

  it('the forward model outputs the saved activations, the backward model takes them and no activation read only for its shape', async () => {
    const training = buildTrainingGraph(define, { seed: 2 });
    const { forward, backward } = training.splitBytes();
    const saved = training.saved.map((s) => s.name);
    assert.ok(saved.length > 0);
    const forwardModel = decodeModel(forward).graph!;
    const backwardModel = decodeModel(backward).graph!;
    assert.deepEqual(
      forwardModel.output!.map((o) => o.name),
      ['logits', ...saved],
    );
    const backwardInputs = backwardModel.input!.map((i) => i.name);
    assert.deepEqual(backwardInputs.slice(-saved.length), saved);
    assert.ok(!backwardInputs.includes('pad') && backwardInputs.includes('x') && backwardInputs.includes('grad:logits'));
    assert.deepEqual(
      backwardModel.output!.map((o) => o.name),
      Object.values(training.gradientOutputs),
    );
    // No forward node is recomputed, and every saved float32 activation is read for its values.
    const forwardNodes = new Set(forwardModel.node!.filter((n) => n.opType !== 'Constant').map((n) => n.name));
    assert.ok(backwardModel.node!.every((n) => !forwardNodes.has(n.name)));
    for (const s of training.saved) {
      if (s.dtype !== 'float32') continue;
      const readers = backwardModel.node!.filter((n) => n.input!.includes(s.name)).map((n) => n.opType);
      assert.ok(
        readers.some((op) => op !== 'Shape'),
        `${s.name} is saved for ${readers.join(', ')}`,
      );
    }
  });

  it('backward uses the last forward run, once; wrong gradients are input errors', async () => {
    const training = buildTrainingGraph(define, { seed: 2 });
    const weights = training.initialWeights();
    const other = rand([2, 5, 8], 99);
    const dLogits = rand([2, 5, 3], 7);
    const recompute = await TrainingSession.create(training, { intraOpThreads: 1 });
    const split = await TrainingSession.create(training, { mode: 'split', intraOpThreads: 1 });
    try {
      assert.equal(recompute.mode, 'recompute');
      await recompute.forward({ x: other, pad }, weights);
      const expected = await recompute.backward({ logits: dLogits });
      await split.forward({ x, pad }, weights);
      await split.forward({ x: other, pad }, weights);
      await assert.rejects(() => split.backward({}), inputError(/missing the gradient of output 'logits'/));
      await split.forward({ x: other, pad }, weights);
      const got = await split.backward({ logits: dLogits });
      for (const p of training.parameters) assert.equal(compare(got[p.name], expected[p.name]).worst, 0, p.name);
      await assert.rejects(() => split.backward({ logits: dLogits }), /no forward run/);
      await assert.rejects(() => split.forward({ x }, weights), inputError(/missing input 'pad'/));
    } finally {
      await recompute.dispose();
      await split.dispose();
    }
  });
});
