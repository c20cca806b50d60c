/**
 * Router training data on disk: segments.jsonl read and checked (errors name file:line and the field), frame labels
 * by frame centre, records matched with a real feature cache, the router architecture from the training config, and
 * `signweave train router` end to end: the trained bundle routes held-out sequences far better than chance.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FEATURE_CACHE_FORMAT, FeatureCache, type FeatureKeyParts } from '../../src/backbone/cache.js';
import type { BackboneInfo } from '../../src/backbone/types.js';
import { loadBundle } from '../../src/bundles/loader.js';
import { loadRouterBundle } from '../../src/bundles/router.js';
import { createTrainCommand } from '../../src/cli/commands/train.js';
import { ROUTER_CLASSES } from '../../src/router/router.js';
import { TRAIN_DEFAULTS, resolveTrainConfig, type TrainConfigFile } from '../../src/train/config.js';
import { readTargetRecords } from '../../src/train/data.js';
import { frameClassCounts, frameLabels, readSegmentRecords, routerTrainingSet } from '../../src/train/router-data.js';
import { poolBatch } from '../../src/train/tasks.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

const D = 8;
const FPS = 25;
const backbone = { kind: 'onnx', source: 'test.onnx', runtime: 'test', sha256: 'b'.repeat(64), preprocessing: {} } as unknown as BackboneInfo;

/** Features whose mean depends on the frame's class (sign: dim 0 high, fingerspell: dim 1, rest: dim 2), plus noise. */
function featuresOf(labels: readonly number[], rng: () => number): Float32Array {
  const data = new Float32Array(labels.length * D);
  labels.forEach((c, t) => {
    for (let d = 0; d < D; d++) data[t * D + d] = (d === c ? 1.5 : 0) + (rng() - 0.5);
  });
  return data;
}

/** A sequence of 2–4 blocks of 20–40 frames, each of a random class; its labels and the blocks as segments in seconds. */
function randomSequence(rng: () => number): { labels: number[]; segments: { label: string; start: number; end: number }[] } {
  const labels: number[] = [];
  const segments: { label: string; start: number; end: number }[] = [];
  const blocks = 2 + Math.floor(rng() * 3);
  for (let b = 0; b < blocks; b++) {
    const c = Math.floor(rng() * 3);
    const n = 20 + Math.floor(rng() * 21);
    segments.push({ label: ROUTER_CLASSES[c], start: labels.length / FPS, end: (labels.length + n) / FPS });
    labels.push(...new Array<number>(n).fill(c));
  }
  return { labels, segments };
}

function putFeatures(cache: FeatureCache, name: string, data: Float32Array, range: { start: number; end: number | null } = { start: 0, end: null }): void {
  const T = data.length / D;
  const parts = { format: FEATURE_CACHE_FORMAT, video: { sha256: Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64) }, ...range, stride: 1, backboneSha256: 'b'.repeat(64), preprocessing: { resample: 2 } } as unknown as FeatureKeyParts;
  const idx = [...Array(T).keys()];
  cache.put(parts, { data, shape: [T, D], fps: FPS, frameIndices: idx, times: idx.map((f) => range.start + f / FPS) }, { video: `/videos/${name}.mp4`, backbone });
}

const jsonl = (records: object[]): string => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('segments.jsonl', () => {
  const file = join(tmp.dir, 'check', 'segments.jsonl');
  mkdirSync(join(tmp.dir, 'check'));
  const read = (...records: object[]) => {
    writeFileSync(file, jsonl(records));
    return readSegmentRecords(file);
  };

  it('reads records, with fill defaulting to sign, and labels frames by the segment holding their centre', () => {
    const [a, b] = read(
      { id: 'a', video: 'a.mp4', start: 10, end: 11, segments: [{ label: 'fingerspell', start: 0.2, end: 0.5 }] },
      { id: 'b', fill: 'rest', segments: [] },
    );
    assert.equal(a.fill, 'sign');
    assert.deepEqual(a.segments, [{ label: 'fingerspell', start: 0.2, end: 0.5 }]);
    assert.equal(a.where, `${file}:1`);
    // at 10 fps, frame centres 0.05, 0.15, …: frames 2, 3 and 4 have theirs in [0.2, 0.5)
    assert.deepEqual([...frameLabels(a, 7, 10)], [0, 0, 1, 1, 1, 0, 0]);
    assert.deepEqual([...frameLabels(b, 3, 10)], [2, 2, 2]);
  });

  it('refuses unknown labels, empty or overlapping segments and segments past the record, naming line and field', () => {
    const ok = { id: 'ok', segments: [] };
    assert.throws(() => read(ok, { id: 'x', segments: [{ label: 'signing', start: 0, end: 1 }] }), inputError(/segments\.jsonl:2: field "segments\[0\]\.label" must be one of "sign", "fingerspell", "rest" \(value: "signing"\)/));
    assert.throws(() => read({ id: 'x', fill: 'none', segments: [] }), inputError(/:1: field "fill" must be one of/));
    assert.throws(() => read({ id: 'x', segments: [{ label: 'rest', start: 0, end: 1 }, { label: 'sign', start: 2, end: 2 }] }), inputError(/:1: field "segments\[1\]\.end" must be after segments\[1\]\.start = 2 \(value: 2\)/));
    assert.throws(() => read({ id: 'x', segments: [{ label: 'rest', start: -1, end: 1 }] }), inputError(/field "segments\[0\]\.start" must be a number of seconds ≥ 0/));
    assert.throws(
      () => read({ id: 'x', segments: [{ label: 'rest', start: 3, end: 5 }, { label: 'sign', start: 0, end: 1 }, { label: 'sign', start: 0.5, end: 4 }] }),
      inputError(/field "segments\[2\]" overlaps segments\[1\] \(0\.5–4 s and 0–1 s\)/),
    );
    assert.throws(() => read({ id: 'x', start: 2, end: 3.5, segments: [{ label: 'rest', start: 1, end: 1.6 }] }), inputError(/field "segments\[0\]\.end" is after the record's end: the record spans 2–3\.5 s, 1\.5 s \(value: 1\.6\)/));
    assert.throws(() => read({ id: 'x', segments: { label: 'rest' } }), inputError(/field "segments" must be an array/));
    assert.throws(() => read(ok, { id: 'ok', segments: [] }), inputError(/:2: id "ok" already on line 1/));
    // without an end, the features say how long the record is
    const [open] = read({ id: 'x', segments: [{ label: 'rest', start: 0, end: 0.5 }] });
    assert.throws(() => frameLabels(open, 10, 25), inputError(/:1: field "segments\[0\]\.end" is after the record's end: its features are 10 frames at 25 fps, 0\.4 s/));
  });
});

describe('signweave train router', () => {
  const data = join(tmp.dir, 'router-data');
  const cache = new FeatureCache({ dir: join(data, 'features') });
  const rng = mulberry32(5);
  const records: object[] = [];
  for (let i = 0; i < 14; i++) {
    const { labels, segments } = randomSequence(rng);
    putFeatures(cache, `clip${i}`, featuresOf(labels, rng));
    records.push({ id: `clip${i}`, video: `clip${i}.mp4`, segments });
  }
  // A time range of a video, with `fill` for what its one segment leaves out.
  const ranged = [...new Array<number>(30).fill(2), ...new Array<number>(20).fill(1)];
  putFeatures(cache, 'long', featuresOf(ranged, rng), { start: 4, end: 6 });
  records.push({ id: 'long-4', video: 'long.mp4', start: 4, end: 6, fill: 'rest', segments: [{ label: 'fingerspell', start: 30 / FPS, end: 2 }] });
  // Shorter than the router's window: pooled into one segment, as at inference.
  putFeatures(cache, 'short', featuresOf([1, 1, 1, 1, 1, 1], rng));
  records.push({ id: 'short', segments: [{ label: 'fingerspell', start: 0, end: 6 / FPS }] });
  records.push({ id: 'uncached', segments: [] });
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'segments.jsonl'), jsonl(records));
  const config = join(tmp.dir, 'router.json');
  writeFileSync(config, JSON.stringify({ format: 'signweave-train/1', batchSize: 4, optimizer: { lr: 0.01 }, schedule: { warmupSteps: 4 }, router: { architecture: { hidden: [32], window: 8, hop: 4 } } }));
  const out = join(tmp.dir, 'router-bundle');

  it('matches records with the cache, labels their frames and skips what has no features', () => {
    const set = routerTrainingSet({ cacheDir: join(data, 'features'), segments: join(data, 'segments.jsonl') });
    assert.equal(set.size, 16);
    assert.deepEqual(set.skipped.map((s) => [s.id, s.reason]), [['uncached', 'no cached features for id uncached (the whole video)']]);
    const long = set.items.find((i) => i.id === 'long-4')!;
    assert.deepEqual([...long.frameLabels!], ranged);
    const counts = frameClassCounts(set);
    assert.equal(counts.sign + counts.fingerspell + counts.rest, set.items.reduce((n, i) => n + i.input.shape[0], 0));
    // the 6-frame item is one segment of all its frames, labelled by its majority
    const short = set.items.findIndex((i) => i.id === 'short');
    const batch = set.batch([short], { epoch: 0, step: 0, next: { epoch: 0, step: 1 } });
    const pooled = poolBatch(batch, 8, 4);
    assert.deepEqual([...pooled.labels], [1]);
    assert.equal(pooled.pooled.length, D);
  });

  it('the router architecture comes from the training config, with the demo router as default', () => {
    assert.deepEqual(TRAIN_DEFAULTS.router.architecture, { hidden: [128], activation: 'gelu', window: 16, hop: 8 });
    const merged = resolveTrainConfig({ format: 'signweave-train/1', router: { architecture: { window: 32 } } }).config.router.architecture;
    assert.deepEqual(merged, { hidden: [128], activation: 'gelu', window: 32, hop: 8 });
    const bad = (architecture: object, pattern: RegExp) =>
      assert.throws(() => resolveTrainConfig({ format: 'signweave-train/1', router: { architecture } } as TrainConfigFile), inputError(pattern));
    bad({ window: 4, hop: 8 }, /\/router\/architecture\/hop: must not exceed \/router\/architecture\/window = 4/);
    bad({ activation: 'tanh' }, /\/router\/architecture\/activation: must be one of "relu", "gelu" \(value: "tanh"\)/);
    bad({ hidden: [0] }, /\/router\/architecture\/hidden\/0: must be >= 1/);
  });

  it('trains from the CLI, reports the accuracy, and the bundle routes held-out sequences', async () => {
    const run = runCli(['train', 'router', '--data', data, '--out', out, '--config', config, '--epochs', '12', '--threads', '1', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /segments\.jsonl:17: no cached features for id uncached \(the whole video\) \(skipped\)/);
    assert.match(run.stdout, /^trained router bundle → .*router-bundle\n/);
    assert.match(run.stdout, /\ndata {10}16 sequences \(\d+ frames: sign \d+ %, fingerspell \d+ %, rest \d+ %\) from .*segments\.jsonl and .*features \(1 skipped\)\n/);
    assert.match(run.stdout, /\nrouter {8}MLP 8→32→3 \(gelu\), window 8 hop 4 frames\n/);
    const accuracy = Number(/\neval loss {5}[\d.]+, accuracy ([\d.]+) % \(segments of the training data, argmax\)\n/.exec(run.stdout)?.[1]);
    assert.ok(accuracy > 80, run.stdout);

    await using bundle = await loadBundle(out, { expectKind: 'router' });
    assert.equal(bundle.manifest.weights, 'trained');
    assert.deepEqual([bundle.manifest.input.window, bundle.manifest.input.hop, bundle.manifest.input.dim], [8, 4, D]);
    assert.deepEqual(bundle.manifest.architecture, { activation: 'gelu', hidden: [32] });

    // Held-out sequences through the runtime router: frames take the class of the segments covering them.
    const router = await loadRouterBundle(out);
    const held = mulberry32(77);
    let right = 0;
    let frames = 0;
    let majority = [0, 0, 0];
    for (let i = 0; i < 8; i++) {
      const { labels } = randomSequence(held);
      const features = { data: featuresOf(labels, held), shape: [labels.length, D] as [number, number], fps: FPS };
      const weights = router.frameWeights(router.route(features, { mode: 'inference' }), labels.length);
      labels.forEach((c, t) => {
        const row = [...weights.data.subarray(3 * t, 3 * t + 3)];
        if (row.indexOf(Math.max(...row)) === c) right++;
      });
      frames += labels.length;
      majority = majority.map((n, c) => n + labels.filter((l) => l === c).length);
    }
    const chance = Math.max(...majority) / frames;
    assert.ok(right / frames > 0.8 && right / frames > chance + 0.3, `frame accuracy ${right / frames} against ${chance} for the majority class`);
  });

  it('names what is missing or misplaced', async () => {
    const cli = (args: string[]) => createTrainCommand().parseAsync([...args, '--out', join(tmp.dir, 'x'), '--no-progress'], { from: 'user' });
    await assert.rejects(cli(['router', '--data', join(tmp.dir, 'nowhere')]), inputError(/--data .*nowhere: no segments\.jsonl in it/));
    await assert.rejects(cli(['router', '--data', data, '--lips', data]), inputError(/--lips is an option of signweave train lipread, not of router/));
    await assert.rejects(cli(['fusion', '--data', data, '--features', data]), inputError(/--features is an option of signweave train sign\|fingerspell\|router, not of fusion/));
    await assert.rejects(cli(['router', '--data', data, '--features', join(tmp.dir, 'nocache')]), inputError(/cannot read the feature cache folder .*nocache/));
  });
});

describe('docs/training-data.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'training-data.md'), 'utf8');
  const blocks = (lang: string) => [...doc.matchAll(new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);

  it('its examples are what the readers and the config accept', () => {
    const [segments] = blocks('jsonl');
    const file = join(tmp.dir, 'doc-segments.jsonl');
    writeFileSync(file, segments);
    const records = readSegmentRecords(file);
    assert.deepEqual(records.map((r) => [r.id, r.fill, r.segments.length]), [['clip1', 'sign', 2], ['long-12', 'rest', 1]]);
    const [target, ...configs] = blocks('json');
    writeFileSync(join(tmp.dir, 'doc-targets.jsonl'), `${JSON.stringify(JSON.parse(target))}\n`);
    assert.deepEqual(readTargetRecords(join(tmp.dir, 'doc-targets.jsonl'), 'gloss')[0].tokens.slice(0, 3), ['YOU', 'USE', 'WATERPROOF']);
    assert.equal(configs.length, 2);
    const [router, lipread] = configs.map((c) => resolveTrainConfig(JSON.parse(c) as TrainConfigFile).config);
    assert.deepEqual(router.router, TRAIN_DEFAULTS.router);
    assert.deepEqual(lipread.lipread, TRAIN_DEFAULTS.lipread);
  });
});
