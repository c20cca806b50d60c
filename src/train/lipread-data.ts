/**
 * Lipreading training data (`signweave train lipread --data <dir>`): Stage-1 records (`targets.jsonl` from
 * `signweave pseudogloss --out`, its `phonemes` stream) and one lip-crop video per record, `<lips>/<id>.<ext>` (any
 * container ffmpeg reads), as `signweave landmarks <video> --start s --end e --lips-out <lips>/<id>.mp4` writes it:
 * the whole file is the record's mouth crops.
 *
 * Each video is decoded by ffmpeg at the network's crop size (resized when it has another), reduced to luma when the
 * network reads one channel (BT.601, as the runtime's lip cropper does) and normalised with the mean and std the
 * trained bundle declares (`lipCropNormalisation`), by the lipreading expert's own `normalizeLipCrops`. Black frames
 * are the frames `--lips-out` wrote without a face: they become the zeros the runtime gives faceless frames.
 *
 * Targets: the 39 ARPAbet phonemes of the lipreading expert's vocabulary (`LIPREAD_VOCAB`), lower-case without stress
 * as Stage 1 writes them; CMUdict-style tokens (`AH0`) are mapped to the base phoneme. A record is skipped, with the
 * reason, when it has no phonemes, a phoneme outside the vocabulary, no lip video (or several), a video ffmpeg cannot
 * decode, or too few frames for a CTC alignment at T′ = ⌈T / stride⌉ output frames.
 *
 * The clips are held in memory as float32: T · size² · channels · 4 bytes each (4 KiB per frame at 32 × 32 luma).
 */
import { availableParallelism } from 'node:os';
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { LIPREAD_VOCAB, LIPS_INPUT, lipCropNormalisation } from '../experts/lipread/model.js';
import { normalizeLipCrops } from '../experts/lipread/index.js';
import { outputFrames } from '../experts/shared.js';
import { resampleSquare } from '../landmarks/lips.js';
import { decodeVideo } from '../video/decode.js';
import { TrainingSet, labelVocab, noTrainingItem, readTargetRecords, type SkippedItem, type TrainingItem } from './data.js';
import { ctcMinFrames } from './loss.js';


/** A frame whose every value is at most this is one `--lips-out` wrote without a face (black, after H.264). */
const BLACK_LEVEL = 8;

/** A phoneme as the lipreading vocabulary spells it: CMUdict's stress digit dropped, lower-case (`AH0` → `ah`). */
export function lipreadPhoneme(token: string): string {
  return token.replace(/[0-2]$/, '').toLowerCase();
}

export interface LipreadDataOptions {
  /** targets.jsonl (Stage-1 records with `phonemes`). */
  targets: string;
  /** Folder of the lip videos, one `<id>.<ext>` per record. */
  lips: string;
  /** Crop side, channels and temporal stride of the network. */
  size: number;
  channels: 1 | 3;
  stride: number;
  /** Videos decoded at once (default: up to 4, at most the machine's cores). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each record with how many are done. */
  onProgress?: (done: number, total: number) => void;
}

export interface LipreadData {
  set: TrainingSet;
  /** Frames of the clips trained on, and how many of them were black (no face). */
  frames: number;
  facelessFrames: number;
}

/** Lip videos in `dir` by file name without extension (hidden files, such as unfinished writes, left out). */
function lipVideos(dir: string): Map<string, string[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new SignweaveInputError(`cannot read the lip video folder ${dir}: ${(err as Error).message}`);
  }
  const byId = new Map<string, string[]>();
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const id = name.slice(0, name.length - extname(name).length);
    byId.set(id, [...(byId.get(id) ?? []), join(dir, name)]);
  }
  return byId;
}

/** A lip video's frames as `size × size × channels` bytes, and which are black. */
async function readLipVideo(path: string, size: number, channels: 1 | 3, signal: AbortSignal | undefined): Promise<{ data: Uint8Array; frames: number; missing: boolean[] }> {
  const crops: Uint8Array[] = [];
  const missing: boolean[] = [];
  const whole = { x: 0, y: 0, size };
  for await (const frame of decodeVideo(path, { width: size, height: size, signal })) {
    crops.push(channels === 3 ? frame.data : resampleSquare(frame, whole, size, true));
    missing.push(frame.data.every((v) => v <= BLACK_LEVEL));
  }
  const frameSize = size * size * channels;
  const data = new Uint8Array(crops.length * frameSize);
  crops.forEach((c, t) => data.set(c, t * frameSize));
  return { data, frames: crops.length, missing };
}

/** The lipreading training set of `targets` and the lip videos in `lips`. */
export async function lipreadTrainingSet(options: LipreadDataOptions): Promise<LipreadData> {
  const { size, channels, stride, signal } = options;
  const vocab = labelVocab(LIPREAD_VOCAB, "the lipreading expert's phonemes (39 ARPAbet phonemes)");
  const input = { type: 'lip-crops' as const, name: LIPS_INPUT, size, channels, ...lipCropNormalisation(channels) };
  const records = readTargetRecords(options.targets, 'phonemes');
  const videos = lipVideos(options.lips);
  const results: (TrainingItem | SkippedItem)[] = new Array(records.length);
  let frames = 0;
  let facelessFrames = 0;
  let done = 0;

  const read = async (i: number): Promise<TrainingItem | SkippedItem> => {
    const record = records[i];
    const skip = (reason: string): SkippedItem => ({ id: record.id, where: record.where, reason });
    const target = vocab.ids(record.tokens.map(lipreadPhoneme), new Map());
    if (typeof target === 'string') return skip(target);
    if (target.length === 0) return skip('no phonemes target');
    const found = videos.get(record.id) ?? [];
    if (found.length !== 1) return skip(found.length === 0 ? `no lip video ${join(options.lips, `${record.id}.*`)}` : `${found.length} lip videos for one record: ${found.join(', ')}`);
    let clip: Awaited<ReturnType<typeof readLipVideo>>;
    try {
      clip = await readLipVideo(found[0], size, channels, signal);
    } catch (err) {
      // A broken file is one record's problem; an interrupt or a bug is not.
      if (err instanceof SignweaveInputError && !signal?.aborted) return skip(err.message);
      throw err;
    }
    const need = ctcMinFrames(target);
    const outputs = outputFrames(clip.frames, stride);
    if (outputs < need) return skip(`${clip.frames} frames give ${outputs} output frames at stride ${stride}, too few for a CTC alignment of ${target.length} phonemes (needs ${need})`);
    const { tensor, missingFrames } = normalizeLipCrops({ ...clip, fps: 1 }, input, found[0]);
    frames += clip.frames;
    facelessFrames += missingFrames.length;
    return { id: record.id, input: { data: tensor.data, shape: [clip.frames, size * size * channels] }, target };
  };

  // Each video is its own short ffmpeg run: a few at once hide its start-up. The first error stops every worker.
  let next = 0;
  let failed = false;
  const concurrency = options.concurrency ?? Math.min(4, availableParallelism());
  await Promise.all(
    Array.from({ length: Math.min(concurrency, records.length) }, async () => {
      while (next < records.length && !failed) {
        const i = next++;
        try {
          results[i] = await read(i);
        } catch (err) {
          failed = true;
          throw err;
        }
        options.onProgress?.(++done, records.length);
      }
    }),
  );
  const items = results.filter((r): r is TrainingItem => 'input' in r);
  const skipped = results.filter((r): r is SkippedItem => !('input' in r));
  if (items.length === 0) throw noTrainingItem(`${options.targets} and the lip videos in ${options.lips}`, `${records.length} targets`, skipped);
  return { set: TrainingSet.fromArrays(items, { vocab: LIPREAD_VOCAB, skipped }), frames, facelessFrames };
}
