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
