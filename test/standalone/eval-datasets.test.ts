import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEvalDataset } from '../../src/eval/datasets.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';
import { ffmpeg, tempDir } from '../helpers/video.js';

const DATA = sharedPath('data');
const CLIPS = sharedPath('data', 'how2sign', 'clips_rgb_front');
const CLIP = join(CLIPS, '_15CDIexNDM_9-5-rgb_front.mp4');

const tmp = tempDir();
after(tmp.remove);

/** A folder (made with its parents) under the temp dir. */
function dir(...parts: string[]): string {
  const path = join(tmp.dir, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Three small frames of a real clip, as PNG or JPG, in a new folder. */
function frames(ext: 'png' | 'jpg', ...parts: string[]): string {
  const path = dir(...parts);
  ffmpeg(['-i', CLIP, '-frames:v', '3', '-vf', 'scale=64:36', join(path, `%04d.${ext}`)]);
  return path;
}

const found = (samples: { video: unknown }[]) => samples.filter((s) => s.video !== null).length;

describe('loadEvalDataset: How2Sign', () => {
  it('a dataset folder gives the realigned CSV of the split; videos by VIDEO_NAME with the range, or the sentence clip', async () => {
    const videos = dir('h2s-videos');
    symlinkSync(CLIP, join(videos, '-fZc293MpJk-1-rgb_front.mp4'));
    symlinkSync(CLIP, join(videos, '-g0iPSnQt6w_5-1-rgb_front.mp4'));
    const ds = await loadEvalDataset('how2sign', { data: join(DATA, 'how2sign'), videos });
    assert.deepEqual([ds.name, ds.split, ds.manifest.path, ds.videos], ['how2sign', 'test', join(DATA, 'how2sign', 'csv_original_tsv', 'how2sign_realigned_test.csv'), videos]);
    assert.equal(ds.manifest.sha256, 'fe9e840a2875fc0a1bf4e4c31ae31d331cfa4418d7e94b7e18aa57d07f0ab25f');
    assert.deepEqual([ds.samples.length, ds.problems], [2357, []]);
    assert.deepEqual(ds.samples[0], {
      id: '-fZc293MpJk_0-1-rgb_front',
      line: 2,
      text: 'Hi!',
      language: 'en',
      video: { kind: 'file', path: join(videos, '-fZc293MpJk-1-rgb_front.mp4'), start: 0.26, end: 6.79 },
    });
    // 7 sentences of that video, 1 sentence clip
    assert.equal(found(ds.samples), 8);
    const clip = ds.samples.find((s) => s.id === '-g0iPSnQt6w_5-1-rgb_front')!;
    assert.deepEqual(clip.video, { kind: 'file', path: join(videos, '-g0iPSnQt6w_5-1-rgb_front.mp4') });
    const missing = ds.samples.find((s) => s.video === null)!;
    assert.equal(missing.id, '-g0iPSnQt6w_0-1-rgb_front');
    assert.equal(missing.missing, `${join(videos, '-g0iPSnQt6w-1-rgb_front.mp4')} or ${join(videos, '-g0iPSnQt6w_0-1-rgb_front.mp4')}`);
  });

  it('the val split, and a missing video folder is an error', async () => {
    const val = await loadEvalDataset('how2sign', { data: join(DATA, 'how2sign'), split: 'val', limit: 5 });
    assert.deepEqual([val.split, val.samples.length, found(val.samples)], ['val', 5, 0]);
    assert.equal(val.videos, join(DATA, 'how2sign', 'csv_original_tsv'));
    await assert.rejects(loadEvalDataset('how2sign', { data: join(DATA, 'how2sign'), videos: join(tmp.dir, 'nope') }), inputError(/videos folder .*nope does not exist/));
  });

  it('Uni-Sign train labels against the five real clips: video_path as whole files', async () => {
    const ds = await loadEvalDataset('how2sign', { data: join(DATA, 'how2sign'), split: 'train', videos: CLIPS });
    assert.equal(ds.manifest.path, join(DATA, 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl'));
    assert.deepEqual([ds.samples.length, found(ds.samples), ds.problems.length], [31086, 5, 0]);
    const mascara = ds.samples.find((s) => s.id === '_0fO5ETSwyg_0-5-rgb_front');
    assert.deepEqual(mascara, {
      id: '_0fO5ETSwyg_0-5-rgb_front',
      line: 24721,
      text: 'You have used waterproof mascara, now how do you remove it?',
      language: 'en',
      video: { kind: 'file', path: join(CLIPS, '_0fO5ETSwyg_0-5-rgb_front.mp4') },
    });
    assert.deepEqual(ds.samples[0].missing, join(CLIPS, '--7E2sU6zP4_10-5-rgb_front.mp4'));
  });
});

describe('loadEvalDataset: frame-folder datasets', () => {
  let phoenixVideos: string;
  before(() => {
    phoenixVideos = dir('phoenix');
    frames('png', 'phoenix', 'test', '25October_2010_Monday_tagesschau-17');
    dir('phoenix', 'test', '25October_2010_Monday_tagesschau-24'); // empty: not the frames
    frames('png', 'phoenix', '15December_2010_Wednesday_tagesschau-37', '1');
  });

  it('PHOENIX-2014T: corpus file found in the folder, German text with its glosses, frames under <split>/ at 25 fps', async () => {
    const ds = await loadEvalDataset('phoenix2014t', { data: join(DATA, 'phoenix2014t'), videos: phoenixVideos });
    assert.equal(ds.manifest.path, join(DATA, 'phoenix2014t', 'corpus_csv', 'PHOENIX-2014-T.test.corpus.csv'));
    assert.deepEqual([ds.samples.length, found(ds.samples), ds.problems], [642, 1, []]);
    const [first, second] = ds.samples;
    assert.deepEqual(first, {
      id: '25October_2010_Monday_tagesschau-17',
      line: 2,
      text: 'regen und schnee lassen an den alpen in der nacht nach im norden und nordosten fallen hier und da schauer sonst ist das klar',
      language: 'de',
      gloss: ['REGEN', 'SCHNEE', 'REGION', 'VERSCHWINDEN', 'NORD', 'REGEN', 'KOENNEN', 'REGION', 'STERN', 'KOENNEN', 'SEHEN'],
      video: { kind: 'frames', path: join(phoenixVideos, 'test', '25October_2010_Monday_tagesschau-17'), fps: 25 },
    });
    assert.equal(second.video, null);
    assert.equal(second.missing, `${join(phoenixVideos, 'test', '25October_2010_Monday_tagesschau-24')} or ${join(phoenixVideos, '25October_2010_Monday_tagesschau-24')}`);
  });

  it('PHOENIX-2014T official video column <name>/1/*.png, the split read from the file name', async () => {
    const data = join(DATA, 'phoenix2014t', 'corpus_csv_original_videocol_crlf', 'PHOENIX-2014-T.test.corpus.csv');
    const ds = await loadEvalDataset('phoenix2014t', { data, videos: phoenixVideos, fps: 24 });
    assert.deepEqual([ds.split, ds.samples.length, found(ds.samples)], ['test', 642, 1]);
    const sample = ds.samples.find((s) => s.video)!;
    assert.deepEqual(sample.video, { kind: 'frames', path: join(phoenixVideos, '15December_2010_Wednesday_tagesschau-37', '1'), fps: 24 });
  });

  it('ChicagoFSWild: the label list in the folder, letters = label, JPG frame folders at 30 fps by default', async () => {
    const videos = dir('fswild');
    frames('jpg', 'fswild', 'aslized', 'ben_jarashow_1759');
    const ds = await loadEvalDataset('chicagofswild', { data: join(DATA, 'chicago_fswild'), videos });
    assert.equal(ds.manifest.path, join(DATA, 'chicago_fswild', 'mictranet_merged_test', 'ChicagoFSWild_and_Plus_test_merged.csv'));
    assert.deepEqual([ds.split, ds.samples.length, found(ds.samples), ds.problems], ['test', 2583, 1, []]);
    assert.deepEqual(ds.samples[0], {
      id: 'aslized/ben_jarashow_1745',
      line: 1,
      text: 'yll',
      language: 'en',
      letters: 'yll',
      video: null,
      missing: join(videos, 'aslized', 'ben_jarashow_1745'),
    });
    assert.deepEqual(ds.samples[1].video, { kind: 'frames', path: join(videos, 'aslized', 'ben_jarashow_1759'), fps: 30 });
    const at60 = await loadEvalDataset('chicagofswild', { data: join(DATA, 'chicago_fswild'), videos, fps: 60, limit: 2 });
    assert.deepEqual(at60.samples[1].video, { kind: 'frames', path: join(videos, 'aslized', 'ben_jarashow_1759'), fps: 60 });
  });

  it('CSL-Daily: video_path files, else frame folders <name>/; OpenASL: video_path', async () => {
    const videos = dir('csl');
    frames('jpg', 'csl', 'S000020_P0000_T00');
    symlinkSync(CLIP, join(videos, 'S000020_P0008_T00.mp4'));
    const csl = await loadEvalDataset('csl-daily', { data: join(DATA, 'csl_daily'), split: 'dev', videos });
    assert.deepEqual([csl.samples.length, found(csl.samples)], [1077, 2]);
    assert.deepEqual(csl.samples[0], {
      id: 'S000020_P0000_T00',
      line: 1,
      text: '他今年四岁。',
      language: 'zh',
      gloss: ['他', '今天', '年龄', '4'],
      video: { kind: 'frames', path: join(videos, 'S000020_P0000_T00'), fps: 30 },
    });
    assert.deepEqual(csl.samples[1].video, { kind: 'file', path: join(videos, 'S000020_P0008_T00.mp4') });
    assert.equal(csl.samples[2].missing, `${join(videos, 'S000040_P0000_T00.mp4')} or ${join(videos, 'S000040_P0000_T00')}`);

    const openasl = await loadEvalDataset('openasl', { data: join(DATA, 'openasl') });
    assert.deepEqual([openasl.split, openasl.samples.length, found(openasl.samples)], ['test', 976, 0]);
    assert.deepEqual(openasl.samples[0], {
      id: 'Mci9oyb5V2E-00:00:05.333-00:00:11.166',
      line: 1,
      text: 'I am Ed Bosson, and I am 67 years old and now retired.',
      language: 'en',
      video: null,
      missing: join(DATA, 'openasl', 'unisign_labels_jsonl', 'Mci9oyb5V2E-00:00:05.333-00:00:11.166.mp4'),
    });
  });
});

describe('loadEvalDataset: problems and options', () => {
  it('a folder without the split file lists what was looked for', async () => {
    await assert.rejects(
      loadEvalDataset('openasl', { data: join(DATA, 'openasl'), split: 'train' }),
      inputError(/no train split of openasl in .*openasl: looked for labels\.train\.jsonl in .*openasl and its subfolders/),
    );
    await assert.rejects(
      loadEvalDataset('phoenix2014t', { data: join(DATA, 'how2sign') }),
      inputError(/no test split of phoenix2014t in .*how2sign: looked for PHOENIX-2014-T\.test\.corpus\.csv in .*how2sign, .*how2sign\/annotations\/manual\/, .*how2sign\/PHOENIX-2014-T\/annotations\/manual\/ and its subfolders/),
    );
  });

  it('bad lines keep their line numbers and are skipped; strict stops at the first', async () => {
    const csv = readFileSync(join(DATA, 'how2sign', 'csv_original_tsv', 'how2sign_realigned_test.csv'), 'utf8').split('\r\n').slice(0, 6);
    csv[2] = csv[2].replace('7.27\t20.3', '20.3\t7.27');
    csv[4] = csv[4].replace(/\t[^\t]*$/, '\t');
    const path = join(tmp.dir, 'how2sign_realigned_test.csv');
    writeFileSync(path, csv.join('\r\n') + '\r\n');
    const ds = await loadEvalDataset('how2sign', { data: tmp.dir });
    assert.equal(ds.manifest.path, path);
    assert.deepEqual(
      ds.samples.map((s) => s.line),
      [2, 4, 6],
    );
    assert.deepEqual(ds.problems, [
      { line: 3, message: 'bad time range START_REALIGNED=20.3 END_REALIGNED=7.27' },
      { line: 5, message: 'field "SENTENCE" is missing or empty' },
    ]);
    await assert.rejects(loadEvalDataset('how2sign', { data: path, strict: true }), inputError(new RegExp(`^${path}:3: bad time range`)));
  });

  it('options are checked', async () => {
    const data = join(DATA, 'openasl');
    await assert.rejects(loadEvalDataset('wlasl' as 'jsonl', { data }), inputError(/unknown dataset "wlasl"; known: how2sign, phoenix2014t, chicagofswild, openasl, csl-daily, jsonl/));
    await assert.rejects(loadEvalDataset('openasl', { data, limit: 0 }), inputError(/limit must be a whole number ≥ 1, got 0/));
    await assert.rejects(loadEvalDataset('openasl', { data, fps: -1 }), inputError(/fps must be a positive number, got -1/));
    await assert.rejects(loadEvalDataset('openasl', { data, split: '../x' }), inputError(/split must be a name/));
    await assert.rejects(loadEvalDataset('openasl', { data: join(tmp.dir, 'none') }), inputError(/cannot read openasl data .*none: no such file or folder/));
    const limited = await loadEvalDataset('openasl', { data, limit: 3 });
    assert.deepEqual(
      limited.samples.map((s) => s.line),
      [1, 2, 3],
    );
  });
});
