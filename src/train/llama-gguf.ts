/**
 * Exports a LLaMA trained by signweave (src/train/llama.ts) as a GGUF file llama.cpp loads as a "llama" model
 * (../shared/design/notes.md, "GGUF for a LLaMA trained here"): llama.cpp's metadata keys, the tokenizer's
 * `tokenizer.ggml.*` keys, and signweave's own (src/llm/trained-format.ts) that say how to prompt it.
 *
 * The graph's parameters already carry llama.cpp's tensor names and its RoPE layout. Projections are stored `[in, out]`
 * in the graph; GGUF wants the `[out][in]` rows with dims `[in, out]`, so their data is transposed. The embedding
 * `[vocab, dim]` is already one row per token. With `tensorType` 'f16' the matrices are written as F16 (general.file_type
 * 1, "mostly F16"); the 1-D norm weights stay F32, as llama.cpp's converters keep them.
 */
import { createHash } from 'node:crypto';
import { SignweaveInputError } from '../errors.js';
import { checkLlamaArchitecture, llamaParameters, type LlamaArchitecture } from './llama.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { encodeGguf, type GgufMetadataEntry, type GgufTensor } from '../llm/gguf.js';
import type { LlamaTokenizer } from '../llm/tokenizer.js';
import { TRAINED_DECODER_FORMAT, TRAINED_GGUF_KEYS } from '../llm/trained-format.js';

export interface LlamaGgufOptions {
  architecture: LlamaArchitecture;
  /** Parameters by graph name (`token_embd.weight`, `blk.0.attn_q.weight`, …), laid out as the graph holds them. */
  weights: Record<string, Float32Array>;
  tokenizer: LlamaTokenizer;
  /** general.name */
  name: string;
  /** Default 'f32'. */
  tensorType?: 'f32' | 'f16';
  /** Written as JSON under signweave.decoder.provenance. */
  provenance?: Record<string, unknown>;
}

/** `[rows, cols]` row-major → `[cols, rows]` row-major. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** llama.cpp's metadata for the architecture. */
function llamaMetadata(arch: LlamaArchitecture, name: string, tensorType: 'f32' | 'f16'): GgufMetadataEntry[] {
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: 'uint32', value });
  const f32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: 'float32', value });
  return [
    { key: 'general.architecture', type: 'string', value: 'llama' },
    { key: 'general.name', type: 'string', value: name },
    u32('general.file_type', tensorType === 'f16' ? 1 : 0),
    u32('llama.context_length', arch.maxLen),
    u32('llama.embedding_length', arch.dim),
    u32('llama.feed_forward_length', arch.ffnDim),
    u32('llama.block_count', arch.layers),
    u32('llama.attention.head_count', arch.heads),
    u32('llama.attention.head_count_kv', arch.kvHeads),
    f32('llama.attention.layer_norm_rms_epsilon', arch.normEps),
    u32('llama.rope.dimension_count', arch.dim / arch.heads),
    f32('llama.rope.freq_base', arch.ropeBase),
    u32('llama.vocab_size', arch.vocabSize),
  ];
}

/** Writes the GGUF atomically; returns its sha256 and size. Missing, extra or mis-sized weights are input errors naming them. */
export function exportLlamaGguf(path: string, options: LlamaGgufOptions): { sha256: string; bytes: number } {
  const { architecture: arch, weights, tokenizer } = options;
  checkLlamaArchitecture(arch);
  const tensorType = options.tensorType ?? 'f32';
  if (tensorType !== 'f32' && tensorType !== 'f16') throw new SignweaveInputError(`LLaMA GGUF export: tensorType must be 'f32' or 'f16', got ${JSON.stringify(tensorType)}`);
  if (tokenizer.size !== arch.vocabSize) throw new SignweaveInputError(`LLaMA GGUF export: the tokenizer has ${tokenizer.size} tokens, the architecture's vocabSize is ${arch.vocabSize}`);
  const specs = llamaParameters(arch);
  const expected = new Set(specs.map((s) => s.name));
  const extra = Object.keys(weights).filter((k) => !expected.has(k));
  if (extra.length > 0) throw new SignweaveInputError(`LLaMA GGUF export: weights not in the architecture: ${extra.slice(0, 5).join(', ')}`);
  const tensors: GgufTensor[] = specs.map((spec) => {
    const data = weights[spec.name];
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!(data instanceof Float32Array)) throw new SignweaveInputError(`LLaMA GGUF export: weight '${spec.name}' is missing`);
    if (data.length !== size) throw new SignweaveInputError(`LLaMA GGUF export: weight '${spec.name}' has ${data.length} values, [${spec.shape.join(', ')}] needs ${size}`);
    if (spec.shape.length === 1) return { name: spec.name, dims: spec.shape, data, type: 'f32' };
    const [rows, cols] = spec.shape;
    // The embedding is looked up by row (one per token); projections are x·W in the graph, W·x in ggml.
    const stored = spec.name === 'token_embd.weight' ? { dims: [cols, rows], data } : { dims: [rows, cols], data: transpose(data, rows, cols) };
    return { name: spec.name, ...stored, type: tensorType };
  });
  const metadata: GgufMetadataEntry[] = [
    ...llamaMetadata(arch, options.name, tensorType),
    ...tokenizer.ggufMetadata(),
    { key: TRAINED_GGUF_KEYS.format, type: 'string', value: TRAINED_DECODER_FORMAT },
    { key: TRAINED_GGUF_KEYS.sepTokenId, type: 'uint32', value: tokenizer.sep },
    { key: TRAINED_GGUF_KEYS.provenance, type: 'string', value: JSON.stringify(options.provenance ?? {}) },
  ];
  const bytes = encodeGguf({ metadata, tensors });
  writeFileAtomic(path, bytes);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
