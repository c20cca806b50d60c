/**
 * The real DINOv2 ViT-S/14 graph (../shared/models/dinov2-vits14-arch: `input` [B, 3, 224, 224] → `embedding`
 * [B, 384], the CLS token) with SYNTHETIC weights generated into a temp folder: shapes, batching and the external
 * weight file, not meaningful features. About 60–300 ms per image on 2 threads; the whole file stays well under 60 s.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dinov2PreprocessorConfig, extractFeatures, loadBackbone, type Backbone } from '../../src/backbone/index.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, parseImageProcessorConfig } from '../../src/video/index.js';
import { sharedPath } from '../helpers/shared.js';
import { HOW2SIGN_CLIP, tempDir } from '../helpers/video.js';
import { maxDiff } from '../helpers/assert.js';

const tmp = tempDir();
after(tmp.remove);

describe('backbone: DINOv2 ViT-S/14 graph with synthetic weights', () => {
  const preprocessing = parseImageProcessorConfig(dinov2PreprocessorConfig(224));
  let backbone: Backbone;
  let path: string;
  const frames: VideoFrame[] = [];

  before(async () => {
    const tool = sharedPath('tools', 'make-dinov2-synthetic-weights.mjs');
    // ~1 s: 88 MB of deterministic weights beside a copy of the graph.
    const made = spawnSync(process.execPath, [tool, tmp.dir], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    path = join(tmp.dir, 'dinov2.onnx');
    backbone = await loadBackbone(path, { preprocessing, threads: 2 });
    for await (const f of decodeVideo(HOW2SIGN_CLIP, { end: 4 / 24, preprocess: preprocessing })) frames.push(f);
  });
  after(() => backbone?.dispose());

  it('is a 224×224 → 384-dim CLS encoder whose sha256 covers the external weights', () => {
    const { info } = backbone;
    assert.deepEqual([info.kind, info.inputName, info.outputName, info.dim], ['onnx', 'input', 'embedding', 384]);
    assert.deepEqual(info.imageSize, { width: 224, height: 224 });
    const graphOnly = createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.notEqual(info.sha256, graphOnly);
  });

  it('gives each frame the same 384 features at batch 1 and batch 4', async () => {
    assert.equal(frames.length, 4);
    assert.deepEqual([frames[0].width, frames[0].height], [224, 224]);
    const batched = await backbone.embed(frames);
    assert.equal(batched.length, 4 * 384);
    assert.ok(batched.every(Number.isFinite));
    for (let i = 0; i < 4; i++) {
      const alone = await backbone.embed([frames[i]]);
      assert.ok(maxDiff(alone, batched.subarray(i * 384, (i + 1) * 384)) < 1e-4, `frame ${i}`);
    }
    // Different frames, different features.
    assert.ok(maxDiff(batched.subarray(0, 384), batched.subarray(3 * 384, 4 * 384)) > 1e-4);
  });

  it('extracts a strided range of the How2Sign clip', async () => {
    const f = await extractFeatures(HOW2SIGN_CLIP, backbone, { end: 0.25, stride: 2, batch: 3 });
    assert.deepEqual(f.shape, [3, 384]);
    assert.equal(f.fps, 12);
    assert.deepEqual(f.frameIndices, [0, 2, 4]);
    const direct = await backbone.embed([frames[0], frames[2]]);
    assert.ok(maxDiff(f.data.subarray(0, 2 * 384), direct) < 1e-4);
  });
});
