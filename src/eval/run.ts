/**
 * The evaluation runner: one stage (src/eval/evaluators.ts) over one dataset, resumable through its samples file
 * (src/eval/samples-file.ts). Video stages run a pipeline made of the user's config with only the scored parts on;
 * the decoder stage runs the decoder alone on the oracle pseudo-gloss, in batches (`translateMany`). Every sample
 * gets a row — `ok`, `failed` (scored as an empty hypothesis), `missing-video` or `no-reference` (not scored) — and
 * the corpus metrics are computed over the rows of this run and the resumed ones alike.
 */
import { createHash } from 'node:crypto';
import type { DecoderProvenance, GlossDecoder } from '../decoder/types.js';
import { SignweaveInputError } from '../errors.js';
import type { DecoderStageConfig, PipelineConfig } from '../pipeline/config.js';
import { resolvePipelineConfig, type ResolvedPipelineConfig } from '../pipeline/config.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { PresetName } from '../pipeline/presets.js';
import type { PipelineProgress } from '../pipeline/result.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { configLabel, EVALUATORS, stageConfig, type EvalMetric, type Evaluator, type Outcome } from './evaluators.js';
import type { EvalReferences } from './references.js';
import { SamplesFile, type PipelineRunProvenance, type StoredProvenance } from './samples-file.js';
import type { EvalDataset, EvalDatasetName, EvalSample, EvalStage } from './types.js';

/**
 * `ok`: scored; `failed`: no hypothesis (the message says why), scored as an empty one; `missing-video`: the video is
 * not on disk (the message is the path looked for); `no-reference`: nothing to score this stage against (e.g. a
 * sentence without fingerspelling for the fingerspelling stage). The last two are not scored.
 */
export type EvalSampleStatus = 'ok' | 'failed' | 'missing-video' | 'no-reference';

export interface EvalSampleRow {
  id: string;
  /** The sample's line in the manifest. */
  line: number;
  status: EvalSampleStatus;
  message: string | null;
  /** What the scored stage read, when it is not the video: the pseudo-gloss given to the decoder. */
  input: string | null;
  /** The stage's output (text; the router's segments), null unless `ok`. */
  hypothesis: unknown;
  reference: unknown;
  /** Sentence-level scores (see the evaluator), null when not scored. */
  scores: Record<string, number> | null;
  /** Milliseconds the sample took (pipeline run or generation), null when nothing ran. */
  ms: number | null;
}

/** What must match for a rerun to continue a samples file. */
export interface EvalIdentity {
  stage: EvalStage;
  dataset: { name: EvalDatasetName; split: string; sha256: string };
  /** The pipeline config (video stages): sha256 of its file (of its JSON for a config object) and the preset applied. */
  config: { sha256: string; preset: PresetName | null } | null;
  /** The decoder's settings, its files by sha256 (threads, parallel and gpu change how fast, not what). */
  decoder: Record<string, unknown> | null;
  references: unknown;
  signweave: string;
}

export type EvalProgress =
  /** The samples sorted out: `toRun` will run now, the others are resumed from the samples file or not scored. */
  | { type: 'start'; samples: number; toRun: number; resumed: number; missingVideos: number; noReference: number }
  /** Samples of this run done so far, with what an ETA needs. */
  | { type: 'progress'; done: number; total: number; failed: number; elapsedMs: number; etaMs: number | null }
  /** A row written to the samples file. */
  | { type: 'row'; row: EvalSampleRow }
  /** The pipeline's own progress on one sample (video stages). */
  | { type: 'pipeline'; id: string; event: PipelineProgress };

export interface RunEvalOptions {
  stage: EvalStage;
  dataset: EvalDataset;
  /**
   * A pipeline config file or object. Video stages run it with only the scored parts on; the decoder stage uses its
   * `decoder` section (unless `decoder` is given).
   */
  config?: string | PipelineConfig;
  /** Applied to the config instead of its own `preset`. */
  preset?: PresetName;
  /** The decoder stage without a config: the decoder's settings (as a config's `decoder` section). */
  decoder?: DecoderStageConfig;
  /** ONNX Runtime threads per session (video stages). */
  threads?: number;
  references: Pick<EvalReferences, 'forSample' | 'provenance'>;
  /** The samples file (JSONL): created, or continued when it holds a run with the same identity. */
  samplesFile: string;
  /** Discard what the samples file holds and start over. */
  restart?: boolean;
  /** Stop at the first sample without its video, or that fails, instead of counting it. */
  strict?: boolean;
  /** Aborting stops the run between (or inside) samples; the rows written stay, and it rejects with the reason. */
  signal?: AbortSignal;
  onProgress?: (event: EvalProgress) => void;
}

export interface EvalRun {
  stage: EvalStage;
  dataset: EvalDataset;
  identity: EvalIdentity;
  /** One row per sample, in the dataset's order. */
  rows: EvalSampleRow[];
  /** Ids of the rows read back from the samples file. */
  resumed: ReadonlySet<string>;
  metrics: EvalMetric[];
  /**
   * The stage's baseline (the decoder's identity baseline) over the same scored samples, failed ones included, with
   * the same metrics; computed from the references on every run, resumed or not. Null for stages without one.
   */
  baseline: EvalBaseline | null;
  provenance: {
    /** The pipeline config as given; null for the decoder stage run from decoder settings alone. */
    config: { path: string | null; sha256: string | null; preset: PresetName | null } | null;
    /** The pipeline that ran (video stages): this run's, or the one stored in the samples file when all was resumed. */
    pipeline: PipelineRunProvenance | null;
    decoder: DecoderProvenance | null;
    references: unknown;
  };
  samplesFile: { path: string; tornLine: string | null };
  /** Wall-clock seconds of this run. */
  seconds: number;
}

export interface EvalBaseline {
  id: string;
  description: string;
  metrics: EvalMetric[];
}

interface Pending {
  sample: EvalSample;
  reference: unknown;
  /** Decoder stage: the oracle pseudo-gloss. */
  gloss: string;
}

const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A decoder's settings with its files named by content. */
async function decoderIdentity(config: DecoderStageConfig): Promise<Record<string, unknown>> {
  const { model, prompt, lora, threads: _threads, parallel: _parallel, gpu: _gpu, ...settings } = config;
  const fewShot = prompt?.fewShot;
  // node-llama-cpp loads with the runtime: only stages with a decoder pay for it. Its hashes are cached per process,
  // so loading the model later does not hash it again.
  const { checkGgufFile, fileSha256 } = await import('../llm/runtime.js');
  await checkGgufFile(model);
  return {
    ...settings,
    model: await fileSha256(model),
    ...(prompt && { prompt: { ...prompt, ...(fewShot !== undefined && { fewShot: await fileSha256(fewShot) }) } }),
    ...(lora && { lora: await Promise.all(lora.map(async (l) => ({ sha256: await fileSha256(l.path), scale: l.scale ?? 1 }))) }),
  };
}

function describeError(err: unknown): string {
  if (err instanceof SignweaveInputError) return err.message;
  const error = err as Error;
  return `${error.name ?? 'Error'}: ${error.message ?? String(err)}`;
}

function row(sample: EvalSample, fields: Partial<EvalSampleRow> & Pick<EvalSampleRow, 'status'>): EvalSampleRow {
  const { status, ...rest } = fields;
  return { id: sample.id, line: sample.line, status, message: null, input: null, hypothesis: null, reference: null, scores: null, ms: null, ...rest };
}

function scoredRow(evaluator: Evaluator, p: Pending, outcome: Outcome<unknown>, ms: number): EvalSampleRow {
  const { sample, reference } = p;
  const ok = 'hypothesis' in outcome;
  return row(sample, {
    status: ok ? 'ok' : 'failed',
    message: ok ? null : outcome.failure,
    input: outcome.input ?? null,
    hypothesis: ok ? outcome.hypothesis : null,
    reference,
    scores: evaluator.sentence(ok ? outcome.hypothesis : evaluator.empty, reference, sample.language),
    ms: Math.round(ms),
  });
}

/** Why nothing can be scored, when nothing can. */
function nothingToScore(dataset: EvalDataset, stage: EvalStage, missing: EvalSampleRow[], noReference: EvalSampleRow[]): SignweaveInputError {
  const where = dataset.manifest.path;
  if (dataset.samples.length === 0) return new SignweaveInputError(`${where} holds no readable samples`);
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`${missing.length} without their video (e.g. sample ${missing[0].id}: ${missing[0].message} not found; give the videos folder with --videos)`);
  if (noReference.length > 0) parts.push(`${noReference.length} without a reference for this stage (e.g. sample ${noReference[0].id}: ${noReference[0].message})`);
  return new SignweaveInputError(`no sample of ${where} can be scored for the ${stage} stage: ${parts.join('; ')}`);
}

/**
 * Evaluates `stage` on `dataset`: sorts the samples out (without video, without reference), continues the samples
 * file of an earlier run with the same identity, runs what is left and scores every row. Input problems (the config,
 * a samples file of another evaluation, nothing to score, with `strict` a missing video or a failure) are
 * `SignweaveInputError`s.
 */
export async function runEval(options: RunEvalOptions): Promise<EvalRun> {
  const started = performance.now();
  const { stage, dataset, references, signal } = options;
  const evaluator = EVALUATORS[stage];
  const emit = (event: EvalProgress) => options.onProgress?.(event);

  // The config first: its problems are reported before anything is read or loaded.
  let resolved: ResolvedPipelineConfig | null = null;
  let runConfig: PipelineConfig | null = null;
  let decoderConfig: DecoderStageConfig | null;
  if (evaluator.input === 'pseudogloss' && options.decoder) {
    decoderConfig = options.decoder;
  } else {
    if (options.config === undefined) {
      throw new SignweaveInputError(`the ${stage} stage needs a pipeline config${evaluator.input === 'pseudogloss' ? ' with a decoder section, or a decoder model' : ''}`);
    }
    resolved = resolvePipelineConfig(options.config, { preset: options.preset });
    runConfig = stageConfig(evaluator, resolved);
    decoderConfig = runConfig.decoder ?? null;
  }

  // Sort the samples out: those without video or reference are known before anything runs.
  const unscored: EvalSampleRow[] = [];
  const candidates: Pending[] = [];
  for (const sample of dataset.samples) {
    if (evaluator.input === 'video' && sample.video === null) {
      if (options.strict) {
        throw new SignweaveInputError(`sample ${sample.id} (${dataset.manifest.path}:${sample.line}) has no video: ${sample.missing} not found (without strict, samples without video are counted and skipped)`);
      }
      unscored.push(row(sample, { status: 'missing-video', message: sample.missing ?? null }));
      continue;
    }
    const refs = await references.forSample(sample);
    const reference = evaluator.reference(refs);
    if (reference === null) unscored.push(row(sample, { status: 'no-reference', message: evaluator.noReference }));
    else candidates.push({ sample, reference, gloss: refs.pseudogloss.join(' ') });
  }
  if (candidates.length === 0) {
    throw nothingToScore(dataset, stage, unscored.filter((r) => r.status === 'missing-video'), unscored.filter((r) => r.status === 'no-reference'));
  }

  const identity: EvalIdentity = {
    stage,
    dataset: { name: dataset.name, split: dataset.split, sha256: dataset.manifest.sha256 },
    config: resolved && evaluator.input === 'video' ? { sha256: resolved.sha256 ?? sha256Of(JSON.stringify(resolved.config)), preset: resolved.preset } : null,
    decoder: decoderConfig && (await decoderIdentity(decoderConfig)),
    references: references.provenance,
    signweave: SIGNWEAVE_VERSION,
  };
  const file = SamplesFile.open(options.samplesFile, identity, { restart: options.restart });
  try {
    const done = file.rows;
    const pending = candidates.filter((p) => !done.has(p.sample.id));
    emit({
      type: 'start',
      samples: dataset.samples.length,
      toRun: pending.length,
      resumed: candidates.length - pending.length,
      missingVideos: unscored.filter((r) => r.status === 'missing-video').length,
      noReference: unscored.filter((r) => r.status === 'no-reference').length,
    });

    const fresh = new Map<string, EvalSampleRow>();
    const runStarted = performance.now();
    let failed = 0;
    const progress = (doneNow: number) => {
      const elapsedMs = performance.now() - runStarted;
      const etaMs = doneNow > 0 ? (elapsedMs / doneNow) * (pending.length - doneNow) : null;
      emit({ type: 'progress', done: doneNow, total: pending.length, failed, elapsedMs, etaMs });
    };
    const session: Session = {
      pending,
      signal,
      strict: options.strict ?? false,
      emit,
      progress,
      record(outcome, p, ms) {
        if (options.strict && !('hypothesis' in outcome)) throw new SignweaveInputError(`sample ${p.sample.id} (${dataset.manifest.path}:${p.sample.line}) failed: ${outcome.failure}`);
        const r = scoredRow(evaluator, p, outcome, ms);
        file.appendRow(r);
        fresh.set(r.id, r);
        if (r.status === 'failed') failed++;
        emit({ type: 'row', row: r });
      },
      provenance: file.provenance,
      storeProvenance(provenance) {
        if (JSON.stringify(provenance) === JSON.stringify(this.provenance)) return;
        file.appendProvenance(provenance);
        this.provenance = provenance;
      },
    };
    // Nothing is loaded when everything is resumed.
    if (pending.length > 0) {
      const machinery = await load(evaluator, resolved, runConfig, decoderConfig, options.threads);
      try {
        if (machinery.kind === 'pipeline' && evaluator.input === 'video') await runVideo(evaluator, machinery.pipeline, session);
        else if (machinery.kind === 'decoder' && evaluator.input === 'pseudogloss') await runDecoder(evaluator, machinery.decoder, machinery.parallel, session);
      } finally {
        await machinery.dispose();
      }
    }

    const byId = new Map<string, EvalSampleRow>([...unscored, ...candidates.map((p) => fresh.get(p.sample.id) ?? done.get(p.sample.id)!)].map((r) => [r.id, r]));
    const rows = dataset.samples.map((s) => byId.get(s.id)!);
    const scored = rows.filter((r) => r.status === 'ok' || r.status === 'failed');
    // Corpora are in one language; it decides how Chinese is tokenized.
    const language = candidates[0].sample.language;
    const metrics = evaluator.corpus(
      scored.map((r) => (r.status === 'ok' ? r.hypothesis : evaluator.empty)),
      scored.map((r) => r.reference),
      language,
    );
    const { baseline } = evaluator;
    const glossOf = new Map(candidates.map((p) => [p.sample.id, p.gloss]));
    const baselineRun = baseline
      ? {
          id: baseline.id,
          description: baseline.description,
          metrics: evaluator.corpus(
            scored.map((r) => baseline.hypothesis(glossOf.get(r.id)!)),
            scored.map((r) => r.reference),
            language,
          ),
        }
      : null;
    const stored = session.provenance;
    return {
      stage,
      dataset,
      identity,
      rows,
      resumed: new Set(candidates.filter((p) => !fresh.has(p.sample.id)).map((p) => p.sample.id)),
      metrics,
      baseline: baselineRun,
      provenance: {
        config: resolved && { path: resolved.path, sha256: resolved.sha256, preset: resolved.preset },
        pipeline: stored?.pipeline ?? null,
        decoder: stored?.decoder ?? stored?.pipeline?.decoder ?? null,
        references: references.provenance,
      },
      samplesFile: { path: file.path, tornLine: file.tornLine },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    file.close();
  }
}

/** What the sample loops share with the runner. */
interface Session {
  pending: Pending[];
  signal: AbortSignal | undefined;
  strict: boolean;
  emit(event: EvalProgress): void;
  /** Samples of this run done so far, counting those inside a batch. */
  progress(done: number): void;
  /** Writes a sample's row (with `strict`, a failure stops the run instead); `progress` is the loop's to report. */
  record(outcome: Outcome<unknown>, p: Pending, ms: number): void;
  /** What ran, as last stored in the samples file. */
  provenance: StoredProvenance | null;
  /** Keeps what ran in the samples file when it is new there. */
  storeProvenance(provenance: StoredProvenance): void;
}

/** One pipeline run per sample. A run that fails is a failed row (the run goes on), unless aborted or strict. */
async function runVideo(evaluator: Extract<Evaluator, { input: 'video' }>, pipeline: Pipeline, session: Session): Promise<void> {
  const { signal } = session;
  for (const [i, p] of session.pending.entries()) {
    signal?.throwIfAborted();
    const t = performance.now();
    const video = p.sample.video!;
    let outcome: Outcome<unknown>;
    try {
      const result = await pipeline.run(video.kind === 'frames' ? { frames: video.path, fps: video.fps! } : video.path, {
        start: video.start,
        end: video.end,
        signal,
        onProgress: (event) => session.emit({ type: 'pipeline', id: p.sample.id, event }),
      });
      outcome = evaluator.hypothesis(result);
      const { features: _features, ...ran } = result.provenance;
      session.storeProvenance({ pipeline: ran });
    } catch (err) {
      if (signal?.aborted || session.strict) throw err;
      outcome = { failure: describeError(err) };
    }
    session.record(outcome, p, performance.now() - t);
    session.progress(i + 1);
  }
}

/** The decoder on the oracle pseudo-glosses, in batches of a few rounds of `parallel` sequences; rows land as each batch ends. */
async function runDecoder(evaluator: Extract<Evaluator, { input: 'pseudogloss' }>, decoder: GlossDecoder, parallel: number, session: Session): Promise<void> {
  const { pending, signal } = session;
  session.storeProvenance({ decoder: decoder.provenance });
  const size = 4 * parallel;
  for (let i = 0; i < pending.length; i += size) {
    signal?.throwIfAborted();
    const batch = pending.slice(i, i + size);
    const outputs = await decoder.translateMany(
      batch.map((p) => p.gloss),
      { signal, onProgress: (e) => session.progress(i + e.done) },
    );
    outputs.forEach((output, k) => session.record(evaluator.hypothesis(output, batch[k].gloss), batch[k], output.totalMs));
  }
}

/** Where a stage's hypotheses come from, loaded: a pipeline, or a decoder; `dispose` releases it. */
type Machinery = ({ kind: 'pipeline'; pipeline: Pipeline } | { kind: 'decoder'; decoder: GlossDecoder; parallel: number }) & { dispose(): Promise<void> };

/** The pipeline (loaded, its stages checked against each other) or the decoder a stage runs. */
async function load(
  evaluator: Evaluator,
  resolved: ResolvedPipelineConfig | null,
  runConfig: PipelineConfig | null,
  decoderConfig: DecoderStageConfig | null,
  threads: number | undefined,
): Promise<Machinery> {
  // Imported here: a run that resumes everything never pays for ONNX Runtime, transformers.js or node-llama-cpp.
  if (evaluator.input === 'pseudogloss') {
    const { EnglishStage } = await import('../pipeline/english.js');
    const stage = new EnglishStage(decoderConfig!, resolved ? `${configLabel(resolved)}: /decoder` : undefined);
    try {
      return { kind: 'decoder', decoder: await stage.load(), parallel: decoderConfig!.parallel ?? 1, dispose: () => stage.dispose() };
    } catch (err) {
      await stage.dispose();
      throw err;
    }
  }
  // The user's config as this stage runs it: errors and provenance name the user's file and preset.
  const { createPipeline } = await import('../pipeline/pipeline.js');
  const pipeline = await createPipeline({ ...resolved!, config: runConfig! }, { threads });
  try {
    await pipeline.load();
  } catch (err) {
    await pipeline.dispose();
    throw err;
  }
  return { kind: 'pipeline', pipeline, dispose: () => pipeline.dispose() };
}
