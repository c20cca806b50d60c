/**
 * Readers for the sign-language corpora's text side. Each gives the same record (id, line, text, language and what
 * else the corpus holds: reference glosses, video and time range, frame count), with the text normalised (Unicode
 * NFC; for English also apostrophes, quotes and the Uni-Sign mojibake). A line that cannot be read is reported with
 * its line number and skipped, or stops the read with `strict`; it is never dropped silently.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { SignweaveInputError } from '../src/errors.js';
import { readInputFile } from '../src/util/text-files.js';
import { normalizeEnglish } from './normalize.js';

export type Language = 'en' | 'de' | 'zh';

export interface CorpusSentence {
  /** The corpus's own id (How2Sign SENTENCE_NAME, PHOENIX name, Uni-Sign name, ChicagoFSWild path, or `line-N`). */
  id: string;
  /** 1-based line of the record in its file (for CSV with quoted line breaks: the line it starts on). */
  line: number;
  text: string;
  language: Language;
  /** Reference glosses where the corpus has them (PHOENIX-2014T `orth`, CSL-Daily). */
  gloss?: string[];
  /** Video file or folder, and the sentence's time range in seconds within it, where the corpus gives them. */
  video?: string;
  start?: number;
  end?: number;
  /** Frame count (ChicagoFSWild). */
  frames?: number;
}

export interface CorpusProblem {
  line: number;
  message: string;
}

export interface Corpus {
  dataset: DatasetName;
  path: string;
  /** sha256 of the file's bytes: targets record exactly which file they came from. */
  sha256: string;
  sentences: CorpusSentence[];
  problems: CorpusProblem[];
}

export interface ReadCorpusOptions {
  /** Stop at the first bad line instead of reporting and skipping it. */
  strict?: boolean;
}

interface DatasetReader {
  readonly language: Language;
  readonly summary: string;
  read(text: string, path: string, report: (line: number, message: string) => void): CorpusSentence[];
}

/** Text as every reader stores it: English normalised (apostrophes, quotes, mojibake), other languages NFC, spaces collapsed. */
export function normalizeText(text: string, language: Language): string {
  return language === 'en' ? normalizeEnglish(text) : text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function requireText(record: Record<string, unknown>, field: string, line: number, report: (line: number, message: string) => void): string | undefined {
  const value = record[field];
  if (typeof value !== 'string' || value.trim() === '') {
    report(line, `field "${field}" is missing or empty`);
    return undefined;
  }
  return value;
}

function seconds(value: unknown): number | undefined {
  const n = Number(value);
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Rows of a delimited file with their starting line numbers; malformed rows are reported, not thrown. */
function parseDelimited(
  text: string,
  options: { delimiter: string; quote: string | false; columns: boolean | string[] },
  report: (line: number, message: string) => void,
): { line: number; record: Record<string, string> }[] {
  const rows: { line: number; record: Record<string, string> }[] = [];
  const parsed = parseCsv(text, {
    delimiter: options.delimiter,
    quote: options.quote === false ? null : options.quote,
    columns: options.columns,
    skip_empty_lines: true,
    info: true,
    bom: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      report((err as { lines?: number } | undefined)?.lines ?? 0, err?.message ?? 'unreadable record');
      return undefined;
    },
  }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  for (const { record, info } of parsed) rows.push({ line: info.lines, record });
  return rows;
}

function jsonLines(text: string, report: (line: number, message: string) => void): { line: number; record: Record<string, unknown> }[] {
  const rows: { line: number; record: Record<string, unknown> }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      const record = JSON.parse(raw);
      if (record === null || typeof record !== 'object' || Array.isArray(record)) report(i + 1, 'not a JSON object');
      else rows.push({ line: i + 1, record });
    } catch (err) {
      report(i + 1, `invalid JSON: ${(err as Error).message}`);
    }
  });
  return rows;
}

/** Uni-Sign label files (How2Sign, OpenASL, CSL-Daily): `{ name, gloss, text, video_path }` per line. */
function uniSignReader(language: Language, summary: string): DatasetReader {
  return {
    language,
    summary,
    read(text, _path, report) {
      return jsonLines(text, report).flatMap(({ line, record }) => {
        const sentence = requireText(record, 'text', line, report);
        if (sentence === undefined) return [];
        const gloss = Array.isArray(record.gloss) ? record.gloss.map(String) : undefined;
        const name = typeof record.name === 'string' ? record.name : `line-${line}`;
        return [
          {
            id: name.replace(/\.mp4$/, ''),
            line,
            text: normalizeText(sentence, language),
            language,
            ...(gloss && gloss.length > 0 ? { gloss } : {}),
            ...(typeof record.video_path === 'string' ? { video: record.video_path } : {}),
          },
        ];
      });
    },
  };
}

const how2signCsv: DatasetReader = {
  language: 'en',
  summary: 'How2Sign realigned *.csv (TAB-separated, CSV quoting)',
  read(text, _path, report) {
    return parseDelimited(text, { delimiter: '\t', quote: '"', columns: true }, report).flatMap(({ line, record }) => {
      const sentence = requireText(record, 'SENTENCE', line, report);
      const id = requireText(record, 'SENTENCE_NAME', line, report);
      if (sentence === undefined || id === undefined) return [];
      const start = seconds(record.START_REALIGNED);
      const end = seconds(record.END_REALIGNED);
      if (start === undefined || end === undefined || end <= start) {
        report(line, `bad time range START_REALIGNED=${record.START_REALIGNED} END_REALIGNED=${record.END_REALIGNED}`);
        return [];
      }
      return [{ id, line, text: normalizeText(sentence, 'en'), language: 'en' as const, video: record.VIDEO_NAME, start, end }];
    });
  },
};

const READERS = {
  how2sign: how2signCsv,
  'how2sign-jsonl': uniSignReader('en', 'How2Sign as Uni-Sign labels (JSONL)'),
  openasl: uniSignReader('en', 'OpenASL as Uni-Sign labels (JSONL)'),
  'csl-daily': uniSignReader('zh', 'CSL-Daily as Uni-Sign labels (JSONL; Chinese text, gloss list)'),
  phoenix2014t: {
    language: 'de',
    summary: 'PHOENIX-2014T corpus file (name|video|start|end|speaker|orth|translation; German)',
    read(text, _path, report) {
      return parseDelimited(text, { delimiter: '|', quote: false, columns: true }, report).flatMap(({ line, record }) => {
        const translation = requireText(record, 'translation', line, report);
        const name = requireText(record, 'name', line, report);
        if (translation === undefined || name === undefined) return [];
        const gloss = (record.orth ?? '').split(/\s+/).filter(Boolean);
        return [{ id: name, line, text: normalizeText(translation, 'de'), language: 'de' as const, gloss, video: record.video }];
      });
    },
  },
  chicagofswild: {
    language: 'en',
    summary: 'ChicagoFSWild label list (path,label,n_frames; no header)',
    read(text, _path, report) {
      return parseDelimited(text, { delimiter: ',', quote: false, columns: ['path', 'label', 'frames'] }, report).flatMap(({ line, record }) => {
        const label = requireText(record, 'label', line, report);
        const frames = Number(record.frames);
        if (label === undefined) return [];
        if (!Number.isInteger(frames) || frames <= 0) {
          report(line, `n_frames "${record.frames}" is not a positive integer`);
          return [];
        }
        return [{ id: record.path, line, text: normalizeText(label, 'en'), language: 'en' as const, frames }];
      });
    },
  },
  text: {
    language: 'en',
    summary: 'plain text, one English sentence per line',
    read(text) {
      return text.split(/\r?\n/).flatMap((raw, i) => {
        const sentence = normalizeText(raw, 'en');
        return sentence === '' ? [] : [{ id: `line-${i + 1}`, line: i + 1, text: sentence, language: 'en' as const }];
      });
    },
  },
} as const satisfies Record<string, DatasetReader>;

export type DatasetName = keyof typeof READERS;
export const DATASET_NAMES = Object.keys(READERS) as DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(READERS, name);
}

export function describeDataset(name: DatasetName): { language: Language; summary: string } {
  return { language: READERS[name].language, summary: READERS[name].summary };
}

/**
 * Which reader a `--dataset` name means for a file: How2Sign comes as the official CSV or as Uni-Sign JSONL, told
 * apart by the extension.
 */
export function resolveDataset(name: string, path: string): DatasetName {
  if (name === 'how2sign' && extname(path).toLowerCase() === '.jsonl') return 'how2sign-jsonl';
  if (!isDatasetName(name)) throw new SignweaveInputError(`unknown dataset "${name}"; known: how2sign, ${DATASET_NAMES.filter((d) => d !== 'how2sign').join(', ')}`);
  return name;
}

/** The records whose id was not seen on an earlier line; each repeat is reported and dropped. */
export function dropDuplicateIds<T extends { id: string; line: number }>(records: T[], report: (line: number, message: string) => void): T[] {
  const seen = new Map<string, number>();
  return records.filter((r) => {
    const first = seen.get(r.id);
    if (first === undefined) {
      seen.set(r.id, r.line);
      return true;
    }
    report(r.line, `duplicate id "${r.id}" (first on line ${first}); skipped`);
    return false;
  });
}

/** Reads a corpus file. Problems name the file and line; with `strict` the first one is thrown. */
export function readCorpus(path: string, dataset: DatasetName, options: ReadCorpusOptions = {}): Corpus {
  const bytes = readInputFile(path, `${dataset} file`);
  const problems: CorpusProblem[] = [];
  const report = (line: number, message: string): void => {
    if (options.strict) throw new SignweaveInputError(`${path}:${line}: ${message}`);
    problems.push({ line, message });
  };
  const sentences = dropDuplicateIds(READERS[dataset].read(bytes.toString('utf8'), path, report), report);
  return { dataset, path, sha256: createHash('sha256').update(bytes).digest('hex'), sentences, problems };
}
