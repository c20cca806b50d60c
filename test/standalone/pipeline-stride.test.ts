// The pipeline's backbone branch reads the run's shared, strided decode (ffmpeg keeps every stride-th frame): its
// features, frame indices, times and cache entry must be exactly those `extractFeatures` gives for the same request.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { extractFeatures, FeatureCache, loadBackbone } from '../../src/backbone/index.js';
import { resolvePipelineConfig } from '../../src/pipeline/config.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { maxDiff } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';

const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-stride-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('pipeline: strided decoding', () => {
  it('stride 3 on [0.25, 0.6): rows from frames 0, 3, 6 of the range at 6/24, 9/24, 12/24 s, equal to extractFeatures and its cache entry', async () => {
    const configPath = (await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task') })).config;
    const base = resolvePipelineConfig(configPath).config;
    const cacheDir = join(root, 'cache');
    const config = { ...base, backbone: { ...base.backbone, stride: 3, batch: 2 }, cache: { enabled: true, dir: cacheDir } };
    await using pipeline = await createPipeline(config, { preset: 'no-lipreading', threads: 1 });
    const range = { start: 0.25, end: 0.6 };
    const r = await pipeline.run(CLIP, range);
    assert.equal(r.video.frames, 3);
    assert.equal(r.video.stride, 3);
    assert.equal(r.video.fps, 8);
    assert.equal(r.video.start, 0.25);
    assert.equal(r.provenance.features.cache, 'stored');

    await using backbone = await loadBackbone(base.backbone.path, { threads: 1 });
    const cache = new FeatureCache({ dir: cacheDir });
    const reference = await extractFeatures(CLIP, backbone, { ...range, stride: 3, batch: 4 });
    assert.deepEqual(reference.frameIndices, [0, 3, 6]);
    assert.deepEqual(reference.times, [6 / 24, 9 / 24, 12 / 24]);
    const fromCache = await extractFeatures(CLIP, backbone, { ...range, stride: 3, cache });
    assert.equal(fromCache.cache.status, 'hit', 'the pipeline stored the entry extractFeatures looks up');
    const stored = r.provenance.features;
    assert.equal(fromCache.cache.status === 'hit' && fromCache.cache.key, 'key' in stored && stored.key);
    assert.deepEqual(fromCache.frameIndices, reference.frameIndices);
    assert.deepEqual(fromCache.times, reference.times);
    assert.equal(fromCache.fps, reference.fps);
    assert.deepEqual(fromCache.shape, reference.shape);
    const diff = maxDiff(reference.data, fromCache.data);
    assert.ok(diff < 1e-5, `features differ by ${diff}`);
    // Token times of the strided run lie on the rows' times (each row spans 3 frames, 1/8 s).
    for (const t of r.streams.sign.stream.tokens) {
      assert.ok(t.start >= 0.25 - 1e-9 && t.end <= 12 / 24 + 1 / 8 + 1e-9, JSON.stringify(t));
      assert.ok(Number.isInteger(Math.round((t.start - 0.25) * 8 * 1e6) / 1e6), `token starts on a row: ${JSON.stringify(t)}`);
    }
  });
});
