/**
 * Video → per-frame backbone features `[T, D]`: ffmpeg decodes the range and already resizes and crops every frame to
 * the backbone's input (src/video with the backbone's preprocessing), every `stride`-th frame is kept, and frames are
 * embedded `batch` at a time. With a cache, a range already embedded by the same backbone is read back instead. The
 * video is a file or a frame folder (`{ frames, fps }`: numbered images, frame k at k / fps).
 */
import { resolve } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import type { Sequence, VideoFrame } from '../types.js';
import { decodeVideo } from '../video/decode.js';
import { probeVideo, type ToolOptions, type VideoInfo, type VideoSource } from '../video/probe.js';
import { featureCacheKey, type FeatureCache } from './cache.js';
import type { Backbone, BackboneInfo } from './types.js';

export type FeatureProgress =
  /** Frames decoded so far; `total` is estimated from the container until decoding ends. */
  | { type: 'decode'; done: number; total: number }
  /** Frames embedded so far (of the kept, every `stride`-th, frames). */
  | { type: 'embed'; done: number; total: number }
  /** The features came from the cache: nothing was decoded or embedded. */
  | { type: 'cache-hit'; done: number; total: number }
  /** A cache entry for this request failed its checks; it is recomputed and replaced. */
  | { type: 'cache-invalid'; path: string; reason: string };

export interface ExtractOptions extends ToolOptions {
  /** Seconds from the file's start of the first frame (default 0); a frame folder starts at 0. */
  start?: number;
  /** Seconds from the file's start where the range ends, exclusive (default: the end of the video). */
  end?: number;
  /** Keep every Nth decoded frame, starting with the first (default 1); the result's fps is the video's / stride. */
  stride?: number;
  /** Frames per backbone run (default 4). */
  batch?: number;
  onProgress?: (event: FeatureProgress) => void;
  /** Read and store features here (default: no cache). */
  cache?: FeatureCache;
  /** ffmpeg decoding threads (default: ffmpeg chooses). */
  decodeThreads?: number;
}

/** Backbone features of a video range: a `Sequence` plus where each row came from. */
export interface FeatureSequence extends Sequence {
  /** Index of each row's frame among the decoded frames of the range: 0, stride, 2·stride, … */
  frameIndices: number[];
  /** Presentation time of each row's frame, seconds from the file's start. */
  times: number[];
  /** The video as given: a file path, or a frame folder with its rate. */
  source: { video: VideoSource; start?: number; end?: number; stride: number };
  backbone: Pick<BackboneInfo, 'kind' | 'source' | 'sha256' | 'runtime' | 'dim'>;
  cache: { status: 'off' } | { status: 'hit' | 'stored'; key: string; path: string; replaced?: string };
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new SignweaveInputError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** Frames the range should hold, from the container's numbers (for progress only: the decoder has the last word). */
function expectedFrames(info: VideoInfo, start: number | undefined, end: number | undefined): number {
  if (start === undefined && end === undefined && info.frameCount) return info.frameCount;
  const videoEnd = info.startTime + info.duration;
  const span = Math.min(end ?? videoEnd, videoEnd) - Math.max(start ?? 0, info.startTime);
  return Math.max(1, Math.round(span * info.fps));
}

export async function extractFeatures(video: VideoSource, backbone: Backbone, options: ExtractOptions = {}): Promise<FeatureSequence> {
  const stride = positiveInt(options.stride ?? 1, 'stride');
  const batch = positiveInt(options.batch ?? 4, 'batch');
  const { start, end, signal, onProgress, cache } = options;
  const { kind, source, sha256, runtime, dim } = backbone.info;
  const about = {
    source: { video, start, end, stride },
    backbone: { kind, source, sha256, runtime, dim },
  };

  let replaced: string | undefined;
  const parts = cache ? await cache.keyParts(video, { start, end, stride }, backbone.info, signal) : undefined;
  if (cache && parts) {
    const key = featureCacheKey(parts);
    const lookup = cache.get(key);
    if (lookup.status === 'hit') {
      const { data, shape, fps, frameIndices, times } = lookup.features;
      onProgress?.({ type: 'cache-hit', done: shape[0], total: shape[0] });
      return { data, shape, fps, frameIndices, times, ...about, cache: { status: 'hit', key, path: lookup.path } };
    }
    if (lookup.status === 'invalid') {
      replaced = `${lookup.path}: ${lookup.reason}`;
      onProgress?.({ type: 'cache-invalid', path: lookup.path, reason: lookup.reason });
    }
  }

  const info = await probeVideo(video, options);
  const expected = expectedFrames(info, start, end);
  const expectedRows = Math.ceil(expected / stride);
  const rows: Float32Array[] = [];
  const frameIndices: number[] = [];
  const times: number[] = [];
  let pending: VideoFrame[] = [];
  let decoded = 0;
  let embedded = 0;

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const out = await backbone.embed(pending);
    if (out.length !== pending.length * dim) {
      throw new Error(`${source}: embed returned ${out.length} values for ${pending.length} frames of ${dim} features`);
    }
    rows.push(out);
    for (const f of pending) {
      frameIndices.push(f.index);
      times.push(f.time);
    }
    embedded += pending.length;
    pending = [];
    onProgress?.({ type: 'embed', done: embedded, total: Math.max(expectedRows, embedded) });
    signal?.throwIfAborted();
  };

  const decoder = decodeVideo(video, {
    start,
    end,
    preprocess: backbone.info.preprocessing,
    signal,
    info,
    ffmpegPath: options.ffmpegPath,
    ffprobePath: options.ffprobePath,
    threads: options.decodeThreads,
  });
  for await (const frame of decoder) {
    decoded++;
    onProgress?.({ type: 'decode', done: decoded, total: Math.max(expected, decoded) });
    if (frame.index % stride !== 0) continue;
    pending.push(frame);
    if (pending.length === batch) await flush();
  }
  await flush();
  if (decoded !== expected) onProgress?.({ type: 'decode', done: decoded, total: decoded });
  if (embedded !== expectedRows) onProgress?.({ type: 'embed', done: embedded, total: embedded });

  const data = new Float32Array(embedded * dim);
  let offset = 0;
  for (const r of rows) {
    data.set(r, offset);
    offset += r.length;
  }
  const features = { data, shape: [embedded, dim] as [number, number], fps: info.fps / stride, frameIndices, times };
  if (!cache || !parts) return { ...features, ...about, cache: { status: 'off' } };
  const absolute = typeof video === 'string' ? resolve(video) : { frames: resolve(video.frames), fps: video.fps };
  const path = cache.put(parts, features, { video: absolute, backbone: backbone.info });
  return { ...features, ...about, cache: { status: 'stored', key: featureCacheKey(parts), path, replaced } };
}
