// LoRA adapters on the real stories260K GGUF (1 thread, CPU): the adapter format written by test/helpers/lora.ts is
// proved against a merged model (W + s·α/r·B·A written with writeGguf), then used through the decoder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Token } from 'node-llama-cpp';
import { createDecoder, type Decoder, type DecoderOptions, type DecoderOutput } from '../../src/decoder/index.js';
import { writeGguf } from '../../src/llm/gguf.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { sha256File } from '../../src/util/hash.js';
import { inputError, maxDiff } from '../helpers/assert.js';
import { mergeLora, readF32Tensors, readMetadataEntries, writeLoraAdapter, type LoraAdapterSpec } from '../helpers/lora.js';
import { sharedPath } from '../helpers/shared.js';

const modelPath = sharedPath('models', 'stories260K', 'stories260K.gguf');
const PROMPT = { instruction: 'Translate ASL gloss to English.', fewShot: [{ gloss: 'DOG RUN', english: 'The dog runs.' }] };
const GLOSSES = ['YESTERDAY I STORE GO', 'YOUR NAME WHAT', 'HOUSE BIG'];
// Non-square matrices in both directions, attention and feed-forward, several layers, and the output projection.
const TARGETS = ['blk.0.ffn_gate.weight', 'blk.1.ffn_down.weight', 'blk.2.attn_k.weight', 'blk.4.attn_q.weight', 'output.weight'];
const SPEC: LoraAdapterSpec = { targets: TARGETS, rank: 4, alpha: 8, seed: 7 };

describe('LoRA adapters on stories260K', () => {
  let runtime: LlamaRuntime;
  let dir: string;
  let random: string;
  let zeroB: string;
  let baseline: DecoderOutput[];
  const open: Decoder[] = [];
  const make = async (options: Partial<DecoderOptions> = {}): Promise<Decoder> => {
    const d = await createDecoder({ model: modelPath, runtime, threads: 1, contextSize: 256, prompt: PROMPT, ...options });
    open.push(d);
    return d;
  };
  const texts = async (d: Decoder) => (await d.translateMany(GLOSSES)).map((o) => o.raw);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-lora-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    random = join(dir, 'random.gguf');
    zeroB = join(dir, 'zero-b.gguf');
    await writeLoraAdapter(random, modelPath, SPEC);
    await writeLoraAdapter(zeroB, modelPath, { ...SPEC, zeroB: true });
    baseline = await (await make()).translateMany(GLOSSES);
  });
  after(async () => {
    for (const d of open) await d.dispose();
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Next-token probabilities after each prefix of a fixed text (F32 KV cache, so runs compare exactly). */
  async function probabilities(model: string, lora?: { filePath: string; scale: number }): Promise<Float64Array> {
    const loaded = await runtime.loadModel(model);
    const context = await loaded.model.createContext({
      contextSize: 256,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      ...(lora && { lora: { adapters: [lora] } }),
    });
    try {
      const tokens = loaded.model.tokenize('Once upon a time, there was a little dog named Max.');
      const vocab = loaded.model.fileInfo.metadata.tokenizer.ggml.tokens.length;
      const out = await context.getSequence().controlledEvaluate(tokens.map((t): [Token, { generateNext: { probabilities: true } }] => [t, { generateNext: { probabilities: true } }]));
      const probs = new Float64Array(tokens.length * vocab);
      out.forEach((o, i) => o?.next.probabilities?.forEach((p, token) => (probs[i * vocab + token] = p)));
      return probs;
    } finally {
      await context.dispose();
    }
  }

  it('the format is right: the base model with the adapter at scale s computes what W + s·(alpha/rank)·B·A computes', async () => {
    const scale = 0.7;
    const merged = join(dir, 'merged.gguf');
    const adapters = await writeLoraAdapter(join(dir, 'proof.gguf'), modelPath, SPEC);
    writeGguf(merged, { metadata: await readMetadataEntries(modelPath), tensors: mergeLora(await readF32Tensors(modelPath), adapters, { ...SPEC, scale }) });
    const base = await probabilities(modelPath);
    const withAdapter = await probabilities(modelPath, { filePath: join(dir, 'proof.gguf'), scale });
    const mergedProbs = await probabilities(merged);
    assert.ok(maxDiff(withAdapter, mergedProbs) < 1e-5, `adapter vs merged: ${maxDiff(withAdapter, mergedProbs)}`);
    assert.ok(maxDiff(withAdapter, base) > 0.05, `adapter vs base: ${maxDiff(withAdapter, base)}`);
  });

  it('an adapter whose B is all zero changes nothing', async () => {
    const d = await make({ lora: [{ path: zeroB }] });
    assert.deepEqual(await texts(d), baseline.map((o) => o.raw));
  });

  it('scale 0 changes nothing', async () => {
    const d = await make({ lora: [{ path: random, scale: 0 }] });
    assert.deepEqual(await texts(d), baseline.map((o) => o.raw));
  });

  it('a random adapter changes the greedy text, and provenance names it', async () => {
    const d = await make({ lora: [{ path: random, scale: 1.5 }] });
    const adapted = await texts(d);
    assert.notDeepEqual(adapted, baseline.map((o) => o.raw));
    assert.deepEqual(d.provenance.lora, [{ path: random, sha256: await sha256File(random), scale: 1.5 }]);
    // Without the adapter, the shared model still gives the baseline: adapters belong to a context.
    assert.deepEqual(await texts(await make()), baseline.map((o) => o.raw));
  });

  it('bad adapter files are input errors naming the option and the path', async () => {
    const missing = join(dir, 'missing.gguf');
    await assert.rejects(make({ lora: [{ path: zeroB }, { path: missing }] }), inputError(new RegExp(`^lora\\[1\\]: LoRA adapter: model file not found: ${missing}$`)));
    const junk = join(dir, 'junk.gguf');
    writeFileSync(junk, 'not an adapter');
    await assert.rejects(make({ lora: [{ path: junk }] }), inputError(/^lora\[0\]: LoRA adapter: not a GGUF model file: .*junk\.gguf/));
    await assert.rejects(
      make({ lora: [{ path: modelPath }] }),
      inputError(/^lora\[0\]: .*stories260K\.gguf is not a LoRA adapter: its GGUF metadata has general\.type null and adapter\.type null, expected "adapter" and "lora"$/),
    );
    const gpt2 = join(dir, 'gpt2.gguf');
    writeGguf(gpt2, {
      metadata: [
        { key: 'general.architecture', type: 'string', value: 'gpt2' },
        { key: 'general.type', type: 'string', value: 'adapter' },
        { key: 'adapter.type', type: 'string', value: 'lora' },
      ],
      tensors: [],
    });
    await assert.rejects(make({ lora: [{ path: gpt2 }] }), inputError(/^lora\[0\]: .*gpt2\.gguf is a LoRA adapter for architecture "gpt2", but the model .* is "llama"$/));
  });

  it('an adapter llama.cpp refuses (wrong shape) is an input error naming it', async () => {
    const wrong = join(dir, 'wrong-shape.gguf');
    const rank = 4;
    writeGguf(wrong, {
      metadata: [
        { key: 'general.architecture', type: 'string', value: 'llama' },
        { key: 'general.type', type: 'string', value: 'adapter' },
        { key: 'adapter.type', type: 'string', value: 'lora' },
        { key: 'adapter.lora.alpha', type: 'float32', value: 8 },
      ],
      // blk.0.ffn_gate.weight is [64, 172]: A and B swapped.
      tensors: [
        { name: 'blk.0.ffn_gate.weight.lora_a', dims: [rank, 172], data: new Float32Array(rank * 172) },
        { name: 'blk.0.ffn_gate.weight.lora_b', dims: [64, rank], data: new Float32Array(rank * 64) },
      ],
    });
    await assert.rejects(make({ lora: [{ path: wrong }] }), inputError(/^cannot apply the LoRA adapter .*wrong-shape\.gguf to .*stories260K\.gguf: /));
  });

  it('an adapter rewritten in place after llama.cpp loaded it is refused (llama.cpp would keep the old weights)', async () => {
    const path = join(dir, 'rewritten.gguf');
    await writeLoraAdapter(path, modelPath, SPEC);
    await make({ lora: [{ path }] });
    await writeLoraAdapter(path, modelPath, { ...SPEC, seed: 8 });
    await assert.rejects(make({ lora: [{ path }] }), inputError(/^lora\[0\]: .*rewritten\.gguf changed since llama\.cpp loaded it into .*stories260K\.gguf/));
  });
});
