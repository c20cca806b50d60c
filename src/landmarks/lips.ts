/**
 * Mouth crops for the lipreading expert: a square box around the outer lip contour of FaceLandmarker's 478 points,
 * padded, smoothed over time with a one-euro filter (centre and size, so the crop does not jitter with the
 * landmarks yet follows real head motion), clamped to the frame and resampled to `size × size`. Frames without a
 * face get no crop (`face: false`, `box` and `data` null); nothing is invented for them.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import type { VideoFrame } from '../types.js';
import type { LandmarkExtractor, RunOptions } from './extractor.js';
import type { FrameLandmarks, Landmark, LipBox, LipCrop } from './types.js';

/** Face Mesh's outer lip contour (FACEMESH_LIPS' outer ring): corners 61 and 291, upper 0 and lower 17 at the middle. */
export const OUTER_LIP_INDICES: readonly number[] = [
  61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];

export interface OneEuroOptions {
  /** Cutoff (Hz) when the box is still: lower removes more jitter. */
  minCutoff?: number;
  /** How fast the cutoff rises with speed (per frame-short-side per second): higher follows motion with less lag. */
  beta?: number;
  /** Cutoff (Hz) of the speed estimate. */
  dCutoff?: number;
}

export interface LipCropOptions {
  /** Output side in pixels (default 96). */
  size?: number;
  /** Box side = padding × the lip contour's longer side (default 1.8). */
  padding?: number;
  /** One luma channel (BT.601, as OpenCV's RGB2GRAY) instead of RGB. */
  grayscale?: boolean;
  /** One-euro filter settings, or false for the raw box. */
  smoothing?: OneEuroOptions | false;
}

const DEFAULT_SMOOTHING: Required<OneEuroOptions> = { minCutoff: 1, beta: 10, dCutoff: 1 };

/** The unsmoothed, unclamped lip box: centre and side in pixels. */
export function rawLipBox(face: readonly Landmark[], width: number, height: number, padding: number): { cx: number; cy: number; side: number } {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const i of OUTER_LIP_INDICES) {
    const p = face[i];
    x0 = Math.min(x0, p.x * width);
    x1 = Math.max(x1, p.x * width);
    y0 = Math.min(y0, p.y * height);
    y1 = Math.max(y1, p.y * height);
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: Math.max(x1 - x0, y1 - y0) * padding };
}

/** Keeps a square inside the frame: it shrinks to the frame's shorter side at most, then shifts inwards. */
export function clampBox(cx: number, cy: number, side: number, width: number, height: number): LipBox {
  const size = Math.min(side, width, height);
  const x = Math.min(Math.max(cx - size / 2, 0), width - size);
  const y = Math.min(Math.max(cy - size / 2, 0), height - size);
  return { x, y, size };
}

/** The one-euro filter (Casiez et al., CHI 2012): a low-pass whose cutoff rises with the signal's speed. */
export class OneEuroFilter {
  private value: number | null = null;
  private speed = 0;
  private time = 0;

  constructor(private readonly options: Required<OneEuroOptions>) {}

  filter(value: number, time: number): number {
    if (this.value === null) {
      this.value = value;
      this.time = time;
      return value;
    }
    const dt = time - this.time;
    // A repeated or earlier timestamp carries no new information about speed.
    if (!(dt > 0)) return this.value;
    const speed = (value - this.value) / dt;
    this.speed += alpha(this.options.dCutoff, dt) * (speed - this.speed);
    const cutoff = this.options.minCutoff + this.options.beta * Math.abs(this.speed);
    this.value += alpha(cutoff, dt) * (value - this.value);
    this.time = time;
    return this.value;
  }
}

function alpha(cutoff: number, dt: number): number {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
}

/**
 * Lip boxes and crops for one video stream (the smoothing state lives here; use one cropper per video, in frame
 * order).
 */
export class LipCropper {
  readonly size: number;
  readonly padding: number;
  readonly grayscale: boolean;
  private readonly smoothing: Required<OneEuroOptions> | false;
  private filters: [OneEuroFilter, OneEuroFilter, OneEuroFilter] | null = null;

  constructor(options: LipCropOptions = {}) {
    this.size = options.size ?? 96;
    this.padding = options.padding ?? 1.8;
    this.grayscale = options.grayscale ?? false;
    this.smoothing = options.smoothing === false ? false : { ...DEFAULT_SMOOTHING, ...options.smoothing };
    if (!Number.isInteger(this.size) || this.size < 2 || this.size % 2 !== 0) {
      throw new SignweaveInputError(`lip crop size must be an even integer ≥ 2 (H.264 with yuv420p needs even sides), got ${this.size}`);
    }
    if (!(this.padding > 0)) throw new SignweaveInputError(`lip crop padding must be > 0, got ${this.padding}`);
    if (this.smoothing) {
      for (const [key, value] of Object.entries(this.smoothing)) {
        if (!(value >= 0) || (key !== 'beta' && value === 0)) throw new SignweaveInputError(`lip smoothing ${key} must be > 0 (beta ≥ 0), got ${value}`);
      }
    }
  }

  /** Forgets the smoothing state (a new video). */
  reset(): void {
    this.filters = null;
  }

  /** This frame's smoothed, clamped box, or null without a face. Call once per frame, in order. */
  box(landmarks: FrameLandmarks): LipBox | null {
    const { face, width, height, time } = landmarks;
    if (!face) return null;
    if (face.length < 478) throw new SignweaveInputError(`frame ${landmarks.index}: ${face.length} face landmarks; lip crops need FaceLandmarker's 478`);
    let { cx, cy, side } = rawLipBox(face, width, height, this.padding);
    if (this.smoothing) {
      // Filtered in units of the frame's shorter side, so the settings do not depend on the resolution.
      const unit = Math.min(width, height);
      const smoothing = this.smoothing;
      this.filters ??= [new OneEuroFilter(smoothing), new OneEuroFilter(smoothing), new OneEuroFilter(smoothing)];
      cx = this.filters[0].filter(cx / unit, time) * unit;
      cy = this.filters[1].filter(cy / unit, time) * unit;
      side = this.filters[2].filter(side / unit, time) * unit;
    }
    return clampBox(cx, cy, side, width, height);
  }

  /** The crop of `frame` (the frame these landmarks were computed on). */
  crop(frame: VideoFrame, landmarks: FrameLandmarks): LipCrop {
    if (frame.index !== landmarks.index || frame.width !== landmarks.width || frame.height !== landmarks.height) {
      throw new SignweaveInputError(
        `lip crop: frame ${frame.index} (${frame.width}×${frame.height}) does not match the landmarks of frame ${landmarks.index} (${landmarks.width}×${landmarks.height})`,
      );
    }
    const channels = this.grayscale ? 1 : 3;
    const box = this.box(landmarks);
    if (!box) return { index: frame.index, time: frame.time, face: false, box: null, data: null, size: this.size, channels };
    return { index: frame.index, time: frame.time, face: true, box, data: resampleSquare(frame, box, this.size, this.grayscale), size: this.size, channels };
  }
}

/**
 * Resamples a square of a frame to `size × size`: bilinear, with n × n samples per output pixel when shrinking by
 * more than n − 1 (so a large box does not alias). Sample positions are pixel centres; reads clamp to the frame.
 */
export function resampleSquare(frame: VideoFrame, box: LipBox, size: number, grayscale = false): Uint8Array {
  const { width: W, height: H, data } = frame;
  const scale = box.size / size;
  const n = Math.max(1, Math.ceil(scale));
  const channels = grayscale ? 1 : 3;
  const out = new Uint8Array(size * size * channels);
  const rgb = [0, 0, 0];
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      rgb[0] = rgb[1] = rgb[2] = 0;
      for (let j = 0; j < n; j++) {
        const sy = clamp(box.y + (v + (j + 0.5) / n) * scale - 0.5, 0, H - 1);
        const y0 = Math.floor(sy);
        const y1 = Math.min(y0 + 1, H - 1);
        const fy = sy - y0;
        for (let i = 0; i < n; i++) {
          const sx = clamp(box.x + (u + (i + 0.5) / n) * scale - 0.5, 0, W - 1);
          const x0 = Math.floor(sx);
          const x1 = Math.min(x0 + 1, W - 1);
          const fx = sx - x0;
          const a = (y0 * W + x0) * 3;
          const b = (y0 * W + x1) * 3;
          const c = (y1 * W + x0) * 3;
          const d = (y1 * W + x1) * 3;
          for (let k = 0; k < 3; k++) {
            const top = data[a + k] + (data[b + k] - data[a + k]) * fx;
            const bottom = data[c + k] + (data[d + k] - data[c + k]) * fx;
            rgb[k] += top + (bottom - top) * fy;
          }
        }
      }
      const samples = n * n;
      const at = (v * size + u) * channels;
      if (grayscale) out[at] = Math.round((0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / samples);
      else for (let k = 0; k < 3; k++) out[at + k] = Math.round(rgb[k] / samples);
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Runs `extractor` over `frames` and crops each frame's mouth as its landmarks arrive, in frame order. Frames are
 * held only while they are in flight.
 */
export async function* extractLipCrops(
  extractor: LandmarkExtractor,
  frames: AsyncIterable<VideoFrame> | Iterable<VideoFrame>,
  options: LipCropOptions & RunOptions = {},
): AsyncGenerator<{ landmarks: FrameLandmarks; crop: LipCrop }> {
  const cropper = new LipCropper(options);
  const held = new Map<number, VideoFrame>();
  async function* hold(): AsyncGenerator<VideoFrame> {
    for await (const frame of frames) {
      held.set(frame.index, frame);
      yield frame;
    }
  }
  for await (const landmarks of extractor.run(hold(), options)) {
    const frame = held.get(landmarks.index)!;
    held.delete(landmarks.index);
    yield { landmarks, crop: cropper.crop(frame, landmarks) };
  }
}

export interface LipsVideoOptions {
  /** ffmpeg to run (`ffmpeg` on the PATH by default). */
  ffmpegPath?: string;
  /** x264 constant rate factor (default 18: close to visually lossless, the crops feed a model). */
  crf?: number;
  signal?: AbortSignal;
}

export interface LipsVideoSummary {
  path: string;
  frames: number;
  fps: number;
  size: number;
  channels: 1 | 3;
  /** Indices of the frames that had no face (written as black frames). */
  missing: number[];
}

/**
 * Writes crops, in order, as an H.264 (yuv420p) MP4 at `fps`: frames without a face become black frames and are
 * listed in the summary. The file appears only when complete (temp file beside it, then rename).
 */
export async function writeLipsVideo(
  crops: AsyncIterable<LipCrop> | Iterable<LipCrop>,
  path: string,
  fps: number,
  options: LipsVideoOptions = {},
): Promise<LipsVideoSummary> {
  const out = resolve(path);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new SignweaveInputError(`lips video fps must be a positive number, got ${fps}`);
  if (!existsSync(dirname(out))) throw new SignweaveInputError(`cannot write ${out}: its folder does not exist`);
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp.mp4`);
  const { signal } = options;
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const missing: number[] = [];
  let frames = 0;
  let shape: { size: number; channels: 1 | 3 } | null = null;
  let black: Uint8Array | null = null;
  let ffmpeg: ReturnType<typeof spawn> | null = null;
  let stderr = '';
  let spawnError: Error | null = null;
  let exited: Promise<unknown> | null = null;

  const start = (size: number, channels: 1 | 3) => {
    const args = [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', channels === 1 ? 'gray' : 'rgb24', '-s', `${size}x${size}`, '-framerate', String(fps),
      '-i', 'pipe:0',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', String(options.crf ?? 18), '-f', 'mp4', temp,
    ];
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    child.stdin!.on('error', () => undefined);
    // A failed spawn emits 'error' and may never emit 'close'.
    exited = new Promise((settle) => {
      child.once('close', settle);
      child.once('error', (err) => {
        spawnError = err;
        settle(undefined);
      });
    });
    return child;
  };
  const failure = (why: string) => new SignweaveInputError(`cannot write ${out}: ${why}`);
  const ffmpegFailure = () => {
    const err = spawnError as NodeJS.ErrnoException | null;
    if (err?.code === 'ENOENT') return failure(`${ffmpegPath} not found (install ffmpeg, e.g. apt-get install ffmpeg)`);
    return failure(`ffmpeg failed: ${err?.message ?? (stderr.trim() || `exit code ${ffmpeg?.exitCode}`)}`);
  };

  try {
    for await (const crop of crops) {
      signal?.throwIfAborted();
      if (!shape) {
        shape = { size: crop.size, channels: crop.channels };
        black = new Uint8Array(crop.size * crop.size * crop.channels);
        ffmpeg = start(crop.size, crop.channels);
      } else if (crop.size !== shape.size || crop.channels !== shape.channels) {
        throw new SignweaveInputError(
          `lip crop of frame ${crop.index} is ${crop.size}×${crop.size}×${crop.channels}, the video is ${shape.size}×${shape.size}×${shape.channels}`,
        );
      }
      if (!crop.data) missing.push(crop.index);
      if (spawnError || ffmpeg!.exitCode !== null) throw ffmpegFailure();
      if (!ffmpeg!.stdin!.write(crop.data ?? black)) {
        await Promise.race([once(ffmpeg!.stdin!, 'drain'), exited]);
      }
      frames++;
    }
    if (!ffmpeg) throw new SignweaveInputError(`cannot write ${out}: no lip crops to write`);
    ffmpeg.stdin!.end();
    await exited;
    signal?.throwIfAborted();
    if (spawnError || ffmpeg.exitCode !== 0) throw ffmpegFailure();
    renameSync(temp, out);
  } catch (err) {
    if (ffmpeg && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await exited;
    rmSync(temp, { force: true });
    throw err;
  }
  return { path: out, frames, fps, size: shape!.size, channels: shape!.channels, missing };
}
