import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TRAIN_DEFAULTS, TRAIN_SCHEMA, decayRule, resolveTrainConfig, validateTrainConfig, type TrainConfigFile } from '../../src/train/config.js';
import { inputError, withChanges } from '../helpers/assert.js';
import { repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-train-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

const BASE: TrainConfigFile = {
  format: 'signweave-train/1',
  epochs: 3,
  optimizer: { lr: 5e-4, noDecay: ['^pos\\.'] },
  schedule: { warmupSteps: 10 },
  router: { tau: { min: 0.3 } },
};

describe('training config', () => {
  it('the published train.schema.json is the schema the code validates with', () => {
    const path = join(repoRoot, 'src', 'train', 'train.schema.json');
    const expected = `${JSON.stringify(TRAIN_SCHEMA, null, 2)}\n`;
    // SIGNWEAVE_WRITE_SCHEMA=1 regenerates the file after a change to config.ts.
    if (process.env.SIGNWEAVE_WRITE_SCHEMA === '1') writeFileSync(path, expected);
    assert.equal(readFileSync(path, 'utf8'), expected, 'src/train/train.schema.json is stale: run this test with SIGNWEAVE_WRITE_SCHEMA=1');
  });

  it('the defaults are a valid config: AdamW, weight decay 0.01, clipping 1.0, τ from 1.0 to a floor', () => {
    assert.deepEqual(validateTrainConfig(TRAIN_DEFAULTS), []);
    const { optimizer, clipNorm, router } = TRAIN_DEFAULTS;
    assert.deepEqual([optimizer.type, optimizer.weightDecay, clipNorm, router.tau.start], ['adamw', 0.01, 1, 1]);
    assert.ok(router.tau.min < router.tau.start);
  });

  it('fills what a file leaves out with the defaults, nested fields one by one', () => {
    const path = join(root, 'train.json');
    writeFileSync(path, JSON.stringify({ $schema: 'urn:signweave:schema:train:1', ...BASE }));
    const { config, source, sha256 } = resolveTrainConfig(path);
    assert.equal(source, `training config ${path}`);
    assert.match(sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(config.epochs, 3);
    assert.deepEqual(config.optimizer, { ...TRAIN_DEFAULTS.optimizer, lr: 5e-4, noDecay: ['^pos\\.'] });
    assert.deepEqual(config.schedule, { ...TRAIN_DEFAULTS.schedule, warmupSteps: 10 });
    assert.deepEqual(config.router.tau, { ...TRAIN_DEFAULTS.router.tau, min: 0.3 });
    assert.equal(config.batchSize, TRAIN_DEFAULTS.batchSize);
    assert.ok(!('$schema' in config));
    assert.deepEqual(resolveTrainConfig(BASE).config, config);
  });

  it('noDecay patterns add to the default rule', () => {
    const decays = decayRule(resolveTrainConfig(BASE).config);
    assert.equal(decays({ name: 'pos.weight', shape: [16, 8] }), false);
    assert.equal(decays({ name: 'enc.0.ff1.weight', shape: [8, 32] }), true);
    assert.equal(decays({ name: 'enc.0.ff1.bias', shape: [32] }), false);
  });

  it('schema problems are input errors with JSON pointers and the values found', () => {
    const problem = (changes: Record<string, unknown>, ...patterns: RegExp[]): void =>
      assert.throws(() => resolveTrainConfig(withChanges(BASE, changes) as TrainConfigFile), inputError(/^the training config object: /, ...patterns));
    problem({ 'optimizer.lr': 0 }, /\/optimizer\/lr: must be > 0 \(value: 0\)/);
    problem({ 'optimizer.beta2': 1 }, /\/optimizer\/beta2: must be < 1 \(value: 1\)/);
    problem({ 'optimizer.type': 'sgd' }, /\/optimizer\/type: must be "adamw" \(value: "sgd"\)/);
    problem({ batchSize: 2.5 }, /\/batchSize: must be integer \(value: 2.5\)/);
    problem({ dropout: 1 }, /\/dropout: must be < 1/);
    problem({ 'router.tau.floor': 0.1 }, /\/router\/tau\/floor: is not a field here \(fields: start, min, rate\) \(value: 0.1\)/);
    problem({ format: undefined }, /\/format: is required but missing/);
    // relations the schema cannot express
    problem({ 'schedule.minLr': 1e-3 }, /\/schedule\/minLr: must not exceed the peak learning rate \/optimizer\/lr = 0.0005 \(value: 0.001\)/);
    problem({ 'router.tau.min': 2 }, /\/router\/tau\/min: must not exceed \/router\/tau\/start = 1/);
    problem({ 'optimizer.noDecay': ['norm', '(bias'] }, /\/optimizer\/noDecay\/1: is not a regular expression/);
    // several problems are listed together
    assert.throws(
      () => resolveTrainConfig(withChanges(BASE, { epochs: 0, clipNorm: -1 }) as TrainConfigFile),
      inputError(/has 2 problems:\n {2}\/epochs: must be >= 1 \(value: 0\)\n {2}\/clipNorm: must be > 0 \(value: -1\)/),
    );
  });

  it('the decoder section, early stopping, bucketing and evalEvery: defaults, merging and problems at their pointers', () => {
    assert.deepEqual(TRAIN_DEFAULTS.decoder, {
      architecture: { dim: 128, layers: 2, heads: 4, kvHeads: 4, ffnDim: 344, maxLen: 128, ropeBase: 10000, normEps: 1e-5 },
      tokenizer: { vocabSize: 4000 },
      tensorType: 'f32',
    });
    assert.equal(TRAIN_DEFAULTS.bucket, 0);
    assert.ok(!('earlyStopping' in TRAIN_DEFAULTS) && !('evalEvery' in TRAIN_DEFAULTS));
    const { config } = resolveTrainConfig({
      ...BASE,
      bucket: 16,
      evalEvery: 500,
      earlyStopping: { patience: 3 },
      decoder: { architecture: { dim: 256, layers: 4, kvHeads: 2 }, tensorType: 'f16' },
    });
    assert.deepEqual(config.decoder, {
      architecture: { ...TRAIN_DEFAULTS.decoder.architecture, dim: 256, layers: 4, kvHeads: 2 },
      tokenizer: { vocabSize: 4000 },
      tensorType: 'f16',
    });
    assert.deepEqual([config.bucket, config.evalEvery, config.earlyStopping], [16, 500, { patience: 3, metric: 'loss' }]);

    const problem = (changes: Record<string, unknown>, ...patterns: RegExp[]): void =>
      assert.throws(() => resolveTrainConfig(withChanges(BASE, changes) as TrainConfigFile), inputError(/^the training config object: /, ...patterns));
    problem({ decoder: { architecture: { dim: 0 } } }, /\/decoder\/architecture\/dim: must be >= 1 \(value: 0\)/);
    problem({ decoder: { architecture: { maxLen: 3 } } }, /\/decoder\/architecture\/maxLen: must be >= 4 \(value: 3\)/);
    problem({ decoder: { architecture: { ropeBase: 0 } } }, /\/decoder\/architecture\/ropeBase: must be > 0/);
    problem({ decoder: { architecture: { hidden: 64 } } }, /\/decoder\/architecture\/hidden: is not a field here \(fields: dim, layers, heads, kvHeads, ffnDim, maxLen, ropeBase, normEps\)/);
    problem({ decoder: { tokenizer: { vocabSize: 259 } } }, /\/decoder\/tokenizer\/vocabSize: must be >= 260 \(value: 259\)/);
    problem({ decoder: { tensorType: 'q8_0' } }, /\/decoder\/tensorType: must be one of "f32", "f16" \(value: "q8_0"\)/);
    problem({ decoder: { architecture: { dim: 100, heads: 8 } } }, /\/decoder\/architecture\/heads: must divide \/decoder\/architecture\/dim = 100 \(value: 8\)/);
    problem({ decoder: { architecture: { dim: 96, heads: 32 } } }, /\/decoder\/architecture\/heads: must leave an even head size .* 96 \/ 32 = 3 \(value: 32\)/);
    problem({ decoder: { architecture: { heads: 4, kvHeads: 3 } } }, /\/decoder\/architecture\/kvHeads: must divide \/decoder\/architecture\/heads = 4 \(value: 3\)/);
    problem({ earlyStopping: { patience: 0 } }, /\/earlyStopping\/patience: must be >= 1 \(value: 0\)/);
    problem({ earlyStopping: {} }, /\/earlyStopping\/patience: is required but missing/);
    problem({ earlyStopping: { patience: 2, metric: 'bleu' } }, /\/earlyStopping\/metric: must be "loss" \(value: "bleu"\)/);
    problem({ bucket: -1 }, /\/bucket: must be >= 0 \(value: -1\)/);
    problem({ evalEvery: 2.5 }, /\/evalEvery: must be integer \(value: 2.5\)/);
  });

  it('an unreadable or invalid file is an input error naming it', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"format": ');
    assert.throws(() => resolveTrainConfig(bad), inputError(new RegExp(`training config ${bad} is not valid JSON`)));
    assert.throws(() => resolveTrainConfig(join(root, 'missing.json')), inputError(/cannot read training config .*missing\.json/));
  });
});
