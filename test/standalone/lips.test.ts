// Lip-crop geometry on synthetic landmarks and images: the box, padding, clamping, smoothing, frames without a face,
// resampling, and lips.mp4 writing through ffmpeg.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import {
  clampBox,
  LipCropper,
  OneEuroFilter,
  OUTER_LIP_INDICES,
  rawLipBox,
  resampleSquare,
  writeLipsVideo,
} from '../../src/landmarks/lips.js';
import type { FrameLandmarks, Landmark, LipCrop } from '../../src/landmarks/types.js';
import type { VideoFrame } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';

const W = 640;
const H = 480;

/**
 * 478 face points: every non-lip point far from the mouth, the outer lip contour on an ellipse centred at (cx, cy)
 * pixels with half-width rx and half-height ry.
 */
function syntheticFace(cx: number, cy: number, rx = 30, ry = 12): Landmark[] {
  const face: Landmark[] = Array.from({ length: 478 }, () => ({ x: 0.05, y: 0.05, z: 0 }));
  OUTER_LIP_INDICES.forEach((i, k) => {
    const a = (2 * Math.PI * k) / OUTER_LIP_INDICES.length;
    face[i] = { x: (cx + rx * Math.cos(a)) / W, y: (cy + ry * Math.sin(a)) / H, z: 0 };
  });
  return face;
}

function landmarks(index: number, face: Landmark[] | null, fps = 25): FrameLandmarks {
  return {
    index,
    time: index / fps,
    width: W,
    height: H,
    face,
    faceRegion: null,
    hands: [],
    pose: null,
    timings: { image: 0, face: 0, hands: 0, pose: 0, roundTrip: 0 },
  };
}

/** R = x, G = y, B = 200: every pixel says where it is. */
function rampFrame(index = 0, width = 256, height = 200): VideoFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      data[at] = x;
      data[at + 1] = y;
      data[at + 2] = 200;
    }
  }
  return { index, time: index / 25, width, height, data };
}

describe('lip box', () => {
  it('is a square around the outer lip contour only, scaled by the padding', () => {
    const face = syntheticFace(320, 300, 30, 12);
    const box = rawLipBox(face, W, H, 1);
    assert.ok(Math.abs(box.cx - 320) < 1e-6 && Math.abs(box.cy - 300) < 1e-6, JSON.stringify(box));
    assert.ok(Math.abs(box.side - 60) < 1e-3, 'side = the contour’s wider extent');
    assert.ok(Math.abs(rawLipBox(face, W, H, 1.8).side - 108) < 1e-3);
  });

  it('is clamped into the frame: shifted inwards, and no larger than the shorter side', () => {
    assert.deepEqual(clampBox(100, 100, 50, W, H), { x: 75, y: 75, size: 50 });
    assert.deepEqual(clampBox(10, 470, 50, W, H), { x: 0, y: 430, size: 50 });
    assert.deepEqual(clampBox(630, 5, 50, W, H), { x: 590, y: 0, size: 50 });
    assert.deepEqual(clampBox(320, 240, 900, W, H), { x: 80, y: 0, size: 480 });
  });

  it('with smoothing off, the cropper gives the clamped raw box', () => {
    const cropper = new LipCropper({ smoothing: false, padding: 2 });
    const box = cropper.box(landmarks(0, syntheticFace(630, 300)))!;
    for (const [key, want] of Object.entries({ x: W - 120, y: 240, size: 120 })) {
      assert.ok(Math.abs(box[key as keyof typeof box] - want) < 1e-6, `${key}: ${JSON.stringify(box)}`);
    }
  });
});

describe('lip box smoothing (one-euro filter)', () => {
  it('keeps a constant input, and ignores a repeated timestamp', () => {
    const f = new OneEuroFilter({ minCutoff: 1, beta: 10, dCutoff: 1 });
    for (let i = 0; i < 10; i++) assert.equal(f.filter(0.25, i / 25), 0.25);
    assert.equal(f.filter(0.9, 9 / 25), 0.25);
  });

  // A mouth 60 px wide swaying slowly, its landmarks jittering by up to ±1.5 px (seeded).
  const rand = mulberry32(7);
  const truth = Array.from({ length: 200 }, (_, i) => ({ cx: 300 + 12 * Math.sin(i / 30), cy: 300 + 6 * Math.cos(i / 45) }));
  const noisy = truth.map((t, i) => landmarks(i, syntheticFace(t.cx + (rand() - 0.5) * 3, t.cy + (rand() - 0.5) * 3, 30 + (rand() - 0.5) * 3)));
  const centres = (cropper: LipCropper) =>
    noisy.map((l) => {
      const b = cropper.box(l)!;
      return { cx: b.x + b.size / 2, cy: b.y + b.size / 2, size: b.size };
    });
  const raw = centres(new LipCropper({ smoothing: false }));
  const smooth = centres(new LipCropper());

  it('removes most frame-to-frame jitter of centre and size', () => {
    const jitter = (xs: number[]) => xs.slice(1).reduce((s, x, i) => s + Math.abs(x - xs[i]), 0) / (xs.length - 1);
    for (const key of ['cx', 'cy', 'size'] as const) {
      const before = jitter(raw.map((c) => c[key]));
      const afterSmoothing = jitter(smooth.map((c) => c[key]));
      assert.ok(afterSmoothing < before / 2.5, `${key}: mean step ${afterSmoothing.toFixed(3)} px vs ${before.toFixed(3)} px raw`);
    }
  });

  it('lags the true track by less than a tenth of the mouth', () => {
    const worst = Math.max(...smooth.map((c, i) => Math.hypot(c.cx - truth[i].cx, c.cy - truth[i].cy)));
    assert.ok(worst < 3, `worst distance ${worst.toFixed(2)} px`);
  });

  it('follows a real jump of the head within a few frames', () => {
    const cropper = new LipCropper({ padding: 2 });
    for (let i = 0; i < 30; i++) cropper.box(landmarks(i, syntheticFace(200, 300)));
    let settled = -1;
    for (let i = 30; i < 60; i++) {
      const b = cropper.box(landmarks(i, syntheticFace(400, 300)))!;
      if (settled < 0 && Math.abs(b.x + b.size / 2 - 400) < 5) settled = i - 30;
    }
    assert.ok(settled >= 0 && settled <= 8, `within 5 px after ${settled} frames`);
  });
});

describe('LipCropper.crop', () => {
  it('marks frames without a face and invents nothing for them, keeping the stream’s smoothing state', () => {
    const cropper = new LipCropper({ size: 32 });
    const frame = (i: number): VideoFrame => ({ index: i, time: i / 25, width: W, height: H, data: new Uint8Array(W * H * 3) });
    const crops = [syntheticFace(300, 300), null, null, syntheticFace(300, 300)].map((face, i) => cropper.crop(frame(i), landmarks(i, face)));
    assert.deepEqual(
      crops.map((c) => [c.face, c.box === null, c.data === null]),
      [
        [true, false, false],
        [false, true, true],
        [false, true, true],
        [true, false, false],
      ],
    );
    assert.deepEqual(crops[3].box, crops[0].box);
    assert.equal(crops[0].data!.length, 32 * 32 * 3);
  });

  it('gives one luma channel when asked', () => {
    const cropper = new LipCropper({ size: 16, grayscale: true, smoothing: false });
    const data = new Uint8Array(W * H * 3);
    for (let i = 0; i < data.length; i += 3) data.set([200, 100, 50], i);
    const crop = cropper.crop({ index: 0, time: 0, width: W, height: H, data }, landmarks(0, syntheticFace(300, 300)));
    assert.equal(crop.channels, 1);
    assert.equal(crop.data!.length, 16 * 16);
    assert.ok(crop.data!.every((v) => v === Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)));
  });

  it('refuses an odd size, a face without 478 points, and landmarks of another frame', () => {
    assert.throws(() => new LipCropper({ size: 95 }), SignweaveInputError);
    assert.throws(() => new LipCropper({ padding: 0 }), SignweaveInputError);
    const cropper = new LipCropper();
    assert.throws(() => cropper.box(landmarks(4, syntheticFace(300, 300).slice(0, 468))), /frame 4: 468 face landmarks/);
    const frame: VideoFrame = { index: 1, time: 0, width: W, height: H, data: new Uint8Array(W * H * 3) };
    assert.throws(() => cropper.crop(frame, landmarks(2, syntheticFace(300, 300))), /frame 1 .* landmarks of frame 2/);
  });
});

describe('resampleSquare', () => {
  const frame = rampFrame();
  const px = (out: Uint8Array, size: number, u: number, v: number) => Array.from(out.subarray((v * size + u) * 3, (v * size + u) * 3 + 3));

  it('copies a whole-pixel box exactly at scale 1', () => {
    const out = resampleSquare(frame, { x: 40, y: 30, size: 64 }, 64);
    for (const [u, v] of [[0, 0], [17, 5], [63, 63]]) assert.deepEqual(px(out, 64, u, v), [40 + u, 30 + v, 200]);
  });

  it('interpolates bilinearly between pixels (a ramp stays a ramp, at sub-pixel offsets too)', () => {
    // Upscaling ×2: output pixel u samples x = box.x + (u + 0.5) / 2 − 0.5.
    const out = resampleSquare(frame, { x: 40.25, y: 30, size: 32 }, 64);
    for (const u of [3, 20, 50]) {
      const x = 40.25 + (u + 0.5) / 2 - 0.5;
      assert.equal(px(out, 64, u, 10)[0], Math.round(x));
    }
  });

  it('averages n × n samples when shrinking, so a ×2 reduction is the mean of each 2 × 2 block', () => {
    const out = resampleSquare(frame, { x: 20, y: 10, size: 128 }, 64);
    for (const [u, v] of [[0, 0], [9, 30], [63, 63]]) {
      assert.deepEqual(px(out, 64, u, v), [Math.round(20 + 2 * u + 0.5), Math.round(10 + 2 * v + 0.5), 200]);
    }
  });
});

describe('writeLipsVideo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-lips-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const crop = (index: number, value: number | null, size = 32): LipCrop => ({
    index,
    time: index / 25,
    face: value !== null,
    box: value === null ? null : { x: 0, y: 0, size: 10 },
    data: value === null ? null : new Uint8Array(size * size * 3).fill(value),
    size,
    channels: 3,
  });

  it('writes H.264 yuv420p at the given rate, black frames for missing faces, listed in the summary', async () => {
    const path = join(dir, 'lips.mp4');
    async function* crops() {
      for (let i = 0; i < 12; i++) yield crop(i, i === 4 || i === 5 ? null : 180);
    }
    const summary = await writeLipsVideo(crops(), path, 25);
    assert.deepEqual(summary, { path, frames: 12, fps: 25, size: 32, channels: 3, missing: [4, 5] });
    const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries',
      'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate', '-of', 'csv=p=0', path], { encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), 'h264,32,32,yuv420p,25/1,12');
    // Mean luma of each decoded frame: the missing ones are black.
    const gray = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 1 << 20 }).stdout;
    const means = Array.from({ length: 12 }, (_, f) => gray.subarray(f * 1024, (f + 1) * 1024).reduce((s, v) => s + v, 0) / 1024);
    assert.ok(means[4] < 5 && means[5] < 5 && means[0] > 150, means.map((m) => m.toFixed(0)).join(' '));
    assert.deepEqual(readdirSync(dir), ['lips.mp4']);
  });

  it('leaves nothing behind when it fails, and names the reason', async () => {
    await assert.rejects(writeLipsVideo([crop(0, 1), crop(1, 1, 64)], join(dir, 'mixed.mp4'), 25), /frame 1 is 64×64×3, the video is 32×32×3/);
    await assert.rejects(writeLipsVideo([], join(dir, 'empty.mp4'), 25), /no lip crops to write/);
    await assert.rejects(writeLipsVideo([crop(0, 1)], join(dir, 'missing', 'lips.mp4'), 25), /its folder does not exist/);
    await assert.rejects(writeLipsVideo([crop(0, 1)], join(dir, 'x.mp4'), 25, { ffmpegPath: '/nonexistent/ffmpeg' }), /\/nonexistent\/ffmpeg not found/);
    const controller = new AbortController();
    async function* slow() {
      yield crop(0, 1);
      controller.abort(new Error('stop'));
      yield crop(1, 1);
    }
    await assert.rejects(writeLipsVideo(slow(), join(dir, 'aborted.mp4'), 25, { signal: controller.signal }), /stop/);
    assert.deepEqual(readdirSync(dir).filter((name) => name !== 'lips.mp4'), []);
  });
});
