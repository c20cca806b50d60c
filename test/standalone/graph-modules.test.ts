import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { GraphBuilder, type OnnxModel, type Value } from '../../src/graph/builder.js';
import { erf } from '../../src/graph/ops.js';
import {
  conv1d,
  layerNorm,
  linear,
  mlp,
  multiHeadAttention,
  positionalEmbedding,
  temporalUpsample,
  transformerEncoderLayer,
  type Activation,
  type UpsampleTarget,
} from '../../src/graph/modules.js';
import { OnnxSession } from '../../src/graph/session.js';
import { bool, float32, type HostTensor } from '../../src/graph/tensor.js';
import { mulberry32 } from '../../src/util/random.js';

function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function rand(shape: number[], seed: number): HostTensor & { dtype: 'float32' } {
  return float32(
    randArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

/** Per module, the largest |ONNX Runtime − independent TypeScript implementation| seen (printed at the end). */
const deviations = new Map<string, number>();

function close(kind: string, got: HostTensor, want: ArrayLike<number>, shape: number[], tol = 1e-5): void {
  assert.deepEqual(got.shape, shape, `${kind}: shape`);
  assert.equal(got.data.length, want.length);
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(Number(got.data[i]) - want[i]));
  assert.ok(diff <= tol, `${kind}: max deviation ${diff}`);
  deviations.set(kind, Math.max(deviations.get(kind) ?? 0, diff));
}

/** Runs in ONNX Runtime and checks the reference interpreter agrees with it; returns ONNX Runtime's output `y`. */
async function run(model: OnnxModel, feeds: Record<string, HostTensor>[], session?: OnnxSession): Promise<HostTensor[]> {
  const s = session ?? (await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 }));
  try {
    const outs: HostTensor[] = [];
    for (const f of feeds) {
      const got = (await s.run(f)).y;
      const ref = model.evaluateReference(f).y;
      assert.deepEqual(got.shape, ref.shape);
      for (let i = 0; i < got.data.length; i++) assert.ok(Math.abs(Number(got.data[i]) - Number(ref.data[i])) <= 1e-5, `reference interpreter differs at ${i}`);
      outs.push(got);
    }
    return outs;
  } finally {
    if (!session) await s.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Independent plain implementations (loops over PyTorch's definitions), not the op table's references.

function nLinear(x: ArrayLike<number>, rows: number, w: Float32Array, b: Float32Array | undefined, inF: number, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[i * outF + o];
      y[r * outF + o] = s;
    }
  }
  return y;
}

function nAct(x: Float64Array, act: Activation): Float64Array {
  const f: Record<Activation, (v: number) => number> = {
    relu: (v) => Math.max(0, v),
    gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    'gelu-tanh': (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
    tanh: Math.tanh,
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  };
  return x.map(f[act]);
}

function nLayerNorm(x: ArrayLike<number>, rows: number, d: number, w: Float32Array, b: Float32Array, eps = 1e-5): Float64Array {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: d }, (_, i) => x[r * d + i]);
    const mean = row.reduce((s, v) => s + v, 0) / d;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
    row.forEach((v, i) => (y[r * d + i] = ((v - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]));
  }
  return y;
}

/** nn.MultiheadAttention semantics; masked keys are left out of the softmax. */
function nAttention(W: Record<string, Float32Array>, p: string, x: ArrayLike<number>, kv: ArrayLike<number>, B: number, T: number, S: number, d: number, heads: number, mask?: Uint8Array): Float64Array {
  const q = nLinear(x, B * T, W[`${p}.q.weight`], W[`${p}.q.bias`], d, d);
  const k = nLinear(kv, B * S, W[`${p}.k.weight`], W[`${p}.k.bias`], d, d);
  const v = nLinear(kv, B * S, W[`${p}.v.weight`], W[`${p}.v.bias`], d, d);
  const dh = d / heads;
  const ctx = new Float64Array(B * T * d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s < S; s++) {
          if (mask?.[b * S + s]) {
            scores.push(-Infinity);
            continue;
          }
          let dot = 0;
          for (let j = 0; j < dh; j++) dot += q[(b * T + t) * d + h * dh + j] * k[(b * S + s) * d + h * dh + j];
          scores.push(dot / Math.sqrt(dh));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j < dh; j++) {
          let acc = 0;
          for (let s = 0; s < S; s++) acc += (e[s] / z) * v[(b * S + s) * d + h * dh + j];
          ctx[(b * T + t) * d + h * dh + j] = acc;
        }
      }
    }
  }
  return nLinear(ctx, B * T, W[`${p}.out.weight`], W[`${p}.out.bias`], d, d);
}

function add(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => a[i] + b[i]);
}

function nEncoderLayer(W: Record<string, Float32Array>, p: string, x: Float32Array, B: number, T: number, d: number, heads: number, ff: number, norm: 'pre' | 'post', act: Activation, mask?: Uint8Array): Float64Array {
  const rows = B * T;
  const attn = (h: ArrayLike<number>): Float64Array => nAttention(W, `${p}.attn`, h, h, B, T, T, d, heads, mask);
  const ffn = (h: ArrayLike<number>): Float64Array => nLinear(nAct(nLinear(h, rows, W[`${p}.ff1.weight`], W[`${p}.ff1.bias`], d, ff), act), rows, W[`${p}.ff2.weight`], W[`${p}.ff2.bias`], ff, d);
  const ln = (h: ArrayLike<number>, n: string): Float64Array => nLayerNorm(h, rows, d, W[`${p}.${n}.weight`], W[`${p}.${n}.bias`]);
  if (norm === 'pre') {
    const h = add(x, attn(ln(x, 'norm1')));
    return add(h, ffn(ln(h, 'norm2')));
  }
  const h = ln(add(x, attn(x)), 'norm1');
  return ln(add(h, ffn(h)), 'norm2');
}

/** PyTorch F.interpolate over time of [B, T, C]; `scaleInv` is in/out (or 1/scale_factor). */
function nUpsample(x: Float32Array, B: number, T: number, C: number, out: number, scaleInv: number, mode: 'nearest' | 'linear', alignCorners = false): Float64Array {
  const y = new Float64Array(B * out * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < out; t++) {
      let i0: number;
      let i1: number;
      let w: number;
      if (mode === 'nearest') {
        i0 = i1 = Math.min(Math.floor(t * scaleInv), T - 1);
        w = 0;
      } else {
        const src = alignCorners ? (out > 1 ? (t * (T - 1)) / (out - 1) : 0) : Math.max((t + 0.5) * scaleInv - 0.5, 0);
        i0 = Math.min(Math.floor(src), T - 1);
        i1 = Math.min(i0 + 1, T - 1);
        w = src - i0;
      }
      for (let c = 0; c < C; c++) y[(b * out + t) * C + c] = x[(b * T + i0) * C + c] * (1 - w) + x[(b * T + i1) * C + c] * w;
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------------------------

describe('graph modules: ONNX Runtime against independent TypeScript implementations', () => {
  after(() => console.log(`# graph modules: max deviation per module ${JSON.stringify(Object.fromEntries([...deviations].map(([k, v]) => [k, Number(v.toExponential(2))])))}`));

  it('linear: [B, T, in] and [T, in], with and without bias', async () => {
    const g = new GraphBuilder({ seed: 11 });
    const x = g.input('x', 'float32', ['B', 'T', 6]);
    const lin = linear('proj', 6, 4);
    g.output(lin.apply(g, x), 'y');
    const model = g.build();
    assert.deepEqual(
      model.parameters.map((p) => [p.name, p.shape]),
      [
        ['proj.weight', [6, 4]],
        ['proj.bias', [4]],
      ],
    );
    const W = model.weights();
    const feeds = [rand([2, 5, 6], 1), rand([1, 3, 6], 2)];
    const outs = await run(
      model,
      feeds.map((f) => ({ x: f })),
    );
    feeds.forEach((f, i) => close('linear', outs[i], nLinear(f.data, f.shape[0] * f.shape[1], W['proj.weight'], W['proj.bias'], 6, 4), [f.shape[0], f.shape[1], 4]));

    const h = new GraphBuilder({ seed: 12 });
    const noBias = linear('p', 6, 3, { bias: false });
    h.output(noBias.apply(h, h.input('x', 'float32', ['T', 6])), 'y');
    const m2 = h.build();
    const f = rand([4, 6], 3);
    const [y] = await run(m2, [{ x: f }]);
    close('linear', y, nLinear(f.data, 4, m2.weights()['p.weight'], undefined, 6, 3), [4, 3]);
  });

  it('mlp: relu and gelu hidden layers, optional final activation', async () => {
    for (const [act, final] of [
      ['relu', false],
      ['gelu', true],
      ['gelu-tanh', false],
      ['tanh', true],
      ['sigmoid', true],
    ] as [Activation, boolean][]) {
      const g = new GraphBuilder({ seed: 21 });
      const net = mlp('mlp', [6, 8, 8, 3], { activation: act, finalActivation: final });
      g.output(net.apply(g, g.input('x', 'float32', ['B', 6])), 'y');
      const model = g.build();
      assert.deepEqual(
        net.params.map((p) => p.name),
        ['mlp.0.weight', 'mlp.0.bias', 'mlp.1.weight', 'mlp.1.bias', 'mlp.2.weight', 'mlp.2.bias'],
      );
      const W = model.weights();
      const x = rand([5, 6], 4);
      let h: Float64Array = Float64Array.from(x.data);
      for (let i = 0; i < 3; i++) {
        h = nLinear(h, 5, W[`mlp.${i}.weight`], W[`mlp.${i}.bias`], [6, 8, 8, 3][i], [6, 8, 8, 3][i + 1]);
        if (i < 2 || final) h = nAct(h, act);
      }
      const [y] = await run(model, [{ x }]);
      close('mlp', y, h, [5, 3]);
    }
  });

  it('layerNorm: trained weights dropped in by name', async () => {
    const weights = { 'ln.weight': randArray(8, 5), 'ln.bias': randArray(8, 6) };
    const g = new GraphBuilder({ weights });
    g.output(layerNorm('ln', 8).apply(g, g.input('x', 'float32', ['B', 'T', 8])), 'y');
    const x = float32(randArray(2 * 3 * 8, 7, -4, 4), [2, 3, 8]);
    const [y] = await run(g.build(), [{ x }]);
    close('layerNorm', y, nLayerNorm(x.data, 6, 8, weights['ln.weight'], weights['ln.bias']), [2, 3, 8]);
  });

  it('positionalEmbedding: learned and sinusoidal, [B, T, d] and [T, d], one model for every T', async () => {
    for (const type of ['learned', 'sinusoidal'] as const) {
      const g = new GraphBuilder({ seed: 31 });
      const pos = positionalEmbedding('pos', 10, 6, { type });
      g.output(pos.apply(g, g.input('x', 'float32', ['B', 'T', 6])), 'y');
      const model = g.build();
      const table =
        type === 'learned'
          ? model.weights()['pos.weight']
          : Float32Array.from({ length: 60 }, (_, k) => {
              const [p, i] = [Math.floor(k / 6), k % 6];
              const angle = p / 10000 ** ((i - (i % 2)) / 6);
              return i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
            });
      assert.equal(pos.params.length, type === 'learned' ? 1 : 0);
      const feeds = [rand([2, 3, 6], 8), rand([1, 10, 6], 9)];
      const outs = await run(
        model,
        feeds.map((x) => ({ x })),
      );
      feeds.forEach((x, n) => {
        const [B, T] = x.shape;
        const want = Float64Array.from(x.data, (v, k) => v + table[k % (T * 6)]);
        close('positionalEmbedding', outs[n], want, [B, T, 6]);
      });
    }
    const g = new GraphBuilder({ seed: 32 });
    g.output(positionalEmbedding('pos', 4, 2).apply(g, g.input('x', 'float32', ['T', 2])), 'y');
    const model = g.build();
    const x = rand([3, 2], 10);
    const [y] = await run(model, [{ x }]);
    close(
      'positionalEmbedding',
      y,
      Float64Array.from(x.data, (v, k) => v + model.weights()['pos.weight'][k]),
      [3, 2],
    );
  });

  it('multiHeadAttention: self-attention with and without a key padding mask, cross-attention, unbatched, dynamic T', async () => {
    const d = 8;
    const heads = 2;
    const g = new GraphBuilder({ seed: 41 });
    const attn = multiHeadAttention('attn', d, heads);
    const x = g.input('x', 'float32', ['B', 'T', d]);
    const mask = g.input('mask', 'bool', ['B', 'T']);
    g.output(attn.apply(g, x, { keyPaddingMask: mask }), 'y');
    const model = g.build();
    assert.deepEqual(
      attn.params.map((p) => p.name),
      ['attn.q.weight', 'attn.q.bias', 'attn.k.weight', 'attn.k.bias', 'attn.v.weight', 'attn.v.bias', 'attn.out.weight', 'attn.out.bias'],
    );
    const W = model.weights();
    const session = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
    try {
      for (const [B, T, seed] of [
        [2, 5, 1],
        [1, 9, 2],
      ]) {
        const xs = rand([B, T, d], seed);
        const m = bool(
          Array.from({ length: B * T }, (_, k) => k % T >= T - 2 && k >= T),
          [B, T],
        );
        const [y] = await run(model, [{ x: xs, mask: m }], session);
        close('multiHeadAttention', y, nAttention(W, 'attn', xs.data, xs.data, B, T, T, d, heads, m.data), [B, T, d]);
        // Padded keys have no influence: change their features, the unpadded queries' outputs stay.
        if (B === 2) {
          const changed = Float32Array.from(xs.data, (v, k) => (Math.floor(k / d) >= T + T - 2 ? v + 5 : v));
          const [y2] = await run(model, [{ x: float32(changed, [B, T, d]), mask: m }], session);
          for (let k = 0; k < (T + T - 2) * d; k++) assert.ok(Math.abs(Number(y.data[k]) - Number(y2.data[k])) < 1e-5);
        }
      }
    } finally {
      await session.dispose();
    }

    // Without mask, cross-attention with a mask, and unbatched [T, d].
    const h = new GraphBuilder({ seed: 42 });
    const cross = multiHeadAttention('cross', d, 4);
    const q = h.input('q', 'float32', ['B', 'T', d]);
    const mem = h.input('mem', 'float32', ['B', 'S', d]);
    const memMask = h.input('memMask', 'bool', ['B', 'S']);
    h.output(cross.apply(h, q, { keyValue: mem, keyPaddingMask: memMask }), 'y');
    const crossModel = h.build();
    const qs = rand([2, 3, d], 3);
    const ms = rand([2, 7, d], 4);
    const mm = bool([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0], [2, 7]);
    const [yc] = await run(crossModel, [{ q: qs, mem: ms, memMask: mm }]);
    close('multiHeadAttention', yc, nAttention(crossModel.weights(), 'cross', qs.data, ms.data, 2, 3, 7, d, 4, mm.data), [2, 3, d]);

    const u = new GraphBuilder({ seed: 43 });
    const self = multiHeadAttention('self', d, 2);
    u.output(self.apply(u, u.input('x', 'float32', ['T', d])), 'y');
    const uModel = u.build();
    const xs = rand([6, d], 5);
    const [yu] = await run(uModel, [{ x: xs }]);
    close('multiHeadAttention', yu, nAttention(uModel.weights(), 'self', xs.data, xs.data, 1, 6, 6, d, 2), [6, d]);
  });

  it('transformerEncoderLayer: post- and pre-norm, relu and gelu, with padding mask, dynamic T', async () => {
    const d = 8;
    for (const [norm, act] of [
      ['post', 'relu'],
      ['pre', 'gelu'],
    ] as ['pre' | 'post', Activation][]) {
      const g = new GraphBuilder({ seed: 51 });
      const layer = transformerEncoderLayer('enc.0', d, 2, 16, { norm, activation: act });
      const x = g.input('x', 'float32', ['B', 'T', d]);
      const mask = g.input('mask', 'bool', ['B', 'T']);
      g.output(layer.apply(g, x, { keyPaddingMask: mask }), 'y');
      const model = g.build();
      assert.equal(layer.params.length, 8 + 4 + 4);
      assert.deepEqual(model.parameters.map((p) => p.name).sort(), layer.params.map((p) => p.name).sort());
      const W = model.weights();
      const session = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
      try {
        for (const [B, T, seed] of [
          [2, 4, 1],
          [1, 7, 2],
        ]) {
          const xs = rand([B, T, d], seed);
          const m = bool(
            Array.from({ length: B * T }, (_, k) => k === B * T - 1),
            [B, T],
          );
          const [y] = await run(model, [{ x: xs, mask: m }], session);
          close('transformerEncoderLayer', y, nEncoderLayer(W, 'enc.0', xs.data, B, T, d, 2, 16, norm, act, m.data), [B, T, d]);
        }
      } finally {
        await session.dispose();
      }
    }
  });

  it('conv1d: stride and padding, same padding with dilation, groups, [T, C], dynamic T', async () => {
    const cases: { opts: Parameters<typeof conv1d>[4]; inC: number; outC: number; k: number; T: number[] }[] = [
      { opts: { stride: 2, padding: [1, 2] }, inC: 4, outC: 6, k: 3, T: [9, 6] },
      { opts: { padding: 'same', dilation: 2 }, inC: 3, outC: 2, k: 3, T: [5, 8] },
      { opts: { padding: 1, groups: 2, bias: false }, inC: 4, outC: 4, k: 3, T: [7] },
      { opts: { stride: 3 }, inC: 2, outC: 3, k: 2, T: [8] },
    ];
    for (const { opts, inC, outC, k, T } of cases) {
      const g = new GraphBuilder({ seed: 61 });
      const conv = conv1d('conv', inC, outC, k, opts);
      const out = conv.apply(g, g.input('x', 'float32', ['B', 'T', inC]));
      if (opts?.padding === 'same') assert.deepEqual(out.shape, ['B', 'T', outC]);
      g.output(out, 'y');
      const model = g.build();
      const W = model.weights();
      const session = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
      try {
        for (const t of T) {
          const B = 2;
          const x = rand([B, t, inC], t);
          const [y] = await run(model, [{ x }], session);
          const [padL, padR] = conv.pads;
          const { stride, dilation, groups } = conv;
          const tOut = Math.floor((t + padL + padR - dilation * (k - 1) - 1) / stride) + 1;
          const want = new Float64Array(B * tOut * outC);
          const cg = inC / groups;
          const mg = outC / groups;
          for (let b = 0; b < B; b++) {
            for (let o = 0; o < tOut; o++) {
              for (let m = 0; m < outC; m++) {
                let s = W['conv.bias']?.[m] ?? 0;
                const grp = Math.floor(m / mg);
                for (let c = 0; c < cg; c++) {
                  for (let j = 0; j < k; j++) {
                    const src = o * stride - padL + j * dilation;
                    if (src >= 0 && src < t) s += x.data[(b * t + src) * inC + grp * cg + c] * W['conv.weight'][(m * cg + c) * k + j];
                  }
                }
                want[(b * tOut + o) * outC + m] = s;
              }
            }
          }
          close('conv1d', y, want, [B, tOut, outC]);
        }
      } finally {
        await session.dispose();
      }
    }
    const g = new GraphBuilder({ seed: 62 });
    g.output(conv1d('c', 2, 2, 3, { padding: 'same' }).apply(g, g.input('x', 'float32', ['T', 2])), 'y');
    const model = g.build();
    const x = rand([4, 2], 3);
    const [y] = await run(model, [{ x }]);
    const W = model.weights();
    const want = Float64Array.from({ length: 8 }, (_, k) => {
      const [o, m] = [Math.floor(k / 2), k % 2];
      let s = W['c.bias'][m];
      for (let c = 0; c < 2; c++) for (let j = 0; j < 3; j++) if (o - 1 + j >= 0 && o - 1 + j < 4) s += x.data[(o - 1 + j) * 2 + c] * W['c.weight'][(m * 2 + c) * 3 + j];
      return s;
    });
    close('conv1d', y, want, [4, 2]);
  });

  it('temporalUpsample: factor, fixed length and like-another-input, nearest and linear (also align corners), dynamic T', async () => {
    const C = 3;
    const cases: { target: UpsampleTarget; mode: 'nearest' | 'linear'; align?: boolean }[] = [
      { target: { factor: 2 }, mode: 'nearest' },
      { target: { factor: 2 }, mode: 'linear' },
      { target: { factor: 2.5 }, mode: 'linear' },
      { target: { factor: 3 }, mode: 'linear', align: true },
      { target: { length: 11 }, mode: 'nearest' },
      { target: { length: 11 }, mode: 'linear' },
      { target: 'like', mode: 'linear' },
      { target: 'like', mode: 'nearest' },
    ];
    for (const { target, mode, align } of cases) {
      const g = new GraphBuilder();
      const up = temporalUpsample('up', target, { mode, alignCorners: align });
      const x = g.input('x', 'float32', ['B', 'T', C]);
      const ref: Value | undefined = target === 'like' ? g.input('ref', 'float32', ['B', 'U', 1]) : undefined;
      const y = up.apply(g, x, ref);
      if (target === 'like') assert.deepEqual(y.shape, ['B', 'U', C]);
      g.output(y, 'y');
      const model = g.build();
      const session = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
      try {
        for (const T of [4, 5]) {
          const xs = rand([2, T, C], T);
          const out = typeof target === 'object' && 'factor' in target ? Math.floor(T * target.factor) : typeof target === 'object' ? target.length : 2 * T + 3;
          const scaleInv = typeof target === 'object' && 'factor' in target ? 1 / target.factor : T / out;
          const feeds: Record<string, HostTensor> = { x: xs };
          if (ref) feeds.ref = rand([2, out, 1], 99);
          const [got] = await run(model, [feeds], session);
          close('temporalUpsample', got, nUpsample(xs.data, 2, T, C, out, scaleInv, mode, align), [2, out, C]);
        }
      } finally {
        await session.dispose();
      }
    }
    const g = new GraphBuilder();
    g.output(temporalUpsample('up', { factor: 2 }).apply(g, g.input('x', 'float32', ['T', 2])), 'y');
    const xs = rand([3, 2], 1);
    const [got] = await run(g.build(), [{ x: xs }]);
    close('temporalUpsample', got, nUpsample(xs.data, 1, 3, 2, 6, 0.5, 'linear'), [6, 2]);
  });
});

function variance(a: Float32Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
}

describe('graph modules: parameters, initialisation and weights', () => {
  it('initialisation follows PyTorch defaults and repeats exactly for a seed', () => {
    const build = (seed: number): OnnxModel => {
      const g = new GraphBuilder({ seed });
      const x = g.input('x', 'float32', ['B', 'T', 64]);
      const h = transformerEncoderLayer('enc', 64, 4, 128).apply(g, positionalEmbedding('pos', 512, 64).apply(g, x));
      g.output(conv1d('conv', 64, 32, 5).apply(g, h), 'y');
      return g.build();
    };
    const a = build(7);
    assert.deepEqual(a.toBytes(), build(7).toBytes());
    assert.notDeepEqual(a.weights()['enc.ff1.weight'], build(8).weights()['enc.ff1.weight']);
    const W = a.weights();
    const maxAbs = (name: string): number => W[name].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // Uniform bounds, nearly reached with this many draws.
    for (const [name, bound] of [
      ['enc.ff1.weight', 1 / 8],
      ['enc.ff2.weight', 1 / Math.sqrt(128)],
      ['enc.attn.q.weight', Math.sqrt(6 / 256)],
      ['enc.attn.out.weight', 1 / 8],
      ['conv.weight', 1 / Math.sqrt(64 * 5)],
    ] as const) {
      assert.ok(maxAbs(name) <= bound && maxAbs(name) > 0.97 * bound, `${name}: max |w| ${maxAbs(name)} vs bound ${bound}`);
    }
    assert.ok(W['enc.norm1.weight'].every((v) => v === 1) && W['enc.norm1.bias'].every((v) => v === 0));
    assert.ok(W['enc.attn.q.bias'].every((v) => v === 0) && W['enc.attn.out.bias'].every((v) => v === 0));
    assert.ok(Math.abs(Math.sqrt(variance(W['pos.weight'])) - 0.02) < 0.001);
    // A parameter's values depend on the seed and its name only, not on what else the graph holds.
    const g = new GraphBuilder({ seed: 7 });
    g.output(conv1d('conv', 64, 32, 5).apply(g, g.input('x', 'float32', [1, 9, 64])), 'y');
    assert.deepEqual(g.build().weights()['conv.weight'], W['conv.weight']);
    assert.equal(
      a.parameterCount,
      a.parameters.reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0),
    );
  });

  it('weights round-trip by name; missing, misshapen and unused weights are errors', () => {
    const build = (options: ConstructorParameters<typeof GraphBuilder>[0]): OnnxModel => {
      const g = new GraphBuilder(options);
      g.output(mlp('head', [4, 5, 2]).apply(g, g.input('x', 'float32', ['T', 4])), 'y');
      return g.build();
    };
    const a = build({ seed: 1 });
    const w = a.weights();
    assert.deepEqual(build({ seed: 99, weights: w }).toBytes(), a.toBytes());
    assert.throws(() => build({ weights: { ...w, 'head.1.bias': undefined as unknown as Float32Array } }), /weight 'head.1.bias' \[2\] is missing/);
    assert.doesNotThrow(() => build({ weights: { 'head.0.weight': w['head.0.weight'] }, weightsMode: 'partial' }));
    assert.throws(() => build({ weights: { ...w, 'head.0.bias': new Float32Array(4) } }), /weight 'head.0.bias' has 4 values, but the parameter has shape \[5\] \(5 values\)/);
    assert.throws(() => build({ weights: { ...w, 'head.9.weight': new Float32Array(1) } }), /not used by any parameter: head.9.weight/);
  });

  it('a module applied twice shares its weights; two modules under one name are an error', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 4]);
    const lin = linear('shared', 4, 4);
    g.output(lin.apply(g, lin.apply(g, x)), 'y');
    assert.equal(g.build().parameters.length, 2);
    assert.throws(() => linear('shared', 4, 4).apply(g, x), (err: Error) => err instanceof SignweaveInputError && /parameter 'shared.weight' is defined twice/.test(err.message));
  });
});

describe('graph modules: dimension errors name the module and both dims', () => {
  const g = new GraphBuilder();
  const x = g.input('features', 'float32', ['B', 'T', 256]);

  function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
    assert.throws(fn, (err: Error) => {
      assert.ok(err instanceof SignweaveInputError, err.message);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    });
  }

  it('linear(384 → 10) on a 256-dim input', () => {
    rejects(() => linear('head', 384, 10).apply(g, x), /^linear 'head': input 'features' \[B, T, 256\] has last dimension 256, but in_features is 384$/);
  });

  it('every module checks its input', () => {
    rejects(() => mlp('m', [128, 10]).apply(g, x), /mlp 'm'.*256.*128/);
    rejects(() => layerNorm('ln', 384).apply(g, x), /layerNorm 'ln'.*256.*384/);
    rejects(() => positionalEmbedding('pos', 512, 384).apply(g, x), /positionalEmbedding 'pos'.*256.*384/);
    rejects(() => positionalEmbedding('pos', 8, 4).apply(g, g.input('long', 'float32', [20, 4])), /20 time steps, more than maxLen 8/);
    rejects(() => multiHeadAttention('attn', 384, 6).apply(g, x), /multiHeadAttention 'attn'.*256.*384/);
    rejects(() => multiHeadAttention('attn', 256, 6), /d = 256 does not divide into 6 heads/);
    rejects(() => multiHeadAttention('attn2', 256, 4).apply(g, x, { keyPaddingMask: g.input('fmask', 'float32', ['B', 'T']) }), /mask 'fmask' \[B, T\] is float32; bool expected/);
    rejects(() => multiHeadAttention('attn3', 256, 4).apply(g, x, { keyPaddingMask: g.input('m3', 'bool', ['B', 'T', 1]) }), /does not match the keys 'features' \[B, T, 256\]: \[B, T\] expected/);
    rejects(() => transformerEncoderLayer('enc', 384, 6, 1536).apply(g, x), /transformerEncoderLayer 'enc'.*256.*384/);
    rejects(() => conv1d('conv', 384, 64, 3).apply(g, x), /conv1d 'conv'.*256.*in_channels is 384/);
    rejects(() => conv1d('conv', 4, 4, 5).apply(g, g.input('short', 'float32', [1, 3, 4])), /3 time steps, fewer than the kernel span 5/);
    rejects(() => conv1d('conv', 4, 4, 3, { stride: 2, padding: 'same' }), /padding 'same' needs stride 1/);
    rejects(() => temporalUpsample('up', 'like').apply(g, x), /needs the value whose length to match/);
    rejects(() => temporalUpsample('up', { factor: 0 }), /factor must be positive/);
    rejects(() => linear('flat', 4, 2).apply(g, g.input('s', 'float32', [])), /is a scalar/);
  });
});
