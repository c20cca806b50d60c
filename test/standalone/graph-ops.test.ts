import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { GraphBuilder, type Value } from '../../src/graph/builder.js';
import { erf, OPS, type OpName } from '../../src/graph/ops.js';
import { OnnxSession } from '../../src/graph/session.js';
import { bool, float32, int64, toNumbers, type HostTensor } from '../../src/graph/tensor.js';
import { mulberry32 } from '../../src/util/random.js';

function rand(shape: number[], seed: number, lo = -1, hi = 1): HostTensor {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return float32(
    Array.from({ length: n }, () => lo + (hi - lo) * r()),
    shape,
  );
}

const covered = new Set<OpName>();
let worst = 0;

/**
 * Builds a graph, runs it in ONNX Runtime and through the op table's TypeScript references, and holds them to `tol`.
 * Returns ONNX Runtime's outputs.
 */
async function check(build: (g: GraphBuilder, inputs: Record<string, Value>) => void, feeds: Record<string, HostTensor>, shapes: Record<string, (number | string)[]> = {}, tol = 1e-5): Promise<Record<string, HostTensor>> {
  const g = new GraphBuilder({ seed: 1 });
  const inputs: Record<string, Value> = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = g.input(name, t.dtype, shapes[name] ?? [...t.shape]);
  build(g, inputs);
  const model = g.build();
  for (const n of model.nodes) covered.add(n.op);
  const session = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
  try {
    const got = await session.run(feeds);
    const want = model.evaluateReference(feeds);
    for (const spec of model.outputs) {
      const [a, b] = [got[spec.name], want[spec.name]];
      assert.deepEqual(a.shape, b.shape, `${spec.name}: shape`);
      assert.equal(a.dtype, b.dtype, `${spec.name}: dtype`);
      spec.shape.forEach((d, i) => typeof d === 'number' && assert.equal(a.shape[i], d, `${spec.name}: inferred dim ${i}`));
      const [x, y] = [toNumbers(a), toNumbers(b)];
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
      assert.ok(diff <= tol, `${spec.name}: max |ORT − reference| = ${diff}`);
      worst = Math.max(worst, diff);
    }
    return got;
  } finally {
    await session.dispose();
  }
}

describe('graph ops: ONNX Runtime against the TypeScript references', () => {
  after(() => console.log(`# graph ops: max |ORT − reference| over all cases ${worst.toExponential(2)}`));

  it('MatMul: batched, broadcast batch dims, 1-D operands, symbolic batch', async () => {
    await check((g, i) => void g.output(g.matmul(i.a, i.b), 'y'), { a: rand([2, 3, 4], 1), b: rand([4, 5], 2) }, { a: ['B', 3, 4] });
    await check((g, i) => void g.output(g.matmul(i.a, i.b), 'y'), { a: rand([2, 1, 3, 4], 3), b: rand([3, 4, 2], 4) });
    await check((g, i) => void g.output(g.matmul(i.a, i.b), 'y'), { a: rand([4], 5), b: rand([2, 4, 3], 6) });
    await check((g, i) => void g.output(g.matmul(i.a, i.b), 'y'), { a: rand([2, 3, 4], 7), b: rand([4], 8) });
  });

  it('Gemm: transposes, alpha, beta, broadcast C', async () => {
    await check((g, i) => void g.output(g.gemm(i.a, i.b, i.c, { transB: 1 }), 'y'), { a: rand([3, 4], 1), b: rand([5, 4], 2), c: rand([5], 3) });
    await check((g, i) => void g.output(g.gemm(i.a, i.b, i.c, { transA: 1, alpha: 0.5, beta: 2 }), 'y'), { a: rand([4, 3], 4), b: rand([4, 5], 5), c: rand([3, 1], 6) });
    await check((g, i) => void g.output(g.gemm(i.a, i.b), 'y'), { a: rand([2, 3], 7), b: rand([3, 2], 8) });
  });

  it('Add, Sub, Mul, Div: broadcasting, numbers, int64 (Div truncates)', async () => {
    const x = rand([2, 3, 4], 1);
    const y = rand([4], 2, 0.5, 2);
    await check(
      (g, i) => {
        g.output(g.add(i.x, i.y), 'add');
        g.output(g.sub(i.x, i.y), 'sub');
        g.output(g.mul(i.x, i.y), 'mul');
        g.output(g.div(i.x, i.y), 'div');
        g.output(g.div(g.mul(i.x, 3), 0.5), 'scalars');
      },
      { x, y },
    );
    await check((g, i) => void g.output(g.mul(g.sub(i.a, i.b), i.a), 'y'), { a: rand([2, 1, 4], 3), b: rand([3, 1], 4) });
    const got = await check(
      (g, i) => {
        g.output(g.div(i.a, i.b), 'div');
        g.output(g.add(i.a, 1), 'add');
      },
      { a: int64([-7, 7, 9, -9], [4]), b: int64([2, 2, -4, 4], [1, 4]) },
    );
    assert.deepEqual(Array.from(toNumbers(got.div)), [-3, 3, -2, -2]);
  });

  it('LayerNormalization: last axis with bias, two normalised axes without', async () => {
    await check((g, i) => void g.output(g.layerNormalization(i.x, i.s, i.b, { epsilon: 1e-5 }), 'y'), { x: rand([2, 5, 8], 1, -3, 3), s: rand([8], 2), b: rand([8], 3) });
    await check((g, i) => void g.output(g.layerNormalization(i.x, i.s, undefined, { axis: 1, epsilon: 1e-3 }), 'y'), { x: rand([2, 3, 4], 4), s: rand([3, 4], 5) });
  });

  it('Softmax: last and first axis, large logits', async () => {
    await check((g, i) => void g.output(g.softmax(i.x, -1), 'y'), { x: rand([2, 3, 7], 1, -50, 50) });
    await check((g, i) => void g.output(g.softmax(i.x, 0), 'y'), { x: rand([4, 3], 2, -5, 5) });
  });

  it('Relu, Sigmoid, Tanh, Gelu (erf and tanh forms)', async () => {
    await check(
      (g, i) => {
        g.output(g.relu(i.x), 'relu');
        g.output(g.sigmoid(i.x), 'sigmoid');
        g.output(g.tanh(i.x), 'tanh');
        g.output(g.op('Sqrt', [g.mul(i.x, i.x)])[0], 'sqrt');
        g.output(g.gelu(i.x), 'gelu');
        g.output(g.gelu(i.x, 'tanh'), 'gelu_tanh');
      },
      { x: rand([3, 50], 1, -6, 6) },
    );
  });

  it('erf matches known values to 1.2e-7', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108],
      [3, 0.9999779095030014],
    ];
    for (const [x, v] of known) assert.ok(Math.abs(erf(x) - v) < 1.2e-7, `erf(${x})`);
  });

  it('Transpose: explicit and default perm, int64 and bool data', async () => {
    await check((g, i) => void g.output(g.transpose(i.x, [2, 0, 1]), 'y'), { x: rand([2, 3, 4], 1) });
    await check(
      (g, i) => {
        g.output(g.transpose(i.x), 'y');
        g.output(g.transpose(i.m, [1, 0]), 'mt');
      },
      { x: int64([1, 2, 3, 4, 5, 6], [2, 3]), m: bool([1, 0, 0, 1, 1, 0], [3, 2]) },
    );
  });

  it('Reshape: 0 copies, -1 infers, symbolic dims, shape from a value', async () => {
    await check(
      (g, i) => {
        const y = g.reshape(i.x, [0, 0, 2, 2]);
        assert.deepEqual(y.shape, ['B', 3, 2, 2]);
        const z = g.reshape(i.x, [0, -1]);
        assert.deepEqual(z.shape, ['B', 12]);
        g.output(y, 'y');
        g.output(g.reshape(z, g.shapeOf(i.x)), 'z');
      },
      { x: rand([2, 3, 4], 1) },
      { x: ['B', 3, 4] },
    );
    await check((g, i) => void g.output(g.reshape(i.x, [-1, 3, 2]), 'y'), { x: rand([4, 3], 2) });
  });

  it('Concat: three inputs along an axis, int64 vectors', async () => {
    await check((g, i) => void g.output(g.concat([i.a, i.b, i.c], 1), 'y'), { a: rand([2, 1, 3], 1), b: rand([2, 4, 3], 2), c: rand([2, 2, 3], 3) });
    await check((g, i) => void g.output(g.concat([i.a, i.b], 0), 'y'), { a: int64([1, 2], [2]), b: int64([3], [1]) });
  });

  it('Split: equal parts and given sizes', async () => {
    await check(
      (g, i) => {
        const [p, q] = g.split(i.x, 2, 1);
        g.output(p, 'p');
        g.output(q, 'q');
        const [r, s] = g.split(i.x, [1, 3], -1);
        g.output(r, 'r');
        g.output(s, 's');
      },
      { x: rand([2, 4, 4], 1) },
    );
  });

  it('Slice: negative indices, clamped ends, steps (also negative), symbolic end', async () => {
    await check((g, i) => void g.output(g.slice(i.x, { starts: [1], ends: [-1], axes: [1] }), 'y'), { x: rand([2, 5, 4], 1) });
    await check((g, i) => void g.output(g.slice(i.x, { starts: [4, 0], ends: [-100, 100], axes: [1, 2], steps: [-2, 3] }), 'y'), { x: rand([2, 5, 4], 2) });
    await check(
      (g, i) => {
        const y = g.slice(i.table, { starts: [0], ends: g.shapeOf(i.x, 1, 2), axes: [0] });
        assert.deepEqual(y.shape, ['T', 3]);
        g.output(y, 'y');
      },
      { table: rand([8, 3], 3), x: rand([1, 5, 3], 4) },
      { x: [1, 'T', 3] },
    );
  });

  it('Gather: index lists (negative), scalar index, 2-D indices', async () => {
    await check((g, i) => void g.output(g.gather(i.x, [2, -1, 0], 0), 'y'), { x: rand([4, 3], 1) });
    await check((g, i) => void g.output(g.gather(i.x, 1, 1), 'y'), { x: rand([2, 3, 4], 2) });
    await check((g, i) => void g.output(g.gather(i.x, i.idx, 1), 'y'), { x: rand([2, 5], 3), idx: int64([0, 4, 3, 1, 1, 2], [2, 3]) });
  });

  it('Unsqueeze and Squeeze (given axes and all size-1 axes)', async () => {
    await check(
      (g, i) => {
        g.output(g.unsqueeze(i.x, [0, -1]), 'u');
        g.output(g.squeeze(i.y, [1]), 's');
        g.output(g.squeeze(i.y), 'all');
      },
      { x: rand([2, 3], 1), y: rand([2, 1, 3, 1], 2) },
    );
  });

  it('ReduceMean: kept and dropped axes, all axes', async () => {
    await check(
      (g, i) => {
        g.output(g.reduceMean(i.x, [1]), 'keep');
        g.output(g.reduceMean(i.x, [0, -1], false), 'drop');
        g.output(g.reduceMean(i.x), 'all');
      },
      { x: rand([2, 3, 4], 1) },
    );
  });

  it('Conv (1-D): stride, asymmetric pads, dilation, groups, bias; and plain', async () => {
    await check((g, i) => void g.output(g.conv(i.x, i.w, i.b, { strides: [2], pads: [1, 2], dilations: [2], group: 2 }), 'y'), { x: rand([2, 4, 9], 1), w: rand([6, 2, 3], 2), b: rand([6], 3) });
    await check((g, i) => void g.output(g.conv(i.x, i.w), 'y'), { x: rand([1, 3, 6], 4), w: rand([2, 3, 4], 5) });
  });

  it('Resize: nearest modes and linear coordinate modes, by scales and by sizes', async () => {
    const x = rand([2, 5, 3], 1);
    const nearest = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
    const coords = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'] as const;
    await check(
      (g, i) => {
        for (const c of coords) {
          for (const n of nearest) g.output(g.resize(i.x, { scales: [1, 2.5, 1] }, { mode: 'nearest', coordinate_transformation_mode: c, nearest_mode: n }), `nearest_${c}_${n}`);
          g.output(g.resize(i.x, { scales: [1, 2, 1] }, { mode: 'linear', coordinate_transformation_mode: c }), `linear_${c}`);
          g.output(g.resize(i.x, { sizes: [2, 3, 3] }, { mode: 'linear', coordinate_transformation_mode: c }), `down_${c}`);
          g.output(g.resize(i.x, { sizes: [2, 12, 3] }, { mode: 'nearest', coordinate_transformation_mode: c }), `sizes_${c}`);
        }
      },
      { x },
    );
    await check((g, i) => void g.output(g.resize(i.x, { scales: [3, 1] }, { mode: 'linear' }), 'y'), { x: rand([4, 2], 2) });
  });

  it('Where and Expand (static and from a shape value)', async () => {
    await check(
      (g, i) => {
        g.output(g.where(i.c, i.x, -2), 'w');
        g.output(g.expand(i.v, [2, 3, 4]), 'e');
        g.output(g.expand(i.v, g.shapeOf(i.x)), 'like');
      },
      { c: bool([1, 0, 0, 1, 1, 1, 0, 0], [2, 1, 4]), x: rand([2, 3, 4], 1), v: rand([3, 1], 2) },
    );
  });

  it('Constant, Shape (with start/end, symbolic), Identity', async () => {
    const got = await check(
      (g, i) => {
        g.output(g.add(i.x, g.constant(float32([1, 2, 3, 4], [4]))), 'plus');
        g.output(g.shapeOf(i.x), 'shape');
        g.output(g.shapeOf(i.x, 1, -1), 'middle');
        g.output(i.x, 'same');
      },
      { x: rand([2, 3, 4], 1) },
      { x: ['B', 'T', 4] },
    );
    assert.deepEqual(Array.from(toNumbers(got.shape)), [2, 3, 4]);
    assert.deepEqual(Array.from(toNumbers(got.middle)), [3]);
  });

  it('every op of the table has been run above', () => {
    const missing = (Object.keys(OPS) as OpName[]).filter((op) => !covered.has(op));
    assert.deepEqual(missing, []);
  });
});

describe('graph ops: shape inference errors', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['B', 'T', 256]);

  function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
    assert.throws(fn, (err: Error) => {
      assert.ok(err instanceof SignweaveInputError, `${err.name}: ${err.message}`);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    });
  }

  it('MatMul names both inner dims, the scope and the inputs', () => {
    const w = g.input('w', 'float32', [384, 10]);
    rejects(() => g.scope('head', () => g.matmul(x, w)), /^head: MatMul: inner dimensions differ/, /K = 256/, /K = 384/, /'x' \[B, T, 256\]/, /'w' \[384, 10\]/);
  });

  it('broadcasting names the dims that clash', () => {
    rejects(() => g.add(x, g.input('y', 'float32', [3, 128])), /Add: shapes do not broadcast \(dimension -1: 256 vs 128\)/);
  });

  it('Reshape, Split, Concat, Conv, Gather and Squeeze check sizes', () => {
    rejects(() => g.reshape(g.input('r', 'float32', [2, 3]), [4]), /cannot reshape \[2, 3\] to \[4\]: 6 vs 4 values/);
    rejects(() => g.reshape(g.input('r2', 'float32', [2, 5]), [3, -1]), /cannot infer -1/);
    rejects(() => g.split(g.input('s', 'float32', [5]), 2), /\(5\) does not split into 2 equal parts/);
    rejects(() => g.split(g.input('s2', 'float32', [5]), [2, 2]), /sum to 4/);
    rejects(() => g.concat([g.input('c1', 'float32', [2, 3]), g.input('c2', 'float32', [4, 3])], 1), /differs from input 0 \[2, 3\] in dimension 0/);
    rejects(() => g.conv(g.input('cx', 'float32', [1, 4, 9]), g.input('cw', 'float32', [2, 3, 3])), /X has 4 channels but W \[2, 3, 3\] with group 1 expects 3/);
    rejects(() => g.gather(g.input('gx', 'float32', [3]), [3]), /index 3 is out of range for dimension 0 of size 3/);
    rejects(() => g.squeeze(x, [2]), /cannot squeeze dimension 2/);
    rejects(() => g.transpose(x, [0, 0, 1]), /not a permutation/);
    rejects(() => g.softmax(x, 3), /Softmax axis 3 is out of range for rank 3/);
  });

  it('dtypes and arity are checked', () => {
    rejects(() => g.add(x, g.input('i', 'int64', [256])), /input B 'i' \[256\] is int64 but an earlier input is float32/);
    rejects(() => g.matmul(g.input('ib', 'int64', [2, 2]), g.input('ib2', 'int64', [2, 2])), /is int64; float32 expected/);
    rejects(() => g.op('MatMul', [x]), /input B is required/);
    rejects(() => g.where(x, x, x), /condition 'x' .* is float32; bool expected/);
    const other = new GraphBuilder().input('z', 'float32', [1]);
    rejects(() => g.relu(other), /belongs to another graph/);
  });

  it('names are unique and outputs are required', () => {
    rejects(() => g.input('x', 'float32', [1]), /graph input name 'x' is already used/);
    rejects(() => new GraphBuilder().build(), /no outputs/);
    const h = new GraphBuilder();
    const a = h.input('a', 'float32', [2]);
    rejects(() => h.output(a), /a graph input: give this output its own name/);
  });
});
