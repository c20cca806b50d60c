/**
 * The whole pipeline up to fused pseudo-gloss against the work it cannot avoid, on a whole How2Sign clip (4.25 s,
 * 102 frames, 1280×720 H.264), every case timed in the same command:
 * - backbone alone: a raw OnnxSession (src/graph/session.ts, the same settings the backbone uses) on the frames
 *   already decoded and preprocessed, every `stride`-th one, in batches of the pipeline's batch size — the issue's
 *   baseline;
 * - decode + backbone: what a script of its own would do — ffmpeg decoding and preprocessing the clip (decodeVideo,
 *   the pipeline's filter chain) into the same raw session, batch by batch;
 * - landmarks alone: the landmark branch as the pipeline runs it (ffmpeg decoding every `stride`-th frame at the
 *   config's maxSide, MediaPipe face landmarks in Chromium, lip crops);
 * - the pipeline, preset no-lipreading: `Pipeline.run` end to end (decoding, backbone, sign and fingerspelling
 *   experts, router, fusion, CTC) — its overhead over the backbone alone is the goal (< 10 %);
 * - the pipeline, preset full (adds the landmark branch and the lipreading expert), against backbone + landmarks
 *   run back to back (the branches overlap in the pipeline, so this can be below 0 %);
 * no English decoder (the issue measures up to fused pseudo-gloss; bench/decoder.ts times the decoder), feature cache
 * off, stages loaded by a warm-up run first (its load time is reported); at frame strides 1, 2 and 4: the overheads,
 * and the real-time factor (seconds of compute per second of 24 fps video; < 1 is faster than real time). The cases
 * alternate within every run.
 *
 * Backbone: the DINOv2 ViT-S/14 graph (../shared/models/dinov2-vits14-arch) with synthetic weights written once to
 * the temp folder, when ../shared has the graph and its weight tool; otherwise the tiny demo ViT (56×56, one layer),
 * which makes the backbone nearly free and the overhead large. The report says which. The bundles are the untrained
 * demo bundles (`initDemoPipeline`), so the numbers are speeds, not results.
 *
 * `--threads n` gives ONNX Runtime n threads (default: every core); with 1 on 2 cores, ffmpeg has a core of its own.
 *
 *   node --import tsx bench/pipeline.ts [--runs 3] [--threads n] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HF_MODEL_FILE, loadBackbone } from '../src/backbone/index.js';
import { OnnxSession } from '../src/graph/session.js';
import { float32 } from '../src/graph/tensor.js';
import { createPipeline, initDemoPipeline, resolvePipelineConfig, type PipelineResult } from '../src/pipeline/index.js';
import { extractLipCrops, LandmarkExtractor } from '../src/landmarks/index.js';
import { decodeVideo, frameToTensor, parseImageProcessorConfig } from '../src/video/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport } from './harness.js';

const args = benchArgs();
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const BATCH = 4;
const threads = args.threads ?? availableParallelism();
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
const demo = await initDemoPipeline(join(work, 'demo'), { faceModel: sharedPath('models', 'mediapipe', 'face_landmarker.task'), backbone: realBackbone });
const base = { ...resolvePipelineConfig(demo.config).config, decoder: null };

// What the raw session needs: the graph file, its tensor names and the preprocessing, as the backbone reads them.
const { path, preprocessing } = base.backbone;
const backbone = await loadBackbone(path, { threads: 1, preprocessing: typeof preprocessing === 'object' ? parseImageProcessorConfig(preprocessing) : preprocessing });
const { info } = backbone;
await backbone.dispose();
const raw = await OnnxSession.create(info.kind === 'hf' ? join(info.source, HF_MODEL_FILE) : info.source, { intraOpThreads: threads });

const { width, height } = info.imageSize;
const per = 3 * width * height;
const decoded: Float32Array[] = [];
for await (const frame of decodeVideo(clip, { preprocess: info.preprocessing })) decoded.push(frameToTensor(frame, info.preprocessing).data);
const seconds = decoded.length / 24;

type Row = Record<string, string | number>;

const pct = (x: number, base: number): string => `${round((100 * (x - base)) / base, 1)}%`;
const faceModel = base.landmarks!.face.model;
await using extractor = await LandmarkExtractor.create({ face: { modelPath: faceModel }, chromiumPath: base.landmarks!.chromium, inFlight: base.landmarks!.inFlight });
const lipSize = 96;
const rows: Row[] = [];
for (const stride of [1, 2, 4]) {
  const kept = decoded.filter((_, i) => i % stride === 0);
  const pixels = new Float32Array(kept.length * per);
  kept.forEach((p, i) => pixels.set(p, i * per));
  const embed = (batch: Float32Array, n: number) => raw.run({ [info.inputName]: float32(batch, [n, 3, height, width]) }, [info.outputName]);
  const backboneAlone = async () => {
    for (let i = 0; i < kept.length; i += BATCH) {
      const n = Math.min(BATCH, kept.length - i);
      await embed(pixels.slice(i * per, (i + n) * per), n);
    }
  };
  const decodeAndBackbone = async () => {
    const batch = new Float32Array(BATCH * per);
    let n = 0;
    let seen = 0;
    for await (const frame of decodeVideo(clip, { stride, preprocess: info.preprocessing })) {
      batch.set(frameToTensor(frame, info.preprocessing).data, n * per);
      seen++;
      if (++n === BATCH) {
        await embed(batch, n);
        n = 0;
      }
    }
    if (n > 0) await embed(batch.slice(0, n * per), n);
    if (seen !== kept.length) throw new Error(`decode + backbone saw ${seen} frames, not ${kept.length}`);
  };
  const landmarksAlone = async () => {
    const frames = decodeVideo(clip, { stride, maxSide: base.video?.maxSide });
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
    ['decode + backbone', decodeAndBackbone],
    ['landmarks', landmarksAlone],
    ['no-lipreading', async () => (results['no-lipreading'] = await noLips.run(clip))],
    ['full', async () => (results.full = await full.run(clip))],
  ];
  // Warm-up: loads the stages (and JIT).
  for (const [, run] of cases) await run();
  const loadMs = results.full.timings.load;
  const times: number[][] = cases.map(() => []);
  for (let r = 0; r < args.runs; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = (r + k) % cases.length;
      const t = process.hrtime.bigint();
      await cases[c][1]();
      times[c].push(Number(process.hrtime.bigint() - t) / 1e9);
    }
  }
  const [b, d, l, p0, p1] = times.map(median);
  const t = results.full.timings;
  rows.push({
    stride,
    'fps analysed': 24 / stride,
    frames: kept.length,
    'RTF backbone': round(b / seconds, 3),
    'RTF decode + backbone': round(d / seconds, 3),
    'RTF landmarks': round(l / seconds, 3),
    'RTF no-lipreading': round(p0 / seconds, 3),
    'overhead vs backbone': pct(p0, b),
    'overhead vs decode + backbone': pct(p0, d),
    'RTF full': round(p1 / seconds, 3),
    'overhead vs backbone + landmarks': pct(p1, b + l),
    'load s': round(loadMs / 1000, 2),
    'full, last run ms (backbone | landmarks | experts | router | fusion)': [t.backbone, t.landmarks, t.sign + (t.fingerspell ?? 0) + (t.lipread ?? 0), t.router, t.fusion]
      .map((x) => Math.round(x ?? 0))
      .join(' | '),
    'fused tokens': results.full.fused.tokens.length,
  });
}
await raw.dispose();
rmSync(work, { recursive: true, force: true });

const setup = {
  runs: args.runs,
  threads,
  backbone: realBackbone ? 'DINOv2 ViT-S/14 graph, synthetic weights (224×224)' : 'tiny demo ViT (56×56, 1 layer; no ../shared DINOv2 graph)',
  clip: `${clip.split('/').pop()}, whole (${decoded.length} frames, ${seconds.toFixed(2)} s, 1280×720 H.264, 24 fps)`,
  batch: BATCH,
  landmarks: `MediaPipe face, frames at maxSide ${base.video?.maxSide}, lip crops ${lipSize}² (alone)`,
  load: `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`,
  bundles: 'untrained demo bundles',
  decoder: 'none (up to fused pseudo-gloss)',
};
printReport('pipeline', setup, rows, args.json);
