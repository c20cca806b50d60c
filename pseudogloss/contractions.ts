/**
 * English contraction expansion, done on our own tokens before tagging: wink-nlp leaves "I'm" as one proper noun and
 * its tokenizer splits "customer's" differently depending on what it has read before, so clitics never reach it.
 *
 * Decisions (each visible in the tables below):
 * - "can't" and "cannot" → CAN NOT, "won't" → WILL NOT, "shan't" → SHALL NOT, "ain't" → IS NOT (am/is/are/has not:
 *   the copula and auxiliary are dropped by the ASL glosser, so the choice only shows in the token stream).
 * - "'d" → HAD before "better", "been", "got", "gotten", "had"; otherwise WOULD ("I'd gone" comes out as WOULD; both
 *   are auxiliaries, so no pseudo-gloss changes).
 * - "'s" → IS (HAS before "been", "got", "gotten") only after pronouns and wh-/deictic words ("it's", "what's",
 *   "there's"); after anything else it is the possessive clitic, kept as its own `'s` token. "its" has no apostrophe
 *   and is never touched. "let's" → LET US.
 * - Spoken reductions common in How2Sign: "gonna", "wanna", "gotta", "kinda", "sorta", "'cause", "'em", "'til", "y'all".
 * - Words that only look like contractions stay whole: "o'clock", "ma'am", "rock'n'roll", names such as "O'Brien".
 */

/** One word of an expansion; `start`/`end` are UTF-16 offsets of the source characters within the contracted word. */
export interface ContractionPart {
  text: string;
  start: number;
  end: number;
}

/** A word for our tokenizer: letters, marks and digits, with internal apostrophes; or a leading-apostrophe reduction. */
export const WORD_SOURCE = "'(?:cause|cos|em|til)(?![\\p{L}\\p{N}])|[\\p{L}\\p{M}\\p{N}]+(?:'[\\p{L}\\p{M}\\p{N}]+)*";

type Piece = [text: string, length: number];

/** Whole words: each piece is an expanded word and how many source characters it stands for. */
const WHOLE: Record<string, Piece[]> = {
  "won't": [['will', 2], ['not', 3]],
  "can't": [['can', 2], ['not', 3]],
  cannot: [['can', 3], ['not', 3]],
  "shan't": [['shall', 3], ['not', 3]],
  "ain't": [['is', 2], ['not', 3]],
  "let's": [['let', 3], ['us', 2]],
  "y'all": [['you', 2], ['all', 3]],
  gonna: [['going', 3], ['to', 2]],
  wanna: [['want', 3], ['to', 2]],
  gotta: [['got', 3], ['to', 2]],
  kinda: [['kind', 4], ['of', 1]],
  sorta: [['sort', 4], ['of', 1]],
  "'cause": [['because', 6]],
  "'cos": [['because', 4]],
  "'em": [['them', 3]],
  "'til": [['until', 4]],
};

/** Stems after which "'s" is "is"/"has" rather than the possessive. */
const IS_HOSTS = new Set([
  'it', 'he', 'she', 'that', 'this', 'what', 'where', 'who', 'how', 'there', 'here', 'when', 'why',
  'everyone', 'everybody', 'everything', 'someone', 'somebody', 'something', 'anyone', 'anybody', 'anything',
  'nobody', 'nothing',
]);
const PERFECT_NEXT = new Set(['been', 'got', 'gotten']);
const HAD_NEXT = new Set(['better', 'been', 'got', 'gotten', 'had']);

function clitic(suffix: string, stem: string, next: string): string | undefined {
  switch (suffix) {
    case "n't":
      return 'not';
    case "'re":
      return 'are';
    case "'ve":
      return 'have';
    case "'ll":
      return 'will';
    case "'m":
      return stem === 'i' ? 'am' : undefined;
    case "'d":
      return HAD_NEXT.has(next) ? 'had' : 'would';
    case "'s":
      if (!IS_HOSTS.has(stem)) return "'s";
      return PERFECT_NEXT.has(next) ? 'has' : 'is';
    default:
      return undefined;
  }
}

const SUFFIX = /(n't|'re|'ve|'ll|'m|'d|'s)$/i;

/** Applies the source word's capitalisation to an expanded word: "WON'T" → WILL, "Won't" → Will, "won't" → will. */
function withCase(source: string, word: string, first: boolean): string {
  if (source.length > 1 && source === source.toUpperCase() && source !== source.toLowerCase()) return word.toUpperCase();
  if (first && source[0] !== source[0].toLowerCase()) return word[0].toUpperCase() + word.slice(1);
  return word;
}

/**
 * Splits one word into its expansion, or returns `undefined` when it is not a contraction. `next` is the following
 * word (any case), which decides "'s" → is/has and "'d" → would/had. The possessive "'s" comes back as its own
 * `'s` part ("Jack's" → `Jack`, `'s`).
 */
export function splitContraction(word: string, next = ''): ContractionPart[] | undefined {
  const lower = word.toLowerCase();
  const whole = WHOLE[lower];
  if (whole) {
    let at = 0;
    return whole.map(([text, length], i) => {
      const part = { text: withCase(word, text, i === 0), start: at, end: at + length };
      at += length;
      return part;
    });
  }
  const match = SUFFIX.exec(word);
  if (!match || match.index === 0) return undefined;
  const stemText = word.slice(0, match.index);
  const expanded = clitic(match[1].toLowerCase(), stemText.toLowerCase(), next.toLowerCase());
  if (expanded === undefined) return undefined;
  // "shouldn't've", "I'd've": the stem may itself be contracted.
  const head = splitContraction(stemText, expanded) ?? [{ text: stemText, start: 0, end: stemText.length }];
  const tail = expanded === "'s" ? match[1] : withCase(word, expanded, false);
  return [...head, { text: tail, start: match.index, end: word.length }];
}

const WORD = new RegExp(WORD_SOURCE, 'giu');
const NEXT_WORD = new RegExp(`^[^\\p{L}\\p{N}]*(${WORD_SOURCE})`, 'iu');

/**
 * Expands every contraction in a text ("We've been here" → "We have been here", "I don't" → "I do not"); possessives
 * stay attached ("Jack's car"). The rule glosser works on tokens (`splitContraction`); this is the same expansion
 * as text, for prompts and display.
 */
export function expandContractions(text: string): string {
  return text.replace(WORD, (word, offset: number) => {
    const next = NEXT_WORD.exec(text.slice(offset + word.length))?.[1] ?? '';
    const parts = splitContraction(word, next);
    if (!parts) return word;
    // The possessive clitic stays attached to its noun.
    return parts.map((part, i) => (i > 0 && part.text.toLowerCase() !== "'s" ? ' ' : '') + part.text).join('');
  });
}
