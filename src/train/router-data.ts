/**
 * Router training data (`signweave train router --data <dir>`): `segments.jsonl`, one record per video or time range
 * of one — matched with the backbone feature cache exactly as targets.jsonl records are (`itemsFromCache`) — with
 * labelled segments in seconds from the record's start:
 *
 *   {"id": "clip1", "video": "clip1.mp4", "start": 12.5, "end": 17.0, "fill": "sign",
 *    "segments": [{"label": "fingerspell", "start": 1.2, "end": 2.0}, {"label": "rest", "start": 4.0, "end": 4.5}]}
 *
 * Frame t of the features (rate fps) takes the label of the segment holding its centre time (t + 0.5) / fps, or the
 * record's `fill` label (default "sign") when none does. Items carry these per-frame class ids (`ROUTER_CLASSES`
 * order) and an empty target; the router task pools them into segments as the runtime pools features and labels
 * each segment by its majority. A record shorter than the pooling window is one segment, as at inference.
 */
import { ROUTER_CLASSES, type RouterClass } from '../router/router.js';
import { showValue } from '../util/json-schema.js';
import { RANGE_TOLERANCE, TrainingSet, fieldError, itemsFromCache, noTrainingItem, readJsonlRecords, type CachedRecord } from './data.js';

export interface LabelledSegment {
  label: RouterClass;
  /** Seconds from the record's start. */
  start: number;
  end: number;
}

export interface SegmentRecord extends CachedRecord {
  segments: LabelledSegment[];
  /** The label of frames no segment holds. */
  fill: RouterClass;
}

const CLASS_LIST = ROUTER_CLASSES.map((c) => `"${c}"`).join(', ');

/**
 * The records of a segments JSONL. Unknown labels, segments that end before they start, overlap another or reach past
 * the record's end (when it has `start` and `end`) are input errors naming file:line and the field.
 */
export function readSegmentRecords(path: string): SegmentRecord[] {
  const records = readJsonlRecords(path, (r, fail) => {
    const label = (v: unknown, field: string): RouterClass => ((ROUTER_CLASSES as readonly unknown[]).includes(v) ? (v as RouterClass) : fail(field, `must be one of ${CLASS_LIST} (value: ${showValue(v)})`));
    const fill = r.fill === undefined ? 'sign' : label(r.fill, 'fill');
    const list = Array.isArray(r.segments) ? (r.segments as unknown[]) : fail('segments', 'must be an array of {"label", "start", "end"}');
    const segments = list.map((s, k): LabelledSegment => {
      const field = `segments[${k}]`;
      if (typeof s !== 'object' || s === null || Array.isArray(s)) fail(field, `must be an object {"label", "start", "end"} (value: ${showValue(s)})`);
      const o = s as Record<string, unknown>;
      const seconds = (name: 'start' | 'end'): number => {
        const v = o[name];
        return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fail(`${field}.${name}`, `must be a number of seconds ≥ 0 from the record's start (value: ${showValue(v)})`);
      };
      const [start, end] = [seconds('start'), seconds('end')];
      if (end <= start) fail(`${field}.end`, `must be after ${field}.start = ${start} (value: ${end})`);
      return { label: label(o.label, `${field}.label`), start, end };
    });
    // In start order, a segment overlapping any earlier one overlaps its predecessor.
    const order = segments.map((_, k) => k).sort((a, b) => segments[a].start - segments[b].start);
    for (let i = 1; i < order.length; i++) {
      const [p, q] = [segments[order[i - 1]], segments[order[i]]];
      if (q.start < p.end) fail(`segments[${order[i]}]`, `overlaps segments[${order[i - 1]}] (${q.start}–${q.end} s and ${p.start}–${p.end} s)`);
    }
    return { segments, fill };
  });
  for (const record of records) {
    if (record.start === undefined || record.end === undefined) continue;
    const span = record.end - record.start;
    if (!(span > 0)) throw fieldError(record.where, 'end', `must be after start = ${record.start} (value: ${record.end})`);
    checkInside(record, span, `the record spans ${record.start}–${record.end} s`);
  }
  return records;
}

function checkInside(record: SegmentRecord, span: number, why: string): void {
  const k = record.segments.findIndex((s) => s.end > span + RANGE_TOLERANCE);
  if (k >= 0) throw fieldError(record.where, `segments[${k}].end`, `is after the record's end: ${why}, ${span} s (value: ${record.segments[k].end})`);
}

/** One class id (`ROUTER_CLASSES` order) per frame of `frames` frames at `fps`: the segment holding the frame's centre, else `fill`. */
export function frameLabels(record: SegmentRecord, frames: number, fps: number): Int32Array {
  // Without an end, the record lasts as long as its features.
  if (record.end === undefined) checkInside(record, frames / fps, `its features are ${frames} frames at ${fps} fps`);
  const fill = ROUTER_CLASSES.indexOf(record.fill);
  const labels = new Int32Array(frames);
  for (let t = 0; t < frames; t++) {
    const centre = (t + 0.5) / fps;
    const segment = record.segments.find((s) => s.start <= centre && centre < s.end);
    labels[t] = segment ? ROUTER_CLASSES.indexOf(segment.label) : fill;
  }
  return labels;
}

/** Frames per class of a router training set, in `ROUTER_CLASSES` order. */
export function frameClassCounts(set: TrainingSet): Record<RouterClass, number> {
  const counts = new Array<number>(ROUTER_CLASSES.length).fill(0);
  for (const item of set.items) for (const label of item.frameLabels ?? []) counts[label]++;
  return Object.fromEntries(ROUTER_CLASSES.map((c, i) => [c, counts[i]])) as Record<RouterClass, number>;
}

/** The router's training set: every record of `segments` with its cached features and per-frame labels. */
export function routerTrainingSet(options: { cacheDir: string; segments: string; backboneSha256?: string; stride?: number }): TrainingSet {
  const records = readSegmentRecords(options.segments);
  const { items, skipped } = itemsFromCache(records, options, (record, features) => ({
    id: record.id,
    input: features,
    target: [],
    frameLabels: frameLabels(record, features.shape[0], features.fps),
  }));
  if (items.length === 0) throw noTrainingItem(`${options.segments} and the cache ${options.cacheDir}`, `${records.length} records`, skipped);
  return TrainingSet.fromArrays(items, { skipped });
}
