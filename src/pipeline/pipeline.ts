/**
 * The pipeline: the stages a pipeline config names, wired in the one direction data flows (ARCHITECTURE.md).
 *
 *   video ─┬─ decode (preprocessed) ─► backbone ─► features ─┬─► sign expert ─────────┐
 *          │                                                 ├─► fingerspelling expert ├─► fusion ─► CTC ─► pseudo-gloss ─► decoder ─► English
 *          │                                                 └─► router ───────────────┤
 *          └─ decode (maxSide) ─► face landmarks ─► lip crops ─► lipreading expert ────┘
 *
 * The backbone branch and the landmark branch run at the same time (ONNX Runtime in this process, MediaPipe in
 * Chromium), each on its own ffmpeg decoder of the same range, and see the same frames (every `stride`-th). Stages
 * are loaded on the first run, all at once, then checked against each other (feature sizes, stream widths, the lip
 * stride, the fusion variant) before any video is read. Disposing the pipeline disposes every stage it loaded: ONNX
 * sessions, the backbone, the landmark extractor's Chromium and the decoder's llama.cpp context. Every network runs on
 * the one ONNX Runtime the process loads (src/graph/session.ts; the Hugging Face backbone checks that transformers.js
 * shares it); the decoder runs on the process's one node-llama-cpp runtime (src/llm/runtime.ts).
 */
import { statSync } from 'node:fs';
import { FeatureCache } from '../backbone/cache.js';
import { embedFrames, lookupFeatures, type FeatureSequence } from '../backbone/extract.js';
import { loadBackbone } from '../backbone/load.js';
import type { Backbone } from '../backbone/types.js';
import { loadFusionBundle, type FusionBundle } from '../bundles/fusion.js';
import { loadBundle, type Bundle, type BundleRef } from '../bundles/loader.js';
import { routerLayers } from '../bundles/router.js';
import { toTokenStream } from '../ctc/token-stream.js';
import { CtcVocabulary } from '../ctc/vocab.js';
import type { GlossDecoder, TokenCallback } from '../decoder/types.js';
import { SignweaveInputError } from '../errors.js';
import { FingerspellExpert } from '../experts/fingerspell/index.js';
import { LipreadExpert, packLipCrops } from '../experts/lipread/index.js';
import type { DecodeOptions, ExpertKind, ExpertResult } from '../experts/shared.js';
import { SignExpert } from '../experts/sign/index.js';
import { ONNX_RUNTIME_VERSION } from '../graph/session.js';
import { extractLipCrops, LandmarkExtractor, type LipCrop } from '../landmarks/index.js';
import { Router } from '../router/router.js';
import type { TimedToken } from '../types.js';
import { decodeVideoSplit } from '../video/decode.js';
import { parseImageProcessorConfig } from '../video/preprocess.js';
import { probeVideo, sourcePath, type VideoInfo, type VideoSource } from '../video/probe.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { resolvePipelineConfig, type ExpertStageConfig, type PipelineConfig, type ResolveConfigOptions, type ResolvedPipelineConfig } from './config.js';
import { ctcDecodeOptions, decodeCtc } from './decoding.js';
import { EnglishStage } from './english.js';
import { Lazy, type Disposable } from './lazy.js';
import type { GlossTranslationResult, PipelineProgress, PipelineProvenance, PipelineResult, PipelineTimings, RouterSegment } from './result.js';

export interface CreatePipelineOptions extends ResolveConfigOptions {
  /** ONNX Runtime threads inside one op, for every session (default: all cores). */
  threads?: number;
  /** ffmpeg and ffprobe to run (default: those on the PATH). */
  ffmpegPath?: string;
  ffprobePath?: string;
}

export interface RunOptions {
  /** Seconds from the start of the file of the first frame (default 0). */
  start?: number;
  /** Seconds from the start of the file where the range ends, exclusive (default: the end of the video). */
  end?: number;
  onProgress?: (event: PipelineProgress) => void;
  /** Each piece of raw English as the decoder generates it (streaming). */
  onToken?: TokenCallback;
  /** Aborting stops the run (decoders, MediaPipe, the backbone loop, generation); it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `Pipeline.translateGloss`. */
export type GlossRunOptions = Pick<RunOptions, 'onProgress' | 'onToken' | 'signal'>;

interface ExpertStage<E> extends Disposable {
  expert: E;
  decode: DecodeOptions;
}

interface RouterStage extends Disposable {
  router: Router<string>;
  bundle: Bundle<'router'>;
}

interface FusionStageHandle extends Disposable {
  fusion: FusionBundle;
  vocabulary: CtcVocabulary;
  decode: DecodeOptions;
}

interface Stages {
  backbone: Backbone;
  extractor: LandmarkExtractor | null;
  sign: ExpertStage<SignExpert>;
  fingerspell: ExpertStage<FingerspellExpert> | null;
  lipread: ExpertStage<LipreadExpert> | null;
  router: RouterStage | null;
  fusion: FusionStageHandle | null;
  decoder: GlossDecoder | null;
}

/** Frames a range should hold, from the container's numbers (for progress totals only). */
function framesInRange(info: VideoInfo, start: number | undefined, end: number | undefined): number {
  if (start === undefined && end === undefined && info.frameCount) return info.frameCount;
  const videoEnd = info.startTime + info.duration;
  return Math.max(1, Math.round((Math.min(end ?? videoEnd, videoEnd) - Math.max(start ?? 0, info.startTime)) * info.fps));
}

/** Frames per backbone run when the config leaves it out (as `extractFeatures`). */
const DEFAULT_BATCH = 4;

/** Lip-branch frames read ahead of MediaPipe (which keeps its own frames in flight): decoupling, not a backlog. */
const LIP_FRAME_QUEUE = 4;

/** Rejects with the signal's reason as soon as it aborts, else settles as `work` does (which keeps running). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const shiftTokens = (tokens: readonly TimedToken[], t0: number): TimedToken[] => tokens.map((t) => ({ ...t, start: t.start + t0, end: t.end + t0 }));

/** An expert's result with its token times moved from seconds of the input to seconds of the file. */
function inFileTime<R extends ExpertResult>(result: R, t0: number): R {
  return { ...result, stream: { ...result.stream, tokens: shiftTokens(result.stream.tokens, t0) } };
}

export class Pipeline implements AsyncDisposable {
  private readonly backbone: Lazy<Backbone>;
  private readonly extractor: Lazy<LandmarkExtractor> | null;
  private readonly sign: Lazy<ExpertStage<SignExpert>>;
  private readonly fingerspell: Lazy<ExpertStage<FingerspellExpert>> | null;
  private readonly lipread: Lazy<ExpertStage<LipreadExpert>> | null;
  private readonly router: Lazy<RouterStage> | null;
  private readonly fusion: Lazy<FusionStageHandle> | null;
  private readonly english: EnglishStage | null;
  private readonly cache: FeatureCache | undefined;
  private loading: Promise<Stages> | undefined;
  private loaded = false;
  private readonly runs = new Set<{ controller: AbortController; done: Promise<unknown> }>();
  private disposing: Promise<void> | undefined;

  /** @internal use `createPipeline` */
  constructor(
    /** The config as it runs: paths absolute, the preset applied. */
    readonly resolved: ResolvedPipelineConfig,
    private readonly options: CreatePipelineOptions = {},
  ) {
    const { config } = resolved;
    const session = { intraOpThreads: options.threads };
    const where = (pointer: string) => `${this.label}: ${pointer}`;
    this.backbone = new Lazy(() => this.loadBackbone());
    const { landmarks } = config;
    this.extractor =
      config.experts.lipread && landmarks
        ? new Lazy(() =>
            LandmarkExtractor.create({
              face: { modelPath: landmarks.face.model },
              ...(landmarks.pose && { pose: { modelPath: landmarks.pose.model } }),
              chromiumPath: landmarks.chromium,
              inFlight: landmarks.inFlight,
            }),
          )
        : null;
    const expert = <E extends Disposable>(kind: ExpertKind, stage: ExpertStageConfig | null, load: (dir: string) => Promise<E>): Lazy<ExpertStage<E>> | null =>
      stage &&
      new Lazy(async () => {
        const decode = ctcDecodeOptions(stage.decoder, where(`/experts/${kind}/decoder`));
        const loadedExpert = await load(stage.bundle);
        return { expert: loadedExpert, decode, dispose: () => loadedExpert.dispose() };
      });
    this.sign = expert('sign', config.experts.sign, (dir) => SignExpert.load(dir, { session }))!;
    this.fingerspell = expert('fingerspell', config.experts.fingerspell, (dir) => FingerspellExpert.load(dir, { session }));
    this.lipread = expert('lipread', config.experts.lipread, (dir) => LipreadExpert.load(dir, { session }));
    const routerConfig = config.router;
    this.router = routerConfig && new Lazy(() => this.loadRouter(routerConfig.bundle));
    const fusionConfig = config.fusion;
    this.fusion =
      fusionConfig &&
      new Lazy(async () => {
        const decode = ctcDecodeOptions(fusionConfig.decoder, where('/fusion/decoder'));
        const fusion = await loadFusionBundle(fusionConfig.bundle, { session });
        const vocabulary = new CtcVocabulary({ labels: fusion.vocab, blank: fusion.bundle.manifest.output.blank, joiner: ' ' });
        return { fusion, vocabulary, decode, dispose: () => fusion.dispose() };
      });
    this.english = config.decoder ? new EnglishStage(config.decoder, where('/decoder')) : null;
    const { cache } = config;
    this.cache = cache?.enabled ? new FeatureCache({ dir: cache.dir, videoIdentity: cache.videoIdentity }) : undefined;
  }

  get config(): PipelineConfig {
    return this.resolved.config;
  }

  /** How errors name the config: its file and preset. */
  private get label(): string {
    const { source, preset } = this.resolved;
    return preset ? `${source} (preset '${preset}')` : source;
  }

  private fail(pointer: string, message: string): never {
    throw new SignweaveInputError(`${this.label}: ${pointer}: ${message}`);
  }

  private async loadBackbone(): Promise<Backbone> {
    const { type, path, input, output, preprocessing } = this.config.backbone;
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return this.fail('/backbone/path', `${path}: no such file or folder`);
    }
    if (isDir !== (type === 'hf-folder')) {
      this.fail('/backbone/type', `is "${type}" but ${path} is a ${isDir ? 'folder (use "hf-folder")' : 'file (use "onnx")'}`);
    }
    const parsed = typeof preprocessing === 'object' ? parseImageProcessorConfig(preprocessing, `${this.label}: /backbone/preprocessing`) : preprocessing;
    return loadBackbone(path, { threads: this.options.threads, inputName: input, outputName: output, preprocessing: parsed });
  }

  private async loadRouter(dir: string): Promise<RouterStage> {
    const bundle = await loadBundle(dir, { expectKind: 'router' });
    const { input, output, architecture } = bundle.manifest;
    try {
      const router = new Router<string>({ layers: routerLayers(bundle), activation: architecture.activation, classes: output.classes, window: input.window, hop: input.hop });
      return { router, bundle, dispose: () => bundle.dispose() };
    } catch (err) {
      await bundle.dispose();
      if (err instanceof SignweaveInputError && !err.message.startsWith('bundle ')) throw new SignweaveInputError(`bundle ${dir}: ${err.message}`);
      throw err;
    }
  }

  /**
   * Loads every stage the config uses (the first run does this by itself) and checks them against each other. Safe
   * to call again: stages load once.
   */
  load(): Promise<void> {
    return this.stages().then(() => undefined);
  }

  private stages(): Promise<Stages> {
    if (this.disposing) return Promise.reject(new Error('the pipeline is disposed'));
    this.loading ??= this.loadStages().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async loadStages(): Promise<Stages> {
    const settled = await Promise.allSettled([
      this.backbone.get(),
      this.extractor?.get() ?? null,
      this.sign.get(),
      this.fingerspell?.get() ?? null,
      this.lipread?.get() ?? null,
      this.router?.get() ?? null,
      this.fusion?.get() ?? null,
      this.english?.load() ?? null,
    ] as const);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [backbone, extractor, sign, fingerspell, lipread, router, fusion, decoder] = settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
    const stages = { backbone, extractor, sign, fingerspell, lipread, router, fusion, decoder } as Stages;
    this.checkStages(stages);
    return stages;
  }

  /** What no single stage can see: their sizes must agree, and the fusion bundle must read the streams that run. */
  private checkStages(s: Stages): void {
    const dim = s.backbone.info.dim;
    const backbone = `the backbone (/backbone/path: ${s.backbone.info.source}) gives ${dim}`;
    for (const [kind, stage] of [['sign', s.sign], ['fingerspell', s.fingerspell]] as const) {
      if (!stage) continue;
      const { dir, manifest } = stage.expert.bundle;
      if (manifest.input.dim !== dim) this.fail(`/experts/${kind}/bundle`, `bundle ${dir} takes features of ${manifest.input.dim} values (input.dim), but ${backbone}`);
    }
    if (s.router && s.router.router.mlp.inputSize !== dim) {
      this.fail('/router/bundle', `bundle ${s.router.bundle.dir} routes features of ${s.router.router.mlp.inputSize} values (input.dim), but ${backbone}`);
    }
    if (!s.fusion) return;
    const f = s.fusion.fusion;
    const c = f.config;
    const fusion = `fusion bundle ${f.bundle.dir}`;
    const streams = [
      ['sign', 'sign', s.sign, c.inputs.sign],
      ['fingerspell', 'fingerspelling', s.fingerspell, c.inputs.fingerspell],
      ['lipread', 'lip', s.lipread, c.inputs.lips],
    ] as const;
    for (const [kind, name, stage, width] of streams) {
      const pointer = kind === 'sign' ? '/experts/sign' : `/experts/${kind}`;
      if (width === null && stage) this.fail('/fusion/bundle', `${fusion} has no ${name} stream, but ${pointer} runs: use a fusion bundle that reads it, or set ${pointer} to null`);
      if (width !== null && !stage) this.fail('/fusion/bundle', `${fusion} reads a ${name} stream, but ${pointer} is null: use a fusion bundle without it`);
      if (width !== null && stage && stage.expert.vocabulary.V !== width) {
        this.fail('/fusion/bundle', `${fusion} reads ${width} ${name} logits per frame (architecture.inputs), but the ${kind} expert (${pointer}/bundle: ${stage.expert.bundle.dir}) has ${stage.expert.vocabulary.V} labels`);
      }
    }
    const lipStride = s.lipread?.expert.bundle.manifest.temporalStride;
    if (c.lipStride !== null && lipStride !== undefined && c.lipStride !== lipStride) {
      this.fail('/fusion/bundle', `${fusion} expects the lip stream at 1 frame per ${c.lipStride} (architecture.lipStride), but the lipreading expert's temporalStride is ${lipStride}`);
    }
    const variant = this.config.fusion?.variant;
    if (variant !== undefined && f.variant !== variant) {
      this.fail('/fusion/variant', `is '${variant}' but ${fusion} is ${f.variant === null ? 'none of the fusion variants' : `the '${f.variant}' variant`} (type '${c.type}', lip ${c.lip}, fingerspell ${c.fingerspell}, lipAlignment ${JSON.stringify(c.lipAlignment)})`);
    }
  }

  /**
   * Translates one video (or a time range of it) to the fused pseudo-gloss, and to English when the config has a
   * decoder. Runs may overlap.
   */
  run(video: VideoSource, options: RunOptions = {}): Promise<PipelineResult> {
    return this.tracked(options.signal, (controller) => this.execute(video, options, controller));
  }

  /**
   * The decoder alone on a given pseudo-gloss (e.g. `GAIN BALANCE TOE`): loads the decoder only, no video stage. A
   * failed generation is in the result (`english.failure`). A config without a decoder is an input error.
   */
  translateGloss(gloss: string, options: GlossRunOptions = {}): Promise<GlossTranslationResult> {
    const english = this.english;
    if (!english) return Promise.reject(new SignweaveInputError(`${this.label}: /decoder: the config has no decoder section, so there is no English to make`));
    const { path, sha256, preset } = this.resolved;
    return this.tracked(options.signal, ({ signal }) => english.translate(gloss, { ...options, signal }, { path, sha256, preset }));
  }

  /** Runs `work` with its own abort controller (aborted by `signal`, or by disposal, which waits for it). */
  private async tracked<T>(signal: AbortSignal | undefined, work: (controller: AbortController) => Promise<T>): Promise<T> {
    if (this.disposing) throw new Error('the pipeline is disposed');
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = work(controller);
    const entry = { controller, done: done.catch(() => undefined) };
    this.runs.add(entry);
    try {
      return await done;
    } finally {
      this.runs.delete(entry);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async execute(video: VideoSource, options: RunOptions, controller: AbortController): Promise<PipelineResult> {
    const started = performance.now();
    const { signal } = controller;
    const { start, end } = options;
    const report = (event: PipelineProgress) => options.onProgress?.(event);
    const firstLoad = !this.loaded;
    const stages = await unlessAborted(this.stages(), signal);
    this.loaded = true;
    const load = firstLoad ? performance.now() - started : 0;

    const tools = { ffmpegPath: this.options.ffmpegPath, ffprobePath: this.options.ffprobePath };
    const info = await probeVideo(video, { signal, ...tools });
    const stride = this.config.backbone.stride ?? 1;
    const rowsExpected = Math.ceil(framesInRange(info, start, end) / stride);
    const expertCount = 1 + Number(!!stages.fingerspell) + Number(!!stages.lipread);
    let expertsDone = 0;
    const expertDone = (expert: ExpertKind) => report({ stage: 'experts', done: ++expertsDone, total: expertCount, expert });
    const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      const t = performance.now();
      const value = await work();
      return [value, performance.now() - t];
    };

    // One ffmpeg decode feeds both branches (the backbone's preprocessed input and the landmark branch's frame, split
    // in ffmpeg), and only every `stride`-th frame is converted at all. A cache hit leaves the landmark branch alone.
    const batch = this.config.backbone.batch ?? DEFAULT_BATCH;
    const request = { video, start, end, stride };
    const cached = this.cache ? await lookupFeatures(this.cache, request, stages.backbone, signal) : undefined;
    if (cached?.hit) report({ stage: 'backbone', done: cached.hit.shape[0], total: cached.hit.shape[0], cached: true });
    const withLips = !!(stages.extractor && stages.lipread);
    const range = { start, end, stride, info, signal, ...tools };
    const lipFrames = { maxSide: this.config.video?.maxSide, queue: LIP_FRAME_QUEUE };
    const outputs = [...(cached?.hit ? [] : [{ preprocess: stages.backbone.info.preprocessing, queue: 2 * batch }]), ...(withLips ? [lipFrames] : [])];
    const decoders = outputs.length ? decodeVideoSplit(video, range, outputs) : [];
    const [backboneFrames, landmarkFrames] = cached?.hit ? [undefined, decoders[0]] : decoders;

    const manual = async () => {
      const [features, backboneMs] = await timed(async () => {
        if (cached?.hit) return cached.hit;
        const onEmbedded = (done: number) => {
          report({ stage: 'decode', done, total: Math.max(rowsExpected, done) });
          report({ stage: 'backbone', done, total: Math.max(rowsExpected, done), cached: false });
        };
        const cache = this.cache && cached && { cache: this.cache, lookup: cached };
        return embedFrames(backboneFrames!, stages.backbone, request, { batch, fps: info.fps, cache, onEmbedded, signal });
      });
      const [sign, signMs] = await timed(() => stages.sign.expert.run(features, stages.sign.decode));
      expertDone('sign');
      const fs = stages.fingerspell;
      const [fingerspell, fingerspellMs] = fs ? await timed(() => fs.expert.run(features, fs.decode)) : [undefined, null];
      if (fs) expertDone('fingerspell');
      const routed = stages.router ? await timed(async () => this.route(stages.router!, features, report)) : null;
      return { features, sign, fingerspell, routed, ms: { backbone: backboneMs, sign: signMs, fingerspell: fingerspellMs, router: routed?.[1] ?? null } };
    };

    const lips = async (extractor: LandmarkExtractor, stage: ExpertStage<LipreadExpert>) => {
      const t = performance.now();
      const { size, channels } = stage.expert.bundle.manifest.input;
      const { padding, smoothing } = this.config.landmarks?.lips ?? {};
      const crops: LipCrop[] = [];
      let faces = 0;
      const onProgress = (n: number) => report({ stage: 'landmarks', done: n, total: Math.max(rowsExpected, n), faces });
      for await (const { crop } of extractLipCrops(extractor, landmarkFrames!, { size, grayscale: channels === 1, padding, smoothing, signal })) {
        crops.push(crop);
        if (crop.face) faces++;
        onProgress(crops.length);
      }
      if (crops.length !== rowsExpected) report({ stage: 'landmarks', done: crops.length, total: crops.length, faces });
      const landmarksMs = performance.now() - t;
      const [lipread, lipreadMs] = await timed(() => stage.expert.run(packLipCrops(crops, info.fps / stride), stage.decode));
      expertDone('lipread');
      return { crops, lipread, ms: { landmarks: landmarksMs, lipread: lipreadMs } };
    };

    // Either branch failing stops the other before the run rejects, so no decoder or MediaPipe run outlives it.
    const stopOnFailure = <T>(work: Promise<T>): Promise<T> =>
      work.catch((err: unknown) => {
        if (!signal.aborted) controller.abort(err);
        throw err;
      });
    const branches = await Promise.allSettled([
      stopOnFailure(manual()),
      withLips ? stopOnFailure(lips(stages.extractor!, stages.lipread!)) : Promise.resolve(null),
    ] as const).finally(() => Promise.all(decoders.map((d) => d.dispose())));
    const failure = branches.find((b) => b.status === 'rejected');
    if (failure) throw failure.reason;
    const m = (branches[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof manual>>>).value;
    const l = (branches[1] as PromiseFulfilledResult<Awaited<ReturnType<typeof lips>> | null>).value;

    const { features } = m;
    const T = features.shape[0];
    if (l && l.crops.length !== T) {
      throw new Error(`${sourcePath(video)}: the landmark branch saw ${l.crops.length} frames but the backbone branch ${T}; both decode the same range`);
    }
    const t0 = features.times[0];

    let fusion: PipelineResult['fusion'] = null;
    let fused: PipelineResult['fused'];
    let fusionMs: number | null = null;
    if (stages.fusion && m.routed) {
      const f = stages.fusion;
      const [out, ms] = await timed(async () => {
        signal.throwIfAborted();
        const result = await f.fusion.run({ sign: m.sign.logits, fingerspell: m.fingerspell?.logits, router: m.routed![0].weights, lips: l?.lipread.logits });
        const hypothesis = decodeCtc(result.logits, f.vocabulary, f.decode);
        return { result, tokens: toTokenStream(hypothesis, result.logits.fps).tokens, text: hypothesis.text };
      });
      fusionMs = ms;
      report({ stage: 'fusion', done: 1, total: 1 });
      fusion = { variant: f.fusion.variant, gate: out.result.gateMean, routerWeights: out.result.routerWeights, logits: out.result.logits };
      fused = { source: 'fusion', tokens: shiftTokens(out.tokens, t0), text: out.text };
    } else {
      fused = { source: 'sign', tokens: shiftTokens(m.sign.stream.tokens, t0), text: m.sign.text };
    }

    let english: PipelineResult['english'] = null;
    let decoderMs: number | null = null;
    const { decoder } = stages;
    if (this.english && decoder) {
      const stage = this.english;
      signal.throwIfAborted();
      [english, decoderMs] = await timed(() => stage.run(decoder, fused.text, { onToken: options.onToken, onProgress: report, signal }));
    }

    const timings: PipelineTimings = {
      load,
      backbone: m.ms.backbone,
      landmarks: l?.ms.landmarks ?? null,
      sign: m.ms.sign,
      fingerspell: m.ms.fingerspell,
      lipread: l?.ms.lipread ?? null,
      router: m.ms.router,
      fusion: fusionMs,
      decoder: decoderMs,
      total: performance.now() - started,
    };
    const frameIndices = features.frameIndices;
    return {
      video: { path: sourcePath(video), info, start: t0, end: features.times[T - 1] + 1 / info.fps, frames: T, stride, fps: features.fps },
      streams: {
        sign: inFileTime(m.sign, t0),
        ...(m.fingerspell && { fingerspell: inFileTime(m.fingerspell, t0) }),
        ...(l && { lipread: { ...inFileTime(l.lipread, t0), missingFrames: (l.lipread.missingFrames ?? []).map((i) => frameIndices[i]) } }),
      },
      router: m.routed && { classes: [...stages.router!.router.classes], decisions: m.routed[0].decisions.map((d) => ({ ...d, start: d.start + t0, end: d.end + t0 })) },
      fusion,
      fused,
      english,
      timings,
      provenance: this.provenance(stages, features),
    };
  }

  /** One decision per segment, and the per-frame weights fusion reads. */
  private route(stage: RouterStage, features: FeatureSequence, report: (e: PipelineProgress) => void) {
    const { router } = stage;
    const decisions = router.route(features, { mode: 'inference' });
    report({ stage: 'router', done: decisions.length, total: decisions.length });
    const segments: RouterSegment[] = decisions.map((d) => ({
      label: d.label,
      probs: Object.fromEntries(router.classes.map((c, i) => [c, d.probs[i]])),
      confidence: d.confidence,
      start: d.segment.start,
      end: d.segment.end,
      startFrame: d.segment.startFrame,
      endFrame: d.segment.endFrame,
    }));
    return { decisions: segments, weights: router.frameWeights(decisions, features.shape[0]) };
  }

  private provenance(s: Stages, features: FeatureSequence): PipelineProvenance {
    const bundles: PipelineProvenance['bundles'] = {};
    const add = (key: keyof PipelineProvenance['bundles'], ref: BundleRef, dir: string) => (bundles[key] = { ...ref, dir });
    add('sign', s.sign.expert.bundle.ref, s.sign.expert.bundle.dir);
    if (s.fingerspell) add('fingerspell', s.fingerspell.expert.bundle.ref, s.fingerspell.expert.bundle.dir);
    if (s.lipread) add('lipread', s.lipread.expert.bundle.ref, s.lipread.expert.bundle.dir);
    if (s.router) add('router', s.router.bundle.ref, s.router.bundle.dir);
    if (s.fusion) add('fusion', s.fusion.fusion.ref, s.fusion.fusion.bundle.dir);
    const untrainedBundles = Object.values(bundles)
      .filter((b) => b.weights !== 'trained')
      .map((b) => b.name);
    const { kind, source, sha256, runtime, dim } = s.backbone.info;
    const { cache } = features;
    const extractor = s.extractor?.info;
    return {
      signweave: SIGNWEAVE_VERSION,
      onnxRuntime: ONNX_RUNTIME_VERSION,
      config: { path: this.resolved.path, sha256: this.resolved.sha256, preset: this.resolved.preset },
      bundles,
      backbone: { kind, source, sha256, runtime, dim },
      features: cache.status === 'off' ? { cache: 'off' } : { cache: cache.status, key: cache.key },
      landmarks: extractor
        ? { extractor: 'MediaPipe tasks-vision in headless Chromium', tasksVision: extractor.tasksVision, chromium: extractor.chromium, models: extractor.models }
        : null,
      untrained: untrainedBundles.length > 0,
      untrainedBundles,
      decoder: s.decoder?.provenance ?? null,
    };
  }

  /** Stops the runs in progress, then disposes every loaded stage (sessions, backbone, Chromium, decoder). Safe to call twice. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      for (const run of this.runs) run.controller.abort(new Error('the pipeline was disposed'));
      await Promise.all([...this.runs].map((r) => r.done));
      await this.loading?.catch(() => undefined);
      const stages = [this.backbone, this.extractor, this.sign, this.fingerspell, this.lipread, this.router, this.fusion, this.english];
      await Promise.all(stages.map((s) => s?.dispose()));
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * A pipeline from a config file or object (validated, paths resolved, the preset applied). Nothing is loaded yet:
 * the first `run` (or `load`) loads the stages.
 */
export async function createPipeline(config: PipelineConfig | string | ResolvedPipelineConfig, options: CreatePipelineOptions = {}): Promise<Pipeline> {
  // An already resolved config (e.g. the evaluators' per-stage derivation of a user's file) keeps its source and
  // preset, so errors and provenance still name the user's file.
  const resolved = typeof config === 'object' && 'source' in config && 'config' in config ? config : resolvePipelineConfig(config, options);
  return new Pipeline(resolved, options);
}
