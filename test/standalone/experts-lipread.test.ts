import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeBundle } from '../../src/bundles/writer.js';
import { greedyDecode } from '../../src/ctc/greedy.js';
import { logSoftmax } from '../../src/ctc/logits.js';
import { SignweaveInputError } from '../../src/errors.js';
import { buildLipreadModel, LIPREAD_VOCAB, LipreadExpert, normalizeLipCrops, packLipCrops, type LipCrops, type LipreadModelOptions } from '../../src/experts/lipread/index.js';
import { OnnxSession } from '../../src/graph/session.js';
import { float32 } from '../../src/graph/tensor.js';
import type { LipCrop } from '../../src/landmarks/types.js';
import { mulberry32 } from '../../src/util/random.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-lipread-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SIZE = 8;
const PATCH = 4;
const FRAME = SIZE * SIZE * 3;
const MEAN = [0.5, 0.4, 0.3];
const STD = [0.25, 0.2, 0.5];
const session = { intraOpThreads: 1 };
const ARCH: LipreadModelOptions = { size: SIZE, patch: PATCH, dim: 16, layers: 2, heads: 2, stride: 2, seed: 3 };

function lipBundle(name: string, options: Partial<LipreadModelOptions> = {}): string {
  const arch = { ...ARCH, ...options };
  const dir = join(root, name);
  writeBundle(dir, {
    kind: 'lipread',
    name,
    model: buildLipreadModel(arch),
    vocab: LIPREAD_VOCAB,
    input: { type: 'lip-crops', name: 'lips', size: SIZE, channels: 3, mean: MEAN, std: STD },
    temporalStride: arch.stride,
    weights: 'random',
    architecture: { ...arch },
  });
  return dir;
}

function randomCrops(frames: number, seed: number, fps = 25): LipCrops {
  const rand = mulberry32(seed);
  return { data: Uint8Array.from({ length: frames * FRAME }, () => Math.floor(256 * rand())), frames, fps };
}

const dir = lipBundle('lips');

describe('lipreading expert (patch ViT → strided conv1d → phoneme CTC)', () => {
  it('the vocabulary is the blank and the 39 ARPAbet phonemes', () => {
    assert.equal(LIPREAD_VOCAB.length, 40);
    assert.equal(LIPREAD_VOCAB[0], '<blank>');
  });

  it('T′ = ⌈T / stride⌉ for every T, strides 2 and 3; logits at fps / stride', async () => {
    for (const stride of [2, 3]) {
      await using expert = await LipreadExpert.load(stride === 2 ? dir : lipBundle('lips-3', { stride: 3 }), { session });
      for (let T = 1; T <= 7; T++) {
        const result = await expert.run(randomCrops(T, T));
        assert.deepEqual(result.logits.shape, [Math.ceil(T / stride), 40], `T = ${T}, stride ${stride}`);
        assert.equal(result.logits.fps, 25 / stride);
      }
    }
  });

  it('ONNX Runtime agrees with the plain-TypeScript reference of the graph, and runs are deterministic', async () => {
    const model = buildLipreadModel(ARCH);
    const crops = randomCrops(5, 9);
    const { tensor } = normalizeLipCrops(crops, { type: 'lip-crops', name: 'lips', size: SIZE, channels: 3, mean: MEAN, std: STD }, 'test');
    const ref = model.evaluateReference({ lips: tensor }).logits;
    await using expert = await LipreadExpert.load(dir, { session });
    const a = await expert.run(crops);
    const b = await expert.run(crops);
    assert.deepEqual(a, b);
    assert.deepEqual(ref.shape, [3, 40]);
    a.logits.data.forEach((v, i) => assert.ok(Math.abs(v - Number(ref.data[i])) < 1e-4, `${i}: ${v} vs ${ref.data[i]}`));
  });

  it('no patch is masked at inference: changing any one patch of a frame changes its logits', async () => {
    await using s = await OnnxSession.create(buildLipreadModel(ARCH).toBytes(), session);
    const base = new Float32Array(2 * FRAME).map((_, i) => Math.sin(i));
    const run = async (x: Float32Array) => (await s.run({ lips: float32(x, [2, SIZE, SIZE, 3]) })).logits.data as Float32Array;
    const reference = await run(base);
    const grid = SIZE / PATCH;
    for (let py = 0; py < grid; py++) {
      for (let px = 0; px < grid; px++) {
        const x = base.slice();
        for (let y = 0; y < PATCH; y++) for (let xx = 0; xx < PATCH; xx++) for (let c = 0; c < 3; c++) x[((py * PATCH + y) * SIZE + px * PATCH + xx) * 3 + c] += 1;
        const changed = await run(x);
        const delta = Math.max(...Array.from({ length: 40 }, (_, v) => Math.abs(changed[v] - reference[v])));
        assert.ok(delta > 1e-4, `patch (${py}, ${px}) had no effect (${delta}): masked?`);
      }
    }
  });

  it('bytes are normalised with the bundle mean and std; float32 input is taken as normalised', async () => {
    const crops = randomCrops(3, 4);
    const { tensor } = normalizeLipCrops(crops, { type: 'lip-crops', name: 'lips', size: SIZE, channels: 3, mean: MEAN, std: STD }, 'test');
    for (const i of [0, 1, 2, 100, FRAME * 3 - 1]) {
      const c = i % 3;
      assert.ok(Math.abs(tensor.data[i] - (crops.data[i] / 255 - MEAN[c]) / STD[c]) < 1e-6);
    }
    await using expert = await LipreadExpert.load(dir, { session });
    const fromBytes = await expert.run(crops);
    const fromFloats = await expert.run({ ...crops, data: tensor.data });
    fromBytes.logits.data.forEach((v, i) => assert.ok(Math.abs(v - fromFloats.logits.data[i]) < 1e-5));
  });

  it('frames without a face are fed as zeros and reported', async () => {
    await using expert = await LipreadExpert.load(dir, { session });
    const crops = randomCrops(6, 5);
    const missing = [false, true, false, false, true, false];
    const result = await expert.run({ ...crops, missing });
    assert.deepEqual(result.missingFrames, [1, 4]);
    const { tensor } = normalizeLipCrops(crops, { type: 'lip-crops', name: 'lips', size: SIZE, channels: 3, mean: MEAN, std: STD }, 'test');
    const zeroed = tensor.data.slice();
    zeroed.fill(0, FRAME, 2 * FRAME).fill(0, 4 * FRAME, 5 * FRAME);
    const explicit = await expert.run({ data: zeroed, frames: 6, fps: 25 });
    assert.deepEqual(result.logits, explicit.logits);
    assert.deepEqual((await expert.run(crops)).missingFrames, []);
  });

  it('packLipCrops takes src/landmarks crops; faceless frames become missing', () => {
    const crop = (index: number, face: boolean): LipCrop => ({
      index,
      time: index / 25,
      face,
      box: face ? { x: 0, y: 0, size: 10 } : null,
      data: face ? new Uint8Array(FRAME).fill(index + 1) : null,
      size: SIZE,
      channels: 3,
    });
    const packed = packLipCrops([crop(0, true), crop(1, false), crop(2, true)], 25);
    assert.deepEqual(packed.missing, [false, true, false]);
    assert.equal(packed.frames, 3);
    assert.deepEqual([packed.data[0], packed.data[FRAME], packed.data[2 * FRAME]], [1, 0, 3]);
    assert.throws(() => packLipCrops([crop(0, true), { ...crop(1, true), size: 4 }], 25), /frame 1 is 4×4×3, frame 0 is 8×8×3/);
  });

  it('token times come from T′ and the stride, the last one ending at the end of the input', async () => {
    await using expert = await LipreadExpert.load(dir, { session });
    const T = 9;
    const fps = 30;
    const result = await expert.run(randomCrops(T, 12, fps), { decoder: 'greedy' });
    const [Tp, V] = result.logits.shape;
    assert.equal(Tp, 5);
    const hyp = greedyDecode(logSoftmax({ data: result.logits.data, T: Tp, V }), { labels: LIPREAD_VOCAB, joiner: ' ' });
    assert.ok(hyp.spans.length > 0);
    assert.deepEqual(
      result.stream.tokens.map((t) => [t.token, t.start, t.end]),
      hyp.spans.map((s) => [s.label, (s.startFrame * 2) / fps, Math.min(((s.endFrame + 1) * 2) / fps, T / fps)]),
    );
    assert.equal(result.text, hyp.labels.join(' '));
    for (const t of result.stream.tokens) assert.ok(t.end <= T / fps && t.start < t.end);
  });

  it('input errors name the bundle and the field', async () => {
    await using expert = await LipreadExpert.load(dir, { session });
    await assert.rejects(expert.run({ data: new Uint8Array(2 * FRAME - 1), frames: 2, fps: 25 }), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, new RegExp(`^bundle ${dir}: input\\.size is 8 and input\\.channels 3, so 2 frames need 384 values; the crops have 383`));
      return true;
    });
    await assert.rejects(expert.run({ ...randomCrops(2, 1), missing: [true] }), /missing has 1 entries for 2 frames/);
    assert.throws(() => buildLipreadModel({ ...ARCH, patch: 3 }), /patch 3 does not divide the crop size 8/);
  });
});
