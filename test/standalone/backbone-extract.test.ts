import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildVit, extractFeatures, loadBackbone, writeHfVitFolder, type Backbone, type FeatureProgress, type FeatureSequence } from '../../src/backbone/index.js';
import { SignweaveInputError } from '../../src/errors.js';
import { HOW2SIGN_CLIP, tempDir } from '../helpers/video.js';
import { maxDiff } from '../helpers/assert.js';

const tmp = tempDir();
after(tmp.remove);

/** Counts the backbone's runs and frames, so tests see what extraction asked of it. */
function counted(inner: Backbone): Backbone & { calls: number[] } {
  const calls: number[] = [];
  return {
    info: inner.info,
    calls,
    async embed(input) {
      calls.push(input instanceof Float32Array ? input.length / (3 * inner.info.imageSize.width * inner.info.imageSize.height) : input.length);
      return inner.embed(input);
    },
    dispose: () => inner.dispose(),
    [Symbol.asyncDispose]: () => inner.dispose(),
  };
}

describe('extractFeatures on a How2Sign clip (1280×720, 24 fps, 102 frames) with a tiny DINOv2-type backbone', () => {
  const vit = { imageSize: 28, patchSize: 7, dim: 16, depth: 1, heads: 2, seed: 1 };
  let backbone: Backbone;
  const byStride = new Map<number, FeatureSequence>();
  before(async () => {
    const dir = join(tmp.dir, 'tiny');
    writeHfVitFolder(dir, buildVit(vit), vit);
    backbone = await loadBackbone(dir, { threads: 1 });
    for (const stride of [1, 3, 4]) byStride.set(stride, await extractFeatures(HOW2SIGN_CLIP, backbone, { stride, batch: 16 }));
  });
  after(() => backbone.dispose());

  it('gives T = ceil(102 / stride) rows at 24 / stride fps', () => {
    for (const [stride, f] of byStride) {
      const T = Math.ceil(102 / stride);
      assert.deepEqual(f.shape, [T, 16], `stride ${stride}`);
      assert.equal(f.data.length, T * 16);
      assert.equal(f.fps, 24 / stride);
      assert.deepEqual(
        f.frameIndices,
        Array.from({ length: T }, (_, i) => i * stride),
      );
      assert.deepEqual(f.source, { video: HOW2SIGN_CLIP, start: undefined, end: undefined, stride });
      assert.deepEqual(f.cache, { status: 'off' });
    }
  });

  it('a stride keeps exactly those rows (and times) of stride 1', () => {
    const all = byStride.get(1)!;
    assert.ok(Math.abs(all.times[101] - 101 / 24) < 1e-6);
    for (const stride of [3, 4]) {
      const f = byStride.get(stride)!;
      f.frameIndices.forEach((k, i) => {
        assert.equal(f.times[i], all.times[k]);
        assert.ok(maxDiff(f.data.subarray(i * 16, (i + 1) * 16), all.data.subarray(k * 16, (k + 1) * 16)) < 1e-5, `stride ${stride} row ${i}`);
      });
    }
  });

  it('batches frames `batch` at a time and gives the same features at any batch size', async () => {
    const one = counted(backbone);
    const seven = counted(backbone);
    const a = await extractFeatures(HOW2SIGN_CLIP, one, { start: 1, end: 2, batch: 1 });
    const b = await extractFeatures(HOW2SIGN_CLIP, seven, { start: 1, end: 2, batch: 7 });
    assert.deepEqual(a.shape, [24, 16]);
    assert.deepEqual(one.calls, new Array(24).fill(1));
    assert.deepEqual(seven.calls, [7, 7, 7, 3]);
    assert.ok(maxDiff(a.data, b.data) < 1e-5);
    // Frame indices count from the range's first frame; times stay in file time.
    assert.deepEqual(a.frameIndices.slice(0, 3), [0, 1, 2]);
    assert.ok(Math.abs(a.times[0] - 1) < 1e-6 && Math.abs(a.times[23] - (1 + 23 / 24)) < 1e-6);
    assert.ok(maxDiff(a.data, byStride.get(1)!.data.subarray(24 * 16, 48 * 16)) < 1e-5);
  });

  it('reports progress as tagged events ending at the true totals', async () => {
    const events: FeatureProgress[] = [];
    await extractFeatures(HOW2SIGN_CLIP, backbone, { end: 1, stride: 5, batch: 2, onProgress: (e) => events.push(e) });
    const decode = events.filter((e) => e.type === 'decode');
    const embed = events.filter((e) => e.type === 'embed');
    // ffmpeg drops the frames the stride skips: 5 of the second's 24 frames are decoded.
    assert.deepEqual(
      decode.map((e) => e.done),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(decode.at(-1), { type: 'decode', done: 5, total: 5 });
    assert.deepEqual(
      embed.map((e) => e.done),
      [2, 4, 5],
    );
    assert.deepEqual(embed.at(-1), { type: 'embed', done: 5, total: 5 });
    assert.equal(events.length, decode.length + embed.length);
  });

  it('stops when aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const counting = counted(backbone);
    await assert.rejects(
      extractFeatures(HOW2SIGN_CLIP, counting, {
        batch: 4,
        signal: controller.signal,
        onProgress: (e) => e.type === 'embed' && controller.abort(reason),
      }),
      (err) => err === reason,
    );
    assert.deepEqual(counting.calls, [4]);
  });

  it('checks its options', async () => {
    await assert.rejects(extractFeatures(HOW2SIGN_CLIP, backbone, { stride: 0 }), (e) => e instanceof SignweaveInputError && /stride must be a positive integer, got 0/.test(e.message));
    await assert.rejects(extractFeatures(HOW2SIGN_CLIP, backbone, { batch: 1.5 }), (e) => e instanceof SignweaveInputError && /batch must be a positive integer, got 1.5/.test(e.message));
    await assert.rejects(extractFeatures(HOW2SIGN_CLIP, backbone, { start: 9 }), (e) => e instanceof SignweaveInputError && /starts after the video ends/.test(e.message));
    await assert.rejects(extractFeatures(join(tmp.dir, 'none.mp4'), backbone), (e) => e instanceof SignweaveInputError && /none\.mp4/.test(e.message));
  });
});
