/**
 * LoRA adapters for a real F32 GGUF model (stories260K in the tests), in llama.cpp's adapter format, and the base
 * model's tensors and metadata to rewrite it (merged with an adapter, or with a chat template added).
 *
 * llama.cpp's adapter format (llama-adapter.cpp): `general.architecture` as the model's, `general.type` "adapter",
 * `adapter.type` "lora", `adapter.lora.alpha` (f32), and per adapted weight W (GGUF dims [n_in, n_out]) the tensors
 * `<name>.lora_a` with dims [n_in, rank] and `<name>.lora_b` with dims [rank, n_out]. A layer then computes
 * W·x + s·B·(A·x) with s = scale · alpha / rank, i.e. the effective weight W + s·B·A, where in row-major terms
 * A is [rank][n_in], B is [n_out][rank] and W is [n_out][n_in].
 */
import { readFileSync } from 'node:fs';
import { readGgufFileInfo } from 'node-llama-cpp';
import { writeGguf, type GgufMetadataEntry, type GgufTensor } from '../../src/llm/gguf.js';
import { mulberry32 } from '../../src/util/random.js';

/** Every tensor of an all-F32 GGUF file, with its data. */
export async function readF32Tensors(path: string): Promise<GgufTensor[]> {
  const info = await readGgufFileInfo(path, { logWarnings: false, sourceType: 'filesystem' });
  const bytes = readFileSync(path);
  return (info.tensorInfo ?? []).map((t) => {
    if (t.ggmlType !== 0) throw new Error(`${path}: tensor ${t.name} is not F32 (ggml type ${t.ggmlType})`);
    const dims = t.dimensions.map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    const start = bytes.byteOffset + Number(t.fileOffset);
    return { name: t.name, dims, data: new Float32Array(bytes.buffer.slice(start, start + 4 * count)) };
  });
}

/** Keys whose values are floats even when they happen to be whole numbers. */
const FLOAT_KEYS = /(?:layer_norm_rms_epsilon|layer_norm_epsilon|freq_base|freq_scale|scores|alpha)$/;

function entry(key: string, value: unknown): GgufMetadataEntry {
  if (typeof value === 'string') return { key, type: 'string', value };
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'bigint') return { key, type: 'uint64', value };
  if (typeof value === 'number') {
    if (FLOAT_KEYS.test(key) || !Number.isInteger(value)) return { key, type: 'float32', value };
    return value < 0 ? { key, type: 'int32', value } : { key, type: 'uint32', value };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { key, type: 'string[]', value: value as string[] };
    if (FLOAT_KEYS.test(key) || value.some((v) => !Number.isInteger(v))) return { key, type: 'float32[]', value: value as number[] };
    return { key, type: 'int32[]', value: value as number[] };
  }
  throw new Error(`metadata ${key}: cannot type ${JSON.stringify(value)}`);
}

/**
 * A GGUF file's metadata as writer entries (the alignment left to the writer). readGgufFileInfo does not keep value
 * types, so they are inferred the way llama.cpp expects them for a LLaMA file: counts and ids uint32, epsilons, rope
 * bases and token scores float32, token types int32.
 */
export async function readMetadataEntries(path: string): Promise<GgufMetadataEntry[]> {
  const info = await readGgufFileInfo(path, { logWarnings: false, readTensorInfo: false, sourceType: 'filesystem' });
  const out: GgufMetadataEntry[] = [];
  const walk = (prefix: string, node: unknown): void => {
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else if (prefix !== 'general.alignment') {
      out.push(entry(prefix, node));
    }
  };
  walk('', info.metadata);
  return out;
}

export interface LoraAdapterSpec {
  /** Names of the base model's weight matrices to adapt, e.g. `blk.0.ffn_gate.weight`. */
  targets: readonly string[];
  rank: number;
  alpha: number;
  seed: number;
  /** Uniform range of A's and B's values (±); B all zero when `zeroB`. */
  magnitude?: number;
  zeroB?: boolean;
}

export interface LoraAdapterTensors {
  target: string;
  nIn: number;
  nOut: number;
  /** Row-major [rank][n_in]: GGUF dims [n_in, rank]. */
  a: Float32Array;
  /** Row-major [n_out][rank]: GGUF dims [rank, n_out]. */
  b: Float32Array;
}

/** Writes a LoRA adapter for the model at `basePath` and returns its A and B matrices. */
export async function writeLoraAdapter(path: string, basePath: string, spec: LoraAdapterSpec): Promise<LoraAdapterTensors[]> {
  const base = new Map((await readF32Tensors(basePath)).map((t) => [t.name, t]));
  const info = await readGgufFileInfo(basePath, { logWarnings: false, readTensorInfo: false, sourceType: 'filesystem' });
  const rand = mulberry32(spec.seed);
  const magnitude = spec.magnitude ?? 0.5;
  const uniform = () => (rand() * 2 - 1) * magnitude;
  const adapters = spec.targets.map((target): LoraAdapterTensors => {
    const w = base.get(target);
    if (!w || w.dims.length !== 2) throw new Error(`${basePath}: no weight matrix ${target}`);
    const [nIn, nOut] = w.dims;
    const a = new Float32Array(spec.rank * nIn).map(uniform);
    const b = spec.zeroB ? new Float32Array(nOut * spec.rank) : new Float32Array(nOut * spec.rank).map(uniform);
    return { target, nIn, nOut, a, b };
  });
  writeGguf(path, {
    metadata: [
      { key: 'general.architecture', type: 'string', value: info.metadata.general.architecture },
      { key: 'general.type', type: 'string', value: 'adapter' },
      { key: 'general.name', type: 'string', value: `signweave test LoRA r${spec.rank} seed ${spec.seed}` },
      { key: 'adapter.type', type: 'string', value: 'lora' },
      { key: 'adapter.lora.alpha', type: 'float32', value: spec.alpha },
    ],
    tensors: adapters.flatMap(({ target, nIn, nOut, a, b }) => [
      { name: `${target}.lora_a`, dims: [nIn, spec.rank], data: a },
      { name: `${target}.lora_b`, dims: [spec.rank, nOut], data: b },
    ]),
  });
  return adapters;
}

/** The base tensors with each adapted weight replaced by W + scale·(alpha/rank)·B·A (float64 sums, then F32). */
export function mergeLora(base: readonly GgufTensor[], adapters: readonly LoraAdapterTensors[], spec: { rank: number; alpha: number; scale: number }): GgufTensor[] {
  const s = (spec.scale * spec.alpha) / spec.rank;
  const byTarget = new Map(adapters.map((a) => [a.target, a]));
  return base.map((t) => {
    const lora = byTarget.get(t.name);
    if (!lora) return t;
    const data = new Float32Array(t.data.length);
    for (let o = 0; o < lora.nOut; o++) {
      for (let i = 0; i < lora.nIn; i++) {
        let delta = 0;
        for (let k = 0; k < spec.rank; k++) delta += lora.b[o * spec.rank + k] * lora.a[k * lora.nIn + i];
        data[o * lora.nIn + i] = t.data[o * lora.nIn + i] + s * delta;
      }
    }
    return { ...t, data };
  });
}
