/**
 * Backbone speed: the real DINOv2 ViT-S/14 graph (../shared/models/dinov2-vits14-arch) with synthetic weights, on
 * frames of a How2Sign clip (1280×720, 24 fps) brought to 224×224 by ffmpeg with DINOv2's preprocessing.
 * - frames/s at batch 1 and 4 through `Backbone.embed` — fed preprocessed pixels, and fed decoded frames (which adds
 *   rescaling and normalisation) — against a raw onnxruntime-node session on the same pixels with the same settings
 *   (threads, graph optimisation), timed in the same run: the difference is signweave's overhead;
 * - transformers.js's overhead: a ViT-S/14-shaped graph built by signweave (random weights) run from a Hugging Face
 *   folder by transformers.js and from the same ONNX file by OnnxSession, in turns;
 * - `extractFeatures` end to end (probe, decode, preprocess, embed, batch 4, no cache) on the clip's first 2 s at
 *   strides 1, 2 and 4, as a real-time factor: seconds of processing per second of 24 fps video (< 1 is faster than
 *   real time), and decoding with preprocessing alone over the same 2 s (the floor under extraction).
 * The synthetic weights and the ViT folder are written once to the temp folder (~1 s).
 *
 *   node --import tsx bench/backbone.ts [--runs 5] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildVit, dinov2PreprocessorConfig, extractFeatures, HF_MODEL_FILE, loadBackbone, writeHfVitFolder, type VitOptions } from '../src/backbone/index.js';
import type { VideoFrame } from '../src/types.js';
import { decodeVideo, frameToTensor, parseImageProcessorConfig } from '../src/video/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport } from './harness.js';

const args = benchArgs();
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const threads = availableParallelism();
/** Frames per timed call: two batches of 4, eight of 1. */
const FRAMES = 8;

const modelDir = join(tmpdir(), 'signweave-bench-dinov2-synthetic');
const model = join(modelDir, 'dinov2.onnx');
if (!existsSync(join(modelDir, 'dinov2.onnx.data'))) {
  const made = spawnSync(process.execPath, [sharedPath('tools', 'make-dinov2-synthetic-weights.mjs'), modelDir], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`could not write the synthetic DINOv2 weights: ${made.stderr}`);
}

const preprocessing = parseImageProcessorConfig(dinov2PreprocessorConfig(224));
const frames: VideoFrame[] = [];
for await (const frame of decodeVideo(clip, { preprocess: preprocessing, end: FRAMES / 24 })) frames.push(frame);
const per = 3 * 224 * 224;
const pixels = new Float32Array(FRAMES * per);
frames.forEach((f, i) => pixels.set(frameToTensor(f, preprocessing).data, i * per));

const backbone = await loadBackbone(model, { preprocessing, threads });
// OnnxSession's settings exactly, so only what signweave adds around the run differs.
const raw = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'], logSeverityLevel: 4 });

type Row = Record<string, string | number>;
const rows: Row[] = [];

/**
 * Cases compared with each other are timed in turns within each run (the order rotating from run to run), so a busy
 * machine slows them alike; each one's median over the runs is reported.
 */
async function interleaved(cases: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of cases) await fn();
  const seconds = cases.map((): number[] => []);
  for (let r = 0; r < args.runs; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = (r + k) % cases.length;
      const start = process.hrtime.bigint();
      await cases[c]();
      seconds[c].push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  return seconds.map((s) => [...s].sort((x, y) => x - y)[Math.floor(s.length / 2)]);
}

for (const batch of [1, 4]) {
  const chunks = Array.from({ length: FRAMES / batch }, (_, i) => i * batch);
  const [rawSeconds, pixelSeconds, frameSeconds] = await interleaved([
    async () => {
      for (const i of chunks) await raw.run({ input: new ort.Tensor('float32', pixels.slice(i * per, (i + batch) * per), [batch, 3, 224, 224]) });
    },
    async () => {
      for (const i of chunks) await backbone.embed(pixels.slice(i * per, (i + batch) * per));
    },
    async () => {
      for (const i of chunks) await backbone.embed(frames.slice(i, i + batch));
    },
  ]);
  const row = (name: string, s: number): Row => ({
    case: name,
    batch,
    'ms/frame': round((s * 1000) / FRAMES, 1),
    'frames/s': round(FRAMES / s, 2),
    overhead: s === rawSeconds ? '' : `${round((100 * (s - rawSeconds)) / rawSeconds, 1)}%`,
  });
  rows.push(row('raw onnxruntime-node session', rawSeconds), row('Backbone.embed(pixels)', pixelSeconds), row('Backbone.embed(frames)', frameSeconds));
}
await raw.release();

// transformers.js against OnnxSession on one graph: a ViT-S/14-shaped encoder built by signweave (random weights,
// written once to the temp folder), loaded as a Hugging Face folder and as the bare ONNX file inside it.
const vit: VitOptions = { imageSize: 224, patchSize: 14, dim: 384, depth: 12, heads: 6, seed: 1 };
const hfDir = join(tmpdir(), 'signweave-bench-vit-s14-hf');
if (!existsSync(join(hfDir, 'preprocessor_config.json'))) writeHfVitFolder(hfDir, buildVit(vit), vit);
const hf = await loadBackbone(hfDir, { threads });
const bare = await loadBackbone(join(hfDir, HF_MODEL_FILE), { preprocessing, threads });
const batch4 = pixels.subarray(0, 4 * per);
const [hfSeconds, bareSeconds] = await interleaved([() => hf.embed(batch4), () => bare.embed(batch4)]);
for (const [name, s] of [
  ['ViT-S/14 (signweave graph) via OnnxSession, bare ONNX', bareSeconds],
  ['ViT-S/14 (signweave graph) via transformers.js, HF folder', hfSeconds],
] as const) {
  rows.push({ case: name, batch: 4, 'ms/frame': round((s * 1000) / 4, 1), 'frames/s': round(4 / s, 2), overhead: s === bareSeconds ? '' : `${round((100 * (s - bareSeconds)) / bareSeconds, 1)}%` });
}
await hf.dispose();
await bare.dispose();

// Extraction at each stride, and decoding with preprocessing alone (the floor under it: no network), in turns.
const seconds = 2;
const strides = [1, 2, 4];
let decodedFrames = 0;
const decodeOnly = async (): Promise<void> => {
  decodedFrames = 0;
  for await (const frame of decodeVideo(clip, { end: seconds, preprocess: preprocessing })) {
    frameToTensor(frame, preprocessing);
    decodedFrames++;
  }
};
const kept = new Map<number, number>();
const extraction = strides.map((stride) => async () => kept.set(stride, (await extractFeatures(clip, backbone, { end: seconds, stride, batch: 4 })).shape[0]));
const [decodeSeconds, ...extractSeconds] = await interleaved([decodeOnly, ...extraction]);
rows.push({
  case: `decode + preprocess only, first ${seconds} s`,
  batch: '',
  'ms/frame': round((decodeSeconds * 1000) / decodedFrames, 1),
  'frames/s': round(decodedFrames / decodeSeconds, 2),
  overhead: `RTF ${round(decodeSeconds / seconds, 2)}`,
});
strides.forEach((stride, i) => {
  const s = extractSeconds[i];
  const T = kept.get(stride)!;
  rows.push({
    case: `extractFeatures, first ${seconds} s, stride ${stride} (${24 / stride} fps)`,
    batch: 4,
    'ms/frame': round((s * 1000) / T, 1),
    'frames/s': round(T / s, 2),
    overhead: `RTF ${round(s / seconds, 2)}`,
  });
});
await backbone.dispose();

const setup = { runs: args.runs, threads, model: 'DINOv2 ViT-S/14, synthetic weights', framesPerTimedCall: FRAMES, onnxruntime: ort.env.versions.node };
printReport('backbone', setup, rows, args.json);
