/**
 * `signweave train` (the command object, run in process until the lead registers it in src/cli/main.ts): a sign head
 * from a feature cache and targets.jsonl, the summary and --json, --resume, and errors that name what is wrong.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FEATURE_CACHE_FORMAT, FeatureCache, type FeatureKeyParts } from '../../src/backbone/cache.js';
import type { BackboneInfo } from '../../src/backbone/types.js';
import { loadBundle } from '../../src/bundles/loader.js';
import { mulberry32 } from '../../src/util/random.js';
import { formatVocabFile } from '../../src/vocab.js';
import { inputError } from '../helpers/assert.js';
import { trainCli } from '../helpers/train-cli.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

describe('signweave train sign', () => {
  const data = join(tmp.dir, 'data');
  const D = 6;
  const glosses = ['GO', 'STORE', 'HOME'];
  const rng = mulberry32(9);
  const cache = new FeatureCache({ dir: join(data, 'features') });
  const backbone = { kind: 'onnx', source: 'test.onnx', runtime: 'test', sha256: 'b'.repeat(64), preprocessing: {} } as unknown as BackboneInfo;
  const records: string[] = [];
  for (let i = 0; i < 24; i++) {
    const target = [1 + (i % 3), 1 + ((i * 7 + 1) % 3)];
    const frames = target.flatMap((g) => [0, g, g]).concat([0]);
    const data32 = new Float32Array(frames.length * D);
    frames.forEach((g, t) => {
      for (let d = 0; d < D; d++) data32[t * D + d] = (d === g ? 2 : 0) + 0.2 * rng();
    });
    const parts = { format: FEATURE_CACHE_FORMAT, video: { sha256: i.toString(16).padStart(64, '0') }, start: 0, end: null, stride: 1, backboneSha256: 'b'.repeat(64), preprocessing: { resample: 2 } } as unknown as FeatureKeyParts;
    const idx = [...frames.keys()];
    cache.put(parts, { data: data32, shape: [frames.length, D], fps: 25, frameIndices: idx, times: idx.map((f) => f / 25) }, { video: `/videos/clip${i}.mp4`, backbone });
    records.push(JSON.stringify({ id: `clip${i}`, video: `clip${i}.mp4`, text: 'x', pseudogloss: target.map((t) => glosses[t - 1]), phonemes: [], fingerspell: [], provenance: {} }));
  }
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'targets.jsonl'), `${records.join('\n')}\n`);
  writeFileSync(join(data, 'targets.vocab.gloss.txt'), formatVocabFile(['<blank>', ...glosses]));
  const config = join(tmp.dir, 'train.json');
  writeFileSync(config, JSON.stringify({ format: 'signweave-train/1', batchSize: 8, optimizer: { lr: 0.05 }, schedule: { warmupSteps: 2 }, dropout: 0 }));
  const out = join(tmp.dir, 'sign-bundle');

  it('trains, prints a summary and writes a trained bundle; --resume needs the same settings', async () => {
    const text = await trainCli(['sign', '--data', data, '--out', out, '--config', config, '--epochs', '4', '--seed', '2', '--plot']);
    assert.match(text, /^trained sign bundle → .*sign-bundle\ndata {10}24 sequences from .*targets\.jsonl and .*features\nsteps {9}12 of 12, [\d.]+ ms\/step\nfinal loss {4}[\d.]+\nlog .*log\.jsonl\nplot .*loss\.svg\n$/);
    await using bundle = await loadBundle(out, { expectKind: 'sign' });
    assert.equal(bundle.manifest.weights, 'trained');
    assert.deepEqual(bundle.vocab, ['<blank>', ...glosses]);
    assert.equal(bundle.manifest.provenance.seed, 2);

    // more epochs change the schedule, so the checkpoint is refused; the same settings resume (here: nothing left to do)
    await assert.rejects(trainCli(['sign', '--data', data, '--out', out, '--config', config, '--epochs', '6', '--seed', '2', '--resume']), inputError(/written for another config.*epochs/));
    const again = await trainCli(['sign', '--data', data, '--out', out, '--config', config, '--epochs', '4', '--seed', '2', '--resume']);
    assert.equal(again.split('\n')[3], text.split('\n')[3]);
    assert.match(again, /steps {9}12 of 12/);
    const json = JSON.parse(await trainCli(['sign', '--data', data, '--out', join(tmp.dir, 'json-bundle'), '--config', config, '--epochs', '2', '--json']));
    assert.equal(json.steps, 6);
    assert.equal(json.bundle.weights, 'trained');
    assert.equal(json.configSha256.length, 64);
    assert.ok(json.finalLoss > 0 && json.msPerStep > 0);
    assert.ok(readFileSync(json.log, 'utf8').includes('"type":"step"'));
  });

  it('names what is wrong with the data, the config and the kind', async () => {
    await assert.rejects(trainCli(['sign', '--data', join(tmp.dir, 'nowhere'), '--out', join(tmp.dir, 'x')]), inputError(/--data .*nowhere: no targets\.jsonl in it/));
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'signweave-train/1', optimizer: { lr: -1 } }));
    await assert.rejects(trainCli(['sign', '--data', data, '--out', join(tmp.dir, 'x'), '--config', bad]), inputError(/bad\.json.*\/optimizer\/lr/));
    await assert.rejects(trainCli(['router', '--data', data, '--out', join(tmp.dir, 'x')]), inputError(/--data .*data: no segments\.jsonl in it/));
    await assert.rejects(trainCli(['fusion', '--data', data, '--out', join(tmp.dir, 'x')]), inputError(/dataset\.json/));
  });
});
