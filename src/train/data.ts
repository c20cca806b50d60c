/**
 * Training data: input sequences `[T, D]` paired with CTC target ids, shuffled per epoch from a seed and cut into
 * padded batches.
 *
 * Sources: the backbone feature cache (src/backbone/cache.ts) matched against Stage-1 targets (`signweave pseudogloss
 * --out targets.jsonl` and its `targets.vocab.<stream>.txt`), or arrays in memory (simulated data, tests). The router's
 * labelled segments (router-data.ts) are matched with the cache by the same records and rules (`itemsFromCache`);
 * the lipreading expert's lip videos are read in lipread-data.ts. docs/training-data.md describes the files.
 *
 * Items that cannot be trained on are never dropped silently: `TrainingSet.skipped` lists each with its reason (no
 * cached features, several candidate entries, an invalid cache entry, an empty target, a target too long for CTC to
 * align in T frames, a token outside the vocabulary).
 *
 * Unknown target tokens: when the vocabulary has an `<unk>` entry they become its id (and are counted in
 * `unknownTokens`); otherwise the item is skipped with the token named. The vocabulary files `signweave pseudogloss`
 * writes hold every token of the corpus they were built from, so only targets of another corpus (a dev split against
 * the train vocabulary) can meet unknown tokens.
 *
 * Order: epoch e's order depends only on (seed, e), so `batches({ from })` resumes a run exactly. With `bucket` the
 * shuffled items are taken `bucket` batches at a time, sorted by length inside that pool and cut into batches, and the
 * batches' order is shuffled again: each batch holds similar lengths (less padding) and the epoch stays random.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FeatureCache, FEATURE_CACHE_FORMAT, type FeatureKeyParts } from '../backbone/cache.js';
import { SignweaveInputError } from '../errors.js';
import { ctcMinFrames } from './loss.js';
import { mulberry32 } from '../util/random.js';
import { readLines } from '../util/text-files.js';
import { CTC_BLANK, parseVocabFile } from '../vocab.js';
import type { VideoSource } from '../video/probe.js';

/** Row-major `[T, D]` features; a `Sequence` (src/types.ts) fits. */
export interface TrainingInput {
  data: Float32Array;
  shape: [number, number];
  fps?: number;
}

export interface TrainingItem {
  id: string;
  input: TrainingInput;
  /** Label ids (the CTC blank is never one of them). */
  target: number[];
  /** One class per frame (e.g. the router's sign / fingerspell / rest), where the data has them. */
  frameLabels?: Int32Array;
}

/** Which Stage-1 target a training set is made of (and which `targets.vocab.<stream>.txt` indexes it). */
export type TargetStream = 'gloss' | 'phonemes' | 'letters';

export interface SkippedItem {
  id: string;
  /** Where the item came from, e.g. `targets.jsonl:12`. */
  where?: string;
  reason: string;
}

/** Where a run stands in the data: batch `step` (0-based, within the epoch) of epoch `epoch` is next. */
export interface DataPosition {
  epoch: number;
  step: number;
}

export interface Batch {
  /** `[B, Tmax, D]`, zero after each sequence's end. */
  inputs: Float32Array;
  /** `[B, Tmax]`: 1 on real frames, 0 on padding. */
  mask: Float32Array;
  shape: [number, number, number];
  lengths: number[];
  targets: number[][];
  ids: string[];
  /** `[B, Tmax]`, -1 on padding; present when every item has frame labels. */
  frameLabels?: Int32Array;
  epoch: number;
  step: number;
  /** The position after this batch: what a checkpoint written after training on it stores. */
  next: DataPosition;
}

export interface BatchOptions {
  batchSize: number;
  seed: number;
  /** Default true; false keeps the set's order every epoch. */
  shuffle?: boolean;
  /** Drop the epoch's last, incomplete batch (default false). */
  dropLast?: boolean;
  /** Sort by length within pools of this many batches (default 0: no bucketing). */
  bucket?: number;
}

/** A seed for epoch e drawn from (seed, e) alone. */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0;
}

function shuffleInPlace<T>(array: T[], random: () => number): T[] {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}

function checkBatchOptions(o: BatchOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new SignweaveInputError(`batch size must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.seed)) throw new SignweaveInputError(`seed must be an integer, got ${o.seed}`);
  if (o.bucket !== undefined && (!Number.isInteger(o.bucket) || o.bucket < 0)) throw new SignweaveInputError(`bucket must be a whole number of batches, got ${o.bucket}`);
}

export class TrainingSet {
  readonly dim: number;

  private constructor(
    readonly items: readonly TrainingItem[],
    /** Items left out, with why. */
    readonly skipped: readonly SkippedItem[],
    /** Target tokens mapped to `<unk>`, by token. */
    readonly unknownTokens: ReadonlyMap<string, number>,
    /** The label vocabulary, `<blank>` first, when the set was made from a vocab file. */
    readonly vocab?: readonly string[],
  ) {
    this.dim = items[0]?.input.shape[1] ?? 0;
  }

  /**
   * Items held in memory; shapes, targets and frame labels are checked, naming the item. `vocab` (`<blank>` first)
   * sets `vocabSize`; `skipped` lists the items a reader left out.
   */
  static fromArrays(items: readonly TrainingItem[], options: { vocabSize?: number; vocab?: readonly string[]; skipped?: readonly SkippedItem[] } = {}): TrainingSet {
    if (items.length === 0) throw new SignweaveInputError('the training set is empty');
    const vocabSize = options.vocabSize ?? options.vocab?.length;
    const dim = items[0].input.shape[1];
    const ids = new Set<string>();
    for (const [i, item] of items.entries()) {
      const name = `training item ${i} (${item.id})`;
      const [T, D] = item.input.shape;
      if (ids.has(item.id)) throw new SignweaveInputError(`${name}: id already used by an earlier item`);
      ids.add(item.id);
      if (!Number.isInteger(T) || !Number.isInteger(D) || T < 1 || D < 1) throw new SignweaveInputError(`${name}: shape [${T}, ${D}] is not [T ≥ 1, D ≥ 1]`);
      if (D !== dim) throw new SignweaveInputError(`${name}: ${D} features per frame, the first item has ${dim}`);
      if (item.input.data.length !== T * D) throw new SignweaveInputError(`${name}: ${item.input.data.length} values for shape [${T}, ${D}]`);
      const bad = item.target.find((t) => !Number.isInteger(t) || t < 1 || (vocabSize !== undefined && t >= vocabSize));
      if (bad !== undefined) throw new SignweaveInputError(`${name}: target id ${bad} is not a label id (1…${(vocabSize ?? Infinity) - 1}; 0 is the blank)`);
      if (item.frameLabels && item.frameLabels.length !== T) throw new SignweaveInputError(`${name}: ${item.frameLabels.length} frame labels for ${T} frames`);
    }
    return new TrainingSet(items, options.skipped ?? [], new Map(), options.vocab);
  }

  /**
   * Cached features matched with Stage-1 targets. A target record is matched by its `video` (a cached file or frame
   * folder whose path ends with it, extension and image glob aside) or else by its `id` (the cached file's name
   * without extension), and by its time range (`start`/`end` when it has them, else the whole video). Filter by
   * `backboneSha256` and `stride` when the cache holds several versions of a video.
   */
  static fromFeatureCache(options: {
    cacheDir: string;
    targets: string;
    stream: TargetStream;
    /** Default: `<targets without .jsonl>.vocab.<stream>.txt`, as `signweave pseudogloss` writes it. */
    vocab?: string;
    backboneSha256?: string;
    stride?: number;
  }): TrainingSet {
    const vocabPath = options.vocab ?? `${options.targets.replace(/\.jsonl$/i, '')}.vocab.${options.stream}.txt`;
    const vocab = readVocab(vocabPath);
    const unknown = new Map<string, number>();
    const records = readTargetRecords(options.targets, options.stream).map((r) => {
      const target = vocab.ids(r.tokens, unknown);
      if (typeof target === 'string') return { ...r, target: [], problem: target };
      return { ...r, target, ...(target.length === 0 ? { problem: `no ${options.stream} target` } : {}) };
    });
    const { items, skipped } = itemsFromCache(records, options, ({ id, target }, features) => {
      const need = ctcMinFrames(target);
      if (features.shape[0] < need) return `${features.shape[0]} frames cannot hold a CTC alignment of ${target.length} labels (needs ${need})`;
      return { id, input: features, target };
    });
    if (items.length === 0) throw noTrainingItem(`${options.targets} and the cache ${options.cacheDir}`, `${records.length} targets`, skipped);
    return new TrainingSet(items, skipped, unknown, vocab.tokens);
  }

  get size(): number {
    return this.items.length;
  }

  /** sha256 over ids, shapes, targets and frame labels: a run resumes only on the data it was checkpointed with. */
  fingerprint(): string {
    const hash = createHash('sha256');
    for (const item of this.items) {
      hash.update(`${item.id}\0${item.input.shape.join('x')}\0${item.target.join(',')}`);
      if (item.frameLabels) hash.update(`\0${item.frameLabels.join(',')}`);
      hash.update('\n');
    }
    return hash.digest('hex');
  }

  stepsPerEpoch(options: BatchOptions): number {
    checkBatchOptions(options);
    return options.dropLast ? Math.floor(this.size / options.batchSize) : Math.ceil(this.size / options.batchSize);
  }

  /** Item indices of each batch of epoch `epoch`, from (seed, epoch) alone. */
  epochPlan(epoch: number, options: BatchOptions): number[][] {
    checkBatchOptions(options);
    const { batchSize, bucket = 0 } = options;
    const random = mulberry32(epochSeed(options.seed, epoch));
    const order = this.items.map((_, i) => i);
    if (options.shuffle !== false) shuffleInPlace(order, random);
    const full = Math.floor(order.length / batchSize) * batchSize;
    // With dropLast the remainder is the shuffled order's tail, so which items sit out changes every epoch.
    const kept = options.dropLast ? order.slice(0, full) : order;
    const batches: number[][] = [];
    if (bucket > 0) {
      const pool = bucket * batchSize;
      for (let start = 0; start < kept.length; start += pool) {
        const sorted = kept.slice(start, start + pool).sort((a, b) => this.items[a].input.shape[0] - this.items[b].input.shape[0]);
        for (let i = 0; i < sorted.length; i += batchSize) batches.push(sorted.slice(i, i + batchSize));
      }
      if (options.shuffle !== false) shuffleInPlace(batches, random);
    } else {
      for (let i = 0; i < kept.length; i += batchSize) batches.push(kept.slice(i, i + batchSize));
    }
    return batches;
  }

  /** Pads the items at `indices` into one batch. */
  batch(indices: readonly number[], position: { epoch: number; step: number; next: DataPosition }): Batch {
    const chosen = indices.map((i) => this.items[i]);
    const D = this.dim;
    const lengths = chosen.map((item) => item.input.shape[0]);
    const Tmax = Math.max(...lengths);
    const B = chosen.length;
    const inputs = new Float32Array(B * Tmax * D);
    const mask = new Float32Array(B * Tmax);
    const withLabels = chosen.every((item) => item.frameLabels);
    const frameLabels = withLabels ? new Int32Array(B * Tmax).fill(-1) : undefined;
    chosen.forEach((item, b) => {
      inputs.set(item.input.data, b * Tmax * D);
      mask.fill(1, b * Tmax, b * Tmax + lengths[b]);
      if (frameLabels && item.frameLabels) frameLabels.set(item.frameLabels, b * Tmax);
    });
    return {
      inputs,
      mask,
      shape: [B, Tmax, D],
      lengths,
      targets: chosen.map((item) => [...item.target]),
      ids: chosen.map((item) => item.id),
      ...(frameLabels ? { frameLabels } : {}),
      ...position,
    };
  }

  /**
   * Batches from `from` (default epoch 0, step 0) on, for `epochs` epochs counted from epoch 0 (default: without
   * end). Resuming at a checkpoint's `next` position yields exactly the batches an uninterrupted run would have.
   */
  *batches(options: BatchOptions & { from?: DataPosition; epochs?: number }): Generator<Batch> {
    const steps = this.stepsPerEpoch(options);
    if (steps === 0) throw new SignweaveInputError(`${this.size} items make no full batch of ${options.batchSize} (drop-last is on)`);
    const { epoch: startEpoch, step: startStep } = options.from ?? { epoch: 0, step: 0 };
    if (!Number.isInteger(startEpoch) || startEpoch < 0 || !Number.isInteger(startStep) || startStep < 0 || startStep > steps) {
      throw new SignweaveInputError(`data position epoch ${startEpoch}, step ${startStep} is outside the data (${steps} batches per epoch)`);
    }
    for (let epoch = startEpoch; options.epochs === undefined || epoch < options.epochs; epoch++) {
      const plan = this.epochPlan(epoch, options);
      for (let step = epoch === startEpoch ? startStep : 0; step < plan.length; step++) {
        const next = step + 1 < plan.length ? { epoch, step: step + 1 } : { epoch: epoch + 1, step: 0 };
        yield this.batch(plan[step], { epoch, step, next });
      }
    }
  }
}

/**
 * A JSONL record naming cached features: by `video` (a cached file or frame folder whose path ends with it) or else
 * by `id`, and by its time range (`start`/`end` in seconds when it has them, else the whole video).
 */
export interface CachedRecord {
  id: string;
  /** `file:line`, for messages. */
  where: string;
  video?: string;
  start?: number;
  end?: number;
  /** Why the record cannot be trained on, known before its features are looked up (e.g. a token outside the vocabulary). */
  problem?: string;
}

/** A targets.jsonl record with the tokens of one stream. */
export interface TargetRecord extends CachedRecord {
  tokens: string[];
}

/** An input error naming the record's line and one of its fields. */
export function fieldError(where: string, field: string, why: string): SignweaveInputError {
  return new SignweaveInputError(`${where}: field "${field}" ${why}`);
}

/**
 * The records of a JSONL file, one JSON object per line (blank lines skipped), each with a unique non-empty `id`,
 * optional `video`, `start` and `end`, and what `fields` reads from it (`fail(field, why)` throws an input error naming
 * the line and the field). Other fields are ignored. Malformed lines are input errors naming file:line.
 */
export function readJsonlRecords<T extends object>(path: string, fields: (r: Record<string, unknown>, fail: (field: string, why: string) => never) => T): (CachedRecord & T)[] {
  const { lines } = readLines(path);
  const seen = new Map<string, number>();
  const records: (CachedRecord & T)[] = [];
  lines.forEach((line, i) => {
    const where = `${path}:${i + 1}`;
    if (line.trim() === '') return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new SignweaveInputError(`${where}: not JSON`);
    }
    const fail = (field: string, why: string): never => {
      throw fieldError(where, field, why);
    };
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new SignweaveInputError(`${where}: not a JSON object`);
    if (typeof r.id !== 'string' || r.id === '') fail('id', 'must be a non-empty string');
    const id = r.id as string;
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new SignweaveInputError(`${where}: id "${id}" already on line ${earlier}`);
    seen.set(id, i + 1);
    const own = fields(r, fail);
    const num = (field: 'start' | 'end'): number | undefined =>
      r[field] === undefined ? undefined : typeof r[field] === 'number' && Number.isFinite(r[field]) ? r[field] : fail(field, 'must be a number of seconds');
    if (r.video !== undefined && typeof r.video !== 'string') fail('video', 'must be a string');
    records.push({ ...own, id, where, video: r.video as string | undefined, start: num('start'), end: num('end') });
  });
  return records;
}

/** The records of a targets JSONL (`signweave pseudogloss --out`) with the tokens of one stream. */
export function readTargetRecords(path: string, stream: TargetStream): TargetRecord[] {
  return readJsonlRecords(path, (r, fail) => {
    const strings = (v: unknown, field: string): string[] => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : fail(field, 'must be an array of strings'));
    const list = (field: string): Record<string, unknown>[] => (Array.isArray(r[field]) ? (r[field] as Record<string, unknown>[]) : fail(field, 'must be an array'));
    if (stream === 'gloss') return { tokens: strings(r.pseudogloss, 'pseudogloss') };
    if (stream === 'phonemes') return { tokens: list('phonemes').flatMap((w, k) => strings(w?.phonemes, `phonemes[${k}].phonemes`)) };
    // Spans are separated by a space, which the fingerspelling alphabet has.
    return { tokens: list('fingerspell').flatMap((s, k) => [...(k > 0 ? [' '] : []), ...strings(s?.chars, `fingerspell[${k}].chars`)]) };
  });
}

/** A label vocabulary, `<blank>` first. */
export interface LabelVocab {
  tokens: readonly string[];
  /** The ids of `target`, or why it has none (a token outside the vocabulary and no `<unk>` to take it). */
  ids(target: readonly string[], unknown: Map<string, number>): number[] | string;
}

/** Label ids of token lists by `tokens` (`<blank>` first); `source` names the vocabulary in messages. */
export function labelVocab(tokens: readonly string[], source: string): LabelVocab {
  const index = new Map(tokens.map((t, i) => [t, i]));
  const unk = index.get('<unk>');
  return {
    tokens,
    ids(target, unknown) {
      const ids: number[] = [];
      for (const token of target) {
        const id = token === CTC_BLANK ? undefined : index.get(token);
        if (id !== undefined) ids.push(id);
        else if (unk !== undefined) {
          ids.push(unk);
          unknown.set(token, (unknown.get(token) ?? 0) + 1);
        } else return `target token "${token}" is not in ${source}`;
      }
      return ids;
    },
  };
}

function readVocab(path: string): LabelVocab {
  const tokens = parseVocabFile(readLines(path).lines.join('\n'), path);
  if (tokens[0] !== CTC_BLANK) throw new SignweaveInputError(`${path}:1: the first token must be ${CTC_BLANK} (the CTC blank), got "${tokens[0]}"`);
  return labelVocab(tokens, path);
}

/** Row-major `[T, D]` features at `fps`, as the cache holds them. */
export type CachedInput = TrainingInput & { fps: number };

/**
 * Training items of records matched with the feature cache in `cache.dir`, in record order: `item` makes each from
 * the record and its features, or says why it cannot. Records with a `problem`, without (or with several) cached
 * entries, or with an invalid entry are skipped with the reason. Features of two backbones in one set are an error.
 */
export function itemsFromCache<R extends CachedRecord>(
  records: readonly R[],
  cache: { cacheDir: string; backboneSha256?: string; stride?: number },
  item: (record: R, features: CachedInput) => TrainingItem | string,
): { items: TrainingItem[]; skipped: SkippedItem[] } {
  const index = new CacheIndex(cache.cacheDir, cache);
  const items: TrainingItem[] = [];
  const skipped: SkippedItem[] = [];
  let first: { backbone: string; where: string } | undefined;
  for (const record of records) {
    const skip = (reason: string) => skipped.push({ id: record.id, where: record.where, reason });
    if (record.problem !== undefined) {
      skip(record.problem);
      continue;
    }
    const found = index.find(record);
    if (typeof found === 'string') {
      skip(found);
      continue;
    }
    const { features, backbone } = found;
    if (first && backbone !== first.backbone) {
      throw new SignweaveInputError(`${record.where}: its features come from backbone ${backbone.slice(0, 12)}…, those of ${first.where} from ${first.backbone.slice(0, 12)}…: give backboneSha256`);
    }
    first ??= { backbone, where: record.where };
    const made = item(record, features);
    if (typeof made === 'string') skip(made);
    else items.push(made);
  }
  return { items, skipped };
}

/** The error when `source` gave no training item (`count`: what it held), with the first reasons. */
export function noTrainingItem(source: string, count: string, skipped: readonly SkippedItem[]): SignweaveInputError {
  const reasons = skipped.slice(0, 3).map((s) => `${s.where ?? s.id}: ${s.reason}`);
  return new SignweaveInputError(`no training item from ${source} (${count}; ${reasons.join('; ')})`);
}

interface CacheCandidate {
  key: string;
  path: string;
  parts: FeatureKeyParts;
}

const SIDECAR_FILE = /^[0-9a-f]{64}\.json$/;
/** Seconds within which a record's time range and a cached range are the same. */
export const RANGE_TOLERANCE = 1e-3;

/** Cached entries by the name of their video (file name without extension, or the frame folder's name). */
class CacheIndex {
  private readonly byName = new Map<string, CacheCandidate[]>();
  private readonly cache: FeatureCache;

  constructor(
    readonly dir: string,
    private readonly filter: { backboneSha256?: string; stride?: number },
  ) {
    this.cache = new FeatureCache({ dir });
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new SignweaveInputError(`cannot read the feature cache folder ${dir}: ${(err as Error).message}`);
    }
    for (const name of names.filter((n) => SIDECAR_FILE.test(n)).sort()) {
      let sidecar: { format?: unknown; key?: unknown; parts?: FeatureKeyParts; video?: VideoSource };
      try {
        sidecar = JSON.parse(readFileSync(join(dir, name), 'utf8')) as typeof sidecar;
      } catch {
        continue; // `get` reports a broken entry when a record needs it; an unreadable one matches nothing
      }
      if (sidecar.format !== FEATURE_CACHE_FORMAT || typeof sidecar.key !== 'string' || !sidecar.parts || !sidecar.video) continue;
      const path = stripExtension(typeof sidecar.video === 'string' ? sidecar.video : sidecar.video.frames);
      const base = path.slice(path.lastIndexOf('/') + 1);
      const list = this.byName.get(base) ?? [];
      list.push({ key: sidecar.key, path, parts: sidecar.parts });
      this.byName.set(base, list);
    }
  }

  /** The record's features, or why there are none. */
  find(record: CachedRecord): { features: CachedInput; backbone: string } | string {
    const wanted = record.video !== undefined ? stripExtension(record.video.replace(/\/[^/]*\*[^/]*$/, '')) : record.id;
    const base = wanted.slice(wanted.lastIndexOf('/') + 1);
    const sameRange = (p: FeatureKeyParts) =>
      record.start === undefined
        ? p.start === 0 && p.end === null
        : Math.abs(p.start - record.start) <= RANGE_TOLERANCE && (record.end === undefined ? p.end === null : p.end !== null && Math.abs(p.end - record.end) <= RANGE_TOLERANCE);
    const candidates = (this.byName.get(base) ?? []).filter(
      (c) =>
        (c.path === wanted || c.path.endsWith(`/${wanted}`)) &&
        sameRange(c.parts) &&
        (this.filter.backboneSha256 === undefined || c.parts.backboneSha256 === this.filter.backboneSha256) &&
        (this.filter.stride === undefined || c.parts.stride === this.filter.stride),
    );
    const range = record.start === undefined ? 'the whole video' : `${record.start}–${record.end ?? 'end'} s`;
    if (candidates.length === 0) return `no cached features for ${record.video !== undefined ? `video ${record.video}` : `id ${record.id}`} (${range})`;
    if (candidates.length > 1) {
      const versions = candidates.map((c) => `backbone ${c.parts.backboneSha256.slice(0, 12)}… stride ${c.parts.stride}`);
      return `${candidates.length} cached entries fit (${versions.join(', ')}): give backboneSha256 or stride`;
    }
    const lookup = this.cache.get(candidates[0].key);
    if (lookup.status !== 'hit') return lookup.status === 'invalid' ? `cache entry ${lookup.path}: ${lookup.reason}` : `cache entry ${candidates[0].key} has no data`;
    const { data, shape, fps } = lookup.features;
    return { features: { data, shape, fps }, backbone: candidates[0].parts.backboneSha256 };
  }
}

function stripExtension(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.[A-Za-z0-9]+$/, '');
}
