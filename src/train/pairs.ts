/**
 * (pseudo-gloss, English) pairs for training the decoder, read from JSONL in either of two shapes:
 *
 * - the records `signweave pseudogloss --input … --out targets.jsonl` writes: `id`, `text` (the English) and
 *   `pseudogloss` (an array of gloss tokens), with the glosser that made them in `provenance.gloss`;
 * - plain lines `{ "id"?: string, "gloss": string, "english": string }` (a line without an id is `line-<n>`).
 *
 * Malformed lines are input errors naming `file:line` and the field; pairs that cannot teach anything (no English, no
 * gloss) are skipped and listed with the reason. `splitPairs` holds out a dev set by hashing ids, so a pair stays on
 * its side of the split whatever else the file holds.
 */
import { createHash } from 'node:crypto';
import type { GlossProvenance } from '../../pseudogloss/types.js';
import { SignweaveInputError } from '../errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { readLines } from '../util/text-files.js';
import type { SkippedItem } from './data.js';
import type { TextPair } from './llama.js';

/** A glosser that made some of the pairs (from the targets' `provenance.gloss`), and how many. */
export interface GlosserUse extends GlossProvenance {
  pairs: number;
}

export interface PairFile {
  path: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  pairs: TextPair[];
  /** `file:line` of each pair, by id, for messages about pairs. */
  where: ReadonlyMap<string, string>;
  skipped: SkippedItem[];
  /** The glossers of `signweave pseudogloss` records, most pairs first; empty for plain pairs. */
  glossers: GlosserUse[];
}

/** Reads a pairs JSONL file; `limit` keeps the first pairs only. */
export function readPairs(path: string, options: { limit?: number } = {}): PairFile {
  const { lines, sha256 } = readLines(path);
  const pairs: TextPair[] = [];
  const whereOf = new Map<string, string>();
  const skipped: SkippedItem[] = [];
  const glossers = new Map<string, GlosserUse>();
  const seen = new Map<string, number>();
  for (const [i, line] of lines.entries()) {
    if (options.limit !== undefined && pairs.length >= options.limit) break;
    if (line.trim() === '') continue;
    const where = `${path}:${i + 1}`;
    const record = parseRecord(line, where);
    const pair = pairOf(record, where, i + 1);
    const earlier = seen.get(pair.id);
    if (earlier !== undefined) throw new SignweaveInputError(`${where}: id ${JSON.stringify(pair.id)} already on line ${earlier}`);
    seen.set(pair.id, i + 1);
    if (pair.english === '' || pair.gloss === '') {
      skipped.push({ id: pair.id, where, reason: pair.english === '' ? 'no English text' : 'empty pseudo-gloss' });
      continue;
    }
    pairs.push(pair);
    whereOf.set(pair.id, where);
    const gloss = glossProvenance(record, where);
    if (gloss) {
      const key = canonicalJson(gloss);
      const use = glossers.get(key) ?? { ...gloss, pairs: 0 };
      use.pairs++;
      glossers.set(key, use);
    }
  }
  if (pairs.length === 0) throw new SignweaveInputError(`${path} holds no (pseudo-gloss, English) pairs${skipped.length > 0 ? ` (${skipped.length} skipped: ${skipped[0].where}: ${skipped[0].reason})` : ''}`);
  return { path, sha256, pairs, where: whereOf, skipped, glossers: [...glossers.values()].sort((a, b) => b.pairs - a.pairs) };
}

function parseRecord(line: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new SignweaveInputError(`${where}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SignweaveInputError(`${where}: not a JSON object`);
  return value as Record<string, unknown>;
}

function pairOf(r: Record<string, unknown>, where: string, line: number): TextPair {
  const fail = (field: string, why: string): never => {
    throw new SignweaveInputError(`${where}: field "${field}" ${why}`);
  };
  const text = (field: string): string => (typeof r[field] === 'string' ? (r[field] as string).trim() : fail(field, 'must be a string'));
  if (r.id !== undefined && (typeof r.id !== 'string' || r.id === '')) fail('id', 'must be a non-empty string');
  if ('pseudogloss' in r) {
    if (r.id === undefined) fail('id', 'is missing (signweave pseudogloss records have one)');
    const tokens = r.pseudogloss;
    if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) return fail('pseudogloss', 'must be an array of strings');
    return { id: r.id as string, gloss: tokens.join(' ').trim(), english: text('text') };
  }
  if (!('gloss' in r) && !('english' in r)) {
    throw new SignweaveInputError(`${where}: neither a \`signweave pseudogloss\` record (id, text, pseudogloss) nor a pair (gloss, english)`);
  }
  return { id: (r.id as string | undefined) ?? `line-${line}`, gloss: text('gloss'), english: text('english') };
}

/** The record's `provenance.gloss`, checked enough to be reported as it is. */
function glossProvenance(r: Record<string, unknown>, where: string): GlossProvenance | undefined {
  const gloss = (r.provenance as { gloss?: unknown } | undefined)?.gloss;
  if (gloss === undefined) return undefined;
  const g = gloss as Partial<GlossProvenance>;
  if (typeof g !== 'object' || g === null || typeof g.glosser !== 'string' || typeof g.version !== 'string') {
    throw new SignweaveInputError(`${where}: field "provenance.gloss" must be an object with the strings glosser and version`);
  }
  return {
    glosser: g.glosser,
    version: g.version,
    ...(g.model !== undefined ? { model: g.model } : {}),
    ...(g.promptVersion !== undefined ? { promptVersion: g.promptVersion } : {}),
    ...(g.fallback !== undefined ? { fallback: g.fallback } : {}),
  };
}

/** A number in [0, 1) from (seed, id) alone. */
function splitKey(seed: number, id: string): number {
  return createHash('sha256').update(`${seed >>> 0}\0${id}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * A seeded train / dev split: a pair is held out when the hash of (seed, id) falls below `devFraction`, so the split
 * depends only on each pair's own id. At least one pair goes to dev, and at least one stays to train.
 */
export function splitPairs(pairs: readonly TextPair[], options: { devFraction: number; seed: number }): { train: TextPair[]; dev: TextPair[] } {
  const { devFraction, seed } = options;
  if (!(devFraction > 0 && devFraction < 1)) throw new SignweaveInputError(`the dev fraction must be between 0 and 1 (exclusive), got ${devFraction}`);
  if (pairs.length < 2) throw new SignweaveInputError(`${pairs.length} pair cannot be split into a training and a dev set`);
  const keys = pairs.map((p) => splitKey(seed, p.id));
  let inDev = keys.map((k) => k < devFraction);
  const lowest = keys.reduce((best, k, i) => (k < keys[best] ? i : best), 0);
  const highest = keys.reduce((best, k, i) => (k > keys[best] ? i : best), 0);
  if (!inDev.includes(true)) inDev[lowest] = true;
  if (!inDev.includes(false)) inDev = inDev.map((d, i) => d && i !== highest);
  return { train: pairs.filter((_, i) => !inDev[i]), dev: pairs.filter((_, i) => inDev[i]) };
}
