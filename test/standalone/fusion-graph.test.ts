import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FUSION_TYPES, buildFusionModel, referenceFusion, type FusionConfig, type FusionInputs, type FusionType } from '../../src/fusion/index.js';
import type { OnnxModel } from '../../src/graph/builder.js';
import { OnnxSession } from '../../src/graph/session.js';
import { float32, type HostTensor } from '../../src/graph/tensor.js';
import { mulberry32 } from '../../src/util/random.js';
import { maxDiff } from '../helpers/assert.js';

const FPS = 24;
const BASE = { inputs: { sign: 6, fingerspell: 5, lips: 4 }, vocabSize: 9, d: 8, heads: 2, maxLen: 64 } satisfies FusionConfig;

/** One video's random streams: sign/fingerspell in [−1, 1], router rows on the simplex, lips at T′ = ⌈T/stride⌉. */
function video(T: number, stride: number, seed: number, widths: { sign: number; fingerspell: number; lips: number } = BASE.inputs): FusionInputs {
  const r = mulberry32(seed);
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * r() - 1);
  const router = new Float32Array(3 * T);
  for (let t = 0; t < T; t++) {
    const w = [r(), r(), r()];
    const z = w[0] + w[1] + w[2];
    router.set(
      w.map((v) => v / z),
      3 * t,
    );
  }
  const lipT = Math.ceil(T / stride);
  return {
    sign: { data: rand(T * widths.sign), shape: [T, widths.sign], fps: FPS },
    fingerspell: { data: rand(T * widths.fingerspell), shape: [T, widths.fingerspell], fps: FPS },
    router: { data: router, shape: [T, 3], fps: FPS },
    lips: { data: rand(lipT * widths.lips), shape: [lipT, widths.lips], fps: FPS / stride },
  };
}

/** The graph feeds for the streams `model` takes. */
function feedsFor(model: OnnxModel, v: FusionInputs): Record<string, HostTensor> {
  const all: Record<string, HostTensor> = {
    sign: float32(v.sign.data, v.sign.shape),
    fingerspell: float32(v.fingerspell!.data, v.fingerspell!.shape),
    router: float32(v.router.data, v.router.shape),
    lips: float32(v.lips!.data, v.lips!.shape),
  };
  return Object.fromEntries(model.inputs.map((s) => [s.name, all[s.name]]));
}

async function withSession<T>(model: OnnxModel, fn: (s: OnnxSession) => Promise<T>): Promise<T> {
  const s = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
  try {
    return await fn(s);
  } finally {
    await s.dispose();
  }
}

function row(data: ArrayLike<number>, t: number, d: number): number[] {
  return Array.from({ length: d }, (_, i) => data[t * d + i]);
}

/** Largest |ONNX Runtime − TypeScript reference| over the logits, per variant (printed at the end). */
const deviations = new Map<string, number>();

/** One frame of a stream through `proj.<name>` (linear) and `proj.<name>.norm` (LayerNorm, ε 1e-5), from the weights. */
function projected(W: Record<string, Float32Array>, name: string, x: number[], d: number): number[] {
  const y = Array.from({ length: d }, (_, o) => x.reduce((acc, xi, i) => acc + xi * W[`proj.${name}.weight`][i * d + o], W[`proj.${name}.bias`][o]));
  const mean = y.reduce((a, b) => a + b, 0) / d;
  const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
  return y.map((v, o) => ((v - mean) / Math.sqrt(variance + 1e-5)) * W[`proj.${name}.norm.weight`][o] + W[`proj.${name}.norm.bias`][o]);
}

/** T and stride pairs: T′ from stride 2 and 3, including T = 1 and T′ = 1. */
const LENGTHS: [number, number][] = [
  [1, 2],
  [5, 2],
  [12, 2],
  [7, 3],
  [16, 3],
];

describe('fusion graph: every variant in ONNX Runtime against the TypeScript reference', () => {
  after(() => console.log(`# fusion: max |ONNX Runtime − TS reference| of the logits ${JSON.stringify(Object.fromEntries([...deviations].map(([k, v]) => [k, Number(v.toExponential(2))])))}`));

  const variants: [string, FusionConfig][] = [
    ...FUSION_TYPES.map((type): [string, FusionConfig] => [type, { ...BASE, type, layers: 0 }]),
    ...FUSION_TYPES.map((type): [string, FusionConfig] => [`${type}, 2 layers`, { ...BASE, type, layers: 2 }]),
    ['gated, pre-norm gelu sinusoidal encoder', { ...BASE, layers: 1, norm: 'pre', activation: 'gelu', positional: 'sinusoidal' }],
    ['gated, nearest upsampling', { ...BASE, layers: 1, upsample: 'nearest' }],
    ['gated, softmax inputs', { ...BASE, layers: 1, softmaxInputs: true }],
    ['gated, lip shift +3', { ...BASE, layers: 0, lipAlignment: { shift: 3 } }],
    ['cmfa, lip shift −2', { ...BASE, type: 'cmfa', layers: 1, lipAlignment: { shift: -2 } }],
    ['gated, no fingerspelling', { ...BASE, layers: 1, fingerspell: false, inputs: { sign: 6, lips: 4 } }],
    ['gated, no lips', { ...BASE, layers: 1, lip: false, inputs: { sign: 6, fingerspell: 5 } }],
  ];

  for (const [label, config] of variants) {
    it(`${label}: builds, runs for every T and T′, matches the reference`, async () => {
      const model = buildFusionModel(config, { seed: 7 });
      const weights = model.weights();
      const gated = config.lip !== false && (config.type ?? 'gated') !== 'concat-mlp' && config.type !== 'cross-attention';
      assert.deepEqual(
        model.outputs.map((o) => [o.name, o.shape]),
        [['logits', ['T', 9]], ...(gated ? [['gate', ['T', 8]]] : [])],
      );
      await withSession(model, async (s) => {
        for (const [T, stride] of LENGTHS) {
          const v = video(T, stride, 100 * T + stride);
          const out = await s.run(feedsFor(model, v));
          assert.deepEqual(out.logits.shape, [T, 9], `${label} T=${T}`);
          const ref = referenceFusion(config, weights, v);
          const dev = maxDiff(out.logits.data as Float32Array, ref.logits);
          assert.ok(dev <= 1e-5, `${label} T=${T} stride ${stride}: logits deviate by ${dev}`);
          deviations.set(label, Math.max(deviations.get(label) ?? 0, dev));
          if (gated) {
            assert.deepEqual(out.gate.shape, [T, 8]);
            assert.ok(maxDiff(out.gate.data as Float32Array, ref.gate!) <= 1e-5, `${label}: gate`);
          }
        }
      });
    });
  }

  it('every projected stream is layer-normalised (one scale for the gate and the encoder), the dropped ones have no projection', () => {
    const projections = (config: FusionConfig): string[] => Object.keys(buildFusionModel(config).weights()).filter((k) => k.startsWith('proj.')).sort();
    const of = (stream: string) => [`proj.${stream}.bias`, `proj.${stream}.norm.bias`, `proj.${stream}.norm.weight`, `proj.${stream}.weight`];
    assert.deepEqual(projections({ ...BASE, layers: 0 }), [...of('fingerspell'), ...of('lips'), ...of('sign')]);
    assert.deepEqual(projections({ ...BASE, layers: 0, lip: false, inputs: { sign: 6, fingerspell: 5 } }), [...of('fingerspell'), ...of('sign')]);
  });

  it('inputs are the streams the config uses, with symbolic T and T_lips', () => {
    const shapes = (config: FusionConfig): [string, unknown][] => buildFusionModel(config).inputs.map((i) => [i.name, i.shape]);
    assert.deepEqual(shapes({ ...BASE, layers: 0 }), [
      ['sign', ['T', 6]],
      ['fingerspell', ['T', 5]],
      ['router', ['T', 3]],
      ['lips', ['T_lips', 4]],
    ]);
    assert.deepEqual(shapes({ ...BASE, layers: 0, lip: false, fingerspell: false, inputs: { sign: 6 } }), [
      ['sign', ['T', 6]],
      ['router', ['T', 3]],
    ]);
  });

  it('trained weights go back in by name and give the same model; a missing one is an error', async () => {
    const config: FusionConfig = { ...BASE, type: 'cmfa', layers: 1 };
    const a = buildFusionModel(config, { seed: 1 });
    const b = buildFusionModel(config, { weights: a.weights() });
    const c = buildFusionModel(config, { seed: 2 });
    const v = video(6, 2, 5);
    const [ra, rb, rc] = [a, b, c].map((m) => referenceFusion(config, m.weights(), v).logits);
    assert.deepEqual(rb, ra);
    assert.notDeepEqual(rc, ra);
    const { 'null_vector': _dropped, ...partial } = a.weights();
    assert.throws(() => buildFusionModel(config, { weights: partial }), /weight 'null_vector' \[8\] is missing/);
  });
});

describe('fusion graph: the gated fusion equations on extracted intermediates', () => {
  const config: FusionConfig = { ...BASE, layers: 1 };
  const d = 8;

  it('g ∈ (0, 1), fused = g⊙M + (1−g)⊙L′, M = r_sign·S′ + r_fs·F′ + r_null·n', async () => {
    const model = buildFusionModel(config, { seed: 3, intermediates: true });
    assert.deepEqual(
      model.outputs.map((o) => o.name),
      ['logits', 'gate', 'manual', 'lips_aligned', 'fused'],
    );
    const W = model.weights();
    await withSession(model, async (s) => {
      for (const [T, stride] of [
        [9, 2],
        [10, 3],
      ]) {
        const v = video(T, stride, T);
        const out = await s.run(feedsFor(model, v));
        const [g, M, L, fused] = ['gate', 'manual', 'lips_aligned', 'fused'].map((k) => out[k].data as Float32Array);
        for (const value of g) assert.ok(value > 0 && value < 1, `gate value ${value} outside (0, 1)`);
        const mix = Float64Array.from(g, (gi, i) => gi * M[i] + (1 - gi) * L[i]);
        assert.ok(maxDiff(fused, mix) <= 1e-6, 'fused = g⊙M + (1−g)⊙L′');

        // M from the projections, computed here from the weights.
        const project = (x: Float32Array, width: number, name: string, t: number): number[] => projected(W, name, row(x, t, width), d);
        for (let t = 0; t < T; t++) {
          const [rs, rf, rn] = row(v.router.data, t, 3);
          const S = project(v.sign.data, 6, 'sign', t);
          const F = project(v.fingerspell!.data, 5, 'fingerspell', t);
          const want = S.map((si, i) => rs * si + rf * F[i] + rn * W.null_vector[i]);
          assert.ok(maxDiff(row(M, t, d), want) <= 1e-6, `M at frame ${t}`);
        }
        // L′ is the lip stream brought to the manual stream's T frames.
        assert.deepEqual(out.lips_aligned.shape, [T, d]);
      }
    });
  });

  it('frames the router gives wholly to rest take the null-vector path', async () => {
    const model = buildFusionModel({ ...BASE, layers: 0 }, { seed: 4, intermediates: true });
    const n = model.weights().null_vector;
    const T = 8;
    const rest = new Set([0, 3, 4, 7]);
    const v = video(T, 2, 9);
    const router = Float32Array.from(v.router.data);
    for (const t of rest) router.set([0, 0, 1], 3 * t);
    const base = { ...v, router: { data: router, shape: [T, 3] as [number, number], fps: FPS } };
    // Other sign and fingerspelling values at every frame: the rest frames must not see them.
    const other = video(T, 2, 10);
    const changed = { ...base, sign: other.sign, fingerspell: other.fingerspell };
    await withSession(model, async (s) => {
      const [a, b] = [await s.run(feedsFor(model, base)), await s.run(feedsFor(model, changed))];
      for (let t = 0; t < T; t++) {
        if (rest.has(t)) {
          assert.deepEqual(row(a.manual.data as Float32Array, t, 8), Array.from(n), `M at rest frame ${t} is n`);
          assert.deepEqual(row(a.logits.data as Float32Array, t, 9), row(b.logits.data as Float32Array, t, 9), `logits at rest frame ${t} ignore S and F`);
        } else {
          assert.notDeepEqual(row(a.manual.data as Float32Array, t, 8), row(b.manual.data as Float32Array, t, 8));
        }
      }
    });
  });

  it('a fixed shift k moves the upsampled lip stream by exactly k frames, repeating the edge frame', async () => {
    const learned = buildFusionModel({ ...BASE, layers: 0 }, { seed: 5, intermediates: true });
    await withSession(learned, async (s0) => {
      for (const k of [1, 3, -2, 10, -10]) {
        const shifted = buildFusionModel({ ...BASE, layers: 0, lipAlignment: { shift: k } }, { seed: 5, intermediates: true });
        await withSession(shifted, async (s1) => {
          for (const [T, stride] of [
            [11, 2],
            [9, 3],
            [4, 3],
          ]) {
            const v = video(T, stride, 20 + T);
            const base = (await s0.run(feedsFor(learned, v))).lips_aligned.data as Float32Array;
            const moved = (await s1.run(feedsFor(shifted, v))).lips_aligned.data as Float32Array;
            for (let t = 0; t < T; t++) {
              const src = Math.min(Math.max(t - k, 0), T - 1);
              assert.deepEqual(row(moved, t, 8), row(base, src, 8), `k = ${k}, T = ${T}: frame ${t} should be frame ${src}`);
            }
          }
        });
      }
    });
  });

  it('without fingerspelling, F is dropped and r is renormalised over sign and rest', async () => {
    const config: FusionConfig = { ...BASE, layers: 0, fingerspell: false, inputs: { sign: 6, lips: 4 } };
    const model = buildFusionModel(config, { seed: 6, intermediates: true });
    assert.ok(!model.parameters.some((p) => p.name.startsWith('proj.fingerspell')));
    const W = model.weights();
    const T = 5;
    const v = video(T, 2, 30);
    await withSession(model, async (s) => {
      const M = (await s.run(feedsFor(model, v))).manual.data as Float32Array;
      for (let t = 0; t < T; t++) {
        const [rs, , rn] = row(v.router.data, t, 3);
        const S = projected(W, 'sign', row(v.sign.data, t, 6), 8);
        const want = S.map((si, i) => (rs * si + rn * W.null_vector[i]) / (rs + rn));
        assert.ok(maxDiff(row(M, t, 8), want) <= 1e-5, `frame ${t}`);
      }
    });
  });

  it('without lips, fused = M and the lip stream has no way in', async () => {
    const config: FusionConfig = { ...BASE, layers: 1, lip: false, inputs: { sign: 6, fingerspell: 5 } };
    const model = buildFusionModel(config, { seed: 8, intermediates: true });
    assert.deepEqual(
      model.outputs.map((o) => o.name),
      ['logits', 'manual', 'fused'],
    );
    assert.ok(!model.parameters.some((p) => p.name.startsWith('proj.lips') || p.name.startsWith('gate')));
    await withSession(model, async (s) => {
      const out = await s.run(feedsFor(model, video(7, 3, 40)));
      assert.deepEqual(out.fused.data, out.manual.data);
    });
  });

  it('every fusion type has its own parameters', () => {
    const names = (type: FusionType): string[] =>
      buildFusionModel({ ...BASE, type, layers: 0 })
        .parameters.map((p) => p.name)
        .filter((n) => !n.startsWith('proj.') && n !== 'null_vector' && !n.startsWith('head.'));
    assert.deepEqual(names('gated'), ['gate.weight', 'gate.bias']);
    assert.deepEqual(names('concat-mlp'), ['mix.0.weight', 'mix.0.bias', 'mix.1.weight', 'mix.1.bias']);
    assert.ok(names('cross-attention').includes('cross.attn.q.weight') && names('cross-attention').includes('cross.norm.weight'));
    const cmfa = names('cmfa');
    for (const part of ['cmfa.manual_to_lips.q.weight', 'cmfa.lips_to_manual.q.weight', 'cmfa.manual_norm.weight', 'cmfa.lips_norm.weight', 'cmfa.gate.weight']) assert.ok(cmfa.includes(part), part);
  });
});
