import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, probeVideo, type DecodeOptions } from '../../src/video/index.js';
import { collect, extractFrame, HOW2SIGN_CLIP, POSE_CLIP, rotateCcw, rotatedCopy, SIGNMT_120, SIGNMT_CLIP, syntheticVideo, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

/** The How2Sign clip decoded once at full size; the range and seek tests compare against it. */
let how2sign: VideoFrame[];
before(async () => {
  how2sign = await collect(decodeVideo(HOW2SIGN_CLIP));
});

const summary = (frames: VideoFrame[]) => ({ count: frames.length, sizes: [...new Set(frames.map((f) => `${f.width}x${f.height}`))] });

describe('decodeVideo: whole clips', () => {
  it('How2Sign: 102 frames of 1280×720 RGB24 at exact times k/24', () => {
    assert.deepEqual(summary(how2sign), { count: 102, sizes: ['1280x720'] });
    how2sign.forEach((f, k) => {
      assert.equal(f.index, k);
      assert.equal(f.time, k / 24);
      assert.equal(f.data.length, 1280 * 720 * 3);
      assert.ok(f.data instanceof Uint8Array);
    });
  });

  it('portrait, 25 fps and 120 fps clips: frame counts, sizes, times', async () => {
    const pose = await collect(decodeVideo(POSE_CLIP));
    assert.deepEqual(summary(pose), { count: 58, sizes: ['540x720'] });
    assert.equal(pose[15].time, (15 * 12) / 359);
    const signmt = await collect(decodeVideo(SIGNMT_CLIP, { threads: 1 }));
    assert.deepEqual(summary(signmt), { count: 107, sizes: ['320x240'] });
    assert.equal(signmt[106].time, 106 / 25);
    const fast = await collect(decodeVideo(SIGNMT_120));
    assert.deepEqual(summary(fast), { count: 514, sizes: ['320x240'] });
    assert.equal(fast[513].time, 513 / 120);
  });

  it('pixels equal a frame extracted by a separate ffmpeg run', () => {
    for (const k of [0, 37, 101]) {
      const ref = extractFrame(HOW2SIGN_CLIP, k / 24, 1280, 720);
      assert.ok(Buffer.compare(ref.data, how2sign[k].data) === 0, `frame ${k}`);
    }
  });

  it('a rotated video is decoded upright, at its displayed size', async () => {
    const rotated = rotatedCopy(SIGNMT_CLIP, join(tmp.dir, 'rotated.mp4'));
    const frames = await collect(decodeVideo(rotated, { end: 0.2 }));
    const plain = await collect(decodeVideo(SIGNMT_CLIP, { end: 0.2 }));
    assert.deepEqual(summary(frames), { count: 5, sizes: ['240x320'] });
    assert.deepEqual(rotateCcw(plain[3]).data, frames[3].data);
    const small = await collect(decodeVideo(rotated, { end: 0.1, maxSide: 160 }));
    assert.deepEqual(summary(small), { count: 3, sizes: ['120x160'] });
  });
});

describe('decodeVideo: time ranges (accurate seek with -ss before -i)', () => {
  it('[1, 2) s: 24 frames starting at 1.0, identical to frames 24–47 of the full decode', async () => {
    const frames = await collect(decodeVideo(HOW2SIGN_CLIP, { start: 1, end: 2 }));
    assert.equal(frames.length, 24);
    assert.deepEqual(
      frames.map((f) => [f.index, f.time]),
      how2sign.slice(24, 48).map((f, i) => [i, f.time]),
    );
    assert.equal(frames[0].time, 1);
    for (const [i, f] of frames.entries()) assert.ok(Buffer.compare(f.data, how2sign[24 + i].data) === 0, `frame ${i}`);
  });

  it('offsets between frames: [0.99, 2.01) starts at the frame at 1.0 and includes the one at 2.0', async () => {
    const frames = await collect(decodeVideo(HOW2SIGN_CLIP, { start: 0.99, end: 2.01 }));
    assert.deepEqual([frames.length, frames[0].time, frames.at(-1)!.time], [25, 1, 2]);
    assert.ok(Buffer.compare(frames[0].data, how2sign[24].data) === 0);
  });

  it('seeking far from a keyframe (the clip has one keyframe) is still exact', async () => {
    const frames = await collect(decodeVideo(HOW2SIGN_CLIP, { start: 100 / 24 }));
    assert.deepEqual(frames.map((f) => f.time), [100 / 24, 101 / 24]);
    assert.ok(Buffer.compare(frames[1].data, how2sign[101].data) === 0);
  });

  it('end only, and start only', async () => {
    assert.equal((await collect(decodeVideo(HOW2SIGN_CLIP, { end: 0.5 }))).length, 12);
    const tail = await collect(decodeVideo(POSE_CLIP, { start: 1.5 }));
    assert.equal(tail.length, 58 - Math.ceil(1.5 * (359 / 12)));
  });
});

describe('decodeVideo: frame rate and size', () => {
  it('fps resampling: counts and the start + k/fps grid', async () => {
    const ten = await collect(decodeVideo(HOW2SIGN_CLIP, { fps: 10, maxSide: 64 }));
    assert.equal(ten.length, 43);
    ten.forEach((f, k) => assert.ok(Math.abs(f.time - k / 10) < 1e-9, `frame ${k} at ${f.time}`));
    const ranged = await collect(decodeVideo(HOW2SIGN_CLIP, { start: 1, end: 2, fps: 12, maxSide: 64 }));
    assert.deepEqual(ranged.map((f) => f.time), Array.from({ length: 12 }, (_, k) => (12 + k) / 12));
    // 120 fps → 25 fps: the same 4.28 s in 107 frames. ffmpeg's fps filter fills each slot with the last source
    // frame whose time rounds to it: slot 2.00 s (50 of 1/25 s) gets the frame at 2 + 2/120 s (50.4 slots).
    const down = await collect(decodeVideo(SIGNMT_120, { fps: 25 }));
    assert.equal(down.length, 107);
    assert.equal(down[50].time, 2);
    const source = await collect(decodeVideo(SIGNMT_120, { start: 2 + 2 / 120, end: 2 + 3 / 120 }));
    assert.equal(source.length, 1);
    assert.ok(Buffer.compare(down[50].data, source[0].data) === 0, 'slot 2.0 s');
  });

  it('maxSide keeps the aspect ratio with even sides and never enlarges', async () => {
    const cases: [string, DecodeOptions, string][] = [
      [HOW2SIGN_CLIP, { maxSide: 640 }, '640x360'],
      [HOW2SIGN_CLIP, { maxSide: 224 }, '224x126'],
      [HOW2SIGN_CLIP, { maxSide: 225 }, '224x126'],
      [POSE_CLIP, { maxSide: 256 }, '192x256'],
      [SIGNMT_CLIP, { maxSide: 640 }, '320x240'],
      [SIGNMT_CLIP, { width: 100 }, '100x76'],
      [SIGNMT_CLIP, { height: 100 }, '134x100'],
      [SIGNMT_CLIP, { width: 64, height: 64 }, '64x64'],
    ];
    for (const [path, options, size] of cases) {
      const decoder = decodeVideo(path, { ...options, end: 0.1 });
      const target = await decoder.open();
      const frames = await collect(decoder);
      assert.equal(`${target.width}x${target.height}`, size, JSON.stringify(options));
      assert.deepEqual(summary(frames).sizes, [size]);
    }
  });

  it('the probe result can be passed in (no second ffprobe run)', async () => {
    const info = await probeVideo(SIGNMT_CLIP);
    const decoder = decodeVideo(SIGNMT_CLIP, { info, start: 1, end: 1.2, ffprobePath: '/nonexistent/ffprobe' });
    assert.equal((await collect(decoder)).length, 5);
  });
});

describe('decodeVideo: errors name the file, the range or the frame', () => {
  const rejects = async (path: string, options: DecodeOptions, pattern: RegExp) => {
    await assert.rejects(collect(decodeVideo(path, options)), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError, String(err));
      assert.match(err.message, pattern);
      assert.ok(err.message.includes(path), err.message);
      return true;
    });
  };

  it('empty, inverted and out-of-video ranges', async () => {
    assert.throws(() => decodeVideo(HOW2SIGN_CLIP, { start: 2, end: 2 }), /range \[2, 2\) s is empty/);
    assert.throws(() => decodeVideo(HOW2SIGN_CLIP, { start: 3, end: 1 }), /range \[3, 1\) s is inverted/);
    assert.throws(() => decodeVideo(HOW2SIGN_CLIP, { start: -1 }), /start must be a number of seconds ≥ 0/);
    await rejects(HOW2SIGN_CLIP, { start: 5, end: 6 }, /range \[5, 6\) s starts after the video ends \(at 4\.250 s\)/);
    await rejects(HOW2SIGN_CLIP, { start: 4, end: 9 }, /range \[4, 9\) s ends after the video ends/);
    await rejects(HOW2SIGN_CLIP, { start: 1.001, end: 1.02 }, /no frames decoded in range \[1\.001, 1\.02\) s/);
  });

  it('option errors', () => {
    assert.throws(() => decodeVideo(SIGNMT_CLIP, { maxSide: 100, width: 50 }), /either maxSide or width\/height/);
    assert.throws(() => decodeVideo(SIGNMT_CLIP, { fps: 0 }), /fps must be a positive number/);
    assert.throws(() => decodeVideo(SIGNMT_CLIP, { maxSide: 10.5 }), /maxSide must be an integer/);
    assert.throws(() => decodeVideo(SIGNMT_CLIP, { threads: -1 }), /threads must be a whole number/);
  });

  it('missing file and a text file renamed .mp4', async () => {
    await rejects(join(tmp.dir, 'missing.mp4'), {}, /cannot read video .*missing\.mp4: no such file/);
    const text = join(tmp.dir, 'text.mp4');
    writeFileSync(text, 'not a video\n');
    await rejects(text, {}, /is not a readable video/);
  });

  it('a truncated clip: the frames before the damage, then an error naming the frame', async () => {
    const bytes = readFileSync(POSE_CLIP);
    const half = join(tmp.dir, 'half.mp4');
    writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
    // the index is at the front of this file, so the half still probes as a 58-frame video
    assert.equal((await probeVideo(half)).frameCount, 58);
    const got: VideoFrame[] = [];
    await assert.rejects(
      (async () => {
        for await (const f of decodeVideo(half)) got.push(f);
      })(),
      (err: Error) => {
        assert.ok(err instanceof SignweaveInputError);
        assert.match(err.message, new RegExp(`^${half}: decoding failed at frame ${got.length} \\(the last good frame was at [0-9.]+ s\\): .*(Invalid NAL|corrupt|partial file)`));
        return true;
      },
    );
    assert.ok(got.length > 5 && got.length < 58, `${got.length} frames before the error`);
  });

  it('ffmpeg not installed', async () => {
    await rejects(SIGNMT_CLIP, { ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: 'ffprobe' }, /ffmpeg is not installed \(cannot run \/nonexistent\/ffmpeg\): install ffmpeg, e\.g\. apt-get install ffmpeg/);
    await rejects(SIGNMT_CLIP, { ffmpegPath: '/nonexistent/ffmpeg' }, /ffprobe is not installed/);
  });

  it('a synthetic video decodes to exactly its frames', async () => {
    const path = syntheticVideo(join(tmp.dir, 'synthetic.mp4'), { size: '160x120', rate: 25, seconds: 1 });
    const frames = await collect(decodeVideo(path));
    assert.deepEqual(summary(frames), { count: 25, sizes: ['160x120'] });
    assert.deepEqual(frames.map((f) => f.time), Array.from({ length: 25 }, (_, k) => k / 25));
  });
});
