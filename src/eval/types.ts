/**
 * The evaluation contract: datasets as validated manifests of samples (a video and its time range, the references),
 * the stages `signweave eval` scores, and the rows and report it writes. Readers live in src/eval/datasets, the
 * stage evaluators and the resumable runner in src/eval/run.ts.
 */
import type { Language } from '../../pseudogloss/corpora.js';
import type { GlossProvenance } from '../../pseudogloss/types.js';

/** What `signweave eval <stage>` scores. */
export const EVAL_STAGES = ['sign', 'fingerspell', 'lipread', 'router', 'fusion', 'decoder', 'pipeline'] as const;
export type EvalStage = (typeof EVAL_STAGES)[number];

/** The `--dataset` names; `jsonl` is signweave's own manifest format (documented in the README). */
export const EVAL_DATASETS = ['how2sign', 'phoenix2014t', 'chicagofswild', 'openasl', 'csl-daily', 'jsonl'] as const;
export type EvalDatasetName = (typeof EVAL_DATASETS)[number];

/** Where a sample's frames are: a video file (any ffmpeg format) or a folder of numbered images at `fps`. */
export interface SampleVideo {
  kind: 'file' | 'frames';
  /** Absolute path. */
  path: string;
  /** The sample's range, seconds from the start of the file (whole file when absent). */
  start?: number;
  end?: number;
  /** Frame folders: their frame rate (the dataset's, e.g. 25 for PHOENIX-2014T). */
  fps?: number;
}

/** A labelled stretch of a sample for routing accuracy, seconds from the start of the file. */
export interface RoutingLabel {
  label: 'sign' | 'fingerspell';
  start: number;
  end: number;
}

export interface EvalSample {
  /** The dataset's own id (How2Sign SENTENCE_NAME, PHOENIX name, ChicagoFSWild path, …). */
  id: string;
  /** 1-based line of the sample in the manifest file. */
  line: number;
  /** The reference translation (ChicagoFSWild: the fingerspelled word(s)). */
  text: string;
  language: Language;
  /** The corpus's own glosses (PHOENIX-2014T `orth`, CSL-Daily). */
  gloss?: string[];
  /** Fingerspelling reference, as the dataset writes it (ChicagoFSWild label), when the sample is fingerspelling. */
  letters?: string;
  /** Explicit routing labels (jsonl manifests); else routing references are derived (see src/eval/references.ts). */
  routing?: RoutingLabel[];
  /** The frames, or null when they are not on disk: `missing` says which path was looked for. */
  video: SampleVideo | null;
  missing?: string;
}

export interface DatasetProblem {
  line: number;
  message: string;
}

export interface EvalDataset {
  name: EvalDatasetName;
  /** e.g. `test`; `jsonl` manifests: the file's base name. */
  split: string;
  manifest: { path: string; sha256: string };
  /** Where video paths were resolved, or null for manifests with absolute paths only. */
  videos: string | null;
  samples: EvalSample[];
  /** Lines that could not be read (skipped, or fatal with `strict`). */
  problems: DatasetProblem[];
}

/** What kind of signing a sample holds, for per-class scores: fingerspelling only, signs only, or both. */
export type SampleClass = 'sign' | 'fingerspell' | 'mixed';

/** The reference of every stage for one sample (made by src/eval/references.ts). */
export interface SampleReferences {
  /** Stage-1 pseudo-gloss of the English text (PHOENIX-2014T, CSL-Daily: the corpus's own glosses). */
  pseudogloss: string[];
  /** ARPAbet phonemes of the pseudo-gloss, flattened (the lipreading target); empty when not English. */
  phonemes: string[];
  /** Fingerspelled letters in FINGERSPELLING_ALPHABET: the sample's `letters`, else the detected spans' letters joined by spaces, else ''. */
  letters: string;
  /** Explicit labels, or the whole range as fingerspelling for a fingerspelling sample whose video is on disk; else null. */
  routing: RoutingLabel[] | null;
  sampleClass: SampleClass;
  /** The reference translation, in the sample's language (German for PHOENIX-2014T, Chinese for CSL-Daily). */
  english: string;
  /** How this sample's targets were made (an LLM glosser may fall back to rules sentence by sentence). */
  provenance: { gloss: GlossProvenance; phonemes: string; fingerspell: string };
}
