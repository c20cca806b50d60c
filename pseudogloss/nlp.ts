/**
 * The one place English is tokenized, tagged and lemmatised.
 *
 * Library: wink-nlp with wink-eng-lite-web-model (MIT). Against compromise on the 31,086 How2Sign training sentences
 * it tags and lemmatises ~50,000 sentences/s versus ~1,300 (compromise alone would take 25 s of the 30 s budget),
 * emits Universal POS tags, the tagset of spaCy's `pos_` that the Sign2GPT recipe filters on (compromise has its own
 * tags, with no AUX/VERB split), and got 61 of 68 hand-checked lemmas right versus 53.
 *
 * wink quirks worked around here: its tokenizer remembers words across documents, so "customer's" or "O.k." is split
 * the first time and kept whole afterwards (output depended on what was read before), and it reads "I'm" as one
 * proper noun. We therefore tokenize ourselves, expand contractions, split clitics, strip the dots of abbreviations,
 * and hand wink one space-separated token string; with that, glosses and fingerspelling spans of all 31,086 How2Sign
 * training sentences are identical read forwards and backwards. It also tags "will" after a determiner as a noun
 * (repaired below), and its model cannot be instantiated twice in a process, so it is loaded once, lazily.
 */
import { createRequire } from 'node:module';
import winkNLP, { type ItsFunction, type WinkMethods } from 'wink-nlp';
import model from 'wink-eng-lite-web-model';
import { splitContraction, WORD_SOURCE } from './contractions.js';
import { normalizeEnglish } from './normalize.js';

export type UniversalPos =
  | 'ADJ' | 'ADP' | 'ADV' | 'AUX' | 'CCONJ' | 'DET' | 'INTJ' | 'NOUN' | 'NUM' | 'PART' | 'PRON' | 'PROPN' | 'PUNCT'
  | 'SCONJ' | 'SYM' | 'VERB' | 'X' | 'SPACE';

/** Capitalisation of a token as written: `none` when it has no letters. */
export type WordCase = 'lower' | 'upper' | 'title' | 'mixed' | 'none';

export interface Token {
  /** The token after contraction expansion: `do`, `not` for "don't"; `'s` for a possessive. */
  text: string;
  /** `text` lower-cased. */
  normal: string;
  /** Lower-case lemma (`went` → `go`, `children` → `child`). */
  lemma: string;
  pos: UniversalPos;
  /** UTF-16 offsets into the normalised sentence, end exclusive; a contraction part points at its own characters. */
  start: number;
  end: number;
  /** First word of a sentence, or of a quotation or bracket, or after a colon. */
  sentenceInitial: boolean;
  /** Capitalisation of `text` (for a contraction's first part, that of the written word: "Don't" → `Do`, title). */
  case: WordCase;
  /** Part of an expanded contraction ("Don't" → `Do`, `not`: both), so its text is not simply what is written. */
  expanded: boolean;
}

/** Shared between the glosser and fingerspelling detection of one sentence (see `analyse`): read-only. */
export interface Analysis {
  /** The normalised sentence (`normalizeEnglish`) that token offsets refer to. */
  readonly text: string;
  readonly tokens: readonly Readonly<Token>[];
}

const require = createRequire(import.meta.url);
const packageVersion = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

/** The tagger behind `analyse`, for provenance strings. */
export const NLP_LIBRARY = `wink-nlp-${packageVersion('wink-nlp')}~wink-eng-lite-web-model-${packageVersion('wink-eng-lite-web-model')}`;

let wink: WinkMethods | undefined;
function tagger(): WinkMethods {
  wink ??= winkNLP(model, ['pos']);
  return wink;
}

/**
 * Tokens: dotted abbreviations ("U.S.", "p.m."), numbers with decimal or thousands separators or a fraction slash
 * ("3.5", "330,000", "1/4"), words and leading-apostrophe reductions (contractions.ts), then any other single
 * character. Hyphens are tokens of their own, as in spaCy ("self-esteem" → self - esteem).
 */
const TOKEN = new RegExp(`\\p{L}(?:\\.\\p{L})+\\.?(?![\\p{L}\\p{N}])|\\p{N}+(?:[.,/]\\p{N}+)+|${WORD_SOURCE}|\\S`, 'giu');
const LETTER = /\p{L}/u;
/**
 * wink splits a dotted abbreviation ("O.k.", "U.S.") or keeps it whole depending on what it has read before, so it
 * is given the letters alone ("Ok", "US"); the token keeps its dots.
 */
const DOTTED = /^\p{L}(?:\.\p{L})+\.?$/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;
const SENTENCE_END = new Set(['.', '!', '?', ':']);
const OPENERS = new Set(['"', "'", '(', '[', '{']);

function caseOf(word: string): WordCase {
  if (!LETTER.test(word)) return 'none';
  const lower = word.toLowerCase();
  const upper = word.toUpperCase();
  if (word === lower) return 'lower';
  if (word === upper) return word.length > 1 || word === 'I' ? 'upper' : 'title';
  const first = word.search(LETTER);
  return word.slice(first + 1) === lower.slice(first + 1) ? 'title' : 'mixed';
}

interface RawToken {
  text: string;
  start: number;
  end: number;
  expanded: boolean;
}

function rawTokens(text: string): RawToken[] {
  const words = [...text.matchAll(TOKEN)];
  return words.flatMap((m, i) => {
    const word = m[0];
    const parts = splitContraction(word, words[i + 1]?.[0]) ?? [{ text: word, start: 0, end: word.length }];
    // A possessive split ("Jack" + "'s") leaves the text as written; an expansion ("do" + "not") does not.
    const expanded = parts.some((part) => part.text !== word.slice(part.start, part.end));
    return parts.map((part) => ({ text: part.text, start: m.index + part.start, end: m.index + part.end, expanded }));
  });
}

/**
 * Normalises a sentence (`normalizeEnglish`), then tokenizes, expands contractions, tags (Universal POS) and
 * lemmatises it. Deterministic: the same sentence gives the same analysis whatever was analysed before.
 * The last analysis is kept, because building Stage-1 targets analyses each sentence twice in a row (glosser, then
 * fingerspelling detection).
 */
export function analyse(sentence: string): Analysis {
  if (lastAnalysis?.sentence !== sentence) lastAnalysis = { sentence, analysis: analyseUncached(sentence) };
  return lastAnalysis.analysis;
}

let lastAnalysis: { sentence: string; analysis: Analysis } | undefined;

function analyseUncached(sentence: string): Analysis {
  const text = normalizeEnglish(sentence);
  const raw = rawTokens(text);
  if (raw.length === 0) return { text, tokens: [] };

  const nlp = tagger();
  const its = nlp.its;
  const fed = raw.map((t) => (DOTTED.test(t.text) ? t.text.replace(/\./g, '') : t.text));
  const joined = fed.join(' ');
  const doc = nlp.readDoc(joined).tokens();
  const values = doc.out() as string[];
  const tags = doc.out(its.pos) as UniversalPos[];
  // wink-nlp's typings give `its.lemma` a signature that `out()` does not accept; the call is its documented use.
  const lemmas = doc.out(its.lemma as unknown as ItsFunction<string>) as string[];

  // Where each wink token lies in `joined` (tokens are substrings, in order, separated by spaces only).
  const pieceStart: number[] = [];
  let at = 0;
  for (const value of values) {
    at = joined.indexOf(value, at);
    pieceStart.push(at);
    at += value.length;
  }

  // wink splits a few of our tokens further ("4x4" → 4, x4): the last piece gives the tag, the lemma keeps the rest.
  const tokens: Token[] = [];
  let w = 0;
  let rawStart = 0;
  let atSentenceStart = true;
  raw.forEach((token, r) => {
    const rawEnd = rawStart + fed[r].length;
    while (w + 1 < values.length && pieceStart[w + 1] < rawEnd) w++;
    const lastStart = Math.max(pieceStart[w], rawStart);
    const isWord = WORD_CHAR.test(token.text);
    tokens.push({
      text: token.text,
      normal: token.text.toLowerCase(),
      lemma: (joined.slice(rawStart, lastStart) + lemmas[w]).toLowerCase(),
      pos: tags[w],
      start: token.start,
      end: token.end,
      sentenceInitial: isWord && atSentenceStart,
      case: caseOf(token.text),
      expanded: token.expanded,
    });
    if (isWord) atSentenceStart = false;
    else if (SENTENCE_END.has(token.text)) atSentenceStart = true;
    else if (OPENERS.has(token.text) && (token.start === 0 || text[token.start - 1] === ' ')) atSentenceStart = true;
    rawStart = rawEnd + 1;
    if (w + 1 < values.length && pieceStart[w + 1] <= rawStart) w++;
  });
  repairModals(tokens);
  return { text, tokens };
}

const MODAL_FORMS = new Set(['will', 'would', 'shall', 'should', 'can', 'could', 'must', 'might', 'may']);

/** wink tags "will" after a determiner as a noun ("those will act as edges"); before a verb it is the modal. */
function repairModals(tokens: Token[]): void {
  tokens.forEach((token, i) => {
    if (token.pos !== 'NOUN' || !MODAL_FORMS.has(token.normal)) return;
    let k = i + 1;
    while (tokens[k]?.pos === 'ADV' || tokens[k]?.normal === 'not') k++;
    if (tokens[k]?.pos === 'VERB') token.pos = 'AUX';
  });
}
