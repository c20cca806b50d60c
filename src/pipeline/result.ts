/**
 * What `Pipeline.run` reports as it goes and returns: the streams, routing, fusion, fused pseudo-gloss, English,
 * timings, provenance; and what `Pipeline.translateGloss` returns.
 */
import type { BackboneInfo } from '../backbone/types.js';
import type { FusionVariant } from '../bundles/fusion.js';
import type { BundleRef } from '../bundles/loader.js';
import type { DecoderOutput, DecoderProvenance } from '../decoder/types.js';
import type { ExpertKind, ExpertResult } from '../experts/shared.js';
import type { LandmarkTask } from '../landmarks/index.js';
import type { Sequence, TimedToken } from '../types.js';
import type { VideoInfo } from '../video/probe.js';
import type { PresetName } from './presets.js';

/**
 * Progress, one event per step of a stage. The backbone and landmark branches run at the same time, so their events
 * interleave; `total` of the frame stages is estimated from the container until the stage ends.
 */
export type PipelineProgress =
  /** Frames decoded for the backbone. */
  | { stage: 'decode'; done: number; total: number }
  /** Frames embedded; `cached`: the features came from the feature cache at once. */
  | { stage: 'backbone'; done: number; total: number; cached: boolean }
  /** Frames through MediaPipe, and how many of them had a face. */
  | { stage: 'landmarks'; done: number; total: number; faces: number }
  /** Experts finished, `expert` the one that just did. */
  | { stage: 'experts'; done: number; total: number; expert: ExpertKind }
  /** Segments routed. */
  | { stage: 'router'; done: number; total: number }
  /** The fusion network run and its output decoded. */
  | { stage: 'fusion'; done: number; total: number }
  /** English tokens generated; `total` is the token budget (`maxTokens`) until generation ends, then the tokens made. */
  | { stage: 'decoder'; done: number; total: number };

export type PipelineStage = PipelineProgress['stage'];

/** One router decision: a segment of the streams' frames, the class chosen and the probability of each class. */
export interface RouterSegment {
  label: string;
  probs: Record<string, number>;
  /** probs[label]. */
  confidence: number;
  /** Seconds from the start of the video file. */
  start: number;
  end: number;
  /** Rows of the manual streams, inclusive. */
  startFrame: number;
  endFrame: number;
}

/**
 * The English decoder's output (src/decoder: pseudo-gloss → English with a LLaMA model, SignBind-LLM's last stage).
 * A failed generation is an output too: `text` null, `failure` and `message` say why.
 */
export interface EnglishTranslation extends DecoderOutput {
  /** The pseudo-gloss it was made from, as given (`fused.text` in a pipeline run); `gloss` is it whitespace-normalised. */
  pseudoGloss: string;
}

/** Milliseconds per stage. The backbone and landmark branches (each with the experts that read it) overlap in time. */
export interface PipelineTimings {
  /** Loading the stages (first run only; 0 afterwards). */
  load: number;
  /** Decoding, preprocessing and embedding (ffmpeg decodes while the backbone runs), or reading the feature cache. */
  backbone: number;
  /** Decoding, MediaPipe face landmarks and lip crops; null without the lipreading expert. */
  landmarks: number | null;
  /** Each expert: its network and CTC decoding. */
  sign: number;
  fingerspell: number | null;
  lipread: number | null;
  router: number | null;
  /** The fusion network and the decoding of its pseudo-gloss. */
  fusion: number | null;
  /** Generating the English; null without a decoder. */
  decoder: number | null;
  /** The whole run, wall clock. */
  total: number;
}

export interface PipelineProvenance {
  signweave: string;
  onnxRuntime: string;
  config: { path: string | null; sha256: string | null; preset: PresetName | null };
  /** Each bundle that ran, with the folder it was read from. */
  bundles: Partial<Record<'sign' | 'fingerspell' | 'lipread' | 'router' | 'fusion', BundleRef & { dir: string }>>;
  backbone: Pick<BackboneInfo, 'kind' | 'source' | 'sha256' | 'runtime' | 'dim'>;
  /** Where the features came from: computed (`off`, or `stored` in the cache) or read back (`hit`). */
  features: { cache: 'off' | 'hit' | 'stored'; key?: string };
  /** The landmark extractor; null when no landmarks ran. */
  landmarks: {
    extractor: string;
    tasksVision: string;
    chromium: string;
    models: Partial<Record<LandmarkTask, { path: string; sha256: string }>>;
  } | null;
  /** True when any bundle's weights are not trained (`random` or `synthetic`): then the outputs are meaningless. */
  untrained: boolean;
  /** The names of those bundles. */
  untrainedBundles: string[];
  /** The English decoder's model, LoRA adapters, prompt, sampling and runtime; null without a decoder. */
  decoder: DecoderProvenance | null;
}

export interface PipelineResult {
  video: {
    path: string;
    info: VideoInfo;
    /** Seconds from the start of the file: the first analysed frame's time, and the end of the last one. */
    start: number;
    end: number;
    /** Frames analysed (rows of the manual streams): every `stride`-th decoded frame. */
    frames: number;
    stride: number;
    /** Rows per second of the manual streams. */
    fps: number;
  };
  /**
   * Each expert's output. Token times are seconds from the start of the video file. The lipreading expert's
   * `missingFrames` are the indices (among the decoded frames of the range) of frames without a face, fed as zeros.
   */
  streams: {
    sign: ExpertResult<'sign'>;
    fingerspell?: ExpertResult<'fingerspell'>;
    lipread?: ExpertResult<'lipread'> & { missingFrames: number[] };
  };
  /** The router's decision per segment; null without a router. */
  router: { classes: string[]; decisions: RouterSegment[] } | null;
  /**
   * Fusion: the variant, the lip gate's mean per frame (the manual stream's share; null for ungated fusions and
   * without lips), the router weights per frame as applied (`[T, 3]`: sign, fingerspell, rest) and the pseudo-gloss
   * logits `[T, V]`. Null without fusion.
   */
  fusion: { variant: FusionVariant | null; gate: number[] | null; routerWeights: Sequence; logits: Sequence } | null;
  /** The pseudo-gloss: fusion's output, or the sign expert's without fusion. Times in seconds from the start of the file. */
  fused: { source: 'fusion' | 'sign'; tokens: TimedToken[]; text: string };
  /** The English of `fused.text`; null when the config has no decoder. */
  english: EnglishTranslation | null;
  timings: PipelineTimings;
  provenance: PipelineProvenance;
}

/** What `Pipeline.translateGloss` returns: the decoder alone on a given pseudo-gloss. */
export interface GlossTranslationResult {
  english: EnglishTranslation;
  /** Milliseconds: loading the decoder (first use only; 0 afterwards), generating, and in all. */
  timings: { load: number; decoder: number; total: number };
  /** `config` is null for a decoder made without a pipeline config (`--model`). */
  provenance: { signweave: string; config: PipelineProvenance['config'] | null; decoder: DecoderProvenance };
}

/**
 * The result as JSON: typed arrays become arrays, and each token stream's `logits` is left out (it is the same value
 * as its expert's `logits`).
 */
export function pipelineResultJson(result: PipelineResult, indent = 2): string {
  return JSON.stringify(
    result,
    function (this: unknown, key: string, value: unknown) {
      if (key === 'logits' && typeof this === 'object' && this !== null && 'tokens' in this) return undefined;
      return value instanceof Float32Array ? Array.from(value) : value;
    },
    indent,
  );
}
