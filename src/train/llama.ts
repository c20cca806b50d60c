/**
 * The pseudo-gloss → English decoder signweave trains itself (issue 8): a LLaMA-architecture language model on the
 * graph builder — token embedding, per layer RMSNorm, causal multi-head attention with RoPE and optional grouped
 * query heads, RMSNorm, SwiGLU feed-forward — and the `decoder` training task over (pseudo-gloss, English) pairs.
 *
 * The graph is llama.cpp's computation, so the weights export to GGUF unchanged in meaning (src/train/llama-gguf.ts):
 * parameters carry llama.cpp's tensor names (`blk.0.attn_q.weight`, stored `[in, out]` as src/graph/modules.ts stores
 * Linear weights), and RoPE rotates adjacent pairs (2j, 2j+1) with θ_j = pos · base^(−2j/headDim), llama.cpp's
 * "llama" layout.
 *
 * A sequence is `<s> gloss <sep> english </s>` (src/llm/trained-format.ts); the loss is the cross-entropy of the
 * English tokens and `</s>`. Batches are padded at the end: attention is causal, so padding never reaches a real
 * position.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { LOGITS_OUTPUT } from '../experts/shared.js';
import type { GraphBuilder, ParamSpec, Value } from '../graph/builder.js';
import { float32, int64, type HostTensor } from '../graph/tensor.js';
import { exportLlamaGguf } from './llama-gguf.js';
import type { LlamaTokenizer } from '../llm/tokenizer.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { GraphDefinition } from './autodiff.js';
import type { SkippedItem, TrainingItem } from './data.js';
import { crossEntropy } from './loss.js';
import type { TrainingTask } from './tasks.js';

export interface LlamaArchitecture {
  vocabSize: number;
  dim: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`; must divide it). */
  kvHeads: number;
  ffnDim: number;
  /** Longest sequence the graph takes (RoPE and mask tables are built for it); llama.context_length in the GGUF. */
  maxLen: number;
  ropeBase: number;
  normEps: number;
}

/** int64 `[B, T]` token ids in; float32 `[B, T, vocabSize]` next-token logits out (`LOGITS_OUTPUT`, as every task's). */
export const TOKENS_INPUT = 'tokens';
export { LOGITS_OUTPUT };

/** Initial weights of the projections and the embedding: N(0, 0.02²), GPT-2's and LLaMA's convention. */
const INIT_STD = 0.02;
/** The additive bias of future positions: softmax gives them exactly 0. */
const FUTURE = -1e9;

export function checkLlamaArchitecture(arch: LlamaArchitecture): void {
  const where = 'LLaMA architecture';
  for (const key of ['vocabSize', 'dim', 'layers', 'heads', 'kvHeads', 'ffnDim', 'maxLen'] as const) {
    if (!Number.isInteger(arch[key]) || arch[key] < 1) throw new SignweaveInputError(`${where}: ${key} must be a positive integer, got ${arch[key]}`);
  }
  for (const key of ['ropeBase', 'normEps'] as const) {
    if (!(typeof arch[key] === 'number' && arch[key] > 0 && Number.isFinite(arch[key]))) throw new SignweaveInputError(`${where}: ${key} must be a positive number, got ${arch[key]}`);
  }
  if (arch.dim % arch.heads !== 0) throw new SignweaveInputError(`${where}: dim ${arch.dim} does not divide into ${arch.heads} heads`);
  if ((arch.dim / arch.heads) % 2 !== 0) throw new SignweaveInputError(`${where}: the head size ${arch.dim / arch.heads} must be even (RoPE rotates pairs)`);
  if (arch.heads % arch.kvHeads !== 0) throw new SignweaveInputError(`${where}: kvHeads ${arch.kvHeads} must divide heads ${arch.heads}`);
}

/** Every parameter of the model: llama.cpp's tensor names, graph shapes (`[in, out]` for projections). */
export function llamaParameters(arch: LlamaArchitecture): ParamSpec[] {
  const { vocabSize: V, dim: d, ffnDim: f } = arch;
  const kv = (d / arch.heads) * arch.kvHeads;
  const normal = { kind: 'normal', std: INIT_STD } as const;
  const ones = { kind: 'constant', value: 1 } as const;
  const matrix = (name: string, rows: number, cols: number): ParamSpec => ({ name: `${name}.weight`, shape: [rows, cols], init: normal });
  const norm = (name: string): ParamSpec => ({ name: `${name}.weight`, shape: [d], init: ones });
  const blocks = Array.from({ length: arch.layers }, (_, l) => {
    const b = `blk.${l}`;
    return [
      norm(`${b}.attn_norm`),
      matrix(`${b}.attn_q`, d, d),
      matrix(`${b}.attn_k`, d, kv),
      matrix(`${b}.attn_v`, d, kv),
      matrix(`${b}.attn_output`, d, d),
      norm(`${b}.ffn_norm`),
      matrix(`${b}.ffn_gate`, d, f),
      matrix(`${b}.ffn_up`, d, f),
      matrix(`${b}.ffn_down`, f, d),
    ];
  });
  return [matrix('token_embd', V, d), ...blocks.flat(), norm('output_norm'), matrix('output', d, V)];
}

/**
 * cos and sin of every (position, pair) for `maxLen` positions, each value repeated for both members of its pair
 * (`[maxLen, headDim]`). θ is stepped in float32 as ggml's rope cache does, so the exported model matches.
 */
export function ropeTables(arch: LlamaArchitecture): { cos: Float32Array; sin: Float32Array } {
  const headDim = arch.dim / arch.heads;
  const cos = new Float32Array(arch.maxLen * headDim);
  const sin = new Float32Array(arch.maxLen * headDim);
  const scale = Math.fround(Math.pow(Math.fround(arch.ropeBase), Math.fround(-2 / headDim)));
  for (let p = 0; p < arch.maxLen; p++) {
    let theta = Math.fround(p);
    for (let i = 0; i < headDim; i += 2) {
      cos[p * headDim + i] = cos[p * headDim + i + 1] = Math.cos(theta);
      sin[p * headDim + i] = sin[p * headDim + i + 1] = Math.sin(theta);
      theta = Math.fround(theta * scale);
    }
  }
  return { cos, sin };
}

/** The `[headDim, headDim]` matrix P with (x·P)[2j] = −x[2j+1], (x·P)[2j+1] = x[2j]: RoPE is x·cos + (x·P)·sin. */
function pairRotation(headDim: number): Float32Array {
  const p = new Float32Array(headDim * headDim);
  for (let j = 0; j < headDim; j += 2) {
    p[(j + 1) * headDim + j] = -1;
    p[j * headDim + j + 1] = 1;
  }
  return p;
}

/** The graph: `tokens` int64 [B, T] → `logits` [B, T, vocabSize], T ≤ maxLen. */
export function llamaDefinition(arch: LlamaArchitecture): GraphDefinition {
  checkLlamaArchitecture(arch);
  const { dim: d, heads, kvHeads, maxLen } = arch;
  const headDim = d / heads;
  const params = new Map(llamaParameters(arch).map((p) => [p.name, p]));
  const { cos, sin } = ropeTables(arch);
  const causal = new Float32Array(maxLen * maxLen);
  for (let i = 0; i < maxLen; i++) causal.fill(FUTURE, i * maxLen + i + 1, (i + 1) * maxLen);

  return (g: GraphBuilder) => {
    const param = (name: string): Value => g.parameter(params.get(`${name}.weight`)!, params);
    const project = (x: Value, name: string): Value => g.scope(name, () => g.matmul(x, param(name)));
    const rmsNorm = (x: Value, name: string): Value =>
      g.scope(name, () => {
        const rms = g.op('Sqrt', [g.add(g.reduceMean(g.mul(x, x), [-1]), arch.normEps)])[0];
        return g.mul(g.div(x, rms), param(name));
      });

    const tokens = g.input(TOKENS_INPUT, 'int64', ['B', 'T']);
    const batchAndLength = g.shapeOf(tokens);
    const length = g.shapeOf(tokens, 1, 2);
    const firstRows = (table: Float32Array, width: number): Value => g.slice(g.constant(float32(table, [maxLen, width])), { starts: [0], ends: length, axes: [0] });
    // [T, 1, headDim]: broadcast over the batch and the heads of [B, T, heads, headDim].
    const [cosT, sinT] = [cos, sin].map((t) => g.unsqueeze(firstRows(t, headDim), [1]));
    const rotation = g.constant(float32(pairRotation(headDim), [headDim, headDim]));
    const rope = (x: Value): Value => g.add(g.mul(x, cosT), g.mul(g.matmul(x, rotation), sinT));
    const mask = g.slice(g.constant(float32(causal, [maxLen, maxLen])), { starts: [0, 0], ends: g.concat([length, length], 0), axes: [0, 1] });
    // Positions are rows of one [B·T, ·] matrix except inside attention: each projection's weight gradient is then
    // one matrix product, not one per sequence summed over the batch (which took most of the backward pass).
    const splitHeads = (x: Value, n: number): Value => g.reshape(x, g.concat([batchAndLength, g.ints([n, headDim])], 0));
    // llama.cpp gives query head h the key/value head ⌊h / (heads / kvHeads)⌋.
    const repeatKv = (x: Value): Value => (kvHeads === heads ? x : g.reshape(g.expand(g.unsqueeze(x, [3]), [1, 1, 1, heads / kvHeads, 1]), [0, 0, heads, headDim]));

    let x = g.scope('token_embd', () => g.gather(param('token_embd'), g.reshape(tokens, [-1]), 0)); // [B·T, d]
    for (let l = 0; l < arch.layers; l++) {
      const b = `blk.${l}`;
      x = g.scope(b, () => {
        const h = rmsNorm(x, `${b}.attn_norm`);
        const q = g.transpose(rope(splitHeads(project(h, `${b}.attn_q`), heads)), [0, 2, 1, 3]); // [B, heads, T, dh]
        const k = g.transpose(repeatKv(rope(splitHeads(project(h, `${b}.attn_k`), kvHeads))), [0, 2, 3, 1]); // [B, heads, dh, T]
        const v = g.transpose(repeatKv(splitHeads(project(h, `${b}.attn_v`), kvHeads)), [0, 2, 1, 3]); // [B, heads, T, dh]
        const scores = g.add(g.matmul(g.mul(q, 1 / Math.sqrt(headDim)), k), mask);
        const context = g.reshape(g.transpose(g.matmul(g.softmax(scores, -1), v), [0, 2, 1, 3]), [-1, d]);
        const y = g.add(x, project(context, `${b}.attn_output`));
        const f = rmsNorm(y, `${b}.ffn_norm`);
        const gate = project(f, `${b}.ffn_gate`);
        return g.add(y, project(g.mul(g.mul(gate, g.sigmoid(gate)), project(f, `${b}.ffn_up`)), `${b}.ffn_down`));
      });
    }
    const logits = project(rmsNorm(x, 'output_norm'), 'output');
    g.output(g.reshape(logits, g.concat([batchAndLength, g.ints([arch.vocabSize])], 0)), LOGITS_OUTPUT);
  };
}

// -----------------------------------------------------------------------------------------------------------------
// Pairs and the training task

export interface TextPair {
  id: string;
  gloss: string;
  english: string;
}

/**
 * Training items of (pseudo-gloss, English) pairs: `input` the sequence's token ids but the last as float32 `[T, 1]`,
 * `frameLabels` the next token at each position (−1 over the gloss, where there is no loss), `target` the English ids
 * and `</s>`. Pairs with an empty side or longer than maxLen + 1 tokens are skipped with the reason.
 */
export function pairItems(pairs: readonly TextPair[], tokenizer: LlamaTokenizer, maxLen: number): { items: TrainingItem[]; skipped: SkippedItem[] } {
  const items: TrainingItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const { id, gloss, english } of pairs) {
    const skip = (reason: string): void => void skipped.push({ id, reason: `pair "${id}": ${reason}` });
    if (gloss.trim() === '') {
      skip('empty pseudo-gloss');
      continue;
    }
    if (english.trim() === '') {
      skip('empty English');
      continue;
    }
    const glossIds = tokenizer.encode(gloss);
    const englishIds = tokenizer.encode(english);
    const sequence = [tokenizer.bos, ...glossIds, tokenizer.sep, ...englishIds, tokenizer.eos];
    if (sequence.length > maxLen + 1) {
      skip(`${sequence.length} tokens with <s>, <sep> and </s> (${glossIds.length} gloss, ${englishIds.length} English); maxLen ${maxLen} takes ${maxLen + 1}`);
      continue;
    }
    const T = sequence.length - 1;
    // Position t predicts token t + 1; the English starts after <sep>, at index glossIds.length + 2.
    const firstLabelled = glossIds.length + 1;
    const frameLabels = Int32Array.from({ length: T }, (_, t) => (t >= firstLabelled ? sequence[t + 1] : -1));
    items.push({ id, input: { data: Float32Array.from(sequence.slice(0, T)), shape: [T, 1] }, target: sequence.slice(firstLabelled + 1), frameLabels });
  }
  return { items, skipped };
}

/** What `decoderTask`'s writeBundle writes beside `decoder.gguf` (as `decoder.json`) and returns. */
export interface DecoderModelManifest {
  kind: 'decoder';
  name: string;
  version: string;
  /** The GGUF file name in the folder. */
  file: string;
  sha256: string;
  architecture: LlamaArchitecture;
  tokenizer: { size: number; sha256: string };
  tensorType: 'f32' | 'f16';
  parameters: number;
}

export const DECODER_GGUF_FILE = 'decoder.gguf';
export const DECODER_MANIFEST_FILE = 'decoder.json';

/** Argmax hits of the labelled rows of `[N, V]` logits. */
function correctTokens(logits: Float32Array, labels: Int32Array, V: number): { correct: number; counted: number } {
  let correct = 0;
  let counted = 0;
  labels.forEach((label, i) => {
    if (label < 0) return;
    counted++;
    let best = 0;
    for (let c = 1; c < V; c++) if (logits[i * V + c] > logits[i * V + best]) best = c;
    if (best === label) correct++;
  });
  return { correct, counted };
}

/**
 * The `decoder` training task: one padded run per batch (`[B, T, 1]` token ids become int64 `tokens` [B, T]), mean
 * cross-entropy over the labelled positions (evaluation accuracy = next-token accuracy there); `writeBundle` exports
 * the GGUF.
 */
export function decoderTask(arch: LlamaArchitecture, tokenizer: LlamaTokenizer, options: { tensorType?: 'f32' | 'f16'; provenance?: Record<string, unknown> } = {}): TrainingTask {
  checkLlamaArchitecture(arch);
  if (tokenizer.size !== arch.vocabSize) throw new SignweaveInputError(`decoder task: the tokenizer has ${tokenizer.size} tokens, the architecture's vocabSize is ${arch.vocabSize}`);
  const definition = llamaDefinition(arch);
  const tensorType = options.tensorType ?? 'f32';
  return {
    kind: 'decoder',
    architecture: { ...arch },
    takesRandomInputs: false,
    define: () => definition,
    runs: (batch) => {
      const [B, T, D] = batch.shape;
      if (D !== 1) throw new SignweaveInputError(`decoder task: batch items ${batch.ids.join(', ')} have ${D} values per position; token ids (1) expected`);
      if (T > arch.maxLen) throw new SignweaveInputError(`decoder task: batch item ${batch.ids[batch.lengths.indexOf(T)]} has ${T} tokens, more than maxLen ${arch.maxLen}`);
      const labels = batch.frameLabels;
      if (!labels) throw new SignweaveInputError(`decoder task: batch items ${batch.ids.join(', ')} have no next-token labels (make them with pairItems)`);
      const tokens: HostTensor = int64(Array.from(batch.inputs, Math.round), [B, T]);
      return [
        {
          inputs: { [TOKENS_INPUT]: tokens },
          loss: (outputs, context) => {
            const logits = outputs[LOGITS_OUTPUT];
            const V = logits.shape[2];
            const data = logits.data as Float32Array;
            const ce = crossEntropy({ data, shape: [B * T, V] }, labels, { ignoreIndex: -1 });
            // Accuracy is reported for evaluations only; a training step skips the extra pass over the logits.
            return { loss: ce.loss, grads: { [LOGITS_OUTPUT]: float32(ce.grad, logits.shape) }, ...(context.training ? {} : correctTokens(data, labels, V)) };
          },
        },
      ];
    },
    writeBundle: (dir, weights, bundle) => {
      mkdirSync(dir, { recursive: true });
      const version = bundle.version ?? '1.0.0';
      const provenance = { ...options.provenance, ...bundle.provenance, name: bundle.name, version };
      const { sha256 } = exportLlamaGguf(join(dir, DECODER_GGUF_FILE), { architecture: arch, weights, tokenizer, name: bundle.name, tensorType, provenance });
      const manifest: DecoderModelManifest = {
        kind: 'decoder',
        name: bundle.name,
        version,
        file: DECODER_GGUF_FILE,
        sha256,
        architecture: { ...arch },
        tokenizer: { size: tokenizer.size, sha256: tokenizer.sha256() },
        tensorType,
        parameters: Object.values(weights).reduce((n, w) => n + w.length, 0),
      };
      writeFileAtomic(join(dir, DECODER_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      return manifest;
    },
  };
}
