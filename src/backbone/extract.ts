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
import { featureCacheKey, type FeatureCache, type FeatureKeyParts } from './cache.js';
import type { Backbone, BackboneInfo } from './types.js';

export type FeatureProgress =
  /** Frames decoded so far (the kept, every `stride`-th, frames: ffmpeg drops the others); `total` is estimated from the container until decoding ends. */
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
  /** Keep every Nth frame, starting with the first (default 1; ffmpeg drops the others); the result's fps is the video's / stride. */
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

/** What features are asked for: the video range and stride (the cache key's request part). */
export interface FeatureRequest {
  video: VideoSource;
  start?: number;
  end?: number;
  stride: number;
}

type About = Pick<FeatureSequence, 'source' | 'backbone'>;

function about(request: FeatureRequest, backbone: Backbone): About {
  const { kind, source, sha256, runtime, dim } = backbone.info;
  const { video, start, end, stride } = request;
  return { source: { video, start, end, stride }, backbone: { kind, source, sha256, runtime, dim } };
}

/** A cache lookup: the features on a hit, else what storing them needs (and the entry that failed its checks). */
export type CachedLookup =
  | { hit: FeatureSequence }
  | { hit?: undefined; parts: FeatureKeyParts; invalid?: { path: string; reason: string } };

export async function lookupFeatures(cache: FeatureCache, request: FeatureRequest, backbone: Backbone, signal?: AbortSignal): Promise<CachedLookup> {
  const parts = await cache.keyParts(request.video, request, backbone.info, signal);
  const key = featureCacheKey(parts);
  const lookup = cache.get(key);
  if (lookup.status === 'hit') return { hit: { ...lookup.features, ...about(request, backbone), cache: { status: 'hit', key, path: lookup.path } } };
  return { parts, ...(lookup.status === 'invalid' ? { invalid: { path: lookup.path, reason: lookup.reason } } : {}) };
}

export interface EmbedOptions {
  batch: number;
  /** The video's frame rate (the features' is this / stride). */
  fps: number;
  /** Where to store the result (a missed `lookupFeatures`). */
  cache?: { cache: FeatureCache; lookup: Extract<CachedLookup, { hit?: undefined }> };
  /** After every batch: the frames embedded so far. */
  onEmbedded?: (done: number) => void;
  signal?: AbortSignal;
}

/**
 * Embeds frames as they arrive, `batch` at a time (frames already preprocessed and strided, as `decodeVideo` gives
 * them); each row keeps its frame's index in the range and its time. The pipeline feeds it one output of the run's
 * shared decode; `extractFeatures` feeds it a decode of its own.
 */
export async function embedFrames(frames: AsyncIterable<VideoFrame>, backbone: Backbone, request: FeatureRequest, options: EmbedOptions): Promise<FeatureSequence> {
  const { dim, source } = backbone.info;
  const rows: Float32Array[] = [];
  const frameIndices: number[] = [];
  const times: number[] = [];
  let pending: VideoFrame[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const out = await backbone.embed(pending);
    if (out.length !== pending.length * dim) throw new Error(`${source}: embed returned ${out.length} values for ${pending.length} frames of ${dim} features`);
    rows.push(out);
    for (const f of pending) {
      frameIndices.push(f.index);
      times.push(f.time);
    }
    pending = [];
    options.onEmbedded?.(frameIndices.length);
    options.signal?.throwIfAborted();
  };
  for await (const frame of frames) {
    pending.push(frame);
    if (pending.length === options.batch) await flush();
  }
  await flush();

  const T = frameIndices.length;
  const data = new Float32Array(T * dim);
  let offset = 0;
  for (const r of rows) {
    data.set(r, offset);
    offset += r.length;
  }
  const features = { data, shape: [T, dim] as [number, number], fps: options.fps / request.stride, frameIndices, times };
  const described = { ...features, ...about(request, backbone) };
  if (!options.cache) return { ...described, cache: { status: 'off' } };
  const { cache, lookup } = options.cache;
  const { video } = request;
  const absolute = typeof video === 'string' ? resolve(video) : { frames: resolve(video.frames), fps: video.fps };
  const path = cache.put(lookup.parts, features, { video: absolute, backbone: backbone.info });
  const replaced = lookup.invalid && `${lookup.invalid.path}: ${lookup.invalid.reason}`;
  return { ...described, cache: { status: 'stored', key: featureCacheKey(lookup.parts), path, replaced } };
}

export async function extractFeatures(video: VideoSource, backbone: Backbone, options: ExtractOptions = {}): Promise<FeatureSequence> {
  const stride = positiveInt(options.stride ?? 1, 'stride');
  const batch = positiveInt(options.batch ?? 4, 'batch');
  const { start, end, signal, onProgress, cache } = options;
  const request = { video, start, end, stride };

  const lookup = cache ? await lookupFeatures(cache, request, backbone, signal) : undefined;
  if (lookup?.hit) {
    const T = lookup.hit.shape[0];
    onProgress?.({ type: 'cache-hit', done: T, total: T });
    return lookup.hit;
  }
  if (lookup?.invalid) onProgress?.({ type: 'cache-invalid', ...lookup.invalid });

  const info = await probeVideo(video, options);
  const expectedRows = Math.ceil(expectedFrames(info, start, end) / stride);
  const decoder = decodeVideo(video, {
    start,
    end,
    stride,
    preprocess: backbone.info.preprocessing,
    signal,
    info,
    ffmpegPath: options.ffmpegPath,
    ffprobePath: options.ffprobePath,
    threads: options.decodeThreads,
  });
  let decoded = 0;
  const counted = (async function* () {
    for await (const frame of decoder) {
      decoded++;
      onProgress?.({ type: 'decode', done: decoded, total: Math.max(expectedRows, decoded) });
      yield frame;
    }
  })();
  const onEmbedded = (done: number) => onProgress?.({ type: 'embed', done, total: Math.max(expectedRows, done) });
  const features = await embedFrames(counted, backbone, request, { batch, fps: info.fps, cache: cache && lookup && { cache, lookup }, onEmbedded, signal });
  // The container's frame count is an estimate; the last events carry the true totals.
  if (decoded !== expectedRows) onProgress?.({ type: 'decode', done: decoded, total: decoded });
  if (features.shape[0] !== expectedRows) onProgress?.({ type: 'embed', done: features.shape[0], total: features.shape[0] });
  return features;
}
