/**
 * Evaluation datasets: an annotation file — or a dataset folder in which the split's file is found — read into
 * samples with their references and where their frames are on disk.
 *
 * Annotations are read by pseudogloss/corpora.ts (the corpora's own formats) or src/eval/datasets/manifest.ts
 * (signweave's `jsonl` manifest). Videos are looked for under `videos` (default: the annotation file's folder):
 * - how2sign, realigned CSV: `<VIDEO_NAME>.mp4` with the sentence's START/END range, else the sentence clip
 *   `<SENTENCE_NAME>.mp4` as a whole file; Uni-Sign JSONL (How2Sign, OpenASL): `video_path`, a whole clip;
 * - csl-daily: `video_path`, else a frame folder `<name>/`;
 * - phoenix2014t: the frame folder of the corpus's video column (`<name>/*.png` or `<name>/1/*.png`), under
 *   `<videos>/<split>/` or `<videos>/`;
 * - chicagofswild: the frame folder `<videos>/<path>/`;
 * - jsonl: the line's `video`, a file or a frame folder, relative to `videos` or the manifest's folder.
 * Files must be regular files and frame folders must hold images (src/video listFrameFolder); a sample whose frames
 * are not there gets `video: null` and `missing` (the paths looked for), never an exception.
 *
 * Frame rates of frame folders (`fps` overrides): PHOENIX-2014T 25 (its release's rate); CSL-Daily 30 (its recording
 * rate); ChicagoFSWild 30 — its clips come from web videos at varying rates (mostly about 30 fps) and the label list
 * gives none, so its times are nominal; jsonl: the line's `fps`, else `fps`, else the line is an error.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readCorpus, resolveDataset, type CorpusSentence, type DatasetName } from '../../pseudogloss/corpora.js';
import { SignweaveInputError } from '../errors.js';
import { listFrameFolder } from '../video/probe.js';
import { readManifest, type ManifestEntry } from './datasets/manifest.js';
import { EVAL_DATASETS, type DatasetProblem, type EvalDataset, type EvalDatasetName, type EvalSample, type SampleVideo } from './types.js';

export { EVAL_MANIFEST_SCHEMA, EVAL_MANIFEST_SCHEMA_ID } from './datasets/manifest.js';

export interface LoadEvalDatasetOptions {
  /** The annotation file, or a dataset folder holding the split's file (in it or one folder down). */
  data: string;
  /** Where videos and frame folders are looked for; the annotation file's folder by default. */
  videos?: string;
  /** Which split's file a dataset folder gives (default `test`); a file's split is read from its name when absent. */
  split?: string;
  /** Only the first `limit` samples (problems are still those of the whole file). */
  limit?: number;
  /** Stop at the first bad line instead of reporting and skipping it. */
  strict?: boolean;
  /** Frame rate of frame folders (see the defaults above). */
  fps?: number;
}

/** The file names a split has in each dataset's real layouts, and where else below the folder they sit. */
const SPLIT_FILES: Record<EvalDatasetName, { names: (split: string) => string[]; below?: string[] }> = {
  how2sign: { names: (s) => [`how2sign_realigned_${s}.csv`, `labels.${s}.jsonl`] },
  phoenix2014t: { names: (s) => [`PHOENIX-2014-T.${s}.corpus.csv`], below: ['annotations/manual', 'PHOENIX-2014-T/annotations/manual'] },
  chicagofswild: { names: (s) => [`${s}.csv`, `ChicagoFSWild_and_Plus_${s}_merged.csv`] },
  openasl: { names: (s) => [`labels.${s}.jsonl`] },
  'csl-daily': { names: (s) => [`labels.${s}.jsonl`] },
  jsonl: { names: (s) => [`${s}.jsonl`] },
};

const FRAME_FOLDER_FPS = { phoenix2014t: 25, 'csl-daily': 30, chicagofswild: 30 } as const;

const isFile = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

function subfolders(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => join(folder, name));
}

/** The split's annotation file in a dataset folder: each known name in the folder, its known places, its subfolders. */
function findSplitFile(name: EvalDatasetName, folder: string, split: string): string {
  const { names, below = [] } = SPLIT_FILES[name];
  const folders = [folder, ...below.map((b) => join(folder, b)), ...subfolders(folder)];
  for (const wanted of names(split)) {
    for (const dir of folders) if (isFile(join(dir, wanted))) return join(dir, wanted);
  }
  const places = [folder, ...below.map((b) => join(folder, b) + '/')].join(', ');
  throw new SignweaveInputError(`no ${split} split of ${name} in ${folder}: looked for ${names(split).join(', ')} in ${places} and its subfolders`);
}

/** The split a file's name says (`PHOENIX-2014-T.dev.corpus.csv` → dev), else its base name. */
function splitOfFile(path: string): string {
  const stem = basename(path, extname(path));
  return /(?:^|[._-])(train|dev|val|test)(?:[._-]|$)/.exec(stem)?.[1] ?? stem;
}

function checkOptions(name: string, options: LoadEvalDatasetOptions): asserts name is EvalDatasetName {
  if (!(EVAL_DATASETS as readonly string[]).includes(name)) throw new SignweaveInputError(`unknown dataset "${name}"; known: ${EVAL_DATASETS.join(', ')}`);
  const { limit, fps, split } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new SignweaveInputError(`limit must be a whole number ≥ 1, got ${limit}`);
  if (fps !== undefined && !(Number.isFinite(fps) && fps > 0)) throw new SignweaveInputError(`fps must be a positive number, got ${fps}`);
  if (split !== undefined && !/^[\w.-]+$/.test(split)) throw new SignweaveInputError(`split must be a name such as test, dev or train, got "${split}"`);
}

/** Where one sample's frames may be, in order of preference. */
type Candidates = SampleVideo[];

/** A time range's fields, only those given (samples compare and serialise without undefined fields). */
const range = (start?: number, end?: number) => ({ ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
const file = (path: string, start?: number, end?: number): SampleVideo => ({ kind: 'file', path, ...range(start, end) });

function corpusCandidates(reader: DatasetName, s: CorpusSentence, videos: string, split: string, fps: number | undefined): Candidates {
  const at = (rel: string): string => resolve(videos, rel);
  switch (reader) {
    case 'how2sign':
      return [...(s.video ? [file(at(`${s.video}.mp4`), s.start, s.end)] : []), file(at(`${s.id}.mp4`))];
    case 'csl-daily':
      return [file(at(s.video ?? `${s.id}.mp4`)), { kind: 'frames', path: at(s.id), fps: fps ?? FRAME_FOLDER_FPS['csl-daily'] }];
    case 'phoenix2014t': {
      // The video column names the frames (`<name>/1/*.png`): its folder is what is looked for.
      const dir = (s.video || s.id).replace(/\/[^/]*[*?][^/]*$/, '');
      const frames = fps ?? FRAME_FOLDER_FPS.phoenix2014t;
      return [{ kind: 'frames', path: at(join(split, dir)), fps: frames }, { kind: 'frames', path: at(dir), fps: frames }];
    }
    case 'chicagofswild':
      return [{ kind: 'frames', path: at(s.id), fps: fps ?? FRAME_FOLDER_FPS.chicagofswild }];
    default:
      return [file(at(s.video ?? `${s.id}.mp4`))];
  }
}

/** The first candidate on disk: a regular file, or a folder holding images of one type. */
async function locate(candidates: Candidates): Promise<Pick<EvalSample, 'video' | 'missing'>> {
  for (const c of candidates) {
    if (c.kind === 'file' && isFile(c.path)) return { video: c };
    if (c.kind === 'frames') {
      const found = await listFrameFolder(c.path).then(
        () => true,
        (err: unknown) => {
          if (err instanceof SignweaveInputError) return false;
          throw err;
        },
      );
      if (found) return { video: c };
    }
  }
  return { video: null, missing: candidates.map((c) => c.path).join(' or ') };
}

/** A manifest line's video: a frame folder (which needs a frame rate) or a file, resolved against `videos`. */
function manifestCandidates(e: ManifestEntry, videos: string, fps: number | undefined): Candidates | string {
  const path = resolve(videos, e.video);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return [file(path, e.start, e.end)];
  const rate = e.fps ?? fps;
  if (rate === undefined) return `/video: ${JSON.stringify(e.video)} is a frame folder: give its frame rate in "fps" (or the fps option)`;
  return [{ kind: 'frames', path, fps: rate, ...range(e.start, e.end) }];
}

/**
 * Reads an evaluation dataset. Unreadable lines are in `problems` with their line numbers (with `strict`, the first
 * is thrown as `file:line: message`); samples whose video is not on disk have `video: null` and `missing`.
 */
export async function loadEvalDataset(name: EvalDatasetName, options: LoadEvalDatasetOptions): Promise<EvalDataset> {
  checkOptions(name, options);
  const data = resolve(options.data);
  const stat = statSync(data, { throwIfNoEntry: false });
  if (!stat) throw new SignweaveInputError(`cannot read ${name} data ${options.data}: no such file or folder`);
  const path = stat.isDirectory() ? findSplitFile(name, data, options.split ?? 'test') : data;
  const split = options.split ?? (stat.isDirectory() ? 'test' : name === 'jsonl' ? basename(path, extname(path)) : splitOfFile(path));
  const videos = resolve(options.videos ?? dirname(path));
  if (options.videos !== undefined && !statSync(videos, { throwIfNoEntry: false })?.isDirectory()) {
    throw new SignweaveInputError(`videos folder ${options.videos} does not exist or is not a folder`);
  }

  const problems: DatasetProblem[] = [];
  const report = (line: number, message: string): void => {
    if (options.strict) throw new SignweaveInputError(`${path}:${line}: ${message}`);
    problems.push({ line, message });
  };
  const samples: EvalSample[] = [];
  let manifest: EvalDataset['manifest'];
  let anyRelative = true;

  if (name === 'jsonl') {
    const read = readManifest(path, report);
    manifest = { path, sha256: read.sha256 };
    anyRelative = read.entries.some((e) => !isAbsolute(e.video));
    for (const e of read.entries.slice(0, options.limit)) {
      const candidates = manifestCandidates(e, videos, options.fps);
      if (typeof candidates === 'string') {
        report(e.line, candidates);
        continue;
      }
      const { id, line, text, language, gloss, letters, routing } = e;
      samples.push({ id, line, text, language, ...(gloss ? { gloss } : {}), ...(letters ? { letters } : {}), ...(routing ? { routing } : {}), ...(await locate(candidates)) });
    }
  } else {
    const reader = resolveDataset(name, path);
    const corpus = readCorpus(path, reader, { strict: options.strict });
    manifest = { path, sha256: corpus.sha256 };
    problems.push(...corpus.problems);
    for (const s of corpus.sentences.slice(0, options.limit)) {
      const { id, line, text, language, gloss } = s;
      const candidates = corpusCandidates(reader, s, videos, split, options.fps);
      samples.push({ id, line, text, language, ...(gloss ? { gloss } : {}), ...(name === 'chicagofswild' ? { letters: text } : {}), ...(await locate(candidates)) });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { name, split, manifest, videos: anyRelative ? videos : null, samples, problems };
}
