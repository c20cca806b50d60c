import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBundle, } from '../../src/bundles/loader.js';
import { sha256File } from '../../src/util/hash.js';
import { buildRouterModel, loadRouterBundle, routerLayers } from '../../src/bundles/router.js';
import { verifyBundle, verifyBundles } from '../../src/bundles/verify.js';
import { writeBundle } from '../../src/bundles/writer.js';
import { buildSignHead, signVocabulary } from '../../src/experts/sign/index.js';
import { GraphBuilder, type OnnxModel } from '../../src/graph/builder.js';
import { mlp } from '../../src/graph/modules.js';
import { OnnxSession } from '../../src/graph/session.js';
import { float32 } from '../../src/graph/tensor.js';
import { poolSegments } from '../../src/router/pooling.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError, withChanges } from '../helpers/assert.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-bundle-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

const vocab = signVocabulary(['HELLO', 'YOU', 'NAME']);
const DIM = 8;

/** A fresh, valid sign bundle in `root/name`. */
function signBundle(name: string, options: { dim?: number; temporalStride?: number } = {}): string {
  const dir = join(root, name);
  const dim = options.dim ?? DIM;
  writeBundle(dir, {
    kind: 'sign',
    name: 'tiny-sign',
    model: buildSignHead({ dim, vocabSize: vocab.length, maxLen: 16, seed: 7 }),
    vocab,
    input: { type: 'features', name: 'features', dim, maxFrames: 16 },
    temporalStride: options.temporalStride,
    weights: 'random',
    provenance: { seed: 7, notes: 'test' },
  });
  return dir;
}

function editManifest(dir: string, changes: Record<string, unknown>): void {
  const path = join(dir, 'bundle.json');
  writeFileSync(path, JSON.stringify(withChanges(JSON.parse(readFileSync(path, 'utf8')) as object, changes), null, 2));
}

describe('bundles: write, load, verify', () => {
  it('round trip: writeBundle → loadBundle gives the manifest, the vocabulary and a lazy session', async () => {
    const dir = join(root, 'round-trip');
    const model = buildSignHead({ dim: DIM, vocabSize: vocab.length, maxLen: 16, seed: 7 });
    const manifest = writeBundle(dir, {
      kind: 'sign',
      name: 'tiny-sign',
      version: '2.1.0',
      model,
      vocab,
      input: { type: 'features', name: 'features', dim: DIM, maxFrames: 16 },
      weights: 'synthetic',
      provenance: { seed: 7, source: 'unit test' },
      architecture: { dim: DIM, maxLen: 16 },
    });
    assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), '<blank>\nHELLO\nYOU\nNAME\n');
    assert.equal(manifest.onnx.sha256, await sha256File(join(dir, 'model.onnx')));
    assert.match(manifest.provenance.createdBy, /^signweave \d+\.\d+\.\d+/);
    assert.ok(!Number.isNaN(Date.parse(manifest.provenance.createdAt)));

    const bundle = await loadBundle(dir, { expectKind: 'sign', session: { intraOpThreads: 1 } });
    assert.deepEqual(bundle.manifest, manifest);
    assert.deepEqual(bundle.vocab, vocab);
    assert.deepEqual(bundle.ref, { name: 'tiny-sign', version: '2.1.0', sha256: manifest.onnx.sha256, weights: 'synthetic' });
    assert.deepEqual(bundle.readWeights(), model.weights());
    assert.equal(bundle.hasSession, false, 'no ONNX Runtime session before first use');
    const session = await bundle.session();
    assert.equal(await bundle.session(), session, 'one session per bundle');
    const x = float32(new Float32Array(3 * DIM).fill(0.5), [3, DIM]);
    const ref = model.evaluateReference({ features: x }).logits;
    const got = (await session.run({ features: x })).logits;
    assert.deepEqual(got.shape, [3, vocab.length]);
    got.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(ref.data[i])) < 1e-5));
    await bundle[Symbol.asyncDispose]();
    assert.equal(session.isDisposed, true);
    await assert.rejects(bundle.session(), /is disposed/);
    await bundle.dispose();
  });

  it('a changed model file is a sha256 mismatch naming both hashes', async () => {
    const dir = signBundle('sha');
    const recorded = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')).onnx.sha256 as string;
    const other = buildSignHead({ dim: DIM, vocabSize: vocab.length, maxLen: 16, seed: 8 });
    writeFileSync(join(dir, 'model.onnx'), other.toBytes());
    await assert.rejects(loadBundle(dir), inputError(new RegExp(`^bundle ${dir}: onnx\\.sha256: is ${recorded} but model\\.onnx hashes to [0-9a-f]{64}`)));
  });

  it('a missing vocab.txt or model.onnx is named', async () => {
    const dir = signBundle('no-vocab');
    rmSync(join(dir, 'vocab.txt'));
    await assert.rejects(loadBundle(dir), inputError(new RegExp(`^bundle ${dir}: output\\.vocab: vocab\\.txt does not exist in the bundle folder`)));
    const noModel = signBundle('no-model');
    rmSync(join(noModel, 'model.onnx'));
    await assert.rejects(loadBundle(noModel), inputError(/onnx\.file: model\.onnx does not exist/));
  });

  it('vocabulary size ≠ the logits dimension, and a blank outside the vocabulary', async () => {
    const dir = signBundle('vocab-size');
    appendFileSync(join(dir, 'vocab.txt'), 'EXTRA\n');
    await assert.rejects(loadBundle(dir), inputError(/output\.vocab: vocab\.txt has 5 labels, but model\.onnx output 'logits' \[T, 4\] has 4 at dimension 1/));
    const blank = signBundle('blank');
    editManifest(blank, { 'output.blank': 4 });
    await assert.rejects(loadBundle(blank), inputError(/output\.blank: is 4, outside vocab\.txt \(4 labels, indices 0\.\.3\)/));
    const duplicate = signBundle('duplicate');
    writeFileSync(join(duplicate, 'vocab.txt'), '<blank>\nHELLO\nYOU\nHELLO\n');
    await assert.rejects(loadBundle(duplicate), inputError(/output\.vocab: vocab\.txt:4: token "HELLO" already on line 2/));
  });

  it('ONNX inputs and outputs that contradict bundle.json: name, dim, rank, undeclared inputs', async () => {
    const dir = signBundle('io', { dim: 256 });
    editManifest(dir, { 'input.dim': 384 });
    await assert.rejects(loadBundle(dir), inputError(new RegExp(`^bundle ${dir}: input\\.dim: is 384, but model\\.onnx input 'features' \\[T, 256\\] has 256 at dimension 1$`)));
    editManifest(dir, { 'input.dim': 256, 'input.name': 'pixels', 'output.name': 'scores' });
    await assert.rejects(
      loadBundle(dir),
      inputError(
        /has 3 problems/,
        /input\.name: is "pixels" but model\.onnx has no input of that name \(its inputs: 'features' float32 \[T, 256\]\)/,
        /input: model\.onnx also takes input 'features' \[T, 256\], which bundle\.json does not describe/,
        /output\.name: is "scores" but model\.onnx has no output of that name/,
      ),
    );
    editManifest(dir, {
      kind: 'lipread',
      input: { type: 'lip-crops', name: 'features', size: 16, channels: 3, mean: [0.5, 0.5], std: [0.25, 0.25, 0.25] },
      'output.name': 'logits',
    });
    await assert.rejects(
      loadBundle(dir),
      inputError(/input\.mean: has 2 values but input\.channels is 3/, /input\.name: model\.onnx input 'features' \[T, 256\] has rank 2; \[T, 16, 16, 3\] \(rank 4\) expected/),
    );
  });

  it('expectKind refuses a bundle of another kind', async () => {
    const dir = signBundle('kind');
    await assert.rejects(loadBundle(dir, { expectKind: 'lipread' }), inputError(/kind: is "sign" but a "lipread" bundle is needed here/));
  });

  it('writeBundle checks before writing: nothing is written for an inconsistent bundle', () => {
    const dir = join(root, 'refused');
    assert.throws(
      () =>
        writeBundle(dir, {
          kind: 'sign',
          name: 'x',
          model: buildSignHead({ dim: DIM, vocabSize: 9, maxLen: 4 }),
          vocab,
          input: { type: 'features', name: 'features', dim: DIM },
          weights: 'random',
        }),
      inputError(/output\.vocab: vocab\.txt has 4 labels, but model\.onnx output 'logits' \[T, 9\] has 9/),
    );
    assert.throws(
      () => writeBundle(dir, { kind: 'sign', name: 'x', model: buildSignHead({ dim: DIM, vocabSize: 3, maxLen: 4 }), vocab: ['<blank>', 'A', 'A'], input: { type: 'features', name: 'features', dim: DIM }, weights: 'random' }),
      inputError(/token "A" already on line 2/),
    );
    assert.throws(
      () => writeBundle(dir, { kind: 'sign', name: 'x y', model: buildSignHead({ dim: DIM, vocabSize: 4, maxLen: 4 }), vocab, input: { type: 'features', name: 'features', dim: DIM }, weights: 'random' }),
      inputError(/\/name: must be letters, digits/),
    );
    assert.equal(existsSync(dir), false);
  });

  it('verifyBundle lists every problem; a run on zeros catches a wrong temporalStride', async () => {
    const dir = signBundle('verify');
    writeFileSync(join(dir, 'model.onnx'), buildSignHead({ dim: DIM, vocabSize: vocab.length, maxLen: 16, seed: 9 }).toBytes());
    appendFileSync(join(dir, 'vocab.txt'), 'EXTRA\n');
    const report = await verifyBundle(dir);
    assert.equal(report.ok, false);
    assert.equal(report.name, 'tiny-sign');
    assert.deepEqual(
      report.problems.map((p) => p.field),
      ['onnx.sha256', 'output.vocab'],
    );

    const strided = signBundle('strided', { temporalStride: 2 });
    const loaded = await loadBundle(strided);
    await loaded.dispose();
    const stridedReport = await verifyBundle(strided);
    assert.deepEqual(stridedReport.problems, [{ field: 'temporalStride', message: 'a run on 5 frames of zeros gave [5, 4]; temporalStride 2 means [3, 4]' }]);

    const ok = await verifyBundle(signBundle('verify-ok'));
    assert.deepEqual({ ok: ok.ok, kind: ok.kind, vocabSize: ok.vocabSize, weights: ok.weights, problems: ok.problems }, { ok: true, kind: 'sign', vocabSize: 4, weights: 'random', problems: [] });
  });

  it('verifyBundles: one bundle folder, or every folder of a folder of bundles', async () => {
    const set = join(root, 'set');
    cpSync(signBundle('set-a'), join(set, 'a'), { recursive: true });
    cpSync(signBundle('set-b'), join(set, 'b'), { recursive: true });
    writeFileSync(join(set, 'pipeline.json'), '{}');
    rmSync(join(set, 'b', 'bundle.json'));
    const reports = await verifyBundles(set);
    assert.deepEqual(
      reports.map((r) => [r.dir, r.ok, r.problems.map((p) => p.field)]),
      [
        [join(set, 'a'), true, []],
        [join(set, 'b'), false, ['bundle.json']],
      ],
    );
    assert.equal((await verifyBundles(join(set, 'a'))).length, 1);
    await assert.rejects(verifyBundles(join(root, 'missing')), inputError(/no such file or folder/));
  });
});

describe('router bundles', () => {
  const D = 6;
  const hidden = [5];
  const model = buildRouterModel({ dim: D, hidden, seed: 11 });
  const dir = join(root, 'router');
  writeBundle(dir, {
    kind: 'router',
    name: 'tiny-router',
    model,
    input: { type: 'features', name: 'pooled', dim: D, window: 4, hop: 2 },
    output: { classes: ['sign', 'fingerspell', 'rest'] },
    architecture: { activation: 'gelu', hidden },
    weights: 'random',
  });

  it('routerLayers transposes the graph builder [in, out] weights into row-major [out, in]', async () => {
    const bundle = await loadBundle(dir, { expectKind: 'router' });
    const layers = routerLayers(bundle);
    const w = model.weights();
    assert.deepEqual(
      layers.map((l) => [l.in, l.out]),
      [
        [6, 5],
        [5, 3],
      ],
    );
    layers.forEach((layer, k) => {
      const graphW = w[`mlp.${k}.weight`];
      for (let i = 0; i < layer.in; i++) for (let o = 0; o < layer.out; o++) assert.equal(layer.weights[o * layer.in + i], graphW[i * layer.out + o]);
      assert.deepEqual(layer.bias, w[`mlp.${k}.bias`]);
    });
  });

  it('the Router from the bundle gives the ONNX MLP logits, with the pooling of bundle.json', async () => {
    const router = await loadRouterBundle(dir, { engine: 'loop' });
    assert.deepEqual(router.classes, ['sign', 'fingerspell', 'rest']);
    assert.deepEqual(router.pooling, { window: 4, hop: 2 });
    const rand = mulberry32(3);
    const T = 11;
    const features = { data: Float32Array.from({ length: T * D }, () => 2 * rand() - 1), shape: [T, D] as [number, number], fps: 25 };
    const decisions = router.route(features, { mode: 'inference' });
    const pooled = poolSegments(features, router.pooling);
    await using session = await OnnxSession.create(join(dir, 'model.onnx'), { intraOpThreads: 1 });
    const onnx = (await session.run({ pooled: float32(pooled.data, pooled.shape) })).logits;
    assert.equal(decisions.length, pooled.shape[0]);
    decisions.forEach((d, s) => d.logits.forEach((v, c) => assert.ok(Math.abs(v - Number(onnx.data[s * 3 + c])) < 1e-5, `segment ${s} class ${c}: ${v} vs ${onnx.data[s * 3 + c]}`)));
  });

  it('a router bundle is refused, naming it, when its classes or its weights do not fit', async () => {
    const write = (name: string, model: OnnxModel) => {
      const path = join(root, name);
      writeBundle(path, {
        kind: 'router',
        name,
        model,
        input: { type: 'features', name: 'pooled', dim: D, window: 'sequence' },
        output: { classes: ['a', 'b', 'c'] },
        architecture: { activation: 'relu' },
        weights: 'random',
      });
      return path;
    };
    const linearOnly = write('router-linear', buildRouterModel({ dim: D, hidden: [], activation: 'relu', seed: 1 }));
    assert.equal((await loadRouterBundle(linearOnly)).mlp.layers.length, 1);
    editManifest(linearOnly, { 'output.classes': ['a', 'b'] });
    await assert.rejects(loadRouterBundle(linearOnly), inputError(/output\.classes: names 2 classes, but model\.onnx output 'logits' \[S, 3\] has 3 at dimension 1/));

    const g = new GraphBuilder({ seed: 2 });
    g.output(mlp('net', [D, 3]).apply(g, g.input('pooled', 'float32', ['S', D])), 'logits');
    const foreign = write('router-foreign', g.build());
    await assert.rejects(loadRouterBundle(foreign), inputError(new RegExp(`^bundle ${foreign}: onnx\\.file: no router MLP weights \\(mlp\\.0\\.weight, …\\) in the model`)));
  });
});
