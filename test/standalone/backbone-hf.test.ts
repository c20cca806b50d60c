import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoImageProcessor, env, RawImage } from '@huggingface/transformers';
import { buildVit, dinov2PreprocessorConfig, HfBackbone, loadBackbone, sharedOnnxRuntimePath, writeHfVitFolder, type VitOptions } from '../../src/backbone/index.js';
import { GraphBuilder, type OnnxModel } from '../../src/graph/builder.js';
import { OnnxSession } from '../../src/graph/session.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, frameToTensor, parseImageProcessorConfig, preprocessFrame } from '../../src/video/index.js';
import { mulberry32 } from '../../src/util/random.js';
import { HOW2SIGN_CLIP, tempDir } from '../helpers/video.js';
import { inputError, maxDiff } from '../helpers/assert.js';

const tmp = tempDir();
after(tmp.remove);

const VIT: VitOptions = { imageSize: 28, patchSize: 7, dim: 16, depth: 2, heads: 2, seed: 5 };

function randomFrame(width: number, height: number, seed: number, index = 0): VideoFrame {
  const r = mulberry32(seed);
  return { index, time: index / 24, width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(r() * 256)) };
}

/** CLS rows (token 0) of the graph's own TypeScript reference on an [N, 3, S, S] batch. */
function referenceCls(model: OnnxModel, pixels: Float32Array, n: number): Float32Array {
  const s = VIT.imageSize;
  const out = model.evaluateReference({ pixel_values: { dtype: 'float32', shape: [n, 3, s, s], data: pixels } }).last_hidden_state;
  const tokens = out.shape[1];
  const rows = new Float32Array(n * VIT.dim);
  for (let i = 0; i < n; i++) rows.set((out.data as Float32Array).subarray(i * tokens * VIT.dim, i * tokens * VIT.dim + VIT.dim), i * VIT.dim);
  return rows;
}

describe('backbone: Hugging Face folder through @huggingface/transformers', () => {
  const model = buildVit(VIT);
  const dir = join(tmp.dir, 'tiny-dinov2');
  let backbone: HfBackbone;
  before(async () => {
    writeHfVitFolder(dir, model, VIT);
    backbone = (await loadBackbone(dir, { threads: 1 })) as HfBackbone;
  });
  after(() => backbone.dispose());

  it('loads through AutoModel as a Dinov2Model and describes itself', () => {
    const { info } = backbone;
    assert.ok(backbone instanceof HfBackbone);
    assert.equal(backbone.model.constructor.name, 'Dinov2Model');
    assert.match(info.runtime, /^transformers\.js 4\.3\.1 Dinov2Model on onnxruntime-node 1\.30\.0$/);
    assert.deepEqual([info.kind, info.inputName, info.outputName, info.dim], ['hf', 'pixel_values', 'last_hidden_state', 16]);
    assert.deepEqual(info.imageSize, { width: 28, height: 28 });
    assert.deepEqual(info.preprocessing.resize, { shortestEdge: 32 });
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
  });

  it('returns the CLS token (index 0 of last_hidden_state) the graph computes, per frame', async () => {
    const frames = [0, 1, 2].map((i) => randomFrame(28, 28, 10 + i, i));
    const pixels = new Float32Array(3 * 3 * 28 * 28);
    frames.forEach((f, i) => pixels.set(frameToTensor(f, backbone.info.preprocessing).data, i * 3 * 28 * 28));
    const out = await backbone.embed(frames);
    assert.equal(out.length, 3 * 16);
    assert.ok(maxDiff(out, referenceCls(model, pixels, 3)) < 1e-5);
    // The same batch given already preprocessed gives the same rows.
    assert.deepEqual(await backbone.embed(pixels), out);
  });

  it('gives each frame the same features alone as in a batch', async () => {
    const frames = [0, 1, 2, 3].map((i) => randomFrame(28, 28, 20 + i, i));
    const together = await backbone.embed(frames);
    for (const [i, f] of frames.entries()) assert.ok(maxDiff(await backbone.embed([f]), together.subarray(i * 16, (i + 1) * 16)) < 1e-6);
  });

  it('preprocesses frames of other sizes in TypeScript (resize, crop) before embedding', async () => {
    const frame = randomFrame(64, 48, 3);
    const expected = await backbone.embed(preprocessFrame(frame, backbone.info.preprocessing).data);
    assert.deepEqual(await backbone.embed([frame]), expected);
    assert.equal((await backbone.embed([])).length, 0);
  });

  it('runs on the single onnxruntime-node copy OnnxSession also uses', async () => {
    const ortPath = sharedOnnxRuntimePath();
    assert.match(ortPath, /node_modules\/onnxruntime-node\/dist\/index\.js$/);
    const g = new GraphBuilder();
    g.output(g.relu(g.input('x', 'float32', [2])), 'y');
    await using session = await OnnxSession.create(g.build().toBytes(), { intraOpThreads: 1 });
    await session.run({ x: { dtype: 'float32', shape: [2], data: Float32Array.of(-1, 1) } });
    // Both runtimes are live now: the process has mapped exactly one native binding and one libonnxruntime.
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const mapped = (name: string) => new Set(maps.split('\n').filter((l) => l.endsWith(name)).map((l) => l.slice(l.indexOf('/'))));
    assert.equal(mapped('onnxruntime_binding.node').size, 1);
    assert.equal(mapped('libonnxruntime.so.1').size, 1);
  });

  it("loads model_type 'vit' as ViTModel through the same path", async () => {
    const vitDir = join(tmp.dir, 'tiny-vit');
    writeHfVitFolder(vitDir, model, VIT, { modelType: 'vit' });
    await using vit = (await loadBackbone(vitDir, { threads: 1 })) as HfBackbone;
    assert.equal(vit.model.constructor.name, 'ViTModel');
    const frames = [randomFrame(28, 28, 7)];
    assert.deepEqual(await vit.embed(frames), await backbone.embed(frames));
  });
});

describe("backbone: src/video's preprocessing against transformers.js's image processor", () => {
  const dir = join(tmp.dir, 'processor');
  before(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify(dinov2PreprocessorConfig(28)));
    env.allowRemoteModels = false;
  });
  const config = parseImageProcessorConfig(dinov2PreprocessorConfig(28));

  it('agrees exactly in geometry, rescaling and normalisation (a frame that needs a crop but no resize)', async () => {
    const processor = await AutoImageProcessor.from_pretrained(dir, { local_files_only: true });
    // Shortest edge already 32: no resize; the 28×28 center crop of a 32×40 frame.
    const frame = randomFrame(32, 40, 4);
    const theirs = (await processor(new RawImage(new Uint8ClampedArray(frame.data), 32, 40, 3))).pixel_values;
    assert.deepEqual(theirs.dims, [1, 3, 28, 28]);
    assert.ok(maxDiff(theirs.data as Float32Array, preprocessFrame(frame, config).data) < 1e-6);
  });

  it('differs only by resampling on a real 720p frame (transformers.js resizes without antialiasing)', async () => {
    const big = parseImageProcessorConfig(dinov2PreprocessorConfig(224));
    const bigDir = join(tmp.dir, 'processor-224');
    mkdirSync(bigDir, { recursive: true });
    writeFileSync(join(bigDir, 'preprocessor_config.json'), JSON.stringify(dinov2PreprocessorConfig(224)));
    const processor = await AutoImageProcessor.from_pretrained(bigDir, { local_files_only: true });
    let frame: VideoFrame | undefined;
    for await (const f of decodeVideo(HOW2SIGN_CLIP, { end: 0.04 })) frame = f;
    const theirs = (await processor(new RawImage(new Uint8ClampedArray(frame!.data), frame!.width, frame!.height, 3))).pixel_values;
    const ours = preprocessFrame(frame!, big).data;
    assert.deepEqual(theirs.dims, [1, 3, 224, 224]);
    // In 8-bit levels (× std × 255): same picture, different resampling filters.
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i] - (theirs.data as Float32Array)[i]);
    const meanLevels = (sum / ours.length) * 0.226 * 255;
    assert.ok(meanLevels > 0.5 && meanLevels < 4, `mean difference ${meanLevels.toFixed(2)} levels`);
  });
});

describe('backbone: Hugging Face folder errors name the file and field', () => {
  const model = buildVit(VIT);
  const fresh = (name: string): string => {
    const d = join(tmp.dir, name);
    writeHfVitFolder(d, model, VIT);
    return d;
  };

  it('a missing folder', async () => {
    await assert.rejects(HfBackbone.load(join(tmp.dir, 'nope')), inputError(/cannot read Hugging Face model folder .*nope: no such folder/));
    await assert.rejects(loadBackbone(join(tmp.dir, 'nope')), inputError(/cannot read backbone .*nope: no such file or folder/));
  });

  it('a missing config.json or model_type', async () => {
    const d = fresh('no-config');
    rmSync(join(d, 'config.json'));
    await assert.rejects(loadBackbone(d), inputError(/cannot read model config .*no-config\/config\.json: no such file/));
    writeFileSync(join(d, 'config.json'), '{"hidden_size": 16}');
    await assert.rejects(loadBackbone(d), inputError(/no-config\/config\.json: field "model_type" is missing/));
  });

  it('a missing preprocessor_config.json, or a field of it missing or wrong', async () => {
    const d = fresh('bad-preprocessor');
    const path = join(d, 'preprocessor_config.json');
    rmSync(path);
    await assert.rejects(loadBackbone(d), inputError(/cannot read image processor config .*bad-preprocessor\/preprocessor_config\.json: no such file/));
    writeFileSync(path, JSON.stringify({ ...dinov2PreprocessorConfig(28), image_std: [0.2, 0.2] }));
    await assert.rejects(loadBackbone(d), inputError(/preprocessor_config\.json: field "image_std" must be a number or a list of 3 numbers/));
    const { crop_size: _crop, do_center_crop: _flag, ...noCrop } = dinov2PreprocessorConfig(28);
    writeFileSync(path, JSON.stringify(noCrop));
    await assert.rejects(loadBackbone(d), inputError(/preprocessor_config\.json: the preprocessing gives no fixed input size \(needs "crop_size"/));
    writeFileSync(path, JSON.stringify(dinov2PreprocessorConfig(56)));
    await assert.rejects(loadBackbone(d), inputError(/onnx\/model\.onnx: input 'pixel_values' is \[batch_size, 3, 28, 28\] but the preprocessing makes \[N, 3, 56, 56\] images/));
  });

  it('a missing onnx/model.onnx, and a graph without last_hidden_state', async () => {
    const d = fresh('bad-graph');
    rmSync(join(d, 'onnx', 'model.onnx'));
    await assert.rejects(loadBackbone(d), inputError(/cannot read ONNX model .*bad-graph\/onnx\/model\.onnx: no such file/));
    const g = new GraphBuilder();
    g.output(g.mul(g.input('pixel_values', 'float32', ['N', 3, 28, 28]), 2), 'features');
    g.build().save(join(d, 'onnx', 'model.onnx'));
    await assert.rejects(loadBackbone(d), inputError(/bad-graph\/onnx\/model\.onnx: no output named 'last_hidden_state' \(transformers\.js returns it\); the model gives 'features'/));
  });

  it('a model_type transformers.js has no class for (it would fall back to a bare PreTrainedModel)', async () => {
    const d = fresh('unknown-type');
    writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'no-such-architecture', hidden_size: 16 }));
    await assert.rejects(loadBackbone(d), inputError(/unknown-type\/config\.json: field "model_type" is "no-such-architecture", which transformers\.js 4\.3\.1 has no model class for/));
  });

  it('bare-ONNX options are refused for a folder', async () => {
    await assert.rejects(loadBackbone(fresh('with-options'), { outputName: 'x' }), inputError(/is a Hugging Face model folder, which names its own tensors and preprocessing: drop outputName/));
  });
});
