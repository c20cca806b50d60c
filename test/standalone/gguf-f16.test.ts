import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { encodeGguf, fromFloat16Bits, toFloat16Bits, writeGguf } from '../../src/llm/gguf.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-gguf-f16-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('GGUF F16: IEEE half with round-to-nearest-even', () => {
  it('known values: normals, the largest half, overflow, subnormals, signed zero, infinities, NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to 2^16 rounds to even: infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to it: ties to even, 0
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: ties to even, 2
      [2 ** -14 - 2 ** -25, 0x0400], // rounds up across into the smallest normal
      [0, 0x0000],
      [-0, 0x8000],
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: even (1)
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between 1+2⁻¹⁰ and 1+2·2⁻¹⁰: even (the latter)
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway
    ];
    for (const [value, bits] of cases) assert.equal(toFloat16Bits(value), bits, `${value} → 0x${toFloat16Bits(value).toString(16)}, 0x${bits.toString(16)} expected`);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  });

  it('random values of every magnitude round to the nearest half (ties to the even one)', () => {
    const rng = mulberry32(3);
    for (let n = 0; n < 20000; n++) {
      const value = Math.fround((rng() < 0.5 ? -1 : 1) * rng() * 2 ** Math.floor(rng() * 44 - 28));
      const bits = toFloat16Bits(value);
      const got = fromFloat16Bits(bits);
      const err = Math.abs(got - value);
      // Neighbours of the chosen half (same sign), one step down and up.
      for (const other of [bits - 1, bits + 1]) {
        if ((other & 0x7fff) === 0x7fff || (other & 0x7c00) === 0x7c00 || (other & 0x8000) !== (bits & 0x8000)) continue;
        const otherErr = Math.abs(fromFloat16Bits(other) - value);
        assert.ok(err < otherErr || (err === otherErr && (bits & 1) === 0), `${value}: 0x${bits.toString(16)} (${got}) is not the nearest half; 0x${other.toString(16)} is ${fromFloat16Bits(other)}`);
      }
    }
  });

  it('F16 tensors are written as ggml type 1, two bytes a value, aligned, beside F32 ones', async () => {
    const f16 = { name: 'w', dims: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => (i - 7) / 3), type: 'f16' as const };
    const f32 = { name: 'norm', dims: [3], data: Float32Array.of(1, 2, 3) };
    const path = join(dir, 'mixed.gguf');
    writeGguf(path, { metadata: [], tensors: [f16, f32] });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.deepEqual(
      info.tensorInfo!.map((t) => [t.name, t.ggmlType, Number(t.offset)]),
      [
        ['w', 1, 0],
        ['norm', 0, 32],
      ],
    );
    const bytes = readFileSync(path);
    const at = Number(info.tensorInfo![0].fileOffset);
    const back = Array.from({ length: 15 }, (_, i) => fromFloat16Bits(bytes.readUInt16LE(at + 2 * i)));
    back.forEach((v, i) => assert.ok(Math.abs(v - f16.data[i]) <= Math.abs(f16.data[i]) * 2 ** -11, `value ${i}: ${v} vs ${f16.data[i]}`));
    assert.equal(bytes.readFloatLE(Number(info.tensorInfo![1].fileOffset) + 8), 3);
  });

  it('an unknown tensor type is an input error naming the tensor', () => {
    assert.throws(() => encodeGguf({ metadata: [], tensors: [{ name: 'w', dims: [1], data: Float32Array.of(1), type: 'q8' as 'f16' }] }), inputError(/GGUF tensor "w": type must be 'f32' or 'f16', got "q8"/));
  });
});
