import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildVit, dinov2PreprocessorConfig, inspectOnnx, loadBackbone, OnnxBackbone, type VitOptions } from '../../src/backbone/index.js';
import { GraphBuilder, type OnnxModel } from '../../src/graph/builder.js';
import { linear } from '../../src/graph/modules.js';
import { decodeModel, encodeModel, readOnnxInfo } from '../../src/graph/proto.js';
import type { VideoFrame } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';
import { frameToTensor, parseImageProcessorConfig } from '../../src/video/index.js';
import { tempDir } from '../helpers/video.js';
import { inputError, maxDiff } from '../helpers/assert.js';

const tmp = tempDir();
after(tmp.remove);

const VIT: VitOptions = { imageSize: 28, patchSize: 14, dim: 12, depth: 1, heads: 3, seed: 9 };
const preprocessing = parseImageProcessorConfig(dinov2PreprocessorConfig(28));

function randomFrame(seed: number, index = 0, size = 28): VideoFrame {
  const r = mulberry32(seed);
  return { index, time: index / 24, width: size, height: size, data: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(r() * 256)) };
}

/** A pooled encoder in the style of torch.onnx DINOv2 exports: `input` [B, 3, 28, 28] → `embedding` [B, 8] (and a spare output). */
function pooledEncoder(batch: number | string = 'batch'): OnnxModel {
  const g = new GraphBuilder({ seed: 2 });
  const x = g.input('input', 'float32', [batch, 3, 28, 28]);
  const flat = g.reshape(x, [0, 3 * 28 * 28]);
  const h = linear('proj', 3 * 28 * 28, 8).apply(g, flat);
  g.output(h, 'embedding');
  g.output(g.relu(h), 'spare');
  return g.build();
}

function save(model: OnnxModel, name: string): string {
  const path = join(tmp.dir, name);
  model.save(path);
  return path;
}

describe('backbone: bare ONNX through OnnxSession', () => {
  const vit = buildVit(VIT);
  const vitPath = save(vit, 'vit.onnx');

  it('takes the CLS token of a [N, tokens, D] output and matches the graph reference', async () => {
    await using b = await loadBackbone(vitPath, { preprocessing, threads: 1 });
    assert.deepEqual([b.info.kind, b.info.inputName, b.info.outputName, b.info.dim], ['onnx', 'pixel_values', 'last_hidden_state', 12]);
    assert.match(b.info.runtime, /^onnxruntime-node 1\.30\.0$/);
    assert.equal(b.info.sha256, (await inspectOnnx(vitPath)).sha256);
    const frames = [1, 2, 3].map((s, i) => randomFrame(s, i));
    const pixels = new Float32Array(3 * 3 * 28 * 28);
    frames.forEach((f, i) => pixels.set(frameToTensor(f, preprocessing).data, i * 3 * 28 * 28));
    const ref = vit.evaluateReference({ pixel_values: { dtype: 'float32', shape: [3, 3, 28, 28], data: pixels } }).last_hidden_state;
    const tokens = ref.shape[1];
    assert.equal(tokens, 5);
    const cls = new Float32Array(3 * 12);
    for (let i = 0; i < 3; i++) cls.set((ref.data as Float32Array).subarray(i * tokens * 12, i * tokens * 12 + 12), i * 12);
    const out = await b.embed(frames);
    assert.ok(maxDiff(out, cls) < 1e-5);
    assert.deepEqual(await b.embed(pixels), out);
  });

  it('batch 1, 3 and 7 give each frame the same features', async () => {
    await using b = await loadBackbone(vitPath, { preprocessing, threads: 1 });
    const frames = Array.from({ length: 7 }, (_, i) => randomFrame(40 + i, i));
    const all = await b.embed(frames);
    for (let i = 0; i < 7; i++) assert.ok(maxDiff(await b.embed([frames[i]]), all.subarray(i * 12, (i + 1) * 12)) < 1e-6);
    const threes = [...(await b.embed(frames.slice(0, 3))), ...(await b.embed(frames.slice(3, 6))), ...(await b.embed(frames.slice(6)))];
    assert.ok(maxDiff(threes, all) < 1e-6);
  });

  it('passes a pooled [N, D] output through, with the output chosen by name', async () => {
    const path = save(pooledEncoder(), 'pooled.onnx');
    await using b = await loadBackbone(path, { preprocessing, outputName: 'embedding', threads: 1 });
    assert.equal(b.info.dim, 8);
    const frames = [randomFrame(5), randomFrame(6, 1)];
    const out = await b.embed(frames);
    assert.equal(out.length, 16);
    assert.ok(maxDiff(out.subarray(8), await b.embed([frames[1]])) < 1e-6);
  });

  it('runs a graph with a fixed batch size in chunks of it, padding the last', async () => {
    const fixed = save(pooledEncoder(2), 'fixed-batch.onnx');
    const free = save(pooledEncoder(), 'free-batch.onnx');
    await using a = await loadBackbone(fixed, { preprocessing, outputName: 'embedding', threads: 1 });
    await using b = await loadBackbone(free, { preprocessing, outputName: 'embedding', threads: 1 });
    const frames = Array.from({ length: 5 }, (_, i) => randomFrame(60 + i, i));
    assert.ok(maxDiff(await a.embed(frames), await b.embed(frames)) < 1e-6);
  });

  it('learns a symbolic feature size from one blank image', async () => {
    // An export that declares the feature size as a symbol: only a run tells it.
    const proto = decodeModel(pooledEncoder().toBytes());
    proto.graph!.output![0].type!.tensorType!.shape!.dim![1] = { dimParam: 'D' };
    const path = join(tmp.dir, 'symbolic-d.onnx');
    writeFileSync(path, encodeModel(proto));
    assert.equal(readOnnxInfo(path).outputs[0].shape[1], 'D');
    await using b = await loadBackbone(path, { preprocessing, outputName: 'embedding', threads: 1 });
    assert.equal(b.info.dim, 8);
    assert.equal((await b.embed([randomFrame(1)])).length, 8);
  });

  it('errors name the file, the tensor and what it has', async () => {
    const pooled = save(pooledEncoder(), 'pooled-errors.onnx');
    await assert.rejects(loadBackbone(pooled, { preprocessing }), inputError(/pooled-errors\.onnx: the model has 2 outputs \('embedding' \[batch, 8\], 'spare' \[batch, 8\]\); name the image output \(outputName\)/));
    await assert.rejects(
      loadBackbone(pooled, { preprocessing, outputName: 'last_hidden_state' }),
      inputError(/pooled-errors\.onnx: no output named 'last_hidden_state'; the model's outputs are 'embedding' \[batch, 8\], 'spare' \[batch, 8\]/),
    );
    await assert.rejects(loadBackbone(pooled, { preprocessing, inputName: 'pixel_values', outputName: 'embedding' }), inputError(/no input named 'pixel_values'; the model's inputs are 'input' \[batch, 3, 28, 28\]/));
    await assert.rejects(loadBackbone(pooled, { outputName: 'embedding' }), inputError(/pooled-errors\.onnx is a bare ONNX model: give its preprocessing/));
    await assert.rejects(
      loadBackbone(pooled, { preprocessing: parseImageProcessorConfig(dinov2PreprocessorConfig(56)), outputName: 'embedding' }),
      inputError(/input 'input' is \[batch, 3, 28, 28\] but the preprocessing makes \[N, 3, 56, 56\] images/),
    );
    await assert.rejects(
      loadBackbone(pooled, { preprocessing: join(tmp.dir, 'missing.json'), outputName: 'embedding' }),
      inputError(/cannot read image processor config .*missing\.json: no such file/),
    );
    await assert.rejects(OnnxBackbone.load(join(tmp.dir, 'absent.onnx'), { preprocessing }), inputError(/cannot read ONNX model .*absent\.onnx: no such file/));
  });

  it('refuses batches of the wrong size and use after dispose', async () => {
    const b = await loadBackbone(vitPath, { preprocessing, threads: 1 });
    await assert.rejects(b.embed(new Float32Array(100)), inputError(/a preprocessed batch must hold N × 3 × 28 × 28 values, got 100/));
    await b.dispose();
    await b.dispose();
    await assert.rejects(b.embed([randomFrame(1)]), /is disposed/);
  });

  it('hashes external weight files into the backbone sha256, and ONNX Runtime reads them', async () => {
    // The pooled encoder with its projection weight moved to an external file, as large exports store weights.
    const dir = join(tmp.dir, 'external');
    mkdirSync(dir);
    const proto = decodeModel(pooledEncoder().toBytes());
    const weight = proto.graph!.initializer!.find((t) => t.name === 'proj.weight')!;
    const bytes = weight.rawData!;
    writeFileSync(join(dir, 'weights.bin'), bytes);
    weight.rawData = new Uint8Array(0);
    weight.dataLocation = 1; // EXTERNAL
    weight.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(bytes.length) },
    ];
    const path = join(dir, 'model.onnx');
    writeFileSync(path, encodeModel(proto));
    const first = await inspectOnnx(path);
    assert.deepEqual(first.externalFiles, ['weights.bin']);
    assert.notEqual(first.sha256, createHash('sha256').update(readFileSync(path)).digest('hex'));

    await using external = await loadBackbone(path, { preprocessing, outputName: 'embedding', threads: 1 });
    await using embedded = await loadBackbone(save(pooledEncoder(), 'embedded.onnx'), { preprocessing, outputName: 'embedding', threads: 1 });
    const frames = [randomFrame(8)];
    assert.deepEqual(await external.embed(frames), await embedded.embed(frames));

    const changed = Uint8Array.from(bytes);
    changed[0] ^= 1;
    writeFileSync(join(dir, 'weights.bin'), changed);
    assert.notEqual((await inspectOnnx(path)).sha256, first.sha256);
    rmSync(join(dir, 'weights.bin'));
    await assert.rejects(inspectOnnx(path), inputError(/cannot read external weights of .*model\.onnx: .*weights\.bin: no such file/));
  });
});
