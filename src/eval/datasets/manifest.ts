/**
 * signweave's own evaluation manifest (`--dataset jsonl`): one JSON object per line, validated with ajv against
 * EVAL_MANIFEST_SCHEMA (exported for docs and tests), then checked for what a schema cannot say: times in order,
 * routing labels inside the sample's range, letters in the fingerspelling alphabet, unique ids.
 */
import { fingerspellText } from '../../../pseudogloss/fingerspell.js';
import { dropDuplicateIds, normalizeText, type Language } from '../../../pseudogloss/corpora.js';
import { SignweaveInputError } from '../../errors.js';
import { lazyValidator, schemaProblems, showValue } from '../../util/json-schema.js';
import { readLines } from '../../util/text-files.js';
import type { RoutingLabel } from '../types.js';

export const EVAL_MANIFEST_SCHEMA_ID = 'urn:signweave:schema:eval-manifest:1';

const seconds = { type: 'number', minimum: 0, description: 'seconds from the start of the video' } as const;

/** One line of a manifest (draft-07, ajv's default dialect). */
export const EVAL_MANIFEST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: EVAL_MANIFEST_SCHEMA_ID,
  title: 'signweave evaluation manifest line',
  type: 'object',
  required: ['id', 'video', 'text'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    video: {
      type: 'string',
      minLength: 1,
      description: "a video file, or a folder of numbered .png/.jpg frames; relative to --videos, else to the manifest's folder",
    },
    start: seconds,
    end: seconds,
    fps: { type: 'number', exclusiveMinimum: 0, description: "a frame folder's frame rate (ignored for video files)" },
    text: { type: 'string', minLength: 1, description: 'the reference translation' },
    language: { enum: ['en', 'de', 'zh'] },
    gloss: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'reference glosses' },
    letters: { type: 'string', minLength: 1, description: 'the fingerspelled letters, when the sample is fingerspelling' },
    routing: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label', 'start', 'end'],
        additionalProperties: false,
        properties: { label: { enum: ['sign', 'fingerspell'] }, start: seconds, end: seconds },
      },
    },
  },
} as const;

export interface ManifestEntry {
  id: string;
  /** 1-based line in the manifest. */
  line: number;
  video: string;
  start?: number;
  end?: number;
  fps?: number;
  /** Normalised as the corpus readers normalise text. */
  text: string;
  language: Language;
  gloss?: string[];
  letters?: string;
  routing?: RoutingLabel[];
}

export interface Manifest {
  path: string;
  sha256: string;
  entries: ManifestEntry[];
}

type RawEntry = Omit<ManifestEntry, 'line' | 'language'> & { language?: Language };

const validator = lazyValidator(EVAL_MANIFEST_SCHEMA);

/** What the schema cannot check: ordered times, routing inside the range, spellable letters. */
function checkEntry(entry: RawEntry): string | undefined {
  const start = entry.start ?? 0;
  if (entry.end !== undefined && entry.end <= start) return `/end: must be after start (${start} s) (value: ${entry.end})`;
  for (const [i, r] of (entry.routing ?? []).entries()) {
    if (r.end <= r.start) return `/routing/${i}: end must be after start (value: ${showValue(r)})`;
    if (r.start < start || (entry.end !== undefined && r.end > entry.end)) {
      return `/routing/${i}: lies outside the sample's range [${start}, ${entry.end ?? 'end'}) s (value: ${showValue(r)})`;
    }
  }
  if (entry.letters !== undefined) {
    try {
      fingerspellText(entry.letters);
    } catch (err) {
      if (!(err instanceof SignweaveInputError)) throw err;
      return `/letters: ${err.message}`;
    }
  }
  return undefined;
}

/**
 * Reads a manifest. Every bad line (invalid JSON, schema violations with their JSON pointer and value, inconsistent
 * times, a repeated id) is reported with its line number and skipped; `report` throws to make it fatal.
 */
export function readManifest(path: string, report: (line: number, message: string) => void): Manifest {
  const { lines, sha256 } = readLines(path);
  const validate = validator();
  const entries: ManifestEntry[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      return report(line, `invalid JSON: ${(err as Error).message}`);
    }
    const problems = schemaProblems(validate, record);
    if (problems.length > 0) return report(line, problems.map((p) => `${p.pointer}: ${p.message}`).join('; '));
    const entry = record as RawEntry;
    const problem = checkEntry(entry);
    if (problem) return report(line, problem);
    const language = entry.language ?? 'en';
    entries.push({ ...entry, line, language, text: normalizeText(entry.text, language) });
  });
  return { path, sha256, entries: dropDuplicateIds(entries, report) };
}
