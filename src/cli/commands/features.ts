import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { clearCache, defaultFeatureCacheDir, FeatureCache, listCache, type CacheEntry } from '../../backbone/cache.js';
import { extractFeatures, type FeatureProgress, type FeatureSequence } from '../../backbone/extract.js';
import { loadBackbone } from '../../backbone/load.js';
import { encodeNpy } from '../../backbone/npy.js';
import { dinov2PreprocessorConfig } from '../../backbone/vit.js';
import { SignweaveInputError } from '../../errors.js';
import { readOnnxInfo } from '../../graph/proto.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { parseImageProcessorConfig, type ImageProcessorConfig } from '../../video/preprocess.js';
import type { VideoSource } from '../../video/probe.js';
import { SIGNWEAVE_VERSION } from '../../version.js';
import { positiveInt, positiveNumber, seconds, videoSource } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

const tool = (command: string) => ({ name: 'signweave', version: SIGNWEAVE_VERSION, command });

const AGE_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** "30d", "12h", "90m", "45s" → the moment that long ago. */
function age(value: string): Date {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be an age such as 30d, 12h, 90m or 45s.');
  return new Date(Date.now() - Number(m[1]) * AGE_UNITS[m[2]]);
}

/**
 * A bare ONNX file carries no preprocessing: without --preprocessor, DINOv2's (ImageNet statistics, bicubic resize,
 * center crop) at the square input size the graph declares.
 */
function barePreprocessing(path: string, inputName: string | undefined): ImageProcessorConfig {
  const inputs = readOnnxInfo(path).inputs;
  const input = inputName === undefined && inputs.length === 1 ? inputs[0] : inputs.find((s) => s.name === inputName);
  const [, , h, w] = input?.shape ?? [];
  if (typeof h !== 'number' || h !== w) {
    throw new SignweaveInputError(`${path}: the image input has no fixed square size to derive DINOv2 preprocessing from: give --preprocessor <preprocessor_config.json>`);
  }
  return parseImageProcessorConfig(dinov2PreprocessorConfig(h), 'DINOv2 preprocessing');
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

const describeSource = (v: VideoSource): string => (typeof v === 'string' ? v : `${v.frames} (frames at ${v.fps} fps)`);

const formatBytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

function entryJson(e: CacheEntry) {
  return { ...e, created: e.created.toISOString() };
}

const cacheList = new Command('list')
  .description('List the cached feature entries, oldest first (each is checked; broken ones say why).')
  .option('--cache-dir <dir>', 'cache folder (default: $XDG_CACHE_HOME/signweave/features or ~/.cache/signweave/features)')
  .option('--json', 'print the entries as JSON', false)
  .action((options) => {
    const dir = options.cacheDir ?? defaultFeatureCacheDir();
    const entries = listCache(dir);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ tool: tool('features cache list'), dir, entries: entries.map(entryJson) }, null, 2)}\n`);
      return;
    }
    const total = entries.reduce((s, e) => s + e.bytes, 0);
    process.stdout.write(`${dir}: ${entries.length} entries, ${formatBytes(total)}\n`);
    for (const e of entries) {
      const what = e.shape ? `${e.shape[0]}×${e.shape[1]} @ ${+e.fps!.toFixed(3)} fps  ${describeSource(e.video!)}` : '';
      process.stdout.write(`${e.key.slice(0, 12)}  ${e.created.toISOString()}  ${formatBytes(e.bytes).padStart(10)}  ${what}${e.problem ? `  [${e.problem}]` : ''}\n`);
    }
  });

const cacheClear = new Command('clear')
  .description('Remove cached feature entries (all, or those older than --older-than).')
  .option('--cache-dir <dir>', 'cache folder (default: $XDG_CACHE_HOME/signweave/features or ~/.cache/signweave/features)')
  .option('--older-than <age>', 'only entries made longer ago than this, e.g. 30d, 12h, 90m', age)
  .option('--json', 'print what was removed as JSON', false)
  .action((options) => {
    const dir = options.cacheDir ?? defaultFeatureCacheDir();
    const result = clearCache({ dir, olderThan: options.olderThan });
    if (options.json) process.stdout.write(`${JSON.stringify({ tool: tool('features cache clear'), dir, ...result }, null, 2)}\n`);
    else process.stdout.write(`removed ${result.removed} entries (${formatBytes(result.bytes)}) from ${dir}\n`);
  });

const cacheCommand = new Command('cache').description('Inspect or empty the on-disk feature cache.').addCommand(cacheList).addCommand(cacheClear);

export const featuresCommand = new Command('features')
  .description('Per-frame backbone features [T, D] (the CLS vector of DINOv2 or another ViT) of a video or a time range of it.')
  .argument('<video>', 'video file (any format ffmpeg reads), or a folder of numbered .png/.jpg frames (with --fps)')
  .option('--fps <n>', 'frame folders: the rate its images are shown at (PHOENIX-2014T: 25)', positiveNumber)
  .option('--backbone <dir|onnx>', 'Hugging Face model folder (config.json, preprocessor_config.json, onnx/model.onnx) or a bare ONNX file')
  .option('--input-name <name>', 'bare ONNX: the image input (default: its only input)')
  .option('--output-name <name>', 'bare ONNX: the feature output, [N, tokens, D] or [N, D] (default: its only output)')
  .option('--preprocessor <json>', "bare ONNX: a preprocessor_config.json (default: DINOv2's at the graph's input size)")
  .option('--start <s>', 'range start, seconds from the start of the file', seconds)
  .option('--end <s>', 'range end (exclusive), seconds from the start of the file', seconds)
  .option('--stride <n>', 'keep every Nth frame (features at video fps / N)', positiveInt, 1)
  .option('--batch <n>', 'frames per backbone run', positiveInt, 4)
  .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', positiveInt)
  .option('--out <file>', 'write the features as a float32 .npy [T, D]')
  .option('--cache-dir <dir>', 'feature cache folder (default: $XDG_CACHE_HOME/signweave/features or ~/.cache/signweave/features)')
  .option('--no-cache', 'neither read nor write the feature cache')
  .addOption(
    new Option('--video-identity <how>', 'what identifies the video in the cache key: a sha256 of its bytes, or its path, size and mtime (no read)')
      .choices(['content', 'file-stat'] as const)
      .default('content' as const),
  )
  .option('--no-progress', 'no progress bar')
  .option('--json', 'print the result (shape, fps, frame indices and times, backbone, cache) as JSON', false)
  .addCommand(cacheCommand)
  // `features cache list --cache-dir d`: options after the subcommand belong to it, not to `features`.
  .enablePositionalOptions()
  .action(async (video, options) => {
    if (!options.backbone) throw new SignweaveInputError('give the backbone: --backbone <Hugging Face folder or .onnx file>');
    const source = videoSource(video, options.fps);
    // Fail before minutes of embedding, not after, when the output cannot be written.
    if (options.out && !statSync(dirname(resolve(options.out)), { throwIfNoEntry: false })?.isDirectory()) {
      throw new SignweaveInputError(`cannot write ${options.out}: its folder does not exist`);
    }
    const bare = isFile(options.backbone);
    const preprocessing = bare ? (options.preprocessor ?? barePreprocessing(options.backbone, options.inputName)) : options.preprocessor;
    const signal = interruptSignal();
    const started = performance.now();
    const backbone = await loadBackbone(options.backbone, {
      threads: options.threads,
      inputName: options.inputName,
      outputName: options.outputName,
      preprocessing,
    });
    let progress: Progress | undefined;
    const onProgress = (event: FeatureProgress): void => {
      if (event.type === 'cache-invalid') process.stderr.write(`signweave: cache entry ${event.path}: ${event.reason}; recomputing it\n`);
      if (event.type !== 'embed' || !options.progress) return;
      progress ??= createProgress('features', event.total);
      progress.update(event.done);
    };
    let features: FeatureSequence;
    try {
      const cache = options.cache ? new FeatureCache({ dir: options.cacheDir, videoIdentity: options.videoIdentity }) : undefined;
      features = await extractFeatures(source, backbone, { start: options.start, end: options.end, stride: options.stride, batch: options.batch, signal, onProgress, cache });
    } finally {
      progress?.stop();
      await backbone.dispose();
    }
    if (options.out) writeFileAtomic(options.out, encodeNpy(features.data, features.shape));
    const elapsed = (performance.now() - started) / 1000;
    const [T, D] = features.shape;
    const { info } = backbone;
    if (options.json) {
      const { data: _data, ...rest } = features;
      const report = { tool: tool('features'), ...rest, backbone: info, out: options.out ?? null, seconds: elapsed };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const fps = +features.fps.toFixed(3);
    const videoFps = +(features.fps * options.stride).toFixed(3);
    const first = features.times[0];
    const last = features.times[T - 1];
    const lines = [
      `features  ${T} × ${D} at ${fps} fps (${options.stride === 1 ? 'every frame' : `1 frame in ${options.stride}`} of ${videoFps} fps), frames ${features.frameIndices[0]}–${features.frameIndices[T - 1]}, ${first.toFixed(3)}–${last.toFixed(3)} s`,
      `backbone  ${info.kind} ${info.source} (${info.runtime}), ${info.imageSize.width}×${info.imageSize.height} input, sha256 ${info.sha256.slice(0, 16)}…`,
      `cache     ${features.cache.status}${features.cache.status === 'off' ? '' : ` ${features.cache.path}`}`,
      ...(options.out ? [`out       ${options.out}`] : []),
      `took      ${elapsed.toFixed(2)} s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
