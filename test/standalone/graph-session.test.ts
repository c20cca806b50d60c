import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { GraphBuilder, type OnnxModel } from '../../src/graph/builder.js';
import { linear, positionalEmbedding, transformerEncoderLayer } from '../../src/graph/modules.js';
import { IR_VERSION, OPSET } from '../../src/graph/ops.js';
import { readOnnxInfo, readOnnxWeights } from '../../src/graph/proto.js';
import { ONNX_RUNTIME_VERSION, OnnxSession } from '../../src/graph/session.js';
import { bool, float32, int64, type HostTensor } from '../../src/graph/tensor.js';
import { mulberry32 } from '../../src/util/random.js';

function rand(shape: number[], seed: number): HostTensor {
  const r = mulberry32(seed);
  return float32(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1),
    shape,
  );
}

/** A small sign head: positions, one encoder layer with a padding mask, a CTC-style linear head. */
function signHead(options: ConstructorParameters<typeof GraphBuilder>[0] = { seed: 3 }): OnnxModel {
  const g = new GraphBuilder(options);
  const x = g.input('features', 'float32', ['B', 'T', 16]);
  const mask = g.input('padding_mask', 'bool', ['B', 'T']);
  const h = transformerEncoderLayer('enc.0', 16, 4, 32, { norm: 'pre', activation: 'gelu' }).apply(g, positionalEmbedding('pos', 32, 16).apply(g, x), { keyPaddingMask: mask });
  g.output(linear('head', 16, 7).apply(g, h), 'logits');
  return g.build();
}

function isInputError(...patterns: RegExp[]): (err: Error) => boolean {
  return (err) => {
    assert.ok(err instanceof SignweaveInputError, `${err.name}: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

const feeds = { features: rand([2, 6, 16], 1), padding_mask: bool([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], [2, 6]) };

describe('graph: serialisation, sessions and ONNX file reading', () => {
  let dir: string;
  const model = signHead();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-graph-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the onnxruntime-node version @huggingface/transformers pins', () => {
    assert.equal(ONNX_RUNTIME_VERSION, '1.30.0');
  });

  it('bytes → session gives the reference outputs; the saved file gives exactly the same', async () => {
    const bytes = model.toBytes();
    const path = join(dir, 'head.onnx');
    model.save(path);
    await using fromBytes = await OnnxSession.create(bytes, { intraOpThreads: 1 });
    await using fromFile = await OnnxSession.create(path, { intraOpThreads: 1 });
    const a = (await fromBytes.run(feeds)).logits;
    const b = (await fromFile.run(feeds)).logits;
    assert.deepEqual(a, b);
    const ref = model.evaluateReference(feeds).logits;
    assert.deepEqual(a.shape, [2, 6, 7]);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(Number(a.data[i]) - Number(ref.data[i])));
    assert.ok(diff < 1e-5, `max deviation ${diff}`);
    // Without graph optimisation (no fusions) the numbers agree too.
    await using plain = await OnnxSession.create(bytes, { intraOpThreads: 1, graphOptimization: 'disabled' });
    const c = (await plain.run(feeds)).logits;
    for (let i = 0; i < a.data.length; i++) assert.ok(Math.abs(Number(a.data[i]) - Number(c.data[i])) < 1e-5);
  });

  it('session metadata: names, dtypes and symbolic shapes', async () => {
    await using s = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
    assert.deepEqual(s.inputs, [
      { name: 'features', dtype: 'float32', shape: ['B', 'T', 16] },
      { name: 'padding_mask', dtype: 'bool', shape: ['B', 'T'] },
    ]);
    assert.deepEqual(s.outputs, [{ name: 'logits', dtype: 'float32', shape: ['B', 'T', 7] }]);
    assert.deepEqual(s.outputNames, ['logits']);
  });

  it('readOnnxInfo and readOnnxWeights give the I/O, the initializers and the exact weights back', () => {
    const path = join(dir, 'info.onnx');
    model.save(path);
    const info = readOnnxInfo(path);
    assert.equal(info.irVersion, IR_VERSION);
    assert.deepEqual(info.opsets, [{ domain: '', version: OPSET }]);
    assert.match(info.producer, /^signweave /);
    assert.deepEqual(info.inputs, model.inputs);
    assert.deepEqual(info.outputs, model.outputs);
    assert.deepEqual(
      info.initializers,
      model.parameters.map((p) => ({ ...p, dtype: 'float32' })),
    );
    const weights = readOnnxWeights(path);
    assert.deepEqual(weights, model.weights());
    // Trained weights dropped into a fresh builder give the same model, byte for byte.
    assert.deepEqual(signHead({ seed: 1234, weights }).toBytes(), model.toBytes());
  });

  it("parameters as graph inputs (a training graph's form) run with the weights fed", async () => {
    const bytes = model.toBytes({ parametersAs: 'inputs' });
    const info = readOnnxInfo(bytes);
    assert.deepEqual(info.initializers, []);
    assert.deepEqual(
      info.inputs.map((i) => i.name),
      ['features', 'padding_mask', ...model.parameters.map((p) => p.name)],
    );
    await using s = await OnnxSession.create(bytes, { intraOpThreads: 1 });
    const weights = model.weights();
    const params = Object.fromEntries(model.parameters.map((p) => [p.name, float32(weights[p.name], p.shape)]));
    const got = (await s.run({ ...feeds, ...params })).logits;
    await using withInit = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
    const want = (await withInit.run(feeds)).logits;
    for (let i = 0; i < got.data.length; i++) assert.ok(Math.abs(Number(got.data[i]) - Number(want.data[i])) < 1e-6);
  });

  it('garbage bytes, a garbage file, a missing file and a folder are input errors naming the model', async () => {
    const junk = new TextEncoder().encode('PK\x03\x04 this is a zip, not a model');
    await assert.rejects(OnnxSession.create(junk, { label: 'bundle sign/model.onnx' }), isInputError(/^bundle sign\/model\.onnx is not an ONNX model/));
    const junkPath = join(dir, 'junk.onnx');
    writeFileSync(junkPath, junk);
    await assert.rejects(OnnxSession.create(junkPath), isInputError(new RegExp(`${junkPath.replace(/[.]/g, '\\.')} is not an ONNX model`)));
    const missing = join(dir, 'absent.onnx');
    await assert.rejects(OnnxSession.create(missing), isInputError(/cannot read ONNX model .*absent\.onnx: no such file/));
    const folder = join(dir, 'folder.onnx');
    mkdirSync(folder);
    await assert.rejects(OnnxSession.create(folder), isInputError(/folder\.onnx: it is not a file/));
    assert.throws(() => readOnnxInfo(junkPath), isInputError(/junk\.onnx is not an ONNX model/));
    assert.throws(() => readOnnxInfo(new Uint8Array([8, 1]), 'tiny.onnx'), isInputError(/^tiny\.onnx is not an ONNX model: no ir_version, opset or graph/));
    assert.throws(() => readOnnxWeights(missing), isInputError(/cannot read ONNX model .*absent\.onnx: no such file/));
    assert.throws(() => model.save(join(dir, 'no', 'such', 'dir', 'm.onnx')), isInputError(/its folder does not exist/));
  });

  it('feeds are checked before ONNX Runtime sees them', async () => {
    await using s = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1, label: 'sign head' });
    const mask = feeds.padding_mask;
    await assert.rejects(s.run({ features: feeds.features }), isInputError(/^sign head: missing input 'padding_mask' \(bool \[B, T\]\)/));
    await assert.rejects(s.run({ ...feeds, extra: mask }), isInputError(/unknown input 'extra'; the model takes 'features', 'padding_mask'/));
    await assert.rejects(s.run({ ...feeds, padding_mask: int64([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], [2, 6]) }), isInputError(/input 'padding_mask' is int64; the model expects bool \[B, T\]/));
    await assert.rejects(s.run({ ...feeds, features: rand([2, 6, 8], 2) }), isInputError(/dimension 2 must be 16/));
    await assert.rejects(s.run({ ...feeds, features: rand([6, 16], 2) }), isInputError(/input 'features' has shape \[6, 16\]/));
    await assert.rejects(s.run({ ...feeds, padding_mask: bool(new Array(10).fill(0), [2, 5]) }), isInputError(/dimension 'T' is 6 in input 'features' but 5 in input 'padding_mask'/));
    await assert.rejects(s.run({ ...feeds, features: { dtype: 'float32', shape: [2, 6, 16], data: new Float32Array(5) } }), isInputError(/has shape \[2, 6, 16\] but 5 values/));
    await assert.rejects(s.run(feeds, ['probs']), isInputError(/unknown output 'probs'/));
    // What only shows at run time (longer than the position table) is still an input error naming the model.
    await assert.rejects(s.run({ features: rand([1, 40, 16], 3), padding_mask: bool(new Array(40).fill(0), [1, 40]) }), isInputError(/^sign head: ONNX Runtime could not run the model on these inputs/));
  });

  it('a disposed session refuses to run; dispose is idempotent', async () => {
    const s = await OnnxSession.create(model.toBytes(), { intraOpThreads: 1 });
    await s.dispose();
    await s.dispose();
    assert.ok(s.isDisposed);
    await assert.rejects(s.run(feeds), /session for ONNX model bytes is disposed/);
  });
});
