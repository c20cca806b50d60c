/**
 * Lipreading targets (SignBind-LLM §3.2): the ARPAbet phonemes of each pseudo-gloss word, lower-case and without
 * stress, e.g. `GO MEASURE IT` → `g ow | m eh zh er | ih t`.
 *
 * Words are looked up in the CMU Pronouncing Dictionary (npm `cmu-pronouncing-dictionary` 3.0.0: an object from
 * lower-case headword to ARPAbet string; alternative pronunciations are separate keys `word(2)`, `word(3)`…, and a few
 * values carry a trailing `# comment`). The headword's own key is CMUdict's first-listed, primary pronunciation, and
 * that is the one used. What the dictionary lacks is resolved in this order, each time from dictionary entries:
 * numbers are read out (`20` → twenty, `3rd` → third, `1990s` → nineteen nineties); `&`, `%` and `+` are read as
 * and, percent, plus; compounds are split at hyphens, dashes, slashes, periods, commas and underscores (`t-shirt` is
 * a headword, `blue-green` becomes blue + green); letter/digit mixes
 * are split into runs (`mp3` → mp + three); a regular ending is put on a dictionary stem (`-s`, `-es`, `-'s`, `-ed`,
 * `-ing`, with the allomorph the stem's last phoneme calls for). Only what is left goes to the trained G2P model.
 */
import { createRequire } from 'node:module';
import { dictionary } from 'cmu-pronouncing-dictionary';
import { SignweaveInputError } from '../src/errors.js';
import { defaultG2p, type G2p } from './g2p.js';
import type { WordPhonemes } from './types.js';

/** Bumped whenever the rules here (numbers, compounds, endings, normalisation) can change a word's phonemes. */
export const PHONEMIZER_VERSION = '1';

const CMUDICT_VERSION = (createRequire(import.meta.url)('cmu-pronouncing-dictionary/package.json') as { version: string }).version;

/** CMUdict value → phonemes: without the `# comment`, stress digits removed, lower-case. */
export function parseCmudictPronunciation(arpabet: string): string[] {
  const hash = arpabet.indexOf('#');
  return (hash < 0 ? arpabet : arpabet.slice(0, hash))
    .trim()
    .split(/\s+/)
    .map((p) => p.replace(/[0-9]/g, '').toLowerCase());
}

/** The primary pronunciation of a CMUdict headword (lower-case, as CMUdict spells it), or undefined. */
export function cmudictLookup(headword: string): string[] | undefined {
  // Object.hasOwn: a word such as `constructor` or `__proto__` must not find Object.prototype.
  return Object.hasOwn(dictionary, headword) ? parseCmudictPronunciation(dictionary[headword]) : undefined;
}

/** Every CMUdict headword with its primary pronunciation, in dictionary order (alternatives `word(2)` skipped). */
export function cmudictEntries(): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [key, value] of Object.entries(dictionary)) {
    if (!key.endsWith(')')) out.push([key, parseCmudictPronunciation(value)]);
  }
  return out;
}

/**
 * The words of an English sentence as the OOV statistics count them: runs of letters and digits, split at
 * whitespace and punctuation, with apostrophes kept inside words (`don't`, `o'clock`; curly ones straightened) and
 * numbers kept whole (`1,500`, `3.5`).
 */
export function englishWords(text: string): string[] {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'").match(/\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
// CMUdict stops at trillion; longer numbers are read digit by digit.
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion'];
const IRREGULAR_ORDINALS: Record<string, string> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

function below100(n: number): string[] {
  if (n < 20) return [ONES[n]];
  return n % 10 === 0 ? [TENS[n / 10]] : [TENS[Math.floor(n / 10)], ONES[n % 10]];
}

function below1000(n: number): string[] {
  const rest = n % 100;
  const hundreds = Math.floor(n / 100);
  return [...(hundreds ? [ONES[hundreds], 'hundred'] : []), ...(rest || !hundreds ? below100(rest) : [])];
}

const digitNames = (digits: string): string[] => [...digits].map((d) => ONES[Number(d)]);

/** `asYear`: four digits without separators may be a year. */
function cardinal(digits: string, asYear: boolean): string[] {
  if ((digits.length > 1 && digits.startsWith('0')) || digits.length > 3 * SCALES.length) return digitNames(digits);
  const n = Number(digits);
  if (n === 0) return ['zero'];
  // Years as spoken: 1100–1999 and 2010–2099 in pairs (nineteen eighty four, nineteen hundred, twenty fifteen).
  if (asYear && digits.length === 4 && ((n >= 1100 && n <= 1999) || (n >= 2010 && n <= 2099))) {
    const low = n % 100;
    const lowWords = low === 0 ? ['hundred'] : low < 10 ? ['oh', ONES[low]] : below100(low);
    return [...below100(Math.floor(n / 100)), ...lowWords];
  }
  const words: string[] = [];
  const groups = Math.ceil(digits.length / 3);
  for (let g = 0; g < groups; g++) {
    const end = digits.length - 3 * (groups - 1 - g);
    const value = Number(digits.slice(Math.max(0, end - 3), end));
    if (value) words.push(...below1000(value), ...(SCALES[groups - 1 - g] ? [SCALES[groups - 1 - g]] : []));
  }
  return words;
}

function ordinal(word: string): string {
  return IRREGULAR_ORDINALS[word] ?? (word.endsWith('y') ? `${word.slice(0, -1)}ieth` : `${word}th`);
}

function plural(word: string): string {
  if (word.endsWith('y')) return `${word.slice(0, -1)}ies`;
  return word.endsWith('x') ? `${word}es` : `${word}s`;
}

const NUMBER = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|s|'s)?$/;

/**
 * A number token read out as English words: `20` → twenty, `1,500` → one thousand five hundred, `3.5` → three point
 * five, `21st` → twenty first, `1990s` / `80's` → nineteen nineties / eighties. Four plain digits from 1100 to 1999
 * and 2010 to 2099 are read as years (`1984` → nineteen eighty four, `1500` → fifteen hundred). Numbers with a
 * leading zero, or beyond the trillions, are read digit by digit (American style, no "and").
 */
export function numberToWords(token: string): string[] {
  const words = readNumber(token.toLowerCase());
  if (!words) throw new SignweaveInputError(`numberToWords: ${JSON.stringify(token)} is not a number (e.g. 20, 1,500, 3.5, 3rd, 1990s)`);
  return words;
}

function readNumber(token: string): string[] | undefined {
  const m = NUMBER.exec(token);
  // A decimal takes no ordinal or plural ending (`3.5th`).
  if (!m || (m[2] !== undefined && m[3] !== undefined)) return undefined;
  const words = cardinal(m[1].replace(/,/g, ''), !m[1].includes(',') && m[2] === undefined);
  if (m[2] !== undefined) return [...words, 'point', ...digitNames(m[2])];
  const last = words.length - 1;
  if (m[3] === 's' || m[3] === "'s") words[last] = plural(words[last]);
  else if (m[3] !== undefined) words[last] = ordinal(words[last]);
  return words;
}

// ---------------------------------------------------------------------------------------------------------------
// Regular endings on dictionary stems

const SIBILANTS = new Set(['s', 'z', 'sh', 'zh', 'ch', 'jh']);
const VOICELESS = new Set(['p', 't', 'k', 'f', 'th', 's', 'sh', 'ch']);

/** `-s` / `-'s` after a stem: /ih z/ after sibilants, /s/ after other voiceless sounds, /z/ otherwise. */
function sEnding(stem: string[]): string[] {
  const last = stem[stem.length - 1];
  return SIBILANTS.has(last) ? ['ih', 'z'] : VOICELESS.has(last) ? ['s'] : ['z'];
}

/** `-ed` after a stem: /ih d/ after t and d, /t/ after other voiceless sounds, /d/ otherwise. */
function edEnding(stem: string[]): string[] {
  const last = stem[stem.length - 1];
  return last === 't' || last === 'd' ? ['ih', 'd'] : VOICELESS.has(last) ? ['t'] : ['d'];
}

/**
 * Spellings of the stem a word with `-ed` / `-ing` may come from, likeliest first: a doubled consonant is undoubled
 * (`snipped` → snip), but ll/ss/ff/zz is tried whole first (`overfilled` → overfill, then overfil); after a single
 * vowel and consonant the silent `e` comes back (`dosed` → dose, then dos); `-ied` goes back to `y` (`hurried` → hurry).
 */
function stemSpellings(base: string): string[] {
  if (/([bcdgkmnprtvz])\1$/.test(base)) return [base.slice(0, -1), base];
  if (/([lsfz])\1$/.test(base)) return [base, base.slice(0, -1)];
  if (/[aeiou][bcdfgklmnprstvz]$/.test(base)) return [`${base}e`, base];
  if (base.endsWith('i')) return [`${base.slice(0, -1)}y`, base];
  return [base, `${base}e`];
}

interface EndingRule {
  pattern: RegExp;
  stems: (base: string) => string[];
  /** The ending's phonemes after the stem, or undefined when the ending cannot follow it. */
  ending: (stem: string[]) => string[] | undefined;
}

const ENDING_RULES: EndingRule[] = [
  { pattern: /^(.+)'s$/, stems: (b) => [b], ending: sEnding },
  { pattern: /^(.+)ies$/, stems: (b) => [`${b}y`], ending: sEnding },
  { pattern: /^(.+[^s'])s$/, stems: (b) => [b], ending: sEnding },
  // `-es` is a syllable of its own only after a sibilant (`boxes`, `awarenesses`); `dices` is dice + s above.
  { pattern: /^(.+)es$/, stems: (b) => [b], ending: (stem) => (SIBILANTS.has(stem[stem.length - 1]) ? ['ih', 'z'] : undefined) },
  { pattern: /^(.+)ed$/, stems: stemSpellings, ending: edEnding },
  { pattern: /^(.+)ing$/, stems: stemSpellings, ending: () => ['ih', 'ng'] },
];

/**
 * Phonemes of `word` as a CMUdict stem plus a regular ending (`-s`, `-es`, `-'s`, `-ed`, `-ing`), or undefined when
 * no stem is a headword. On held-out CMUdict words it halves G2P's phoneme error rate (see the tests).
 */
export function withRegularEnding(word: string): string[] | undefined {
  for (const rule of ENDING_RULES) {
    const m = rule.pattern.exec(word);
    if (!m) continue;
    for (const spelling of rule.stems(m[1])) {
      const stem = cmudictLookup(spelling);
      const ending = stem && rule.ending(stem);
      if (stem && ending) return [...stem, ...ending];
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Words

/** Symbols read as words inside a token (`r&d`, `50%`). */
const SYMBOL_WORDS: Record<string, string> = { '&': 'and', '%': 'percent', '+': 'plus' };
/** Characters a token may split at. */
const SEPARATORS = /[-\u2010-\u2015/_.,]+/;
const ALLOWED = /^[a-z0-9'\-\u2010-\u2015/_.,&%+]+$/;

interface Resolved {
  phonemes: string[];
  g2p: boolean;
}

/** Curly apostrophes straightened, accents stripped (NFKD without marks, then NFKC), lower-case. */
function normalizeWord(word: string): string {
  // Apostrophes first: NFKD would turn U+00B4 (an apostrophe in How2Sign) into a space and a combining accent.
  return word
    .replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'")
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .normalize('NFKC')
    .toLowerCase()
    .trim();
}

export class Phonemizer {
  private g2pModel: G2p | undefined;

  /** `g2p`: the letter-to-sound model for words the dictionary cannot answer (default: the shipped model, loaded on first need). */
  constructor(options: { g2p?: G2p } = {}) {
    this.g2pModel = options.g2p;
  }

  private get g2p(): G2p {
    this.g2pModel ??= defaultG2p();
    return this.g2pModel;
  }

  /** What produced the phonemes, exactly enough to reproduce them: rules version, dictionary version, G2P model. */
  get provenance(): string {
    return `phonemizer-${PHONEMIZER_VERSION}: cmudict ${CMUDICT_VERSION} (primary pronunciations) + g2p ${this.g2p.model.format}-${this.g2p.model.version} sha256:${this.g2p.fingerprint}`;
  }

  /** Phonemes of one word; `index` only names the word in error messages. */
  word(word: string, index = 0): WordPhonemes {
    if (typeof word !== 'string') throw new SignweaveInputError(`phonemize: word ${index} is ${typeof word}, not a string`);
    const token = normalizeWord(word);
    if (!/[\p{L}\p{N}]/u.test(token)) {
      throw new SignweaveInputError(`phonemize: word ${index} (${JSON.stringify(word)}) has no letters or digits`);
    }
    if (!ALLOWED.test(token)) {
      const bad = [...token].find((ch) => !ALLOWED.test(ch));
      throw new SignweaveInputError(
        `phonemize: word ${index} (${JSON.stringify(word)}) holds ${JSON.stringify(bad)}; words are English letters, digits, apostrophes and - / _ . , & % +`,
      );
    }
    const r = this.resolve(token);
    return { word, phonemes: r.phonemes, source: r.g2p ? 'g2p' : 'cmudict' };
  }

  /** Phonemes of each word, in order: the lipreading target with its word boundaries. */
  phonemize(words: readonly string[]): WordPhonemes[] {
    if (!Array.isArray(words)) throw new SignweaveInputError('phonemize: expected an array of words');
    if (words.length === 0) throw new SignweaveInputError('phonemize: no words (an empty sentence has no lipreading target)');
    return words.map((w, i) => this.word(w, i));
  }

  private resolve(token: string): Resolved {
    const direct = cmudictLookup(token);
    if (direct) return { phonemes: direct, g2p: false };
    // Quotes and sentence periods around a word (`dogs'`, `'hello'`, `etc.`) are not part of it.
    const core = token.replace(/^['.]+|['.]+$/g, '');
    if (core !== token && core !== '') return this.resolve(core);
    const number = readNumber(core);
    if (number) return this.join(number);
    const symbol = /[&%+]/.exec(core);
    if (symbol) {
      const [before, after] = [core.slice(0, symbol.index), core.slice(symbol.index + 1)];
      return this.join([before, SYMBOL_WORDS[symbol[0]], after]);
    }
    if (SEPARATORS.test(core)) return this.join(core.split(SEPARATORS));
    if (/\d/.test(core) && /[a-z]/.test(core)) return this.join(core.match(/\d+(?:st|nd|rd|th|'s|s)?(?![a-z])|\d+|[a-z']+/g) ?? []);
    const ending = withRegularEnding(core);
    if (ending) return { phonemes: ending, g2p: false };
    return { phonemes: this.letterToSound(core), g2p: true };
  }

  /** Resolves each part (skipping empty ones left by leading or doubled separators) and concatenates. */
  private join(parts: string[]): Resolved {
    const resolved = parts.filter((p) => p.replace(/'/g, '') !== '').map((p) => this.resolve(p));
    return { phonemes: resolved.flatMap((r) => r.phonemes), g2p: resolved.some((r) => r.g2p) };
  }

  private letterToSound(word: string): string[] {
    const phonemes = this.g2p.predict(word);
    // A lipreading target must not be empty: if the model silences every letter, the word is spelled out.
    return phonemes.length ? phonemes : [...word.replace(/'/g, '')].flatMap((ch) => cmudictLookup(`${ch}.`) ?? []);
  }
}

let shared: Phonemizer | undefined;

/** Phonemes of each pseudo-gloss word with the shipped dictionary and G2P model (one shared Phonemizer). */
export function phonemize(words: readonly string[]): WordPhonemes[] {
  shared ??= new Phonemizer();
  return shared.phonemize(words);
}

export interface CmudictCoverage {
  tokens: number;
  types: number;
  /** Words (lower-cased) that are not CMUdict headwords. */
  oovTokens: number;
  oovTypes: number;
  oovTokenRate: number;
  oovTypeRate: number;
  /** Words whose phonemes needed the G2P model, after numbers, compounds and regular endings were resolved. */
  g2pTokens: number;
  g2pTypes: number;
  g2pTokenRate: number;
  g2pTypeRate: number;
  /** The out-of-vocabulary types, most frequent first (ties alphabetical), with their token counts. */
  oov: { word: string; count: number; source: WordPhonemes['source'] }[];
}

/** How much of a word list CMUdict covers (words as `englishWords` gives them; rates are fractions in [0, 1]). */
export function cmudictCoverage(words: Iterable<string>, phonemizer: Phonemizer = (shared ??= new Phonemizer())): CmudictCoverage {
  const counts = new Map<string, number>();
  let index = 0;
  for (const w of words) {
    if (typeof w !== 'string') throw new SignweaveInputError(`cmudictCoverage: word ${index} is ${typeof w}, not a string`);
    const key = normalizeWord(w);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    index++;
  }
  if (index === 0) throw new SignweaveInputError('cmudictCoverage: no words');
  const oov: CmudictCoverage['oov'] = [];
  let oovTokens = 0;
  let g2pTokens = 0;
  let g2pTypes = 0;
  for (const [word, count] of counts) {
    if (cmudictLookup(word)) continue;
    const { source } = phonemizer.word(word);
    oov.push({ word, count, source });
    oovTokens += count;
    if (source === 'g2p') {
      g2pTokens += count;
      g2pTypes++;
    }
  }
  oov.sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
  return {
    tokens: index,
    types: counts.size,
    oovTokens,
    oovTypes: oov.length,
    oovTokenRate: oovTokens / index,
    oovTypeRate: oov.length / counts.size,
    g2pTokens,
    g2pTypes,
    g2pTokenRate: g2pTokens / index,
    g2pTypeRate: g2pTypes / counts.size,
    oov,
  };
}
