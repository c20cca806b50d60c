/**
 * The whole pipeline against the work it cannot avoid, on the first 2 s (48 frames at 24 fps) of a How2Sign clip
 * (1280×720), every case timed in the same command:
 * - backbone alone: a raw OnnxSession (src/graph/session.ts, the same settings the backbone uses) on the frames
 *   already decoded and preprocessed, every `stride`-th one, in batches of the pipeline's batch size;
 * - landmarks alone: the landmark branch as the pipeline runs it (ffmpeg decoding every `stride`-th frame at the
 *   config's maxSide, MediaPipe face landmarks in Chromium, lip crops);
 * - the pipeline, preset no-lipreading: `Pipeline.run` end to end (decoding, backbone, sign and fingerspelling
 *   experts, router, fusion, CTC, then the English decoder: stories260K through node-llama-cpp, 1 CPU thread, greedy,
 *   up to 64 tokens) — its overhead over the backbone alone is the goal (< 10 %);
 * - the pipeline, preset full (adds the landmark branch and the lipreading expert), against backbone + landmarks
 *   run back to back (the branches overlap in the pipeline, so this can be below 0 %);
 * feature cache off, stages loaded by a warm-up run first (its load time is reported); at frame strides 1, 2 and 4:
 * the overheads, and the real-time factor (seconds of compute per second of 24 fps video; < 1 is faster than real
 * time). The cases alternate within every run.
 *
 * Backbone: the DINOv2 ViT-S/14 graph (../shared/models/dinov2-vits14-arch) with synthetic weights written once to
 * the temp folder, when ../shared has the graph and its weight tool; otherwise the tiny demo ViT (56×56, one layer),
 * which makes the backbone nearly free and the overhead large. The report says which. The bundles are the untrained
 * demo bundles (`initDemoPipeline`), so the numbers are speeds, not results.
 *
 *   node --import tsx bench/pipeline.ts [--runs 5] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HF_MODEL_FILE, loadBackbone } from '../src/backbone/index.js';
import { OnnxSession } from '../src/graph/session.js';
import { float32 } from '../src/graph/tensor.js';
import { createPipeline, DEMO_DECODER_SETTINGS, initDemoPipeline, resolvePipelineConfig, type PipelineResult } from '../src/pipeline/index.js';
import { extractLipCrops, LandmarkExtractor } from '../src/landmarks/index.js';
import { decodeVideo, frameToTensor, parseImageProcessorConfig } from '../src/video/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport } from './harness.js';

const args = benchArgs();
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const SECONDS = 2;
const BATCH = 4;
const threads = availableParallelism();
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The real ViT-S/14 graph with synthetic weights, when ../shared has it (written once, ~1 s). */
function dinov2(): string | undefined {
  const shared = process.env.SIGNWEAVE_SHARED ?? join(import.meta.dirname, '..', '..', 'shared');
  const tool = join(shared, 'tools', 'make-dinov2-synthetic-weights.mjs');
  if (!existsSync(tool) || !existsSync(join(shared, 'models', 'dinov2-vits14-arch', 'dinov2.onnx'))) return undefined;
  const dir = join(tmpdir(), 'signweave-bench-dinov2-synthetic');
  if (!existsSync(join(dir, 'dinov2.onnx.data'))) {
    const made = spawnSync(process.execPath, [tool, dir], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`could not write the synthetic DINOv2 weights: ${made.stderr}`);
  }
  return join(dir, 'dinov2.onnx');
}

const work = mkdtempSync(join(tmpdir(), 'signweave-bench-pipeline-'));
const realBackbone = dinov2();
const decoderModel = sharedPath('models', 'stories260K', 'stories260K.gguf');
const demo = await initDemoPipeline(join(work, 'demo'), {
  faceModel: sharedPath('models', 'mediapipe', 'face_landmarker.task'),
  backbone: realBackbone,
  decoder: { model: decoderModel, ...DEMO_DECODER_SETTINGS },
});
const base = resolvePipelineConfig(demo.config).config;

// What the raw session needs: the graph file, its tensor names and the preprocessing, as the backbone reads them.
const { path, preprocessing } = base.backbone;
const backbone = await loadBackbone(path, { threads: 1, preprocessing: typeof preprocessing === 'object' ? parseImageProcessorConfig(preprocessing) : preprocessing });
const { info } = backbone;
await backbone.dispose();
const raw = await OnnxSession.create(info.kind === 'hf' ? join(info.source, HF_MODEL_FILE) : info.source, { intraOpThreads: threads });

const { width, height } = info.imageSize;
const per = 3 * width * height;
const decoded: Float32Array[] = [];
for await (const frame of decodeVideo(clip, { end: SECONDS, preprocess: info.preprocessing })) decoded.push(frameToTensor(frame, info.preprocessing).data);

type Row = Record<string, string | number>;

/** Tokens generated, or why there is no English (an untrained demo can fuse an empty pseudo-gloss). */
const englishOf = (r: PipelineResult): string => (r.english?.failure ? `none (${r.english.failure})` : `${r.english?.generatedTokens} tokens`);
const pct = (x: number, base: number): string => `${round((100 * (x - base)) / base, 1)}%`;
const faceModel = base.landmarks!.face.model;
await using extractor = await LandmarkExtractor.create({ face: { modelPath: faceModel }, chromiumPath: base.landmarks!.chromium, inFlight: base.landmarks!.inFlight });
const lipSize = 96;
const rows: Row[] = [];
for (const stride of [1, 2, 4]) {
  const kept = decoded.filter((_, i) => i % stride === 0);
  const pixels = new Float32Array(kept.length * per);
  kept.forEach((p, i) => pixels.set(p, i * per));
  const backboneAlone = async () => {
    for (let i = 0; i < kept.length; i += BATCH) {
      const n = Math.min(BATCH, kept.length - i);
      await raw.run({ [info.inputName]: float32(pixels.slice(i * per, (i + n) * per), [n, 3, height, width]) }, [info.outputName]);
    }
  };
  const landmarksAlone = async () => {
    const frames = decodeVideo(clip, { end: SECONDS, stride, maxSide: base.video?.maxSide });
    let n = 0;
    for await (const _ of extractLipCrops(extractor, frames, { size: lipSize })) n++;
    if (n !== kept.length) throw new Error(`the landmark branch saw ${n} frames, not ${kept.length}`);
  };
  const config = { ...base, backbone: { ...base.backbone, stride, batch: BATCH }, cache: { enabled: false } };
  await using noLips = await createPipeline(config, { threads, preset: 'no-lipreading' });
  await using full = await createPipeline(config, { threads });
  const results: Record<string, PipelineResult> = {};
  const cases: [string, () => Promise<unknown>][] = [
    ['backbone', backboneAlone],
    ['landmarks', landmarksAlone],
    ['no-lipreading', async () => (results['no-lipreading'] = await noLips.run(clip, { end: SECONDS }))],
    ['full', async () => (results.full = await full.run(clip, { end: SECONDS }))],
  ];
  // Warm-up: loads the stages (and JIT).
  for (const [, run] of cases) await run();
  const loadMs = results.full.timings.load;
  const seconds: number[][] = cases.map(() => []);
  for (let r = 0; r < args.runs; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = (r + k) % cases.length;
      const t = process.hrtime.bigint();
      await cases[c][1]();
      seconds[c].push(Number(process.hrtime.bigint() - t) / 1e9);
    }
  }
  const [b, l, p0, p1] = seconds.map(median);
  const t = results.full.timings;
  rows.push({
    stride,
    'fps analysed': 24 / stride,
    frames: kept.length,
    'RTF backbone': round(b / SECONDS, 3),
    'RTF landmarks': round(l / SECONDS, 3),
    'RTF no-lipreading': round(p0 / SECONDS, 3),
    'overhead vs backbone': pct(p0, b),
    'RTF full': round(p1 / SECONDS, 3),
    'overhead vs backbone + landmarks': pct(p1, b + l),
    'load s': round(loadMs / 1000, 2),
    'full, last run ms (backbone | landmarks | experts | router | fusion | decoder)': [t.backbone, t.landmarks, t.sign + (t.fingerspell ?? 0) + (t.lipread ?? 0), t.router, t.fusion, t.decoder]
      .map((x) => Math.round(x ?? 0))
      .join(' | '),
    English: englishOf(results.full),
  });
}
await raw.dispose();
rmSync(work, { recursive: true, force: true });

const setup = {
  runs: args.runs,
  threads,
  backbone: realBackbone ? 'DINOv2 ViT-S/14 graph, synthetic weights (224×224)' : 'tiny demo ViT (56×56, 1 layer; no ../shared DINOv2 graph)',
  clip: `${clip.split('/').pop()}, first ${SECONDS} s (1280×720, 24 fps)`,
  batch: BATCH,
  landmarks: `MediaPipe face, frames at maxSide ${base.video?.maxSide}, lip crops ${lipSize}² (alone)`,
  load: `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`,
  bundles: 'untrained demo bundles',
  decoder: `stories260K (../shared), ${JSON.stringify(DEMO_DECODER_SETTINGS)}, greedy, up to 64 tokens`,
};
printReport('pipeline', setup, rows, args.json);
