/**
 * The fusion section of the training config (`fusion.architecture`, `fusion.variant`): defaults, merging, problems at
 * their JSON pointers, variants applied over the architecture, and `signweave train fusion` building the ablation
 * variant the config names from a simulated dataset.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fusionVariantOf, loadFusionBundle } from '../../src/bundles/fusion.js';
import { FUSION_IO } from '../../src/fusion/graphs.js';
import { SimulatedDatasetWriter, SimulationStats, Simulator, resolveSimulationSettings } from '../../src/simulate/index.js';
import { targetsFile } from '../../src/simulate/sources.js';
import { TRAIN_DEFAULTS, resolveTrainConfig, trainingFusionConfig, type FusionDataShape, type TrainConfigFile } from '../../src/train/config.js';
import { inputError } from '../helpers/assert.js';
import { trainCli } from '../helpers/train-cli.js';
import { repoRoot } from '../helpers/shared.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

const DATA: FusionDataShape = { widths: { sign: 9, fingerspell: 30, lips: 40 }, vocabSize: 9, lipStride: 2, maxLen: 1024 };

const fusionFile = (fusion: unknown): TrainConfigFile => ({ format: 'signweave-train/1', fusion } as TrainConfigFile);

/** The fusion config of a config object over DATA. */
const fusionOf = (fusion: unknown) => trainingFusionConfig(resolveTrainConfig(fusionFile(fusion)), DATA);

describe('the fusion section of the training config', () => {
  it('defaults to what train fusion always built and merges a file field by field', () => {
    assert.deepEqual(TRAIN_DEFAULTS.fusion, { architecture: { d: 64, heads: 4, layers: 2, norm: 'pre', softmaxInputs: true } });
    const { config } = resolveTrainConfig(fusionFile({ architecture: { d: 32, activation: 'gelu' }, variant: 'lip-shift-5' }));
    assert.deepEqual(config.fusion, { architecture: { ...TRAIN_DEFAULTS.fusion.architecture, d: 32, activation: 'gelu' }, variant: 'lip-shift-5' });

    assert.deepEqual(fusionOf({}), {
      d: 64,
      heads: 4,
      layers: 2,
      norm: 'pre',
      softmaxInputs: true,
      inputs: { sign: 9, fingerspell: 30, lips: 40 },
      vocabSize: 9,
      lipStride: 2,
      maxLen: 1024,
    });
    // a variant changes what it names; a dropped stream loses its width (and the lips their stride)
    assert.deepEqual(fusionOf({ variant: 'lip-shift-5' }), { ...(fusionOf({})), lipAlignment: { shift: 5 } });
    assert.deepEqual(fusionOf({ variant: 'no-lip' }), { ...(fusionOf({})), lip: false, inputs: { sign: 9, fingerspell: 30, lips: null }, lipStride: null });
    const noFingerspell = fusionOf({ architecture: { fingerspell: false, type: 'concat-mlp', mlpHidden: 16 } });
    assert.deepEqual([noFingerspell.inputs, noFingerspell.type, noFingerspell.mlpHidden], [{ sign: 9, fingerspell: null, lips: 40 }, 'concat-mlp', 16]);
    // a field the variant sets to the same value is no contradiction
    assert.equal((fusionOf({ architecture: { type: 'cross-attention' }, variant: 'cross-attention' })).type, 'cross-attention');
  });

  it('names each problem with its JSON pointer: schema, the architecture as resolveFusionConfig judges it, a contradicting variant', () => {
    const problem = (fusion: unknown, ...patterns: RegExp[]): void => assert.throws(() => resolveTrainConfig(fusionFile(fusion)), inputError(/^the training config object: /, ...patterns));
    problem({ architecture: { type: 'sum' } }, /\/fusion\/architecture\/type: must be one of "gated", "concat-mlp", "cross-attention", "cmfa" .*\(value: "sum"\)/);
    problem({ architecture: { layers: -1 } }, /\/fusion\/architecture\/layers: must be >= 0 \(value: -1\)/);
    problem({ architecture: { lipAlignment: { shift: 2.5 } } }, /\/fusion\/architecture\/lipAlignment: must be "learned" or \{"shift": k\}.*\(value: \{"shift":2.5\}\)/);
    problem({ architecture: { vocabSize: 10 } }, /\/fusion\/architecture\/vocabSize: is not a field here \(fields: type, d, heads/);
    problem({ variant: 'no-router' }, /\/fusion\/variant: must be one of "gated", .*"lip-shift-10" .*\(value: "no-router"\)/);
    problem({ architecture: { d: 30 } }, /\/fusion\/architecture\/d: 30 is not divisible by \/fusion\/architecture\/heads = 4 \(the 2 encoder layers split d into heads\)$/);
    problem({ architecture: { lip: false, lipAlignment: { shift: 3 } } }, /\/fusion\/architecture\/lipAlignment\/shift: needs the lip stream, but \/fusion\/architecture\/lip is false$/);

    const refused = (fusion: unknown, ...patterns: RegExp[]) => assert.throws(() => fusionOf(fusion), inputError(/^the training config object: /, ...patterns));
    refused({ architecture: { lip: true }, variant: 'no-lip' }, /\/fusion\/architecture\/lip: contradicts \/fusion\/variant "no-lip", which sets it to false \(value: true\)$/);
    refused(
      { architecture: { type: 'cmfa', lipAlignment: 'learned' }, variant: 'lip-shift-10' },
      /\/fusion\/architecture\/lipAlignment: contradicts \/fusion\/variant "lip-shift-10", which sets it to \{"shift":10\} \(value: "learned"\)$/,
    );
    // what only the variant makes wrong: the cross-attention fusion splits d into heads even without encoder layers
    refused({ architecture: { d: 30, layers: 0 }, variant: 'cross-attention' }, /\/fusion\/architecture\/d: 30 is not divisible by \/fusion\/architecture\/heads = 4 \(the cross-attention fusion split d into heads\) \(with \/fusion\/variant "cross-attention"\)$/);
    refused({ architecture: { lipAlignment: { shift: 3 } }, variant: 'no-lip' }, /\/fusion\/architecture\/lipAlignment\/shift: needs the lip stream, but \/fusion\/architecture\/lip is false \(with \/fusion\/variant "no-lip"\)$/);
  });

  it('the example configs of docs/training-data.md and the README build the variants they are shown for', () => {
    /** The configs of the ```jsonc blocks with fusion configs: one per line, `//` comments aside. */
    const examples = (file: string): TrainConfigFile[] =>
      [...readFileSync(join(repoRoot, file), 'utf8').matchAll(/```jsonc\n([\s\S]*?)```/g)]
        .filter((m) => m[1].includes('"fusion"'))
        .flatMap((m) => m[1].split('\n'))
        .map((line) => line.replace(/\/\/.*$/, '').trim())
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as TrainConfigFile);
    const variants = (file: string) => examples(file).map((c) => fusionVariantOf(trainingFusionConfig(resolveTrainConfig(c), DATA)));
    assert.deepEqual(variants('docs/training-data.md'), ['gated', 'cross-attention', 'concat-mlp', 'no-lip', 'no-fingerspell', 'lip-shift-5', null]);
    assert.deepEqual(variants('README.md'), ['cross-attention', 'no-lip', 'lip-shift-5']);
    assert.deepEqual(resolveTrainConfig(examples('docs/training-data.md')[0]).config.fusion.architecture, { ...TRAIN_DEFAULTS.fusion.architecture, type: 'gated' });
  });
});

describe('signweave train fusion builds the architecture and variant of the training config', () => {
  const sim = join(tmp.dir, 'sim');
  /** A training config of a small, fast fusion network with these fusion fields. */
  const config = (name: string, fusion: Record<string, unknown>): string => {
    const path = join(tmp.dir, `${name}.json`);
    const architecture = { d: 16, heads: 2, layers: 1, ...(fusion.architecture as object) };
    writeFileSync(path, JSON.stringify({ format: 'signweave-train/1', batchSize: 4, schedule: { warmupSteps: 1 }, fusion: { ...fusion, architecture } }));
    return path;
  };

  before(async () => {
    const words = [
      ['GO', ['g', 'ow']],
      ['STORE', ['s', 't', 'ao', 'r']],
      ['HOME', ['hh', 'ow', 'm']],
      ['BOOK', ['b', 'uh', 'k']],
    ] as const;
    const records = [0, 1, 2, 3].map((i) => {
      const picked = [words[i], words[(i + 1) % 4], words[(i + 3) % 4]];
      return JSON.stringify({
        id: `s${i}`,
        text: picked.map(([w]) => w.toLowerCase()).join(' '),
        pseudogloss: picked.map(([w]) => w),
        phonemes: picked.map(([word, phonemes]) => ({ word, phonemes, source: 'cmudict' })),
        fingerspell: [],
        provenance: { gloss: { glosser: 'hand' } },
      });
    });
    const targets = join(tmp.dir, 'targets.jsonl');
    writeFileSync(targets, `${records.join('\n')}\n`);
    // what `signweave simulate --targets targets.jsonl --out sim` does
    const source = targetsFile(targets);
    const settings = resolveSimulationSettings({ seed: 4 }, 'settings');
    const simulator = new Simulator(settings, source.vocab);
    const stats = new SimulationStats(settings);
    const writer = new SimulatedDatasetWriter(sim, { tool: { name: 'signweave', version: 'test', command: 'simulate' }, settings, source: source.provenance }, source.vocab);
    for (const sentence of source.sentences) {
      const s = simulator.simulate(sentence);
      stats.add(s);
      await writer.add(s);
    }
    await writer.commit(stats.summary());
  });

  it('no-lip: a bundle whose architecture drops the lips and whose graph has no lips input', async () => {
    const out = join(tmp.dir, 'no-lip');
    const text = await trainCli(['fusion', '--data', sim, '--out', out, '--config', config('no-lip', { variant: 'no-lip' }), '--epochs', '1']);
    assert.match(text, /^trained fusion bundle → .*no-lip\ndata {10}4 simulated sentences from .*sim\n/);
    assert.match(text, /\nfusion {8}gated, variant no-lip: d 16, 1 pre-norm layer, 2 heads; streams sign, fingerspell, router\n/);
    await using bundle = await loadFusionBundle(out);
    assert.equal(bundle.bundle.manifest.weights, 'trained');
    assert.equal(bundle.bundle.manifest.architecture.lip, false);
    assert.equal(bundle.variant, 'no-lip');
    assert.deepEqual(bundle.bundle.onnx.inputs.map((i) => i.name).sort(), [FUSION_IO.fingerspell, FUSION_IO.router, FUSION_IO.sign].sort());
  });

  it('cross-attention from the architecture, with --json details holding the resolved fusion config', async () => {
    const out = join(tmp.dir, 'cross-attention');
    const json = JSON.parse(await trainCli(['fusion', '--data', sim, '--out', out, '--config', config('xattn', { architecture: { type: 'cross-attention' } }), '--epochs', '1', '--json']));
    assert.equal(json.details.fusion.variant, 'cross-attention');
    const { architecture } = json.details.fusion;
    assert.deepEqual([architecture.type, architecture.d, architecture.heads, architecture.layers, architecture.norm, architecture.ff, architecture.lip], ['cross-attention', 16, 2, 1, 'pre', 64, true]);
    assert.deepEqual(architecture.inputs, { sign: json.details.fusion.architecture.vocabSize, fingerspell: 30, lips: 40 });
    await using bundle = await loadFusionBundle(out);
    assert.deepEqual(bundle.bundle.manifest.architecture, architecture);
    assert.equal(bundle.variant, 'cross-attention');
    assert.ok(bundle.bundle.onnx.inputs.some((i) => i.name === FUSION_IO.lips));
    assert.ok(!bundle.bundle.onnx.outputs.some((o) => o.name === FUSION_IO.gate), 'cross-attention has no gate');
  });

  it('a bad fusion field is an input error naming the config and the pointer, before any training', async () => {
    const out = join(tmp.dir, 'bad');
    await assert.rejects(trainCli(['fusion', '--data', sim, '--out', out, '--config', config('bad-heads', { architecture: { heads: 3 } })]), inputError(/bad-heads\.json: \/fusion\/architecture\/d: 16 is not divisible by \/fusion\/architecture\/heads = 3/));
    await assert.rejects(
      trainCli(['fusion', '--data', sim, '--out', out, '--config', config('contradiction', { architecture: { type: 'gated' }, variant: 'cmfa' })]),
      inputError(/contradiction\.json: \/fusion\/architecture\/type: contradicts \/fusion\/variant "cmfa", which sets it to "cmfa" \(value: "gated"\)/),
    );
  });
});
