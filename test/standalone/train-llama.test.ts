import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { GraphBuilder } from '../../src/graph/builder.js';
import { OnnxSession } from '../../src/graph/session.js';
import { int64, type HostTensor } from '../../src/graph/tensor.js';
import { exportLlamaGguf } from '../../src/train/llama-gguf.js';
import { trainTokenizer } from '../../src/llm/tokenizer.js';
import { buildTrainingGraph } from '../../src/train/autodiff.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TrainingSet } from '../../src/train/data.js';
import { LOGITS_OUTPUT, TOKENS_INPUT, llamaDefinition, llamaParameters, pairItems, type DecoderModelManifest, type LlamaArchitecture, type TextPair } from '../../src/train/llama.js';
import { TRAIN_KINDS, TRAIN_TASKS } from '../../src/train/tasks.js';
import { train, type TrainProgress } from '../../src/train/trainer.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, maxDiff } from '../helpers/assert.js';

/** Random weights: matrices U(±0.3), norms around 1, so attention and the FFN do more than pass through. */
function randomLlamaWeights(arch: LlamaArchitecture, seed: number): Record<string, Float32Array> {
  const rng = mulberry32(seed);
  return Object.fromEntries(
    llamaParameters(arch).map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const norm = p.shape.length === 1;
      return [p.name, Float32Array.from({ length: n }, () => (norm ? 0.5 + rng() : (2 * rng() - 1) * 0.3))];
    }),
  );
}

/**
 * LLaMA's forward pass written out in float64 loops from the architecture's definition (not from the graph):
 * logits [B, T, V] of each sequence on its own.
 */
function referenceLogits(arch: LlamaArchitecture, w: Record<string, Float32Array>, sequences: number[][]): Float64Array[] {
  const { dim: d, heads, kvHeads, ffnDim: f, vocabSize: V } = arch;
  const dh = d / heads;
  const kvDim = dh * kvHeads;
  /** x [T, n] · W [n, m] (graph layout [in, out]). */
  const matmul = (x: Float64Array[], W: Float32Array, m: number): Float64Array[] =>
    x.map((row) => {
      const out = new Float64Array(m);
      row.forEach((v, i) => {
        for (let j = 0; j < m; j++) out[j] += v * W[i * m + j];
      });
      return out;
    });
  const rmsNorm = (x: Float64Array[], weight: Float32Array): Float64Array[] =>
    x.map((row) => {
      const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + arch.normEps);
      return row.map((v, i) => (v / rms) * weight[i]);
    });
  const rope = (x: Float64Array[], n: number): void =>
    x.forEach((row, pos) => {
      for (let h = 0; h < n; h++) {
        for (let j = 0; j < dh / 2; j++) {
          const theta = pos * Math.pow(arch.ropeBase, (-2 * j) / dh);
          const [a, b] = [row[h * dh + 2 * j], row[h * dh + 2 * j + 1]];
          row[h * dh + 2 * j] = a * Math.cos(theta) - b * Math.sin(theta);
          row[h * dh + 2 * j + 1] = a * Math.sin(theta) + b * Math.cos(theta);
        }
      }
    });
  return sequences.map((tokens) => {
    let x = tokens.map((t) => Float64Array.from(w['token_embd.weight'].subarray(t * d, (t + 1) * d)));
    for (let l = 0; l < arch.layers; l++) {
      const p = (name: string): Float32Array => w[`blk.${l}.${name}.weight`];
      const h = rmsNorm(x, p('attn_norm'));
      const [q, k, v] = [matmul(h, p('attn_q'), d), matmul(h, p('attn_k'), kvDim), matmul(h, p('attn_v'), kvDim)];
      rope(q, heads);
      rope(k, kvHeads);
      const context = q.map((qt, t) => {
        const out = new Float64Array(d);
        for (let hd = 0; hd < heads; hd++) {
          const kv = Math.floor(hd / (heads / kvHeads));
          const scores = Array.from({ length: t + 1 }, (_, s) => {
            let dot = 0;
            for (let i = 0; i < dh; i++) dot += qt[hd * dh + i] * k[s][kv * dh + i];
            return dot / Math.sqrt(dh);
          });
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((es, s) => {
            for (let i = 0; i < dh; i++) out[hd * dh + i] += (es / sum) * v[s][kv * dh + i];
          });
        }
        return out;
      });
      const attn = matmul(context, p('attn_output'), d);
      x = x.map((row, t) => row.map((val, i) => val + attn[t][i]));
      const g2 = rmsNorm(x, p('ffn_norm'));
      const gate = matmul(g2, p('ffn_gate'), f);
      const up = matmul(g2, p('ffn_up'), f);
      const act = gate.map((row, t) => row.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[t][i]));
      const down = matmul(act, p('ffn_down'), d);
      x = x.map((row, t) => row.map((val, i) => val + down[t][i]));
    }
    const logits = matmul(rmsNorm(x, w['output_norm.weight']), w['output.weight'], V);
    const flat = new Float64Array(tokens.length * V);
    logits.forEach((row, t) => flat.set(row, t * V));
    return flat;
  });
}

const ARCH: LlamaArchitecture = { vocabSize: 37, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffnDim: 24, maxLen: 12, ropeBase: 10000, normEps: 1e-5 };

function randomTokens(B: number, T: number, V: number, seed: number): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(rng() * V)));
}

async function onnxLogits(arch: LlamaArchitecture, weights: Record<string, Float32Array>, sequences: number[][]): Promise<HostTensor> {
  const g = new GraphBuilder({ weights });
  llamaDefinition(arch)(g);
  const session = await OnnxSession.create(g.build().toBytes(), { intraOpThreads: 1 });
  try {
    const feeds = { [TOKENS_INPUT]: int64(sequences.flat(), [sequences.length, sequences[0].length]) };
    return (await session.run(feeds, [LOGITS_OUTPUT]))[LOGITS_OUTPUT];
  } finally {
    await session.dispose();
  }
}

describe('LLaMA graph: ONNX Runtime forward vs a plain TypeScript forward', () => {
  for (const [label, arch] of [
    ['grouped-query (4 heads, 2 KV heads)', ARCH],
    ['multi-head (kvHeads = heads), 1 layer', { ...ARCH, layers: 1, kvHeads: 4, ropeBase: 500 }],
  ] as const) {
    it(`${label}: every position's logits agree to < 1e-4`, async () => {
      const weights = randomLlamaWeights(arch, 3);
      const sequences = randomTokens(3, 9, arch.vocabSize, 5);
      const got = await onnxLogits(arch, weights, sequences);
      assert.deepEqual(got.shape, [3, 9, arch.vocabSize]);
      const expected = referenceLogits(arch, weights, sequences);
      const diff = maxDiff(got.data as Float32Array, expected.flatMap((e) => Array.from(e)));
      console.log(`# ${label}: max |ORT − reference| = ${diff.toExponential(2)}`);
      assert.ok(diff < 1e-4, `max abs diff ${diff}`);
    });
  }

  it('causal: a position does not see later tokens, so end padding changes no earlier logit', async () => {
    const weights = randomLlamaWeights(ARCH, 4);
    const [a] = randomTokens(1, 10, ARCH.vocabSize, 8);
    const short = await onnxLogits(ARCH, weights, [a.slice(0, 6)]);
    const padded = await onnxLogits(ARCH, weights, [[...a.slice(0, 6), 0, 0, 0, 0]]);
    const V = ARCH.vocabSize;
    assert.ok(maxDiff(short.data as Float32Array, (padded.data as Float32Array).subarray(0, 6 * V)) < 1e-5);
  });

  it('rejects architectures it cannot build, naming the field', () => {
    assert.throws(() => llamaDefinition({ ...ARCH, kvHeads: 3 }), inputError(/kvHeads 3 must divide heads 4/));
    assert.throws(() => llamaDefinition({ ...ARCH, heads: 3 }), inputError(/dim 16 does not divide into 3 heads/));
    assert.throws(() => llamaDefinition({ ...ARCH, dim: 12, heads: 4 }), inputError(/head size 3 must be even/));
    assert.throws(() => llamaDefinition({ ...ARCH, layers: 0 }), inputError(/layers must be a positive integer/));
  });
});

describe('LLaMA graph: training gradients against finite differences', () => {
  it('every parameter, through a random upstream gradient on the logits', async () => {
    const arch: LlamaArchitecture = { vocabSize: 11, dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 12, maxLen: 6, ropeBase: 100, normEps: 1e-5 };
    const weights = randomLlamaWeights(arch, 9);
    const training = buildTrainingGraph(llamaDefinition(arch), { weights });
    const session = await OnnxSession.create(training.toBytes(), { intraOpThreads: 1 });
    const sequences = randomTokens(2, 5, arch.vocabSize, 10);
    const inputs = { [TOKENS_INPUT]: int64(sequences.flat(), [2, 5]) };
    const rng = mulberry32(11);
    const upstream = Float32Array.from({ length: 2 * 5 * arch.vocabSize }, () => 2 * rng() - 1);
    try {
      const { gradients } = await training.run(session, inputs, weights, { [LOGITS_OUTPUT]: { dtype: 'float32', shape: [2, 5, arch.vocabSize], data: upstream } });
      // Σ upstream · logits in float64, from the independent reference forward.
      const objective = (): number => referenceLogits(arch, weights, sequences).reduce((s, seq, b) => s + seq.reduce((t, v, i) => t + v * upstream[b * seq.length + i], 0), 0);
      let worst = 0;
      const step = 1e-3;
      for (const p of training.parameters) {
        const data = weights[p.name];
        const picks = mulberry32(data.length);
        for (let n = 0; n < 4; n++) {
          const i = Math.floor(picks() * data.length);
          const saved = data[i];
          data[i] = saved + step;
          const [high, up] = [data[i], objective()];
          data[i] = saved - step;
          const [low, down] = [data[i], objective()];
          data[i] = saved;
          const fd = (up - down) / (high - low);
          const scale = Math.max(0.1, Math.abs(fd));
          worst = Math.max(worst, Math.abs(gradients[p.name][i] - fd) / scale);
        }
      }
      console.log(`# LLaMA gradients: worst relative error ${worst.toExponential(2)} over ${training.parameters.length} parameters`);
      assert.ok(worst < 1e-2, `gradient off by ${worst} (relative) from finite differences`);
    } finally {
      await session.dispose();
    }
  });
});

/** Pairs where the English follows from the gloss by a fixed rule, so a tiny model can learn it. */
function templatePairs(count: number, seed: number): TextPair[] {
  const rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const who = [['I', 'I'], ['YOU', 'you'], ['MY SISTER', 'my sister'], ['TEACHER', 'the teacher']] as const;
  const what = [['BOOK', 'a book'], ['CAR', 'a car'], ['COFFEE', 'coffee'], ['HOUSE', 'a house']] as const;
  const verbs = [['BUY', 'bought'], ['WANT', 'wanted'], ['LIKE', 'liked']] as const;
  return Array.from({ length: count }, (_, i) => {
    const [[gw, ew], [go, eo], [gv, ev]] = [pick(who), pick(what), pick(verbs)];
    const english = `${ew} ${ev} ${eo}.`;
    return { id: `pair-${i}`, gloss: `YESTERDAY ${gw} ${go} ${gv}`, english: `Yesterday ${english}` };
  });
}

describe('decoder task: pairs, training, GGUF bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-train-llama-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pairs = templatePairs(48, 1);
  const tokenizer = trainTokenizer(
    pairs.flatMap((p) => [p.gloss, p.english]),
    { vocabSize: 340 },
  );
  const arch: LlamaArchitecture = { vocabSize: tokenizer.size, dim: 32, layers: 1, heads: 4, kvHeads: 2, ffnDim: 64, maxLen: 64, ropeBase: 10000, normEps: 1e-5 };

  it('pairItems: <s> gloss <sep> english </s>, labels on the English and </s> only; bad pairs skipped with reasons', () => {
    const long = { id: 'long', gloss: 'WORD '.repeat(60), english: 'Many words.' };
    const { items, skipped } = pairItems([pairs[0], { id: 'no-gloss', gloss: ' ', english: 'x' }, { id: 'no-english', gloss: 'X', english: '' }, long], tokenizer, arch.maxLen);
    assert.deepEqual(
      skipped.map((s) => [s.id, s.reason.replace(/\(.*\)/, '(…)')]),
      [
        ['no-gloss', 'pair "no-gloss": empty pseudo-gloss'],
        ['no-english', 'pair "no-english": empty English'],
        ['long', `pair "long": ${tokenizer.encode(long.gloss).length + tokenizer.encode(long.english).length + 3} tokens with <s>, <sep> and </s> (…); maxLen 64 takes 65`],
      ],
    );
    const [item] = items;
    const gloss = tokenizer.encode(pairs[0].gloss);
    const english = tokenizer.encode(pairs[0].english);
    const sequence = [tokenizer.bos, ...gloss, tokenizer.sep, ...english, tokenizer.eos];
    assert.deepEqual(item.input.shape, [sequence.length - 1, 1]);
    assert.deepEqual(Array.from(item.input.data), sequence.slice(0, -1));
    assert.deepEqual(Array.from(item.frameLabels!), [...gloss.map(() => -1), -1, ...english, tokenizer.eos]);
    assert.deepEqual(item.target, [...english, tokenizer.eos]);
  });

  it("is registered as kind 'decoder' and refuses a tokenizer of another size", () => {
    assert.ok(TRAIN_KINDS.includes('decoder'));
    assert.throws(() => TRAIN_TASKS.decoder({ architecture: { ...arch, vocabSize: arch.vocabSize + 1 }, tokenizer }), inputError(/the tokenizer has \d+ tokens, the architecture's vocabSize is \d+/));
  });

  it('GGUF export refuses missing, extra or mis-sized weights, naming them', () => {
    const weights = randomLlamaWeights(arch, 1);
    const path = join(dir, 'bad.gguf');
    const attempt = (w: Record<string, Float32Array>) => () => exportLlamaGguf(path, { architecture: arch, weights: w, tokenizer, name: 'bad' });
    const { ['blk.0.ffn_up.weight']: _dropped, ...missing } = weights;
    assert.throws(attempt(missing), inputError(/weight 'blk\.0\.ffn_up\.weight' is missing/));
    assert.throws(attempt({ ...weights, 'blk.1.attn_q.weight': new Float32Array(4) }), inputError(/weights not in the architecture: blk\.1\.attn_q\.weight/));
    assert.throws(attempt({ ...weights, 'output_norm.weight': new Float32Array(3) }), inputError(/weight 'output_norm\.weight' has 3 values, \[32\] needs 32/));
  });

  it('a short training run drives the loss down, and writes decoder.gguf with its manifest', async () => {
    const { items, skipped } = pairItems(pairs, tokenizer, arch.maxLen);
    assert.equal(skipped.length, 0);
    const task = TRAIN_TASKS.decoder({ architecture: arch, tokenizer, provenance: { data: 'template pairs' } });
    const config = resolveTrainConfig({ format: 'signweave-train/1', seed: 3, epochs: 30, batchSize: 8, optimizer: { lr: 0.01 }, schedule: { warmupSteps: 10, minLr: 1e-4 }, dropout: 0 });
    const losses: number[] = [];
    const out = join(dir, 'decoder');
    const set = TrainingSet.fromArrays(items);
    const evalSet = TrainingSet.fromArrays(items.slice(0, 8));
    const result = await train({ task, set, evalSet, config, out, threads: 1, name: 'test-decoder', onProgress: (e: TrainProgress) => void (e.type === 'step' && losses.push(e.loss)) });
    const first = losses.slice(0, 6).reduce((a, b) => a + b, 0) / 6;
    const last = losses.slice(-6).reduce((a, b) => a + b, 0) / 6;
    console.log(`# decoder training: ${losses.length} steps, ${result.msPerStep.toFixed(1)} ms/step, loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    assert.ok(first > 3 && last < 0.5, `loss ${first} → ${last}`);
    // Next-token accuracy over the English of pairs it was trained on.
    assert.ok(result.evalAccuracy! > 0.9, `eval accuracy ${result.evalAccuracy}`);
    const manifest = result.bundle as unknown as DecoderModelManifest;
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'decoder.json'), 'utf8')), manifest);
    assert.equal(manifest.kind, 'decoder');
    assert.equal(manifest.file, 'decoder.gguf');
    assert.equal(manifest.parameters, llamaParameters(arch).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0));
    assert.deepEqual(manifest.tokenizer, { size: tokenizer.size, sha256: tokenizer.sha256() });
    const info = await readGgufFileInfo(join(out, 'decoder.gguf'), { logWarnings: false });
    const meta = info.metadata as unknown as { general: { name: string }; llama: { block_count: number }; signweave: { decoder: { provenance: string } } };
    assert.equal(meta.general.name, 'test-decoder');
    assert.equal(meta.llama.block_count, 1);
    assert.equal(JSON.parse(meta.signweave.decoder.provenance).data, 'template pairs');
  });
});
