import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, probeVideo, type FrameFolder } from '../../src/video/index.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';
import { collect, ffmpeg, tempDir } from '../helpers/video.js';

/** How2Sign "Okay.": 1280×720, 24 fps, 17 frames. */
const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');

const tmp = tempDir();
after(tmp.remove);

const folder = (name: string, files: Record<string, string> = {}): string => {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, from] of Object.entries(files)) copyFileSync(from, join(dir, file));
  return dir;
};

let png: string;
let jpg: string;
let clipFrames: VideoFrame[];
before(async () => {
  // Frames extracted by a separate ffmpeg run, numbered from 0001 as ffmpeg's image2 muxer writes them.
  png = folder('png');
  ffmpeg(['-i', CLIP, join(png, '%04d.png')]);
  jpg = folder('jpg');
  ffmpeg(['-i', CLIP, '-q:v', '2', join(jpg, 'frame_%04d.jpg')]);
  clipFrames = await collect(decodeVideo(CLIP));
});

const same = (a: VideoFrame, b: VideoFrame): boolean => Buffer.compare(a.data, b.data) === 0;

/** Mean and largest absolute difference of two frames' bytes. */
function difference(a: VideoFrame, b: VideoFrame): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.data.length, max };
}

describe('frame folders as video input', () => {
  it('probeVideo: image2 input with the folder, the given rate and the exact length', async () => {
    const info = await probeVideo({ frames: png, fps: 24 });
    const { fileSize, ...rest } = info;
    assert.deepEqual(rest, {
      path: png,
      container: 'image2',
      streamIndex: 0,
      codec: 'png',
      pixelFormat: 'rgb24',
      codedWidth: 1280,
      codedHeight: 720,
      width: 1280,
      height: 720,
      rotation: 0,
      fps: 24,
      frameRate: { num: 24, den: 1 },
      frameCount: 17,
      duration: 17 / 24,
      startTime: 0,
      containerStartTime: 0,
      timeBase: { num: 1, den: 24 },
      frameFolder: { extension: '.png', count: 17 },
    });
    assert.ok(fileSize > 17 * 100_000, `${fileSize} bytes`);
    const phoenixRate = await probeVideo({ frames: png, fps: 25 });
    assert.deepEqual([phoenixRate.fps, phoenixRate.duration], [25, 17 / 25]);
  });

  it('PNG frames decode to exactly the clip’s frames, at k / fps', async () => {
    const frames = await collect(decodeVideo({ frames: png, fps: 24 }));
    assert.equal(frames.length, clipFrames.length);
    frames.forEach((f, k) => {
      assert.deepEqual([f.index, f.time, f.width, f.height], [k, clipFrames[k].time, 1280, 720]);
      assert.equal(f.time, k / 24);
      assert.ok(same(f, clipFrames[k]), `frame ${k}`);
    });
  });

  it('time ranges work as on the file: [0.25, 0.5) gives frames 6–11 with the same bytes', async () => {
    const range = { start: 0.25, end: 0.5 };
    const frames = await collect(decodeVideo({ frames: png, fps: 24 }, range));
    const fromClip = await collect(decodeVideo(CLIP, range));
    assert.deepEqual(
      frames.map((f) => f.time),
      [6, 7, 8, 9, 10, 11].map((k) => k / 24),
    );
    assert.deepEqual(
      frames.map((f) => f.time),
      fromClip.map((f) => f.time),
    );
    frames.forEach((f, i) => assert.ok(same(f, fromClip[i]) && same(f, clipFrames[6 + i]), `frame ${i}`));
  });

  it('bounds between frames: [0.1, 0.3) gives frames 3–7 (ffmpeg seeks in whole 1/24 s ticks there)', async () => {
    const frames = await collect(decodeVideo({ frames: png, fps: 24 }, { start: 0.1, end: 0.3 }));
    assert.deepEqual(
      frames.map((f) => f.time),
      [3, 4, 5, 6, 7].map((k) => k / 24),
    );
    frames.forEach((f, i) => assert.ok(same(f, clipFrames[3 + i]), `frame ${i}`));
  });

  it('other rates, resampling and resizing apply to frame folders', async () => {
    const at25 = await collect(decodeVideo({ frames: png, fps: 25 }, { start: 0.2 }));
    assert.deepEqual(
      at25.map((f) => f.time),
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map((k) => k / 25),
    );
    assert.ok(same(at25[0], clipFrames[5]));
    const ntsc = await collect(decodeVideo({ frames: png, fps: 29.97 }));
    assert.ok(Math.abs(ntsc[16].time - 16 / 29.97) < 1e-9, `${ntsc[16].time}`);
    const small = await collect(decodeVideo({ frames: png, fps: 24 }, { fps: 12, maxSide: 320 }));
    assert.deepEqual(
      small.map((f) => [f.time, f.width, f.height]),
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => [k / 12, 320, 180]),
    );
  });

  it('JPEG frames match the clip within JPEG tolerance, and the tolerance tells neighbours apart', async () => {
    const frames = await collect(decodeVideo({ frames: jpg, fps: 24 }));
    assert.equal(frames.length, 17);
    frames.forEach((f, k) => {
      const d = difference(f, clipFrames[k]);
      assert.ok(d.mean < 1.5 && d.max <= 40, `frame ${k}: ${JSON.stringify(d)}`);
      if (k > 0) assert.ok(difference(f, clipFrames[k - 1]).max > 40, `frame ${k} would also pass against frame ${k - 1}`);
    });
  });

  it('folder names with glob characters are read literally', async () => {
    const src = readdirSync(png).slice(0, 3);
    const odd = folder('we[i]rd {a,b} *?', Object.fromEntries(src.map((f) => [f, join(png, f)])));
    // What the unescaped pattern would also match.
    folder('weird a *x', { '0001.png': join(png, '0009.png') });
    const frames = await collect(decodeVideo({ frames: odd, fps: 24 }));
    assert.equal(frames.length, 3);
    frames.forEach((f, k) => assert.ok(same(f, clipFrames[k]), `frame ${k}`));
  });
});

describe('frame folders: errors name the folder', () => {
  const rejects = (source: FrameFolder, ...patterns: RegExp[]) => assert.rejects(probeVideo(source), inputError(...patterns));

  it('missing, not a folder, empty, no images, mixed types, unpadded numbers, bad fps', async () => {
    const missing = join(tmp.dir, 'nope');
    await rejects({ frames: missing, fps: 25 }, /cannot read frame folder .*nope: no such folder/);
    const file = join(tmp.dir, 'file.png');
    writeFileSync(file, 'x');
    await rejects({ frames: file, fps: 25 }, /cannot read frame folder .*file\.png: it is not a folder/);
    const empty = folder('empty');
    await rejects({ frames: empty, fps: 25 }, new RegExp(`frame folder ${empty} is empty`));
    const text = folder('text');
    writeFileSync(join(text, 'notes.txt'), 'hello');
    mkdirSync(join(text, 'sub'));
    await rejects({ frames: text, fps: 25 }, /frame folder .*text has no \.png or \.jpg images \(it holds (notes\.txt, sub\/|sub\/, notes\.txt)\)/);
    const mixed = folder('mixed', { '0001.png': join(png, '0001.png'), '0002.png': join(png, '0002.png'), '0003.jpg': join(jpg, 'frame_0003.jpg') });
    await rejects({ frames: mixed, fps: 25 }, /frame folder .*mixed mixes image types \(2 \.png, 1 \.jpg\)/);
    const unpadded = folder('unpadded', { '1.png': join(png, '0001.png'), '2.png': join(png, '0002.png'), '10.png': join(png, '0003.png') });
    await rejects({ frames: unpadded, fps: 25 }, /frame folder .*unpadded: frame numbers are not zero-padded \(10\.png sorts before 2\.png\)/);
    for (const fps of [0, -25, Number.NaN]) await rejects({ frames: png, fps }, /frame folder .*png: fps must be a positive number/);
  });

  it('an empty or corrupt image, and a range past the last frame', async () => {
    const zero = folder('zero', { '0001.png': join(png, '0001.png') });
    writeFileSync(join(zero, '0002.png'), '');
    await rejects({ frames: zero, fps: 25 }, /frame folder .*zero: 0002\.png is empty/);
    const corrupt = folder('corrupt', { '0001.png': join(png, '0001.png'), '0002.png': join(png, '0002.png') });
    writeFileSync(join(corrupt, '0003.png'), 'this is not a PNG image');
    await assert.rejects(collect(decodeVideo({ frames: corrupt, fps: 25 })), inputError(/corrupt: decoding failed at frame \d.*Invalid PNG signature/));
    await assert.rejects(collect(decodeVideo({ frames: png, fps: 24 }, { start: 0.5, end: 2 })), inputError(/png: range \[0\.5, 2\) s ends after the video ends \(at 0\.708 s\)/));
  });
});
