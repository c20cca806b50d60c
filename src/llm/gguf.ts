/**
 * A GGUF v3 writer: the file format llama.cpp (and so node-llama-cpp) loads. The tests write LoRA adapters with it,
 * and the LLaMA signweave trains is exported with it (src/train/llama-gguf.ts: F32 or F16 tensors; the keys and tensor
 * names llama.cpp needs are in ../shared/design/notes.md, "GGUF for a LLaMA trained here").
 *
 * Layout (ggml's docs/gguf.md), all little-endian: magic `GGUF`, version 3, tensor count (u64), metadata count (u64);
 * the metadata as key (u64 length + UTF-8) / value type (u32) / value; the tensor infos as name / dimension count /
 * dimensions (u64 each, fastest-varying first) / ggml type / offset into the data section; zero padding up to
 * `general.alignment`; then each tensor's data, every one starting at a multiple of the alignment.
 */
import { endianness } from 'node:os';
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export type GgufScalarType =
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'uint64'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'string';

type ScalarValue<T extends GgufScalarType> = T extends 'bool'
  ? boolean
  : T extends 'string'
    ? string
    : T extends 'uint64' | 'int64'
      ? number | bigint
      : number;

type ArrayValue<T extends GgufScalarType> = T extends 'bool' | 'string' | 'uint64' | 'int64'
  ? readonly ScalarValue<T>[]
  : readonly number[] | ArrayLike<number>;

/** One metadata key/value: a scalar of `type`, or with type `'<scalar>[]'` an array of them. */
export type GgufMetadataEntry =
  | { [T in GgufScalarType]: { key: string; type: T; value: ScalarValue<T> } }[GgufScalarType]
  | { [T in GgufScalarType]: { key: string; type: `${T}[]`; value: ArrayValue<T> } }[GgufScalarType];

export interface GgufTensor {
  name: string;
  /** GGUF order: the fastest-varying dimension first (a PyTorch `[out][in]` matrix is `[in, out]`, data unchanged). */
  dims: readonly number[];
  /** Row-major in `dims` reversed, i.e. element (i0, i1, …) at i0 + dims[0]·(i1 + dims[1]·…). */
  data: Float32Array;
  /** How the data is stored: ggml F32 (default) or F16 (IEEE half, rounded to nearest even). */
  type?: 'f32' | 'f16';
}

export interface GgufContents {
  metadata: readonly GgufMetadataEntry[];
  tensors: readonly GgufTensor[];
  /** Data alignment in bytes, written as `general.alignment` (default 32, llama.cpp's). */
  alignment?: number;
}

export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** ggml's GGML_MAX_NAME (64, with the terminating NUL) and GGML_MAX_DIMS. */
const MAX_TENSOR_NAME_BYTES = 63;
const MAX_DIMS = 4;
const GGML_TYPE = { f32: 0, f16: 1 } as const;
const BYTES_PER_VALUE = { f32: 4, f16: 2 } as const;

const VALUE_TYPE: Record<GgufScalarType | 'array', number> = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
};

const INT_RANGE: Partial<Record<GgufScalarType, [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

const BIGINT_RANGE: Partial<Record<GgufScalarType, [bigint, bigint]>> = {
  uint64: [0n, (1n << 64n) - 1n],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
};

/** Appends little-endian values to a list of chunks. */
class ByteWriter {
  readonly chunks: Buffer[] = [];
  length = 0;

  bytes(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.bytes(b);
  }

  u32(v: number): void {
    this.fixed(4, (b) => b.writeUInt32LE(v));
  }

  u64(v: number | bigint): void {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  }

  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.bytes(bytes);
  }

  scalar(type: GgufScalarType, v: unknown): void {
    switch (type) {
      case 'uint8':
        return this.fixed(1, (b) => b.writeUInt8(v as number));
      case 'int8':
        return this.fixed(1, (b) => b.writeInt8(v as number));
      case 'uint16':
        return this.fixed(2, (b) => b.writeUInt16LE(v as number));
      case 'int16':
        return this.fixed(2, (b) => b.writeInt16LE(v as number));
      case 'uint32':
        return this.u32(v as number);
      case 'int32':
        return this.fixed(4, (b) => b.writeInt32LE(v as number));
      case 'uint64':
        return this.u64(v as number | bigint);
      case 'int64':
        return this.fixed(8, (b) => b.writeBigInt64LE(BigInt(v as number | bigint)));
      case 'float32':
        return this.fixed(4, (b) => b.writeFloatLE(v as number));
      case 'float64':
        return this.fixed(8, (b) => b.writeDoubleLE(v as number));
      case 'bool':
        return this.fixed(1, (b) => b.writeUInt8(v ? 1 : 0));
      case 'string':
        return this.string(v as string);
    }
  }

  zeros(n: number): void {
    if (n > 0) this.bytes(Buffer.alloc(n));
  }
}

function checkScalar(type: GgufScalarType, v: unknown, where: string): void {
  const fail = (expected: string): never => {
    throw new SignweaveInputError(`${where}: ${type} value must be ${expected}, got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`);
  };
  const intRange = INT_RANGE[type];
  const bigRange = BIGINT_RANGE[type];
  if (intRange) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < intRange[0] || v > intRange[1]) fail(`an integer in [${intRange[0]}, ${intRange[1]}]`);
  } else if (bigRange) {
    const ok = (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) && BigInt(v) >= bigRange[0] && BigInt(v) <= bigRange[1];
    if (!ok) fail(`a bigint or safe integer in [${bigRange[0]}, ${bigRange[1]}]`);
  } else if (type === 'float32' || type === 'float64') {
    if (typeof v !== 'number') fail('a number');
  } else if (type === 'bool') {
    if (typeof v !== 'boolean') fail('a boolean');
  } else if (typeof v !== 'string') {
    fail('a string');
  }
}

function scalarTypeOf(type: string): { scalar: GgufScalarType; array: boolean } | null {
  const array = type.endsWith('[]');
  const scalar = (array ? type.slice(0, -2) : type) as GgufScalarType;
  return scalar in VALUE_TYPE && scalar !== ('array' as string) ? { scalar, array } : null;
}

function writeMetadata(out: ByteWriter, entry: GgufMetadataEntry): void {
  const where = `GGUF metadata ${JSON.stringify(entry.key)}`;
  const parsed = scalarTypeOf(entry.type);
  if (!parsed) throw new SignweaveInputError(`${where}: unknown value type ${JSON.stringify(entry.type)}`);
  const { scalar, array } = parsed;
  out.string(entry.key);
  if (!array) {
    checkScalar(scalar, entry.value, where);
    out.u32(VALUE_TYPE[scalar]);
    out.scalar(scalar, entry.value);
    return;
  }
  const items = entry.value as ArrayLike<unknown>;
  if (typeof items !== 'object' || items === null || typeof items.length !== 'number') {
    throw new SignweaveInputError(`${where}: a ${entry.type} value must be an array`);
  }
  out.u32(VALUE_TYPE.array);
  out.u32(VALUE_TYPE[scalar]);
  out.u64(items.length);
  for (let i = 0; i < items.length; i++) {
    checkScalar(scalar, items[i], `${where}[${i}]`);
    out.scalar(scalar, items[i]);
  }
}

function checkTensor(t: GgufTensor, seen: Set<string>): void {
  const where = `GGUF tensor ${JSON.stringify(t.name)}`;
  const nameBytes = typeof t.name === 'string' ? Buffer.byteLength(t.name, 'utf8') : 0;
  if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES) {
    throw new SignweaveInputError(`${where}: the name must be 1 to ${MAX_TENSOR_NAME_BYTES} bytes of UTF-8`);
  }
  if (seen.has(t.name)) throw new SignweaveInputError(`${where}: the name is used twice`);
  seen.add(t.name);
  if (!Array.isArray(t.dims) || t.dims.length < 1 || t.dims.length > MAX_DIMS || !t.dims.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new SignweaveInputError(`${where}: dims must be 1 to ${MAX_DIMS} positive integers, got ${JSON.stringify(t.dims)}`);
  }
  if (!(t.data instanceof Float32Array)) throw new SignweaveInputError(`${where}: data must be a Float32Array`);
  if (t.type !== undefined && t.type !== 'f32' && t.type !== 'f16') throw new SignweaveInputError(`${where}: type must be 'f32' or 'f16', got ${JSON.stringify(t.type)}`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new SignweaveInputError(`${where}: dims ${JSON.stringify(t.dims)} hold ${count} values, data has ${t.data.length}`);
  }
}

const alignUp = (n: number, alignment: number): number => Math.ceil(n / alignment) * alignment;

/** The F32 bytes of a tensor, little-endian whatever the host. */
function f32Bytes(data: Float32Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const b = Buffer.alloc(data.byteLength);
  data.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

const floatBits = new Float32Array(1);
const bitsOfFloat = new Uint32Array(floatBits.buffer);

/** The IEEE 754 binary16 bits of a number rounded to float32 and then to the nearest half (ties to even), as ggml's F16. */
export function toFloat16Bits(value: number): number {
  floatBits[0] = value;
  const x = bitsOfFloat[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  // Keep the bits above `shift`, round on the rest; a carry out of the mantissa correctly bumps the exponent.
  const round = (bits: number, shift: number): number => {
    const kept = bits >>> shift;
    const rest = bits & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
  };
  if (e <= 0) return e < -10 ? sign : sign | round(mantissa | 0x800000, 14 - e);
  return sign | round((e << 23) | mantissa, 13);
}

/** The number a binary16 bit pattern stands for. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** A tensor's bytes in its ggml type, little-endian whatever the host. */
function tensorBytes(t: GgufTensor): Buffer {
  if ((t.type ?? 'f32') === 'f32') return f32Bytes(t.data);
  const b = Buffer.alloc(2 * t.data.length);
  t.data.forEach((v, i) => b.writeUInt16LE(toFloat16Bits(v), 2 * i));
  return b;
}

/**
 * The bytes of a GGUF v3 file. `general.alignment` is written from `alignment`; keys must be unique, values must fit
 * their declared type, tensor names unique and at most 63 bytes, dims 1 to 4 positive integers matching the data
 * length — anything else is a SignweaveInputError naming the key or tensor.
 */
export function encodeGguf(contents: GgufContents): Buffer {
  const alignment = contents.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
    throw new SignweaveInputError(`GGUF alignment must be a power of two of at least 8, got ${alignment}`);
  }
  const keys = new Set<string>();
  for (const { key } of contents.metadata) {
    if (typeof key !== 'string' || key === '') throw new SignweaveInputError('GGUF metadata: every key must be a non-empty string');
    if (key === 'general.alignment') throw new SignweaveInputError('GGUF metadata "general.alignment": set it with the `alignment` option');
    if (keys.has(key)) throw new SignweaveInputError(`GGUF metadata ${JSON.stringify(key)}: the key is given twice`);
    keys.add(key);
  }
  const names = new Set<string>();
  for (const t of contents.tensors) checkTensor(t, names);

  const head = new ByteWriter();
  head.bytes(Buffer.from('GGUF', 'ascii'));
  head.u32(GGUF_VERSION);
  head.u64(contents.tensors.length);
  head.u64(contents.metadata.length + 1);
  writeMetadata(head, { key: 'general.alignment', type: 'uint32', value: alignment });
  for (const entry of contents.metadata) writeMetadata(head, entry);

  let offset = 0;
  const offsets: number[] = [];
  for (const t of contents.tensors) {
    offsets.push(offset);
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    const type = t.type ?? 'f32';
    head.u32(GGML_TYPE[type]);
    head.u64(offset);
    offset = alignUp(offset + t.data.length * BYTES_PER_VALUE[type], alignment);
  }
  head.zeros(alignUp(head.length, alignment) - head.length);

  const dataStart = head.length;
  const file = Buffer.alloc(dataStart + offset);
  let at = 0;
  for (const chunk of head.chunks) at += chunk.copy(file, at);
  contents.tensors.forEach((t, i) => tensorBytes(t).copy(file, dataStart + offsets[i]));
  return file;
}

/** Writes a GGUF v3 file atomically (a temp file beside it, then a rename): readers never see a partial model. */
export function writeGguf(path: string, contents: GgufContents): void {
  writeFileAtomic(path, encodeGguf(contents));
}
