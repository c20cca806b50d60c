// The pipeline without landmarks (no Chromium): the demo's tiny backbone and untrained bundles on a 17-frame How2Sign
// clip, with the lipreading-free presets, and the checks that run before any video is read. The model-dependent
// pipeline test runs the whole pipeline, landmarks included.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initDemoBundles } from '../../src/bundles/demo.js';
import { resolvePipelineConfig, type PipelineConfig } from '../../src/pipeline/config.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { pipelineResultJson, type PipelineProgress } from '../../src/pipeline/result.js';
import { sharedPath } from '../helpers/shared.js';
import { inputError } from '../helpers/assert.js';
import { ffmpeg } from '../helpers/video.js';

const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-run-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('pipeline without landmarks', () => {
  let configPath: string;
  let demo: PipelineConfig;
  before(async () => {
    // The face model is never opened: these presets run no landmarks.
    configPath = (await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task') })).config;
    demo = resolvePipelineConfig(configPath).config;
  });

  it('no-lipreading: a time range, token times inside it, fusion without a lip gate, the cache on the second run', async () => {
    await using pipeline = await createPipeline(configPath, { preset: 'no-lipreading', threads: 1 });
    const events: PipelineProgress[] = [];
    const range = { start: 0.25, end: 0.6 };
    const r = await pipeline.run(CLIP, { ...range, onProgress: (e) => events.push(e) });
    // Frames at 6/24 … 14/24 s: 9 rows.
    assert.equal(r.video.frames, 9);
    assert.equal(r.video.start, 0.25);
    assert.ok(Math.abs(r.video.end - 15 / 24) < 1e-9);
    assert.equal(r.streams.lipread, undefined);
    assert.ok(r.streams.fingerspell);
    for (const tokens of [r.streams.sign.stream.tokens, r.streams.fingerspell.stream.tokens, r.fused.tokens]) {
      assert.ok(tokens.length > 0);
      for (const t of tokens) assert.ok(t.start >= r.video.start - 1e-9 && t.end <= r.video.end + 1e-9 && t.start < t.end, JSON.stringify(t));
    }
    for (const d of r.router!.decisions) assert.ok(d.start >= 0.25 - 1e-9 && d.end <= r.video.end + 1e-9);
    assert.equal(r.fused.source, 'fusion');
    assert.equal(r.fused.text, r.fused.tokens.map((t) => t.token).join(' '));
    assert.equal(r.fusion?.variant, 'no-lip');
    assert.equal(r.fusion?.gate, null);
    assert.deepEqual(r.fusion?.logits.shape, [9, 15]);
    assert.deepEqual(r.fusion?.routerWeights.shape, [9, 3]);
    assert.equal(r.timings.landmarks, null);
    assert.equal(r.timings.lipread, null);
    assert.ok(r.timings.load > 0 && r.timings.total >= r.timings.backbone);
    assert.equal(r.provenance.landmarks, null);
    assert.deepEqual(Object.keys(r.provenance.bundles), ['sign', 'fingerspell', 'router', 'fusion']);
    assert.equal(r.provenance.bundles.fusion?.dir, demo.fusion?.variants?.['no-lip']);
    assert.equal(r.provenance.features.cache, 'stored');
    assert.equal(r.provenance.untrained, true);
    assert.deepEqual(new Set(events.map((e) => e.stage)), new Set(['decode', 'backbone', 'experts', 'router', 'fusion']));
    assert.deepEqual(events.filter((e) => e.stage === 'experts').map((e) => [e.done, e.total]), [[1, 2], [2, 2]]);

    const again = await pipeline.run(CLIP, range);
    assert.equal(again.provenance.features.cache, 'hit');
    assert.equal(again.timings.load, 0);
    assert.equal(again.fused.text, r.fused.text);
    const json = JSON.parse(pipelineResultJson(again));
    assert.equal(json.streams.sign.logits.data.length, 9 * 15);
    assert.equal(json.streams.sign.stream.logits, undefined);
  });

  it('a frame folder runs like a video of the same pictures', async () => {
    const frames = join(root, 'frames');
    mkdirSync(frames);
    ffmpeg(['-i', CLIP, '-frames:v', '8', join(frames, '%04d.png')]);
    // The same RGB pictures as a lossless video: both sources then reach the backbone's resize as identical RGB.
    const clip = join(root, 'frames.mkv');
    ffmpeg(['-framerate', '24', '-i', join(frames, '%04d.png'), '-c:v', 'png', clip]);
    await using pipeline = await createPipeline(configPath, { preset: 'no-lipreading', threads: 1 });
    const range = { start: 0.1, end: 0.3 };
    const [fromClip, fromFolder] = [await pipeline.run(clip, range), await pipeline.run({ frames, fps: 24 }, range)];
    assert.equal(fromFolder.video.path, frames);
    assert.equal(fromFolder.video.frames, 5);
    assert.deepEqual(fromFolder.streams.sign.logits.data, fromClip.streams.sign.logits.data);
    assert.deepEqual(fromFolder.fusion?.logits.data, fromClip.fusion?.logits.data);
  });

  it('no-fusion: the sign stream is the pseudo-gloss', async () => {
    const config = { ...demo, experts: { ...demo.experts, lipread: null }, landmarks: undefined };
    await using pipeline = await createPipeline(config, { preset: 'no-fusion', threads: 1 });
    const r = await pipeline.run(CLIP, { end: 0.3 });
    assert.equal(r.fusion, null);
    assert.equal(r.fused.source, 'sign');
    assert.equal(r.fused.text, r.streams.sign.text);
    assert.deepEqual(r.fused.tokens, r.streams.sign.stream.tokens);
    assert.equal(r.provenance.config.preset, 'no-fusion');
  });

  it('stages that do not fit together fail before the video is read, naming the config field', async () => {
    const lips = { ...demo, experts: { ...demo.experts, lipread: null } };
    await using p1 = await createPipeline(lips, { threads: 1 });
    await assert.rejects(p1.run(CLIP), inputError(/^the pipeline config object: \/fusion\/bundle: fusion bundle .*\/bundles\/fusion reads a lip stream, but \/experts\/lipread is null/));

    const variant = { ...lips, fusion: { ...demo.fusion!, bundle: demo.fusion!.variants!['no-lip']!, variant: 'cmfa' as const } };
    await using p2 = await createPipeline(variant, { threads: 1 });
    await assert.rejects(p2.load(), inputError(/\/fusion\/variant: is 'cmfa' but fusion bundle .*fusion-no-lip is the 'no-lip' variant/));

    const small = join(root, 'small');
    initDemoBundles(small, { featureDim: 16 });
    const dims = { ...lips, fusion: null, experts: { ...lips.experts, sign: { bundle: join(small, 'sign') } } };
    await using p3 = await createPipeline(dims, { threads: 1 });
    await assert.rejects(p3.load(), inputError(/\/experts\/sign\/bundle: bundle .*small\/sign takes features of 16 values \(input\.dim\), but the backbone \(\/backbone\/path: .*\) gives 384/));

    const type = { ...dims, experts: lips.experts, backbone: { ...demo.backbone, type: 'onnx' as const, preprocessing: { crop_size: { height: 56, width: 56 } } } };
    await using p4 = await createPipeline(type, { threads: 1 });
    await assert.rejects(p4.load(), inputError(/\/backbone\/type: is "onnx" but .*\/backbone is a folder \(use "hf-folder"\)/));
  });

  it('an aborted run rejects with the reason; a disposed pipeline refuses runs', async () => {
    const pipeline = await createPipeline(configPath, { preset: 'no-lipreading', threads: 1 });
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = pipeline.run(CLIP, { signal: controller.signal, onProgress: (e) => e.stage === 'decode' && controller.abort(reason) });
    await assert.rejects(run, (err) => err === reason);
    await pipeline.dispose();
    await assert.rejects(pipeline.run(CLIP), /the pipeline is disposed/);
  });
});
