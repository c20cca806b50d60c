/** Where simulated sentences come from: a corpus turned into Stage-1 targets here, or a targets JSONL written by `signweave pseudogloss`. */
import { readCorpus, resolveDataset } from '../../pseudogloss/corpora.js';
import { createGlosser } from '../../pseudogloss/glossers.js';
import { TargetBuilder, TargetStats, type TargetRecord, type TargetVocabularies } from '../../pseudogloss/targets.js';
import { SignweaveInputError } from '../errors.js';
import { readLines } from '../util/text-files.js';
import { ARPABET_PHONEMES, FINGERSPELLING_ALPHABET } from '../vocab.js';
import type { SentenceTargets } from './model.js';

export interface SentenceSource {
  sentences: SentenceTargets[];
  /** Vocabularies of these sentences exactly as `signweave pseudogloss` writes them (gloss: blank, then by frequency). */
  vocab: TargetVocabularies;
  /** What the provenance records: file, sha256, dataset or `targets`, glosser. */
  provenance: Record<string, unknown>;
  /** Unreadable corpus lines, reported and skipped. */
  problems: { line: number; message: string }[];
}

/** The first `limit` sentences of a corpus, through the rule glosser exactly as `signweave pseudogloss` makes them. */
export async function corpusTargets(dataset: string, path: string, limit?: number): Promise<SentenceSource> {
  const corpus = readCorpus(path, resolveDataset(dataset, path));
  const glosser = await createGlosser('rules');
  try {
    const builder = new TargetBuilder({ glosser });
    const sentences: TargetRecord[] = [];
    for (const s of corpus.sentences.slice(0, limit)) sentences.push(await builder.build(s));
    return {
      sentences,
      vocab: vocabularies(sentences),
      provenance: { path: corpus.path, sha256: corpus.sha256, dataset: corpus.dataset, glosser: { name: glosser.name, version: glosser.version }, phonemes: builder.phonemizer.provenance },
      problems: corpus.problems,
    };
  } finally {
    await glosser.dispose();
  }
}

function vocabularies(records: readonly TargetRecord[]): TargetVocabularies {
  const stats = new TargetStats();
  for (const r of records) stats.add(r);
  return stats.vocabularies();
}

const PHONEMES = new Set(ARPABET_PHONEMES);
const LETTERS = new Set(FINGERSPELLING_ALPHABET);

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** One targets JSONL record, checked field by field (errors name the line and field). */
function parseTargets(record: unknown, where: string): TargetRecord {
  const r = record as Record<string, unknown>;
  const fail = (field: string, what: string) => new SignweaveInputError(`${where}: field "${field}" ${what}`);
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new SignweaveInputError(`${where}: not a JSON object`);
  if (typeof r.id !== 'string' || r.id === '') throw fail('id', 'must be a non-empty string');
  if (typeof r.text !== 'string') throw fail('text', 'must be a string');
  if (!isStringArray(r.pseudogloss) || r.pseudogloss.some((g) => g === '' || /\s/.test(g))) throw fail('pseudogloss', 'must be an array of gloss tokens without spaces');
  const phonemes = r.phonemes;
  if (!Array.isArray(phonemes) || (phonemes.length > 0 && phonemes.length !== r.pseudogloss.length)) throw fail('phonemes', `must hold one entry per pseudo-gloss word (${r.pseudogloss.length})`);
  phonemes.forEach((w: { phonemes?: unknown }, i) => {
    const bad = isStringArray(w?.phonemes) ? w.phonemes.find((p) => !PHONEMES.has(p)) : '(not a string array)';
    if (bad !== undefined) throw fail(`phonemes/${i}/phonemes`, `holds ${JSON.stringify(bad)}, not an ARPAbet phoneme`);
  });
  const spans = r.fingerspell;
  if (!Array.isArray(spans)) throw fail('fingerspell', 'must be an array of spans');
  spans.forEach((s: { text?: unknown; chars?: unknown }, i) => {
    if (typeof s?.text !== 'string') throw fail(`fingerspell/${i}/text`, 'must be a string');
    const bad = isStringArray(s.chars) ? s.chars.find((c) => !LETTERS.has(c)) : '(not a string array)';
    if (bad !== undefined) throw fail(`fingerspell/${i}/chars`, `holds ${JSON.stringify(bad)}, not in the fingerspelling alphabet`);
  });
  const provenance = r.provenance as TargetRecord['provenance'] | undefined;
  if (typeof provenance?.gloss?.glosser !== 'string') throw fail('provenance/gloss/glosser', 'must be a string (the glosser that made the pseudo-gloss)');
  return r as unknown as TargetRecord;
}

/** The first `limit` records of a targets JSONL written by `signweave pseudogloss --out`. */
export function targetsFile(path: string, limit?: number): SentenceSource {
  const file = readLines(path);
  const sentences: TargetRecord[] = [];
  for (const [i, line] of file.lines.entries()) {
    if (limit !== undefined && sentences.length >= limit) break;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new SignweaveInputError(`${path}:${i + 1}: invalid JSON: ${(err as Error).message}`);
    }
    sentences.push(parseTargets(record, `${path}:${i + 1}`));
  }
  return { sentences, vocab: vocabularies(sentences), provenance: { path, sha256: file.sha256, dataset: 'targets' }, problems: [] };
}
