import { SignweaveInputError } from './errors.js';

/**
 * Token vocabularies that more than one stage must agree on: the fingerspelling letters (Stage-1 targets and the
 * fingerspelling expert's CTC output) and the ARPAbet phonemes (Stage-1 targets and the lipreading expert's output).
 * Gloss vocabularies are corpus-dependent and are built by `pseudogloss/` from the data.
 */

/** The CTC blank, written into every vocab file as its first entry (index 0). */
export const CTC_BLANK = '<blank>';

/** ChicagoFSWild's fingerspelling alphabet: a–z, space, apostrophe, period. */
export const FINGERSPELLING_ALPHABET: readonly string[] = [...'abcdefghijklmnopqrstuvwxyz', ' ', "'", '.'];

/** The 39 ARPAbet phonemes of the CMU Pronouncing Dictionary, lower-case, stress removed. */
export const ARPABET_PHONEMES: readonly string[] = [
  'aa', 'ae', 'ah', 'ao', 'aw', 'ay', 'b', 'ch', 'd', 'dh', 'eh', 'er', 'ey', 'f', 'g', 'hh', 'ih', 'iy', 'jh', 'k',
  'l', 'm', 'n', 'ng', 'ow', 'oy', 'p', 'r', 's', 'sh', 't', 'th', 'uh', 'uw', 'v', 'w', 'y', 'z', 'zh',
];

/** How tokens that are invisible in a text file are spelled in vocab files. */
const VOCAB_FILE_SPELLINGS: ReadonlyMap<string, string> = new Map([[' ', '<space>']]);
const VOCAB_FILE_TOKENS: ReadonlyMap<string, string> = new Map([...VOCAB_FILE_SPELLINGS].map(([token, spelled]) => [spelled, token]));

/** A vocab file: one token per line, index = line number − 1, the space written as `<space>`. */
export function formatVocabFile(tokens: readonly string[]): string {
  return tokens.map((t) => VOCAB_FILE_SPELLINGS.get(t) ?? t).join('\n') + '\n';
}

/** Inverse of `formatVocabFile`; `source` names the file in errors. */
export function parseVocabFile(text: string, source: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const seen = new Map<string, number>();
  return lines.map((line, i) => {
    if (line === '') throw new SignweaveInputError(`${source}:${i + 1}: empty token`);
    const token = VOCAB_FILE_TOKENS.get(line) ?? line;
    const first = seen.get(token);
    if (first !== undefined) throw new SignweaveInputError(`${source}:${i + 1}: token "${line}" already on line ${first}`);
    seen.set(token, i + 1);
    return token;
  });
}
