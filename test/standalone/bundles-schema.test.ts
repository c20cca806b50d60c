import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { BUNDLE_SCHEMA } from '../../src/bundles/schema.js';
import { validateManifest } from '../../src/bundles/validate.js';
import { writeBundle } from '../../src/bundles/writer.js';
import { buildSignHead, signVocabulary } from '../../src/experts/sign/index.js';
import { repoRoot } from '../helpers/shared.js';
import { inputError, withChanges } from '../helpers/assert.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-bundle-schema-'));
after(() => rmSync(root, { recursive: true, force: true }));

const vocab = signVocabulary(['HELLO', 'YOU']);
const good = writeBundle(join(root, 'good'), {
  kind: 'sign',
  name: 'tiny-sign',
  model: buildSignHead({ dim: 4, vocabSize: vocab.length, maxLen: 8, seed: 1 }),
  vocab,
  input: { type: 'features', name: 'features', dim: 4, maxFrames: 8 },
  weights: 'random',
});

const edited = (changes: Record<string, unknown>) => withChanges(good, changes);

describe('bundle.json schema', () => {
  it('the published bundle.schema.json is the schema the code validates with', () => {
    const path = join(repoRoot, 'src', 'bundles', 'bundle.schema.json');
    const expected = `${JSON.stringify(BUNDLE_SCHEMA, null, 2)}\n`;
    // SIGNWEAVE_WRITE_SCHEMA=1 regenerates the file after a change to schema.ts.
    if (process.env.SIGNWEAVE_WRITE_SCHEMA === '1') writeFileSync(path, expected);
    assert.equal(readFileSync(path, 'utf8'), expected, 'src/bundles/bundle.schema.json is stale: run this test with SIGNWEAVE_WRITE_SCHEMA=1');
  });

  it('accepts what writeBundle writes', () => {
    assert.deepEqual(validateManifest(good), []);
    assert.equal(good.$schema, BUNDLE_SCHEMA.$id);
  });

  it('a missing field is named by its JSON pointer', () => {
    const problems = validateManifest(edited({ 'onnx.sha256': undefined }));
    assert.deepEqual(problems, [{ field: '/onnx/sha256', message: 'is required but missing' }]);
  });

  it('a wrong type names the pointer and the offending value', () => {
    assert.deepEqual(validateManifest(edited({ temporalStride: '2' })), [{ field: '/temporalStride', message: 'must be integer (value: "2")' }]);
    assert.deepEqual(validateManifest(edited({ 'input.dim': 0 })), [{ field: '/input/dim', message: 'must be >= 1 (value: 0)' }]);
  });

  it('a bad enum lists the allowed values', () => {
    const [p] = validateManifest(edited({ kind: 'sgn' }));
    assert.equal(p.field, '/kind');
    assert.equal(p.message, 'must be one of "sign", "fingerspell", "lipread", "router", "fusion" (value: "sgn")');
    assert.deepEqual(validateManifest(edited({ weights: 'pretrained' })), [
      { field: '/weights', message: 'must be one of "trained", "random", "synthetic" (value: "pretrained")' },
    ]);
  });

  it('unknown fields, patterns and anyOf are reported in words', () => {
    assert.deepEqual(validateManifest(edited({ 'onnx.path': 'x.onnx' })), [
      { field: '/onnx/path', message: 'is not a field here (fields: file, sha256) (value: "x.onnx")' },
    ]);
    assert.deepEqual(validateManifest(edited({ version: '1.0' })), [{ field: '/version', message: 'must be a semantic version such as 1.0.0 (value: "1.0")' }]);
    assert.deepEqual(validateManifest(edited({ 'onnx.file': '../model.onnx' })), [
      { field: '/onnx/file', message: 'must be a file name inside the bundle folder (value: "../model.onnx")' },
    ]);
    const router = edited({
      kind: 'router',
      input: { type: 'features', name: 'pooled', dim: 4, window: 'sequenc' },
      output: { name: 'logits', classes: ['sign', 'fingerspell', 'rest'] },
      architecture: { activation: 'gelu' },
    });
    assert.deepEqual(validateManifest(router), [{ field: '/input/window', message: 'must be a number of frames (integer ≥ 1) or "sequence" (value: "sequenc")' }]);
  });

  it('per-kind rules: input and output follow the kind', () => {
    const asLipread = edited({ kind: 'lipread' });
    const fields = validateManifest(asLipread).map((p) => p.field);
    assert.deepEqual(fields, ['/input/size', '/input/channels', '/input/mean', '/input/std', '/input/dim', '/input/type']);
    const routerWithoutArchitecture = edited({
      kind: 'router',
      input: { type: 'features', name: 'pooled', dim: 4, window: 16 },
      output: { name: 'logits', vocab: 'vocab.txt', blank: 0 },
    });
    assert.deepEqual(
      validateManifest(routerWithoutArchitecture).map((p) => p.field),
      ['/architecture', '/output/classes', '/output/vocab', '/output/blank'],
    );
  });

  it('every error at once (allErrors), each with its pointer, in one error naming the bundle folder', async () => {
    const dir = join(root, 'broken');
    rmSync(dir, { recursive: true, force: true });
    writeBundle(dir, {
      kind: 'sign',
      name: 'tiny-sign',
      model: buildSignHead({ dim: 4, vocabSize: vocab.length, maxLen: 8, seed: 1 }),
      vocab,
      input: { type: 'features', name: 'features', dim: 4 },
      weights: 'random',
    });
    const manifest = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as object;
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(withChanges(manifest, { kind: 'sgn', name: '', 'provenance.createdBy': undefined })));
    await assert.rejects(
      loadBundle(dir),
      inputError(new RegExp(`^bundle ${dir} has 3 problems:`), /\n {2}\/kind: must be one of/, /\n {2}\/name: must be letters, digits/, /\n {2}\/provenance\/createdBy: is required but missing/),
    );
  });

  it('bundle.json that is not JSON, and folders that are not bundles', async () => {
    const dir = join(root, 'not-json');
    writeBundle(dir, { kind: 'sign', name: 'x', model: buildSignHead({ dim: 4, vocabSize: 3, maxLen: 8 }), vocab, input: { type: 'features', name: 'features', dim: 4 }, weights: 'random' });
    writeFileSync(join(dir, 'bundle.json'), '{ "kind": ');
    await assert.rejects(loadBundle(dir), inputError(new RegExp(`^bundle ${dir}: bundle\\.json: is not valid JSON`)));
    await assert.rejects(loadBundle(join(root, 'nowhere')), inputError(/nowhere: folder: does not exist/));
    await assert.rejects(loadBundle(root), inputError(/: bundle\.json: no such file \(not a bundle folder\?\)/));
  });
});
