/**
 * The on-disk feature cache: backbone features of one video range, so a video is embedded once per backbone.
 *
 * Key: sha256 of a canonical JSON of everything the features depend on — the video (sha256 of its bytes, or with
 * `videoIdentity: 'file-stat'` its real path, size and mtime, which is free but trusts the file system), the time
 * range, the stride, the backbone's sha256 (graph and weights) and its preprocessing. Batch size and thread count are
 * left out: they change only float rounding, not what is computed. A frame folder is identified by its frame rate and
 * one sha256 over its images' names and bytes (`sha256FrameFolder`), or with `file-stat` by its real path and one
 * sha256 over its images' names, sizes and mtimes; file keys are the same as before folders were accepted.
 *
 * Entry: `<key>.npy` (float32 `[T, D]`) and `<key>.json`, the sidecar (shape, fps, frame indices and times, the key
 * parts, the data's byte count and sha256, when it was made). The data is written first and the sidecar last, each
 * atomically, so a sidecar exists only beside complete data. Reading checks the sidecar against the key and the data
 * against the sidecar; anything that does not match is reported as invalid and recomputed by the caller, never trusted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { canonicalJson } from '../util/canonical-json.js';
import { describeReadError } from '../util/text-files.js';
import type { ImageProcessorConfig } from '../video/preprocess.js';
import { listFrameFolder, type FrameFolder, type VideoSource } from '../video/probe.js';
import { sha256File, sha256FrameFolder } from './hash.js';
import { decodeNpyFloat32, encodeNpy } from './npy.js';
import type { BackboneInfo } from './types.js';

export const FEATURE_CACHE_FORMAT = 'signweave-features-1';

/** `$XDG_CACHE_HOME/signweave/features`, else `~/.cache/signweave/features`. */
export function defaultFeatureCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'signweave', 'features');
}

/** How a video is identified in the key: `content` hashes its bytes; `file-stat` uses real path + size + mtime. */
export type VideoIdentity = 'content' | 'file-stat';

export interface FeatureKeyParts {
  format: string;
  video:
    | { sha256: string }
    | { path: string; size: number; mtimeMs: number }
    /** A frame folder by content: `sha256FrameFolder` over its images, and the rate they are shown at. */
    | { framesSha256: string; fps: number }
    /** A frame folder by file stat: its real path, one sha256 over the lines `name\0size\0mtimeMs\n`, and its rate. */
    | { frames: string; imagesStatSha256: string; fps: number };
  /** Seconds; absent start is 0, absent end is null (the end of the video). */
  start: number;
  end: number | null;
  stride: number;
  backboneSha256: string;
  preprocessing: ImageProcessorConfig;
}

/** What an entry holds: the feature rows and where each came from. */
export interface CachedFeatures {
  data: Float32Array;
  shape: [number, number];
  fps: number;
  frameIndices: number[];
  times: number[];
}

interface Sidecar {
  format: string;
  key: string;
  parts: FeatureKeyParts;
  shape: [number, number];
  fps: number;
  frameIndices: number[];
  times: number[];
  dataBytes: number;
  dataSha256: string;
  created: string;
  /** The file's absolute path, or the frame folder's with its rate. */
  video: VideoSource;
  backbone: Pick<BackboneInfo, 'kind' | 'source' | 'runtime'>;
}

export type CacheLookup =
  | { status: 'hit'; features: CachedFeatures; path: string }
  | { status: 'miss' }
  | { status: 'invalid'; path: string; reason: string };

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function featureCacheKey(parts: FeatureKeyParts): string {
  return sha256(canonicalJson(parts));
}

const ENTRY_FILE = /^([0-9a-f]{64})\.(npy|json)$/;
/** Leftovers of an interrupted atomic write (util/atomic-write.ts names temp files `.<name>.<pid>.<time>.tmp`). */
const TEMP_FILE = /^\.([0-9a-f]{64})\.(npy|json)\..+\.tmp$/;

export interface FeatureCacheOptions {
  /** Default `defaultFeatureCacheDir()`. */
  dir?: string;
  /** Default `content`. */
  videoIdentity?: VideoIdentity;
}

export class FeatureCache {
  readonly dir: string;
  readonly videoIdentity: VideoIdentity;

  constructor(options: FeatureCacheOptions = {}) {
    this.dir = options.dir ?? defaultFeatureCacheDir();
    this.videoIdentity = options.videoIdentity ?? 'content';
  }

  async keyParts(video: VideoSource, request: { start?: number; end?: number; stride: number }, backbone: BackboneInfo, signal?: AbortSignal): Promise<FeatureKeyParts> {
    return {
      format: FEATURE_CACHE_FORMAT,
      video: typeof video === 'string' ? await this.fileIdentity(video, signal) : await this.folderIdentity(video, signal),
      start: request.start ?? 0,
      end: request.end ?? null,
      stride: request.stride,
      backboneSha256: backbone.sha256,
      preprocessing: backbone.preprocessing,
    };
  }

  private async fileIdentity(video: string, signal?: AbortSignal): Promise<FeatureKeyParts['video']> {
    if (this.videoIdentity === 'content') return { sha256: await sha256File(video, 'video', signal) };
    try {
      const real = realpathSync(video);
      const s = statSync(real);
      return { path: real, size: s.size, mtimeMs: s.mtimeMs };
    } catch (err) {
      throw new SignweaveInputError(`cannot read video ${video}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }

  /** The images are the ones ffmpeg reads (`listFrameFolder`: same filter, same order). */
  private async folderIdentity({ frames, fps }: FrameFolder, signal?: AbortSignal): Promise<FeatureKeyParts['video']> {
    // The rate enters the key, and JSON would write NaN or Infinity as null.
    if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) {
      throw new SignweaveInputError(`frame folder ${frames}: fps must be a positive number, got ${fps}`);
    }
    const { files } = await listFrameFolder(frames);
    if (this.videoIdentity === 'content') return { framesSha256: await sha256FrameFolder(frames, files, signal), fps };
    const real = realpathSync(frames);
    const stats = createHash('sha256');
    for (const name of files) {
      let s;
      try {
        s = statSync(join(real, name));
      } catch (err) {
        throw new SignweaveInputError(`cannot read frame ${join(frames, name)}: ${describeReadError(err)}`);
      }
      stats.update(`${name}\0${s.size}\0${s.mtimeMs}\n`);
    }
    return { frames: real, imagesStatSha256: stats.digest('hex'), fps };
  }

  paths(key: string): { data: string; sidecar: string } {
    return { data: join(this.dir, `${key}.npy`), sidecar: join(this.dir, `${key}.json`) };
  }

  get(key: string): CacheLookup {
    const paths = this.paths(key);
    let text: string;
    try {
      text = readFileSync(paths.sidecar, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'miss' };
      return { status: 'invalid', path: paths.sidecar, reason: `unreadable sidecar: ${(err as Error).message}` };
    }
    const invalid = (path: string, reason: string): CacheLookup => ({ status: 'invalid', path, reason });
    let sidecar: Sidecar;
    try {
      sidecar = JSON.parse(text) as Sidecar;
    } catch {
      return invalid(paths.sidecar, 'the sidecar is not valid JSON');
    }
    const problem = sidecarProblem(sidecar, key);
    if (problem) return invalid(paths.sidecar, problem);
    let bytes: Buffer;
    try {
      bytes = readFileSync(paths.data);
    } catch (err) {
      return invalid(paths.data, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the data file is missing' : `unreadable data: ${(err as Error).message}`);
    }
    if (bytes.length !== sidecar.dataBytes) return invalid(paths.data, `holds ${bytes.length} bytes; the sidecar says ${sidecar.dataBytes}`);
    if (sha256(bytes) !== sidecar.dataSha256) return invalid(paths.data, 'its sha256 differs from the sidecar (corrupted)');
    let npy: { data: Float32Array; shape: number[] };
    try {
      npy = decodeNpyFloat32(bytes);
    } catch (err) {
      return invalid(paths.data, (err as Error).message);
    }
    if (npy.shape.join() !== sidecar.shape.join()) return invalid(paths.data, `has shape (${npy.shape.join(', ')}); the sidecar says (${sidecar.shape.join(', ')})`);
    const { shape, fps, frameIndices, times } = sidecar;
    return { status: 'hit', path: paths.data, features: { data: npy.data, shape, fps, frameIndices, times } };
  }

  /** Stores an entry (data, then sidecar); returns the data path. */
  put(parts: FeatureKeyParts, features: CachedFeatures, about: { video: VideoSource; backbone: BackboneInfo }): string {
    const key = featureCacheKey(parts);
    const paths = this.paths(key);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new SignweaveInputError(`cannot create the feature cache folder ${this.dir}: ${(err as Error).message}`);
    }
    const bytes = encodeNpy(features.data, features.shape);
    writeFileAtomic(paths.data, bytes);
    const { kind, source, runtime } = about.backbone;
    const sidecar: Sidecar = {
      format: FEATURE_CACHE_FORMAT,
      key,
      parts,
      shape: features.shape,
      fps: features.fps,
      frameIndices: features.frameIndices,
      times: features.times,
      dataBytes: bytes.length,
      dataSha256: sha256(bytes),
      created: new Date().toISOString(),
      video: about.video,
      backbone: { kind, source, runtime },
    };
    writeFileAtomic(paths.sidecar, `${JSON.stringify(sidecar)}\n`);
    return paths.data;
  }
}

function sidecarProblem(s: Sidecar, key: string): string | undefined {
  if (typeof s !== 'object' || s === null) return 'the sidecar is not an object';
  if (s.format !== FEATURE_CACHE_FORMAT) return `format ${JSON.stringify(s.format)}, not ${FEATURE_CACHE_FORMAT}`;
  if (s.key !== key || typeof s.parts !== 'object' || featureCacheKey(s.parts) !== key) return 'the sidecar belongs to another key';
  const shape = s.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) return `bad shape ${JSON.stringify(shape)}`;
  if (typeof s.fps !== 'number' || !(s.fps > 0)) return `bad fps ${JSON.stringify(s.fps)}`;
  const isNumbers = (a: unknown): boolean => Array.isArray(a) && a.length === shape[0] && a.every((x) => typeof x === 'number');
  if (!isNumbers(s.frameIndices) || !isNumbers(s.times)) return `frame indices and times must be ${shape[0]} numbers each`;
  if (!Number.isInteger(s.dataBytes) || typeof s.dataSha256 !== 'string') return 'no data length or sha256';
  if (typeof s.created !== 'string' || Number.isNaN(Date.parse(s.created))) return `bad creation time ${JSON.stringify(s.created)}`;
  return undefined;
}

export interface CacheEntry {
  key: string;
  /** Files of the entry (data, sidecar, leftovers of interrupted writes). */
  files: string[];
  bytes: number;
  /** From the sidecar; the newest file's mtime when the sidecar cannot be read. */
  created: Date;
  shape?: [number, number];
  fps?: number;
  video?: VideoSource;
  backbone?: Pick<BackboneInfo, 'kind' | 'source' | 'runtime'>;
  /** Why the entry is not usable (it would be recomputed), if it is not. */
  problem?: string;
}

/** The cache's entries, oldest first; a missing folder is an empty cache. Only files the cache writes are looked at. */
export function listCache(dir = defaultFeatureCacheDir()): CacheEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SignweaveInputError(`cannot read the feature cache folder ${dir}: ${(err as Error).message}`);
  }
  const byKey = new Map<string, { files: string[]; bytes: number; mtime: number; temp: boolean }>();
  for (const name of names) {
    const m = ENTRY_FILE.exec(name) ?? TEMP_FILE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const s = statSync(path, { throwIfNoEntry: false });
    if (!s?.isFile()) continue;
    const entry = byKey.get(m[1]) ?? { files: [], bytes: 0, mtime: 0, temp: false };
    entry.files.push(path);
    entry.bytes += s.size;
    entry.mtime = Math.max(entry.mtime, s.mtimeMs);
    entry.temp ||= TEMP_FILE.test(name);
    byKey.set(m[1], entry);
  }
  const cache = new FeatureCache({ dir });
  const entries = [...byKey].map(([key, e]): CacheEntry => {
    const base: CacheEntry = { key, files: e.files.sort(), bytes: e.bytes, created: new Date(e.mtime) };
    const lookup = cache.get(key);
    if (lookup.status === 'miss') return { ...base, problem: 'no sidecar (an interrupted write)' };
    if (lookup.status === 'invalid') return { ...base, problem: lookup.reason };
    const sidecar = JSON.parse(readFileSync(cache.paths(key).sidecar, 'utf8')) as Sidecar;
    return {
      ...base,
      created: new Date(sidecar.created),
      shape: sidecar.shape,
      fps: sidecar.fps,
      video: sidecar.video,
      backbone: sidecar.backbone,
      problem: e.temp ? 'leftover temporary files beside it' : undefined,
    };
  });
  return entries.sort((a, b) => a.created.getTime() - b.created.getTime());
}

/** Removes every entry (or those made before `olderThan`); returns how many entries and bytes went. */
export function clearCache(options: { dir?: string; olderThan?: Date } = {}): { removed: number; bytes: number } {
  let removed = 0;
  let bytes = 0;
  for (const entry of listCache(options.dir)) {
    if (options.olderThan && entry.created >= options.olderThan) continue;
    for (const file of entry.files) rmSync(file, { force: true });
    removed++;
    bytes += entry.bytes;
  }
  return { removed, bytes };
}
