// A LLaMA built by src/train/llama.ts with random weights, exported by exportLlamaGguf, loaded by node-llama-cpp
// (1 thread, CPU, F32 KV cache, flash attention off): llama.cpp's next-token distribution at every position must equal
// the ONNX Runtime forward of the same weights. node-llama-cpp 3.21 gives probabilities, not logits, so the logits are
// compared as log-probabilities (logits less each row's log-sum-exp) wherever p > 1e-6, and as probabilities
// everywhere. The tokenizer is trained on How2Sign sentences, as the real decoder's is.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGgufFileInfo, type Token } from 'node-llama-cpp';
import { GraphBuilder, initialValues } from '../../src/graph/builder.js';
import { OnnxSession } from '../../src/graph/session.js';
import { int64 } from '../../src/graph/tensor.js';
import { exportLlamaGguf } from '../../src/train/llama-gguf.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { trainTokenizer, type LlamaTokenizer } from '../../src/llm/tokenizer.js';
import { TRAINED_DECODER_FORMAT } from '../../src/llm/trained-format.js';
import { LOGITS_OUTPUT, TOKENS_INPUT, llamaDefinition, llamaParameters, type LlamaArchitecture } from '../../src/train/llama.js';
import { sharedPath } from '../helpers/shared.js';

const SENTENCES = readFileSync(sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl'), 'utf8')
  .split('\n')
  .slice(0, 400)
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { text: string }).text);

const GLOSS = 'YESTERDAY MY SISTER CAR BUY';
const ENGLISH = "Yesterday my sister bought a car, and she's happy.";

describe('LLaMA GGUF export: llama.cpp logits = ONNX Runtime logits', () => {
  let runtime: LlamaRuntime;
  let dir: string;
  let tokenizer: LlamaTokenizer;
  let arch: LlamaArchitecture;
  let weights: Record<string, Float32Array>;
  let sequence: number[];
  /** ONNX Runtime's log-softmax of the logits, [T, V] flat. */
  let onnx: Float64Array;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-llama-parity-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    tokenizer = trainTokenizer(SENTENCES, { vocabSize: 600 });
    arch = { vocabSize: tokenizer.size, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffnDim: 160, maxLen: 64, ropeBase: 10000, normEps: 1e-5 };
    // Wider than the training init (0.02), and norms away from 1, so every part of the network shows in the logits.
    weights = Object.fromEntries(
      llamaParameters(arch).map((p) => [p.name, p.shape.length === 1 ? initialValues({ ...p, init: { kind: 'uniform', bound: 0.5 } }, 1).map((v) => 1 + v) : initialValues({ ...p, init: { kind: 'normal', std: 0.15 } }, 1)]),
    );
    sequence = [tokenizer.bos, ...tokenizer.encode(GLOSS), tokenizer.sep, ...tokenizer.encode(ENGLISH), tokenizer.eos];
    const g = new GraphBuilder({ weights });
    llamaDefinition(arch)(g);
    const session = await OnnxSession.create(g.build().toBytes(), { intraOpThreads: 1 });
    try {
      const logits = (await session.run({ [TOKENS_INPUT]: int64(sequence, [1, sequence.length]) }, [LOGITS_OUTPUT]))[LOGITS_OUTPUT].data as Float32Array;
      onnx = new Float64Array(logits.length);
      for (let at = 0; at < logits.length; at += arch.vocabSize) {
        const row = logits.subarray(at, at + arch.vocabSize);
        const max = Math.max(...row);
        const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        row.forEach((v, j) => (onnx[at + j] = v - logZ));
      }
    } finally {
      await session.dispose();
    }
  });
  after(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** llama.cpp's next-token probabilities after each token of `sequence`, [T, V] flat. */
  async function llamaProbabilities(path: string): Promise<Float64Array> {
    const { model } = await runtime.loadModel(path);
    const context = await model.createContext({ contextSize: arch.maxLen, threads: 1, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    try {
      const out = await context.getSequence().controlledEvaluate(sequence.map((t): [Token, { generateNext: { probabilities: true } }] => [t as Token, { generateNext: { probabilities: true } }]));
      assert.equal(out.length, sequence.length);
      const probabilities = new Float64Array(sequence.length * arch.vocabSize);
      out.forEach((o, i) => {
        const row = o?.next.probabilities;
        assert.equal(row?.size, arch.vocabSize, `position ${i}: a probability for every token`);
        row.forEach((p, token) => (probabilities[i * arch.vocabSize + token] = p));
      });
      return probabilities;
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }

  /** Largest |log p − ONNX log-softmax| where p > 1e-6, and largest |p − ONNX softmax| anywhere. */
  function compare(probabilities: Float64Array): { logits: number; probabilities: number } {
    let logits = 0;
    let probs = 0;
    probabilities.forEach((p, i) => {
      if (p > 1e-6) logits = Math.max(logits, Math.abs(Math.log(p) - onnx[i]));
      probs = Math.max(probs, Math.abs(p - Math.exp(onnx[i])));
    });
    return { logits, probabilities: probs };
  }

  it('F32: every position of a gloss <sep> English sequence agrees to < 1e-4, and the metadata says how to prompt it', async () => {
    const path = join(dir, 'f32.gguf');
    const { sha256, bytes } = exportLlamaGguf(path, { architecture: arch, weights, tokenizer, name: 'parity-f32', provenance: { test: 'parity' } });
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.equal(bytes, readFileSync(path).length);
    const diff = compare(await llamaProbabilities(path));
    const spread = Math.max(...onnx) - Math.min(...onnx);
    console.log(`# F32 GGUF vs ONNX: max |Δlogit| ${diff.logits.toExponential(2)}, max |Δp| ${diff.probabilities.toExponential(2)} over ${sequence.length} positions × ${arch.vocabSize} (log-prob range ${spread.toFixed(2)})`);
    assert.ok(spread > 5, 'the random model should give log-probabilities of some range');
    assert.ok(diff.logits < 1e-4 && diff.probabilities < 1e-5, JSON.stringify(diff));
    const info = await readGgufFileInfo(path, { logWarnings: false, readTensorInfo: false });
    const meta = info.metadata as unknown as { general: { file_type: number }; signweave: { decoder: { format: string; sep_token_id: number; provenance: string } } };
    assert.equal(meta.general.file_type, 0);
    assert.deepEqual(meta.signweave.decoder, { format: TRAINED_DECODER_FORMAT, sep_token_id: 3, provenance: '{"test":"parity"}' });
  });

  it('F16: loads (file_type 1, half the matrix bytes) and stays close to the F32 logits', async () => {
    const f32 = exportLlamaGguf(join(dir, 'a.gguf'), { architecture: arch, weights, tokenizer, name: 'parity-f32' });
    const path = join(dir, 'f16.gguf');
    const f16 = exportLlamaGguf(path, { architecture: arch, weights, tokenizer, name: 'parity-f16', tensorType: 'f16' });
    const matrixValues = llamaParameters(arch).reduce((n, p) => n + (p.shape.length === 2 ? p.shape[0] * p.shape[1] : 0), 0);
    assert.ok(Math.abs(f32.bytes - f16.bytes - 2 * matrixValues) < 32 * 20, `F32 ${f32.bytes} B, F16 ${f16.bytes} B`);
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal((info.metadata as unknown as { general: { file_type: number } }).general.file_type, 1);
    assert.deepEqual(new Set(info.tensorInfo!.map((t) => `${t.name.endsWith('norm.weight') ? 'norm' : 'matrix'}:${t.ggmlType}`)), new Set(['norm:0', 'matrix:1']));
    const diff = compare(await llamaProbabilities(path));
    console.log(`# F16 GGUF vs F32 ONNX: max |Δlogit| ${diff.logits.toExponential(2)}, max |Δp| ${diff.probabilities.toExponential(2)}`);
    assert.ok(diff.logits > 1e-5 && diff.logits < 5e-2, JSON.stringify(diff));
  });
});
