import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { encodeGguf, GGUF_DEFAULT_ALIGNMENT, writeGguf, type GgufContents, type GgufMetadataEntry } from '../../src/llm/gguf.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

function randomTensor(name: string, dims: number[], seed: number) {
  const rand = mulberry32(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => rand() * 2 - 1);
  return { name, dims, data };
}

const METADATA: GgufMetadataEntry[] = [
  { key: 'general.architecture', type: 'string', value: 'llama' },
  { key: 'general.name', type: 'string', value: 'signweave test – ünïcode ✓' },
  { key: 'general.file_type', type: 'uint32', value: 0 },
  { key: 'test.u8', type: 'uint8', value: 255 },
  { key: 'test.i8', type: 'int8', value: -128 },
  { key: 'test.u16', type: 'uint16', value: 65535 },
  { key: 'test.i16', type: 'int16', value: -32768 },
  { key: 'test.u32', type: 'uint32', value: 4294967295 },
  { key: 'test.i32', type: 'int32', value: -2147483648 },
  { key: 'test.u64', type: 'uint64', value: 2n ** 64n - 1n },
  { key: 'test.i64', type: 'int64', value: -(2n ** 40n) },
  { key: 'test.f32', type: 'float32', value: 1e-5 },
  { key: 'test.f64', type: 'float64', value: Math.PI },
  { key: 'test.yes', type: 'bool', value: true },
  { key: 'test.no', type: 'bool', value: false },
  { key: 'test.empty', type: 'string', value: '' },
  { key: 'test.strings', type: 'string[]', value: ['<unk>', '▁the', '', 'ü'] },
  { key: 'test.floats', type: 'float32[]', value: new Float32Array([0.5, -1.25, 3]) },
  { key: 'test.ints', type: 'int32[]', value: [1, -2, 3] },
  { key: 'test.bools', type: 'bool[]', value: [true, false] },
  { key: 'test.none', type: 'uint32[]', value: [] },
];

const TENSORS = [
  randomTensor('token_embd.weight', [8, 5], 1),
  randomTensor('blk.0.attn_norm.weight', [8], 2),
  // 3 values = 12 bytes: the next tensor must start on the next 32-byte boundary.
  randomTensor('odd', [3], 3),
  randomTensor('blk.0.ffn_gate.weight', [8, 7, 2], 4),
  randomTensor('four.dims', [2, 3, 1, 2], 5),
];

describe('GGUF writer: round trip through node-llama-cpp readGgufFileInfo', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-gguf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('metadata values of every type come back as written', async () => {
    const path = join(dir, 'all.gguf');
    writeGguf(path, { metadata: METADATA, tensors: TENSORS });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal(info.version, 3);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(md.general.architecture, 'llama');
    assert.equal(md.general.name, 'signweave test – ünïcode ✓');
    assert.equal(md.general.alignment, GGUF_DEFAULT_ALIGNMENT);
    assert.equal(md.general.file_type, 0);
    const t = md.test;
    assert.equal(t.u8, 255);
    assert.equal(t.i8, -128);
    assert.equal(t.u16, 65535);
    assert.equal(t.i16, -32768);
    assert.equal(t.u32, 4294967295);
    assert.equal(t.i32, -2147483648);
    assert.equal(BigInt(t.u64 as bigint), 2n ** 64n - 1n);
    assert.equal(BigInt(t.i64 as bigint), -(2n ** 40n));
    assert.equal(t.f32, Math.fround(1e-5));
    assert.equal(t.f64, Math.PI);
    assert.equal(t.yes, true);
    assert.equal(t.no, false);
    assert.equal(t.empty, '');
    assert.deepEqual(t.strings, ['<unk>', '▁the', '', 'ü']);
    assert.deepEqual(t.floats, [0.5, -1.25, 3]);
    assert.deepEqual(t.ints, [1, -2, 3]);
    assert.deepEqual(t.bools, [true, false]);
    assert.deepEqual(t.none, []);
  });

  it('tensor names, dims, types and aligned offsets come back, and the data is where the offsets say', async () => {
    const path = join(dir, 'tensors.gguf');
    writeGguf(path, { metadata: METADATA, tensors: TENSORS });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const tensors = info.tensorInfo ?? [];
    assert.deepEqual(
      tensors.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType]),
      TENSORS.map((t) => [t.name, t.dims, 0]),
    );
    const expected = [0, 160, 192, 224, 672];
    assert.deepEqual(tensors.map((t) => Number(t.offset)), expected);
    const bytes = readFileSync(path);
    const dataStart = Number(tensors[0].fileOffset);
    assert.equal(dataStart % GGUF_DEFAULT_ALIGNMENT, 0);
    assert.equal(dataStart, info.infoEndOffset);
    tensors.forEach((t, i) => {
      assert.equal(Number(t.fileOffset), dataStart + expected[i]);
      const at = Number(t.fileOffset);
      const back = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + TENSORS[i].data.byteLength));
      assert.deepEqual(back, TENSORS[i].data);
    });
    // The last tensor is padded to the alignment too, as llama.cpp reads the whole padded data section.
    assert.equal(bytes.length, dataStart + 672 + 64);
  });

  it('a larger alignment moves every offset to its multiples', async () => {
    const path = join(dir, 'aligned.gguf');
    writeGguf(path, { metadata: [], tensors: TENSORS.slice(0, 3), alignment: 64 });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal((info.metadata as unknown as { general: { alignment: number } }).general.alignment, 64);
    assert.deepEqual(
      info.tensorInfo?.map((t) => Number(t.offset)),
      [0, 192, 256],
    );
    assert.equal(Number(info.tensorInfo?.[0].fileOffset) % 64, 0);
  });

  it('a file without tensors holds only its header and metadata', async () => {
    const path = join(dir, 'empty.gguf');
    writeGguf(path, { metadata: [{ key: 'general.architecture', type: 'string', value: 'llama' }], tensors: [] });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal(Number(info.tensorCount), 0);
    assert.equal(readFileSync(path).length % GGUF_DEFAULT_ALIGNMENT, 0);
  });

  it('encodes deterministically', () => {
    const a = encodeGguf({ metadata: METADATA, tensors: TENSORS });
    const b = encodeGguf({ metadata: METADATA, tensors: TENSORS });
    assert.ok(a.equals(b));
    assert.equal(a.subarray(0, 4).toString('latin1'), 'GGUF');
    assert.equal(a.readUInt32LE(4), 3);
    assert.equal(a.readBigUInt64LE(8), BigInt(TENSORS.length));
    assert.equal(a.readBigUInt64LE(16), BigInt(METADATA.length + 1));
  });
});

describe('GGUF writer: bad contents are input errors naming the key or tensor, and nothing is written', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-gguf-bad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base: GgufContents = { metadata: [{ key: 'general.architecture', type: 'string', value: 'llama' }], tensors: [TENSORS[0]] };
  const bad = (change: Partial<GgufContents>, ...patterns: RegExp[]) => {
    const path = join(dir, 'bad.gguf');
    writeFileSync(path, 'the previous file');
    assert.throws(() => writeGguf(path, { ...base, ...change }), inputError(...patterns));
    assert.equal(readFileSync(path, 'utf8'), 'the previous file');
    assert.deepEqual(readdirSync(dir), ['bad.gguf']);
  };

  it('metadata values that do not fit their type', () => {
    bad({ metadata: [{ key: 'x.u8', type: 'uint8', value: 256 }] }, /GGUF metadata "x\.u8": uint8 value must be an integer in \[0, 255\], got 256/);
    bad({ metadata: [{ key: 'x.i32', type: 'int32', value: 1.5 }] }, /"x\.i32": int32 value must be an integer/);
    bad({ metadata: [{ key: 'x.u32', type: 'uint32', value: -1 }] }, /"x\.u32": uint32 .* got -1/);
    bad({ metadata: [{ key: 'x.u64', type: 'uint64', value: -1n }] }, /"x\.u64": uint64 .* got -1n/);
    bad({ metadata: [{ key: 'x.u64', type: 'uint64', value: 2 ** 60 }] }, /"x\.u64": uint64 value must be a bigint or safe integer/);
    bad({ metadata: [{ key: 'x.s', type: 'string', value: 5 as unknown as string }] }, /"x\.s": string value must be a string, got 5/);
    bad({ metadata: [{ key: 'x.b', type: 'bool', value: 1 as unknown as boolean }] }, /"x\.b": bool value must be a boolean/);
    bad({ metadata: [{ key: 'x.f', type: 'float32', value: '1' as unknown as number }] }, /"x\.f": float32 value must be a number/);
    bad({ metadata: [{ key: 'x.arr', type: 'int8[]', value: [1, 2, 300] }] }, /"x\.arr"\[2\]: int8 value must be an integer in \[-128, 127\]/);
    bad({ metadata: [{ key: 'x.arr', type: 'string[]', value: 'abc' as unknown as string[] }] }, /"x\.arr": a string\[\] value must be an array/);
    bad({ metadata: [{ key: 'x.t', type: 'float16', value: 1 } as unknown as GgufMetadataEntry] }, /"x\.t": unknown value type "float16"/);
  });

  it('keys: empty, twice, or the alignment set by hand', () => {
    bad({ metadata: [{ key: '', type: 'uint8', value: 1 }] }, /every key must be a non-empty string/);
    bad(
      {
        metadata: [
          { key: 'a.b', type: 'uint8', value: 1 },
          { key: 'a.b', type: 'uint8', value: 2 },
        ],
      },
      /"a\.b": the key is given twice/,
    );
    bad({ metadata: [{ key: 'general.alignment', type: 'uint32', value: 64 }] }, /set it with the `alignment` option/);
    bad({ alignment: 12 }, /alignment must be a power of two of at least 8, got 12/);
  });

  it('tensors: names, dims and data', () => {
    bad({ tensors: [TENSORS[0], TENSORS[0]] }, /GGUF tensor "token_embd\.weight": the name is used twice/);
    bad({ tensors: [{ ...TENSORS[1], name: '' }] }, /GGUF tensor "": the name must be 1 to 63 bytes/);
    bad({ tensors: [{ ...TENSORS[1], name: 'n'.repeat(64) }] }, /the name must be 1 to 63 bytes/);
    bad({ tensors: [{ ...TENSORS[1], dims: [] }] }, /dims must be 1 to 4 positive integers, got \[\]/);
    bad({ tensors: [{ ...TENSORS[1], dims: [1, 1, 1, 1, 8] }] }, /dims must be 1 to 4 positive integers/);
    bad({ tensors: [{ ...TENSORS[1], dims: [0] }] }, /dims must be 1 to 4 positive integers, got \[0\]/);
    bad({ tensors: [{ ...TENSORS[1], dims: [3, 2] }] }, /dims \[3,2\] hold 6 values, data has 8/);
    bad({ tensors: [{ ...TENSORS[1], data: [1, 2] as unknown as Float32Array, dims: [2] }] }, /data must be a Float32Array/);
  });

  it('an unwritable path is an input error naming it', () => {
    const path = join(dir, 'no-such-folder', 'x.gguf');
    assert.throws(() => writeGguf(path, base), inputError(/cannot write .*no-such-folder.*its folder does not exist/));
    assert.equal(existsSync(path), false);
  });
});
