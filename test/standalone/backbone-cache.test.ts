import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildVit,
  clearCache,
  defaultFeatureCacheDir,
  extractFeatures,
  FeatureCache,
  featureCacheKey,
  listCache,
  loadBackbone,
  type Backbone,
  type FeatureProgress,
} from '../../src/backbone/index.js';
import { parseImageProcessorConfig } from '../../src/video/index.js';
import { syntheticVideo, tempDir } from '../helpers/video.js';
import { counted } from '../helpers/backbone.js';

const tmp = tempDir();
after(tmp.remove);

const PREPROCESSOR = { size: { height: 14, width: 14 }, resample: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };
const VIT = { imageSize: 14, patchSize: 7, dim: 8, depth: 1, heads: 2 };

describe('feature cache', () => {
  let video: string;
  let backbone: Backbone;
  let other: Backbone;
  const cacheDir = join(tmp.dir, 'cache');
  const cache = new FeatureCache({ dir: cacheDir });

  before(async () => {
    video = syntheticVideo(join(tmp.dir, 'clip.mp4'), { size: '160x120', rate: 25, seconds: 1 });
    const save = (seed: number, name: string): string => {
      const path = join(tmp.dir, name);
      buildVit({ ...VIT, seed }).save(path);
      return path;
    };
    const preprocessing = parseImageProcessorConfig(PREPROCESSOR);
    backbone = await loadBackbone(save(1, 'a.onnx'), { preprocessing, threads: 1 });
    other = await loadBackbone(save(2, 'b.onnx'), { preprocessing, threads: 1 });
  });
  after(async () => {
    await backbone.dispose();
    await other.dispose();
  });

  const run = async (b: Backbone, options: Parameters<typeof extractFeatures>[2] = {}) => {
    const c = counted(b);
    const events: FeatureProgress[] = [];
    const result = await extractFeatures(video, c, { cache, batch: 8, onProgress: (e) => events.push(e), ...options });
    return { result, calls: c.calls, events };
  };

  it('stores the first run and answers the second from disk without calling the backbone', async () => {
    const first = await run(backbone, { stride: 2 });
    assert.equal(first.result.cache.status, 'stored');
    assert.equal(first.calls, 2);
    assert.deepEqual(first.result.shape, [13, 8]);
    const second = await run(backbone, { stride: 2 });
    assert.equal(second.calls, 0);
    assert.deepEqual(second.events, [{ type: 'cache-hit', done: 13, total: 13 }]);
    const { cache: hit, ...rest } = second.result;
    const { cache: stored, ...computed } = first.result;
    assert.deepEqual(rest, computed);
    assert.equal(hit.status, 'hit');
    assert.ok(stored.status === 'stored' && hit.status === 'hit' && hit.key === stored.key && hit.path === stored.path);
    assert.deepEqual(readdirSync(cacheDir).sort(), [`${stored.key}.json`, `${stored.key}.npy`]);
    // The data file is a plain NumPy array; the sidecar says what it is.
    const sidecar = JSON.parse(readFileSync(join(cacheDir, `${stored.key}.json`), 'utf8'));
    assert.deepEqual([sidecar.shape, sidecar.fps, sidecar.parts.stride, sidecar.parts.start, sidecar.parts.end], [[13, 8], 12.5, 2, 0, null]);
  });

  it('keys on video, range, stride, backbone and preprocessing; not on batch size', async () => {
    const key = async (b: Backbone, request: { start?: number; end?: number; stride: number }, c = cache) => featureCacheKey(await c.keyParts(video, request, b.info));
    const base = await key(backbone, { stride: 1 });
    const variants = [
      await key(backbone, { stride: 2 }),
      await key(backbone, { start: 0.2, stride: 1 }),
      await key(backbone, { end: 0.6, stride: 1 }),
      await key(other, { stride: 1 }),
      await key({ ...backbone, info: { ...backbone.info, preprocessing: parseImageProcessorConfig({ ...PREPROCESSOR, resample: 3 }) } }, { stride: 1 }),
      await key(backbone, { stride: 1 }, new FeatureCache({ dir: cacheDir, videoIdentity: 'file-stat' })),
    ];
    assert.equal(new Set([base, ...variants]).size, variants.length + 1);
    assert.equal(await key(backbone, { start: 0, stride: 1 }), base);
    const a = await run(backbone, { end: 0.4, batch: 1 });
    const b = await run(backbone, { end: 0.4, batch: 5 });
    assert.equal(b.calls, 0);
    assert.equal(a.result.cache.status === 'stored' && a.result.cache.key, b.result.cache.status === 'hit' && b.result.cache.key);
  });

  it('identifies the video by content (a copy hits) or, cheaply, by path, size and mtime', async () => {
    const copy = join(tmp.dir, 'copy.mp4');
    copyFileSync(video, copy);
    await run(backbone, { end: 0.2 });
    const byContent = counted(backbone);
    assert.equal((await extractFeatures(copy, byContent, { cache, end: 0.2 })).cache.status, 'hit');
    assert.equal(byContent.calls, 0);

    const statCache = new FeatureCache({ dir: cacheDir, videoIdentity: 'file-stat' });
    const parts = await statCache.keyParts(copy, { stride: 1 }, backbone.info);
    assert.ok('path' in parts.video && parts.video.path === copy && parts.video.size > 0);
    utimesSync(copy, new Date(), new Date(Date.now() - 3600e3));
    assert.notEqual(featureCacheKey(await statCache.keyParts(copy, { stride: 1 }, backbone.info)), featureCacheKey(parts));
    assert.equal(featureCacheKey(await cache.keyParts(copy, { stride: 1 }, backbone.info)), featureCacheKey(await cache.keyParts(video, { stride: 1 }, backbone.info)));
  });

  it('reports a corrupted entry, recomputes and replaces it', async () => {
    const stored = (await run(backbone, { end: 0.8 })).result;
    assert.ok(stored.cache.status === 'stored');
    const { data, sidecar } = cache.paths(stored.cache.key);
    const breakThen = async (damage: () => void, reason: RegExp) => {
      damage();
      const again = await run(backbone, { end: 0.8 });
      assert.ok(again.calls > 0, 'recomputed');
      const invalid = again.events.find((e) => e.type === 'cache-invalid');
      assert.ok(invalid && invalid.type === 'cache-invalid' && reason.test(invalid.reason), JSON.stringify(invalid));
      assert.ok(again.result.cache.status === 'stored' && reason.test(again.result.cache.replaced ?? ''));
      assert.deepEqual(again.result.data, stored.data);
      assert.equal((await run(backbone, { end: 0.8 })).calls, 0, 'the replacement is a good entry');
    };
    const bytes = readFileSync(data);
    await breakThen(() => writeFileSync(data, Uint8Array.from(bytes, (b, i) => (i === bytes.length - 3 ? b ^ 0x40 : b))), /sha256 differs from the sidecar/);
    await breakThen(() => writeFileSync(data, bytes.subarray(0, bytes.length - 8)), /holds \d+ bytes; the sidecar says \d+/);
    await breakThen(() => rmSync(data), /the data file is missing/);
    await breakThen(() => writeFileSync(sidecar, '{"format": "signweave-features-1", "key"'), /the sidecar is not valid JSON/);
    const good = JSON.parse(readFileSync(sidecar, 'utf8'));
    await breakThen(() => writeFileSync(sidecar, JSON.stringify({ ...good, shape: [good.shape[0] + 1, good.shape[1]] })), /frame indices and times must be \d+ numbers each/);
    await breakThen(() => writeFileSync(sidecar, JSON.stringify({ ...good, parts: { ...good.parts, stride: 3 } })), /the sidecar belongs to another key/);
    // Without its sidecar the data is an interrupted write: a plain miss, recomputed.
    rmSync(sidecar);
    const miss = await run(backbone, { end: 0.8 });
    assert.ok(miss.calls > 0 && !miss.events.some((e) => e.type === 'cache-invalid') && miss.result.cache.status === 'stored');
  });

  it('lists entries with their shape and problems, and clears all or the older ones', async () => {
    const dir = join(tmp.dir, 'list-cache');
    const own = new FeatureCache({ dir });
    const a = await extractFeatures(video, backbone, { cache: own, end: 0.4 });
    const b = await extractFeatures(video, backbone, { cache: own, end: 0.4, stride: 2 });
    assert.ok(a.cache.status === 'stored' && b.cache.status === 'stored');
    const [aKey, bKey] = [a.cache.key, b.cache.key];
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    writeFileSync(join(dir, `.${bKey}.npy.123.abc.tmp`), 'leftover');
    writeFileSync(join(dir, `${bKey}.npy`), 'garbage');

    const entries = listCache(dir);
    assert.equal(entries.length, 2);
    const good = entries.find((e) => e.key === aKey)!;
    assert.deepEqual([good.shape, good.fps, good.video, good.problem, good.files.length], [[10, 8], 25, video, undefined, 2]);
    assert.equal(good.backbone?.kind, 'onnx');
    const bad = entries.find((e) => e.key === bKey)!;
    assert.match(bad.problem!, /holds 7 bytes/);
    assert.equal(bad.files.length, 3);

    assert.deepEqual(clearCache({ dir, olderThan: new Date(Date.now() - 3600e3) }), { removed: 0, bytes: 0 });
    const cleared = clearCache({ dir, olderThan: new Date(Date.now() + 1000) });
    assert.equal(cleared.removed, 2);
    assert.ok(cleared.bytes > 0);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    assert.deepEqual(listCache(join(tmp.dir, 'never-made')), []);
    assert.deepEqual(clearCache({ dir: join(tmp.dir, 'never-made') }), { removed: 0, bytes: 0 });
  });

  it('lives under $XDG_CACHE_HOME (when absolute) or ~/.cache by default', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/var/tmp/xdg';
      assert.equal(defaultFeatureCacheDir(), '/var/tmp/xdg/signweave/features');
      process.env.XDG_CACHE_HOME = 'relative';
      assert.equal(defaultFeatureCacheDir(), join(homedir(), '.cache', 'signweave', 'features'));
      assert.equal(new FeatureCache().dir, join(homedir(), '.cache', 'signweave', 'features'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
