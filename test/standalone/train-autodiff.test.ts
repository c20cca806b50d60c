import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GraphBuilder, type Value } from '../../src/graph/builder.js';
import { conv1d, layerNorm, linear, mlp, multiHeadAttention, positionalEmbedding, temporalUpsample, transformerEncoderLayer } from '../../src/graph/modules.js';
import { OPS, type OpDef } from '../../src/graph/ops.js';
import { OnnxSession } from '../../src/graph/session.js';
import { readOnnxWeights } from '../../src/graph/proto.js';
import { bool, float32, int64, type HostTensor } from '../../src/graph/tensor.js';
import { buildTrainingGraph, writeInferenceModel, type GraphDefinition } from '../../src/train/autodiff.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, maxDiff } from '../helpers/assert.js';

function rand(shape: number[], seed: number, lo = -1, hi = 1): HostTensor & { dtype: 'float32' } {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return float32(
    Array.from({ length: n }, () => lo + (hi - lo) * r()),
    shape,
  );
}

/** A parameter with N(0, 1) values, so every op's gradient is checked at a random point. */
function param(g: GraphBuilder, name: string, shape: number[]): Value {
  return g.parameter({ name, shape, init: { kind: 'normal', std: 1 } });
}

const TOL = 1e-2;
const STEP = 1e-3;
let worst = 0;
const coveredOps = new Set<string>();

/**
 * Runs the training graph of `define` in ONNX Runtime with a random upstream gradient R on every differentiated
 * output, and holds each gradient to central finite differences of Σ R·output computed with the op table's TypeScript
 * references (up to `samples` elements per tensor). Returns the worst error relative to max(|gradient|, 0.1).
 */
async function gradError(define: GraphDefinition, inputs: Record<string, HostTensor & { dtype: 'float32' | 'int64' | 'bool' }> = {}, options: { inputGradients?: string[]; samples?: number; seed?: number } = {}): Promise<number> {
  const training = buildTrainingGraph(define, { seed: options.seed ?? 7, inputGradients: options.inputGradients });
  for (const n of training.forward.nodes) coveredOps.add(n.op);
  const session = await OnnxSession.create(training.toBytes(), { intraOpThreads: 1 });
  try {
    const weights = training.initialWeights();
    const reference = training.forward.evaluateReference(inputs, weights);
    const projections = Object.fromEntries(Object.keys(training.gradientInputs).map((name, k) => [name, rand([...reference[name].shape], 1000 + k)]));
    assert.ok(Object.keys(projections).length > 0, 'no output was differentiated');
    const { outputs, gradients } = await training.run(session, inputs, weights, projections);
    for (const [name, t] of Object.entries(reference)) {
      assert.deepEqual(outputs[name].shape, t.shape, `${name}: forward shape`);
      const [a, b] = [outputs[name].data, t.data] as Float32Array[];
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `${name}[${i}]: ORT ${a[i]} vs reference ${b[i]}`);
    }
    const objective = (feeds: Record<string, HostTensor>, w: Record<string, Float32Array>): number => {
      const out = training.forward.evaluateReference(feeds, w);
      let s = 0;
      for (const [name, r] of Object.entries(projections)) {
        const y = out[name].data as Float32Array;
        for (let i = 0; i < y.length; i++) s += r.data[i] * y[i];
      }
      return s;
    };
    const targets: { name: string; data: Float32Array }[] = [
      ...training.parameters.map((p) => ({ name: p.name, data: weights[p.name] })),
      ...(options.inputGradients ?? []).map((name) => ({ name, data: inputs[name].data as Float32Array })),
    ];
    let err = 0;
    for (const { name, data } of targets) {
      const got = gradients[name];
      assert.equal(got.length, data.length, `${name}: gradient size`);
      const picks = mulberry32(data.length);
      const count = Math.min(data.length, options.samples ?? 12);
      const indices = count === data.length ? [...data.keys()] : Array.from({ length: count }, () => Math.floor(picks() * data.length));
      const fd: number[] = [];
      for (const i of indices) {
        const saved = data[i];
        data[i] = saved + STEP;
        const up = data[i];
        const fUp = objective(inputs, weights);
        data[i] = saved - STEP;
        const down = data[i];
        const fDown = objective(inputs, weights);
        data[i] = saved;
        fd.push((fUp - fDown) / (up - down));
      }
      const scale = Math.max(0.1, ...fd.map(Math.abs));
      indices.forEach((i, k) => (err = Math.max(err, Math.abs(got[i] - fd[k]) / scale)));
    }
    return err;
  } finally {
    await session.dispose();
  }
}

async function check(define: GraphDefinition, inputs?: Record<string, HostTensor & { dtype: 'float32' | 'int64' | 'bool' }>, options?: { inputGradients?: string[]; samples?: number }): Promise<void> {
  const err = await gradError(define, inputs, options);
  worst = Math.max(worst, err);
  assert.ok(err <= TOL, `gradient off by ${err.toExponential(2)} (relative) from finite differences`);
}

after(() => console.log(`# autodiff: worst relative gradient error ${worst.toExponential(2)}; ops covered: ${[...coveredOps].sort().join(' ')}`));

describe('autodiff: every op VJP against finite differences', () => {
  it('MatMul: batched, broadcast batch dims, 1-D operands, symbolic batch', async () => {
    await check((g) => void g.output(g.matmul(param(g, 'a', [2, 3, 4]), param(g, 'b', [4, 5])), 'y'));
    await check((g) => void g.output(g.matmul(param(g, 'a', [2, 1, 3, 4]), param(g, 'b', [3, 4, 2])), 'y'));
    await check((g) => void g.output(g.matmul(param(g, 'a', [4]), param(g, 'b', [2, 4, 3])), 'y'));
    await check((g) => void g.output(g.matmul(param(g, 'a', [2, 3]), param(g, 'b', [3])), 'y'));
    await check((g) => void g.output(g.matmul(param(g, 'a', [3]), param(g, 'b', [3])), 'y'));
    await check((g) => void g.output(g.matmul(g.input('x', 'float32', ['B', 3, 4]), param(g, 'w', [4, 2])), 'y'), { x: rand([2, 3, 4], 1) }, { inputGradients: ['x'] });
  });

  it('Gemm: every transA/transB, alpha, beta, C broadcast', async () => {
    for (const [transA, transB] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ] as const) {
      await check((g) => {
        const a = param(g, 'a', transA ? [4, 3] : [3, 4]);
        const b = param(g, 'b', transB ? [2, 4] : [4, 2]);
        g.output(g.gemm(a, b, param(g, 'c', [2]), { transA, transB, alpha: 0.7, beta: 1.3 }), 'y');
      });
    }
    await check((g) => void g.output(g.gemm(param(g, 'a', [3, 4]), param(g, 'b', [4, 2]), param(g, 'c', [3, 1])), 'y'));
  });

  it('Add, Sub, Mul, Div with broadcasting (static and run-time resolved axes)', async () => {
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const denominator = (g: GraphBuilder, v: Value): Value => (op === 'div' ? g.add(g.mul(v, v), 0.5) : v);
      await check((g) => void g.output(g[op](param(g, 'a', [2, 3, 4]), denominator(g, param(g, 'b', [3, 1]))), 'y'));
      await check((g) => void g.output(g[op](param(g, 'a', [4]), denominator(g, param(g, 'b', [2, 3, 4]))), 'y'));
      await check((g) => void g.output(g[op](param(g, 'a', [2, 1, 4]), denominator(g, param(g, 'b', [3, 1]))), 'y'));
      // 'T' against 4 cannot be told apart at build time (T may be 1): the reduction axes are found at run time.
      await check((g) => void g.output(g[op](g.input('x', 'float32', ['B', 'T']), denominator(g, param(g, 'b', [4]))), 'y'), { x: rand([3, 4], 2) }, { inputGradients: ['x'] });
      await check((g) => void g.output(g[op](g.input('x', 'float32', ['B', 'T']), denominator(g, param(g, 'b', [4]))), 'y'), { x: rand([3, 1], 3) }, { inputGradients: ['x'] });
    }
  });

  it('a value used several times accumulates its gradients', async () => {
    await check((g) => {
      const x = param(g, 'x', [3, 2]);
      g.output(g.add(g.mul(x, x), g.tanh(x)), 'y');
      g.output(g.matmul(x, g.transpose(x)), 'z');
    });
  });

  it('LayerNormalization: input, scale and bias; several normalised axes', async () => {
    await check((g) => void g.output(g.layerNormalization(param(g, 'x', [2, 3, 4]), param(g, 's', [4]), param(g, 'b', [4])), 'y'));
    await check((g) => void g.output(g.layerNormalization(param(g, 'x', [2, 3, 4]), param(g, 's', [3, 4]), param(g, 'b', [1, 4]), { axis: -2, epsilon: 1e-3 }), 'y'));
    await check((g) => void g.output(g.layerNormalization(param(g, 'x', [3, 5]), param(g, 's', [5])), 'y'));
  });

  it('Softmax, Relu, Sigmoid, Tanh, Gelu (exact and tanh)', async () => {
    await check((g) => void g.output(g.softmax(param(g, 'x', [2, 3, 4]), -1), 'y'));
    await check((g) => void g.output(g.softmax(param(g, 'x', [2, 3, 4]), 1), 'y'));
    for (const f of ['relu', 'sigmoid', 'tanh'] as const) await check((g) => void g.output(g[f](param(g, 'x', [3, 4])), 'y'));
    await check((g) => void g.output(g.gelu(param(g, 'x', [3, 4]), 'none'), 'y'));
    await check((g) => void g.output(g.gelu(param(g, 'x', [3, 4]), 'tanh'), 'y'));
  });

  it('Transpose, Reshape, Unsqueeze, Squeeze, Expand, Identity', async () => {
    await check((g) => void g.output(g.transpose(param(g, 'x', [2, 3, 4]), [2, 0, 1]), 'y'));
    await check((g) => void g.output(g.transpose(param(g, 'x', [2, 3, 4])), 'y'));
    await check((g) => void g.output(g.reshape(param(g, 'x', [2, 3, 4]), [0, -1, 2]), 'y'));
    await check((g) => void g.output(g.reshape(g.mul(g.input('x', 'float32', ['B', 6]), param(g, 'w', [6])), [0, 2, 3]), 'y'), { x: rand([2, 6], 4) }, { inputGradients: ['x'] });
    await check((g) => void g.output(g.squeeze(g.unsqueeze(param(g, 'x', [2, 3]), [0, 2]), [0]), 'y'));
    await check((g) => void g.output(g.squeeze(param(g, 'x', [2, 1, 3, 1])), 'y'));
    await check((g) => void g.output(g.expand(param(g, 'x', [3, 1]), [2, 3, 4]), 'y'));
    await check((g) => void g.output(g.expand(param(g, 'x', [4]), g.shapeOf(g.input('like', 'float32', ['B', 'T', 4]))), 'y'), { like: rand([2, 3, 4], 5) });
    await check((g) => void g.output(param(g, 'x', [2, 3]), 'y'));
  });

  it('Concat and Split (an unused part gets zeros)', async () => {
    await check((g) => void g.output(g.concat([param(g, 'a', [2, 1, 3]), param(g, 'b', [2, 4, 3]), param(g, 'c', [2, 2, 3])], 1), 'y'));
    await check((g) => void g.output(g.concat([g.input('x', 'float32', ['B', 'T', 3]), param(g, 'b', [2, 2, 3])], 1), 'y'), { x: rand([2, 3, 3], 6) }, { inputGradients: ['x'] });
    await check((g) => {
      const [p, , r] = g.split(param(g, 'x', [2, 6]), [1, 2, 3], 1);
      g.output(g.mul(p, 2), 'p');
      g.output(r, 'r');
    });
    await check((g) => void g.output(g.split(param(g, 'x', [4, 3]), 2, 0)[1], 'y'));
  });

  it('Slice: steps, negative steps, axes, a symbolic end', async () => {
    await check((g) => void g.output(g.slice(param(g, 'x', [4, 5]), { starts: [1, 0], ends: [4, 5], axes: [0, 1], steps: [1, 2] }), 'y'));
    await check((g) => void g.output(g.slice(param(g, 'x', [4, 5]), { starts: [-1], ends: [-100], axes: [1], steps: [-2] }), 'y'));
    await check((g) => {
      const x = g.input('x', 'float32', ['T', 3]);
      g.output(g.add(x, g.slice(param(g, 'table', [6, 3]), { starts: [0], ends: g.shapeOf(x, 0, 1), axes: [0] })), 'y');
    }, { x: rand([4, 3], 7) });
  });

  it('Gather: embedding rows with repeats, another axis with 2-D and negative indices', async () => {
    await check((g) => void g.output(g.gather(param(g, 'table', [5, 3]), g.input('ids', 'int64', ['B', 'T']), 0), 'y'), { ids: int64([0, 3, 3, 4, 0, 0], [2, 3]) });
    await check((g) => void g.output(g.gather(param(g, 'x', [2, 4, 3]), g.constant(int64([1, -1, 1, 0], [2, 2])), 1), 'y'));
    await check((g) => void g.output(g.gather(param(g, 'x', [4, 3]), 2, 0), 'y'));
  });

  it('ReduceMean: axes, keepdims, all axes, symbolic dims', async () => {
    await check((g) => void g.output(g.reduceMean(param(g, 'x', [2, 3, 4]), [1]), 'y'));
    await check((g) => void g.output(g.reduceMean(param(g, 'x', [2, 3, 4]), [0, -1], false), 'y'));
    await check((g) => void g.output(g.reduceMean(param(g, 'x', [2, 3]), undefined, false), 'y'));
    await check((g) => void g.output(g.reduceMean(g.mul(g.input('x', 'float32', ['B', 'T', 2]), param(g, 'w', [2])), [1], false), 'y'), { x: rand([2, 5, 2], 8) });
  });

  it('Conv (1-D): padding, stride, dilation, groups, a symbolic length', async () => {
    const conv = (x: number[], w: number[], attrs: Parameters<GraphBuilder['conv']>[3]): GraphDefinition => (g) => void g.output(g.conv(param(g, 'x', x), param(g, 'w', w), param(g, 'b', [w[0]]), attrs), 'y');
    await check(conv([2, 3, 7], [4, 3, 3], { pads: [1, 1] }));
    await check(conv([2, 3, 8], [2, 3, 3], { strides: [2], dilations: [2], pads: [1, 0] }));
    await check(conv([1, 2, 9], [3, 2, 2], { strides: [3], pads: [0, 2] }));
    await check(conv([2, 4, 6], [6, 2, 3], { group: 2, pads: [2, 0] }));
    await check((g) => void g.output(g.conv(g.input('x', 'float32', ['B', 3, 'T']), param(g, 'w', [2, 3, 3]), undefined, { strides: [2], pads: [1, 1] }), 'y'), { x: rand([2, 3, 6], 9) }, { inputGradients: ['x'] });
  });

  it('Resize: nearest and linear over one axis, by scale and to a size', async () => {
    await check((g) => void g.output(g.resize(param(g, 'x', [2, 3, 4]), { scales: [1, 2, 1] }, { mode: 'linear' }), 'y'));
    await check((g) => void g.output(g.resize(param(g, 'x', [2, 4, 3]), { scales: [1, 1.5, 1] }, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }), 'y'));
    await check((g) => void g.output(g.resize(param(g, 'x', [3, 2]), { sizes: [7, 2] }, { mode: 'linear', coordinate_transformation_mode: 'align_corners' }), 'y'));
    await check((g) => void g.output(g.resize(param(g, 'x', [2, 5]), { scales: [1, 0.6] }, { mode: 'linear' }), 'y'));
    await check((g) => void g.output(g.resize(param(g, 'x', [4, 2, 3]), { scales: [2, 1, 1] }, { mode: 'nearest' }), 'y'));
  });

  it('Where: the condition routes, both branches broadcast', async () => {
    const mask = bool([1, 0, 0, 1, 1, 0], [2, 3]);
    await check((g) => void g.output(g.where(g.input('m', 'bool', [2, 3]), param(g, 'a', [2, 3]), param(g, 'b', [3])), 'y'), { m: mask });
    await check((g) => void g.output(g.where(g.input('m', 'bool', [2, 3]), param(g, 'a', [2, 1]), 0), 'y'), { m: mask });
  });

  it('a deliberately wrong VJP is caught', async () => {
    const tanh = OPS.Tanh as OpDef<object>;
    const right = tanh.vjp;
    // 1 − y instead of 1 − y²
    tanh.vjp = (e, { outs: [y], grads: [g] }) => {
      const one = e.constant(float32([1], []), 'one');
      const d = e.temp('d');
      const out = e.temp('dx');
      e.node('Sub', [one, y], [d]);
      e.node('Mul', [g!, d], [out]);
      return [out];
    };
    try {
      const err = await gradError((g) => void g.output(g.tanh(param(g, 'x', [3, 4])), 'y'));
      assert.ok(err > 10 * TOL, `the wrong VJP passed: error ${err}`);
    } finally {
      tanh.vjp = right;
    }
  });

  it('refuses ops without a VJP, naming the op and the module scope', () => {
    const softmax = OPS.Softmax as OpDef<object>;
    const right = softmax.vjp;
    softmax.vjp = undefined;
    try {
      assert.throws(() => buildTrainingGraph((g) => void g.output(g.scope('enc.attn', () => g.softmax(param(g, 'x', [2, 3]))), 'y')), inputError(/cannot differentiate through Softmax/, /'enc\.attn'/));
    } finally {
      softmax.vjp = right;
    }
    assert.throws(
      () => buildTrainingGraph((g) => void g.output(g.scope('up', () => g.resize(param(g, 'x', [2, 3]), { scales: [2, 2] })), 'y')),
      inputError(/Resize/, /scope 'up'/, /one axis/),
    );
  });
});

describe('autodiff: modules end to end against finite differences', () => {
  const x = rand([2, 5, 8], 11);
  const padding = bool([0, 0, 0, 1, 1, 0, 0, 0, 0, 0], [2, 5]);
  const sequence = (g: GraphBuilder): Value => g.input('x', 'float32', ['B', 'T', 8]);
  const all = { inputGradients: ['x'] };

  it('linear, mlp (GELU), layerNorm', async () => {
    await check((g) => void g.output(linear('lin', 8, 3).apply(g, sequence(g)), 'y'), { x }, all);
    await check((g) => void g.output(mlp('mlp', [8, 6, 3], { activation: 'gelu', finalActivation: true }).apply(g, sequence(g)), 'y'), { x }, all);
    await check((g) => void g.output(layerNorm('ln', 8).apply(g, sequence(g)), 'y'), { x }, all);
  });

  it('positionalEmbedding (learned, sliced to the run-time length)', async () => {
    await check((g) => void g.output(positionalEmbedding('pos', 9, 8).apply(g, sequence(g)), 'y'), { x }, all);
  });

  it('multiHeadAttention with a key padding mask', async () => {
    await check(
      (g) => void g.output(multiHeadAttention('attn', 8, 2).apply(g, sequence(g), { keyPaddingMask: g.input('pad', 'bool', ['B', 'T']) }), 'y'),
      { x, pad: padding },
      { ...all, samples: 8 },
    );
  });

  it('transformerEncoderLayer, post-norm and pre-norm (GELU)', async () => {
    const pad = (g: GraphBuilder): Value => g.input('pad', 'bool', ['B', 'T']);
    await check((g) => void g.output(transformerEncoderLayer('enc', 8, 2, 16).apply(g, sequence(g), { keyPaddingMask: pad(g) }), 'y'), { x, pad: padding }, { ...all, samples: 6 });
    await check((g) => void g.output(transformerEncoderLayer('enc', 8, 2, 16, { norm: 'pre', activation: 'gelu' }).apply(g, sequence(g), { keyPaddingMask: pad(g) }), 'y'), { x, pad: padding }, { ...all, samples: 6 });
  });

  it('conv1d (same padding; strided and grouped)', async () => {
    await check((g) => void g.output(conv1d('conv', 8, 4, 3, { padding: 'same' }).apply(g, sequence(g)), 'y'), { x }, all);
    await check((g) => void g.output(conv1d('conv', 8, 4, 3, { stride: 2, padding: 1, groups: 2 }).apply(g, sequence(g)), 'y'), { x }, all);
  });

  it('temporalUpsample: factor (linear, nearest) and to the length of another stream', async () => {
    const lin = (g: GraphBuilder, v: Value): Value => linear('lin', 8, 3).apply(g, v);
    await check((g) => void g.output(temporalUpsample('up', { factor: 2 }).apply(g, lin(g, sequence(g))), 'y'), { x }, all);
    await check((g) => void g.output(temporalUpsample('up', { factor: 1.5 }, { mode: 'nearest' }).apply(g, lin(g, sequence(g))), 'y'), { x }, all);
    await check(
      (g) => void g.output(temporalUpsample('up', 'like', { alignCorners: true }).apply(g, lin(g, sequence(g)), g.input('manual', 'float32', ['B', 'S', 2])), 'y'),
      { x, manual: rand([2, 7, 2], 12) },
      all,
    );
  });
});

describe('autodiff: the training graph and the inference model', () => {
  const define: GraphDefinition = (g) => {
    const x = g.input('x', 'float32', ['B', 4]);
    const h = linear('body', 4, 4).apply(g, x);
    g.output(linear('head', 4, 2).apply(g, g.tanh(h)), 'logits');
  };

  it('lists gradients by name, keeps frozen parameters as initializers, writes the trained inference model', async () => {
    const training = buildTrainingGraph(define, { seed: 3, trainable: (name) => name.startsWith('head.') });
    assert.deepEqual(
      training.parameters.map((p) => [p.name, p.shape]),
      [
        ['head.weight', [4, 2]],
        ['head.bias', [2]],
      ],
    );
    assert.deepEqual(training.gradientInputs, { logits: 'grad:logits' });
    assert.deepEqual(training.gradientOutputs, { 'head.weight': 'grad:head.weight', 'head.bias': 'grad:head.bias' });
    const x = rand([3, 4], 13);
    const weights = training.initialWeights();
    const forward = await OnnxSession.create(training.forwardBytes(), { intraOpThreads: 1 });
    const session = await OnnxSession.create(training.toBytes(), { intraOpThreads: 1 });
    try {
      assert.deepEqual(forward.inputNames, ['x', 'head.weight', 'head.bias']);
      assert.deepEqual(session.outputNames, ['logits', 'grad:head.weight', 'grad:head.bias']);
      const { logits } = await forward.run(training.feeds({ x }, weights));
      // Σ logits: dbias = the batch size per class.
      const step = await training.run(session, { x }, weights, { logits: float32(new Float32Array(6).fill(1), [3, 2]) });
      assert.ok(maxDiff(step.outputs.logits.data as Float32Array, logits.data as Float32Array) < 1e-6);
      assert.deepEqual([...step.gradients['head.bias']], [3, 3]);
      await assert.rejects(() => training.run(session, { x }, weights, {}), inputError(/missing the gradient of output 'logits'/));
      assert.throws(() => training.feeds({ x }, {}), inputError(/no weights for parameter 'head.weight'/));

      const trained = { ...training.forward.weights(), 'head.bias': Float32Array.of(5, -5) };
      const path = `${process.env.TMPDIR ?? '/tmp'}/signweave-autodiff-${process.pid}.onnx`;
      const model = writeInferenceModel(path, define, trained);
      assert.deepEqual(readOnnxWeights(path)['head.bias'], Float32Array.of(5, -5));
      const inference = await OnnxSession.create(path, { intraOpThreads: 1 });
      try {
        const out = await inference.run({ x });
        assert.ok(maxDiff(out.logits.data as Float32Array, model.evaluateReference({ x }).logits.data as Float32Array) < 1e-5);
      } finally {
        await inference.dispose();
      }
    } finally {
      await forward.dispose();
      await session.dispose();
    }
  });

  it('a parameter no output depends on gets zeros; unknown names are input errors', async () => {
    const training = buildTrainingGraph((g) => {
      define(g);
      param(g, 'unused', [2]);
    });
    const session = await OnnxSession.create(training.toBytes(), { intraOpThreads: 1 });
    try {
      const step = await training.run(session, { x: rand([1, 4], 14) }, training.initialWeights(), { logits: rand([1, 2], 15) });
      assert.deepEqual([...step.gradients.unused], [0, 0]);
    } finally {
      await session.dispose();
    }
    assert.throws(() => buildTrainingGraph(define, { trainable: ['head.weigth'] }), inputError(/trainable parameters not in the graph: head\.weigth/));
    assert.throws(() => buildTrainingGraph(define, { inputGradients: ['y'] }), inputError(/'y' is not a float32 input/));
    assert.throws(() => buildTrainingGraph(define, { differentiate: ['probs'] }), inputError(/'probs' is not an output/));
  });
});
