/**
 * Lipreading training data on disk: targets.jsonl with phonemes and lip-crop videos as `signweave landmarks
 * --lips-out` writes them (writeLipsVideo, black frames without a face) or any video ffmpeg reads (resized), frames
 * normalised as the trained bundle declares, records that cannot be used skipped with the reason, the lipread
 * architecture from the training config, and `signweave train lipread` end to end.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBundle } from '../../src/bundles/loader.js';
import { createTrainCommand } from '../../src/cli/commands/train.js';
import { LIPREAD_VOCAB, LipreadExpert } from '../../src/experts/lipread/index.js';
import { writeLipsVideo } from '../../src/landmarks/lips.js';
import type { LipCrop } from '../../src/landmarks/types.js';
import { TRAIN_DEFAULTS, resolveTrainConfig, type TrainConfigFile } from '../../src/train/config.js';
import { lipCropNormalisation } from '../../src/experts/lipread/model.js';
import { lipreadPhoneme, lipreadTrainingSet } from '../../src/train/lipread-data.js';
import { inputError } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { ffmpeg, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

const SIZE = 32;
const data = join(tmp.dir, 'lipread-data');
const lips = join(data, 'lips');

/** RGB crops of one uniform grey level per frame (`null`: no face), as the lip cropper hands them to writeLipsVideo. */
function crops(levels: (number | null)[]): LipCrop[] {
  return levels.map((level, index) => ({
    index,
    time: index / 25,
    face: level !== null,
    box: level === null ? null : { x: 0, y: 0, size: SIZE },
    data: level === null ? null : new Uint8Array(SIZE * SIZE * 3).fill(level),
    size: SIZE,
    channels: 3,
  }));
}

const word = (...phonemes: string[]) => ({ word: 'W', phonemes, source: 'cmudict' });
const record = (id: string, phonemes: object[]) => JSON.stringify({ id, text: 'x', pseudogloss: ['X'], phonemes, fingerspell: [], provenance: {} });

before(async () => {
  mkdirSync(lips, { recursive: true });
  const levels = (shift: number) => Array.from({ length: 16 }, (_, t) => 40 + ((t * 13 + shift * 50) % 180));
  await writeLipsVideo(crops(levels(0)), join(lips, 'clip0.mp4'), 25);
  await writeLipsVideo(crops([...levels(1).slice(0, 5), null, ...levels(1).slice(6)]), join(lips, 'clip1.mp4'), 25);
  await writeLipsVideo(crops(levels(2)), join(lips, 'clip2.mp4'), 25);
  await writeLipsVideo(crops(levels(3).slice(0, 4)), join(lips, 'short.mp4'), 25);
  // another size and container: resized by ffmpeg
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=48x48:rate=25', '-frames:v', '18', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(lips, 'clip3.mkv')]);
  writeFileSync(join(lips, 'broken.mp4'), 'not a video');
  const records = [
    record('clip0', [word('hh', 'ah', 'l'), word('ow')]),
    record('clip1', [word('G', 'OW1')]), // CMUdict spelling: upper case with stress
    record('clip2', [word('m', 'iy')]),
    record('clip3', [word('y', 'uw')]),
    record('nolips', [word('ah')]),
    record('alien', [word('xx')]),
    record('short', [word('s', 'eh', 'v', 'ah', 'n')]),
    record('broken', [word('ah')]),
    record('silent', []),
  ];
  writeFileSync(join(data, 'targets.jsonl'), `${records.join('\n')}\n`);
});

describe('lip videos as training data', () => {
  it('maps CMUdict phonemes onto the lipreading vocabulary', () => {
    assert.deepEqual(['AH0', 'ER1', 'ow2', 'zh', 'HH'].map(lipreadPhoneme), ['ah', 'er', 'ow', 'zh', 'hh']);
  });

  it('decodes each record’s video at the crop size, normalised as the bundle declares, and says why the rest are skipped', async () => {
    const done: number[] = [];
    const read = await lipreadTrainingSet({ targets: join(data, 'targets.jsonl'), lips, size: SIZE, channels: 1, stride: 2, onProgress: (n) => done.push(n) });
    const { set } = read;
    assert.deepEqual(set.items.map((i) => i.id), ['clip0', 'clip1', 'clip2', 'clip3']);
    assert.deepEqual(set.items.map((i) => i.input.shape), [[16, 1024], [16, 1024], [16, 1024], [18, 1024]]);
    assert.deepEqual(set.vocab, LIPREAD_VOCAB);
    assert.deepEqual(set.items[1].target.map((id) => LIPREAD_VOCAB[id]), ['g', 'ow']);
    assert.deepEqual([read.frames, read.facelessFrames], [66, 1]);
    assert.deepEqual(done, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // frame 0 of clip0 is grey 40: luma 40, normalised with mean 0.5 and std 0.25 (H.264 moves a level by a little)
    const { mean, std } = lipCropNormalisation(1);
    const frame0 = set.items[0].input.data.subarray(0, 1024);
    assert.ok(frame0.every((v) => Math.abs(v - (40 / 255 - mean[0]) / std[0]) < 0.05), `frame 0 starts ${frame0.slice(0, 4).join(', ')}`);
    // the frame written without a face is the runtime's zero frame
    assert.ok(set.items[1].input.data.subarray(5 * 1024, 6 * 1024).every((v) => v === 0));
    const skipped = new Map(set.skipped.map((s) => [s.id, `${s.where} ${s.reason}`]));
    assert.deepEqual([...skipped.keys()], ['nolips', 'alien', 'short', 'broken', 'silent']);
    assert.match(skipped.get('nolips')!, /targets\.jsonl:5 no lip video .*lips\/nolips\.\*/);
    assert.match(skipped.get('alien')!, /:6 target token "xx" is not in the lipreading expert's phonemes/);
    assert.match(skipped.get('short')!, /:7 4 frames give 2 output frames at stride 2, too few for a CTC alignment of 5 phonemes \(needs 5\)/);
    assert.match(skipped.get('broken')!, /:8 .*broken\.mp4/);
    assert.match(skipped.get('silent')!, /:9 no phonemes target/);

    const rgb = await lipreadTrainingSet({ targets: join(data, 'targets.jsonl'), lips, size: 16, channels: 3, stride: 1 });
    assert.deepEqual(rgb.set.items[0].input.shape, [16, 16 * 16 * 3]);
    const imagenet = lipCropNormalisation(3);
    assert.ok(Math.abs(rgb.set.items[0].input.data[2] - (40 / 255 - imagenet.mean[2]) / imagenet.std[2]) < 0.05);
  });

  it('the lipread architecture and mask ratio come from the training config', () => {
    assert.deepEqual(TRAIN_DEFAULTS.lipread, { architecture: { size: 32, patch: 8, channels: 1, dim: 64, layers: 2, heads: 4, stride: 2 }, maskRatio: 0.5 });
    const merged = resolveTrainConfig({ format: 'signweave-train/1', lipread: { architecture: { size: 48, pooling: 'mean' }, maskRatio: 0 } }).config.lipread;
    assert.deepEqual(merged, { architecture: { ...TRAIN_DEFAULTS.lipread.architecture, size: 48, pooling: 'mean' }, maskRatio: 0 });
    const bad = (lipread: object, pattern: RegExp) => assert.throws(() => resolveTrainConfig({ format: 'signweave-train/1', lipread } as TrainConfigFile), inputError(pattern));
    bad({ architecture: { size: 36 } }, /\/lipread\/architecture\/patch: must divide \/lipread\/architecture\/size = 36 \(value: 8\)/);
    bad({ architecture: { size: 9, patch: 3 } }, /\/lipread\/architecture\/size: must be even/);
    bad({ architecture: { heads: 5 } }, /\/lipread\/architecture\/heads: must divide \/lipread\/architecture\/dim = 64/);
    bad({ architecture: { stride: 4, kernel: 3 } }, /\/lipread\/architecture\/kernel: must be at least \/lipread\/architecture\/stride = 4/);
    bad({ architecture: { channels: 2 } }, /\/lipread\/architecture\/channels: must be one of 1, 3/);
    bad({ maskRatio: 1 }, /\/lipread\/maskRatio: must be < 1/);
  });
});

describe('signweave train lipread', () => {
  it('trains from the CLI and writes a trained bundle the lipreading expert runs', async () => {
    const out = join(tmp.dir, 'lipread-bundle');
    const config = join(tmp.dir, 'lipread.json');
    writeFileSync(config, JSON.stringify({ format: 'signweave-train/1', batchSize: 2, schedule: { warmupSteps: 1 } }));
    const run = runCli(['train', 'lipread', '--data', data, '--out', out, '--config', config, '--epochs', '2', '--threads', '1', '--no-progress', '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /targets\.jsonl:5: no lip video .*nolips\.\* \(skipped\)/);
    const result = JSON.parse(run.stdout);
    assert.equal(result.steps, 4);
    assert.ok(Number.isFinite(result.finalLoss) && result.finalLoss > 0);
    assert.match(result.data, /^4 clips \(66 frames, 1 without a face\) from .*targets\.jsonl and .*lips \(5 skipped\)$/);
    assert.deepEqual([result.details.frames, result.details.facelessFrames], [66, 1]);

    await using bundle = await loadBundle(out, { expectKind: 'lipread' });
    assert.equal(bundle.manifest.weights, 'trained');
    assert.deepEqual(bundle.vocab, LIPREAD_VOCAB);
    const { size, channels, mean, std } = bundle.manifest.input;
    assert.deepEqual({ size, channels, mean, std }, { size: 32, channels: 1, ...lipCropNormalisation(1) });
    assert.equal(bundle.manifest.temporalStride, 2);

    const expert = await LipreadExpert.load(out);
    const crops = new Uint8Array(16 * SIZE * SIZE).fill(128);
    const decoded = await expert.run({ data: crops, frames: 16, fps: 25 });
    assert.deepEqual(decoded.logits.shape, [8, LIPREAD_VOCAB.length]);
  });

  it('names a missing lips folder, a bad record and options of other kinds', async () => {
    const cli = (args: string[]) => createTrainCommand().parseAsync([...args, '--out', join(tmp.dir, 'x'), '--no-progress'], { from: 'user' });
    await assert.rejects(cli(['lipread', '--data', data, '--lips', join(tmp.dir, 'nolips')]), inputError(/--lips .*nolips: no such folder \(one lip-crop video per record/));
    const bare = join(tmp.dir, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'targets.jsonl'), `${record('a', [word('ah')])}\n{"id": "b", "phonemes": "ah"}\n`);
    await assert.rejects(cli(['lipread', '--data', bare]), inputError(/--data .*bare: no lips\/ folder in it/));
    await assert.rejects(cli(['lipread', '--data', bare, '--lips', lips]), inputError(/bare\/targets\.jsonl:2: field "phonemes" must be an array/));
    writeFileSync(join(bare, 'targets.jsonl'), `${record('nothing', [word('ah')])}\n`);
    await assert.rejects(cli(['lipread', '--data', bare, '--lips', lips]), inputError(/no training item from .*targets\.jsonl and the lip videos in .*lips \(1 targets; .*:1: no lip video/));
    await assert.rejects(cli(['lipread', '--data', data, '--features', data]), inputError(/--features is an option of signweave train sign\|fingerspell\|router, not of lipread/));
  });
});
