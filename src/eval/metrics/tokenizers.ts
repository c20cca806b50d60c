/**
 * sacrebleu 2.6.0's BLEU tokenizers `13a`, `intl`, `char` and `none`, reproduced with the same regular expressions
 * (tokenizer_13a.py with tokenizer_re.py, tokenizer_intl.py, tokenizer_char.py, tokenizer_none.py).
 */
import { SignweaveInputError } from '../../errors.js';
import { isPythonWhitespace, splitPythonWhitespace } from './sacrebleu-common.js';

export type BleuTokenizerName = '13a' | 'none' | 'intl' | 'char';

export interface BleuTokenizer {
  readonly name: BleuTokenizerName;
  /** The `tok:` value of the BLEU signature. */
  readonly signature: string;
  /** The tokenized line exactly as sacrebleu's tokenizer returns it. */
  tokenize(line: string): string;
  /** What BLEU counts: the whitespace-split tokens of `tokenize(line)`. */
  tokens(line: string): string[];
}

// mteval-v13a's rules (tokenizer_re.py): pad ASCII symbols and punctuation except . , - and ', then split off a
// period/comma unless it is next to a digit, then a dash after a digit.
const RE_13A_NONDIGIT_PERIOD = /([^0-9])([.,])/gu;
const RE_13A_PERIOD_NONDIGIT = /([.,])([^0-9])/gu;
const RE_13A_DIGIT_DASH = /([0-9])(-)/gu;

// mteval-v14's international rules (tokenizer_intl.py), Unicode general categories.
const RE_INTL_NONDIGIT_PUNCT = /(\P{N})(\p{P})/gu;
const RE_INTL_PUNCT_NONDIGIT = /(\p{P})(\P{N})/gu;
const RE_INTL_SYMBOL = /(\p{S})/gu;

/**
 * The first rule, `([{-~[-\` -&(-+:-@/])` → ` \1 `, as a scan (the regex dominated tokenization time). Its class
 * also holds the space; padding a space only lengthens a whitespace run, which neither the later rules (they see a
 * space either way) nor the final split can tell apart, so spaces are left alone.
 */
const IS_13A_SYMBOL = new Uint8Array(128);
for (const [from, to] of [[0x21, 0x26], [0x28, 0x2b], [0x2f, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]) {
  IS_13A_SYMBOL.fill(1, from, to + 1);
}

function padSymbols13a(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && IS_13A_SYMBOL[c] === 1) {
      out += `${text.slice(last, i)} ${text[i]} `;
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

function tokens13a(line: string): string[] {
  let text = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (text.includes('&')) {
    text = text.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  text = padSymbols13a(` ${text} `)
    .replace(RE_13A_NONDIGIT_PERIOD, '$1 $2 ')
    .replace(RE_13A_PERIOD_NONDIGIT, ' $1 $2')
    .replace(RE_13A_DIGIT_DASH, '$1 $2 ');
  return splitPythonWhitespace(text);
}

function tokensIntl(line: string): string[] {
  const text = line
    .replace(RE_INTL_NONDIGIT_PUNCT, '$1 $2 ')
    .replace(RE_INTL_PUNCT_NONDIGIT, ' $1 $2')
    .replace(RE_INTL_SYMBOL, ' $1 ');
  return splitPythonWhitespace(text);
}

/** Every code point (Python indexes strings by code point, so a surrogate pair is one character). */
function codePoints(line: string): string[] {
  return Array.from(line);
}

/** The non-whitespace characters: `' '.join(line)` then `split()` drops the whitespace ones. */
function tokensChar(line: string): string[] {
  return codePoints(line).filter((ch) => !isPythonWhitespace(ch.codePointAt(0) as number));
}

export const BLEU_TOKENIZERS: Readonly<Record<BleuTokenizerName, BleuTokenizer>> = {
  '13a': {
    name: '13a',
    signature: '13a',
    tokenize: (line) => tokens13a(line).join(' '),
    tokens: tokens13a,
  },
  intl: {
    name: 'intl',
    signature: 'intl',
    tokenize: (line) => tokensIntl(line).join(' '),
    tokens: tokensIntl,
  },
  char: {
    name: 'char',
    signature: 'char',
    tokenize: (line) => codePoints(line).join(' '),
    tokens: tokensChar,
  },
  none: {
    name: 'none',
    signature: 'none',
    tokenize: (line) => line,
    tokens: splitPythonWhitespace,
  },
};

export const BLEU_TOKENIZER_NAMES: readonly BleuTokenizerName[] = Object.keys(BLEU_TOKENIZERS) as BleuTokenizerName[];

export function isBleuTokenizerName(name: unknown): name is BleuTokenizerName {
  return typeof name === 'string' && Object.hasOwn(BLEU_TOKENIZERS, name);
}

export function getBleuTokenizer(name: BleuTokenizerName): BleuTokenizer {
  if (!isBleuTokenizerName(name)) {
    throw new SignweaveInputError(`unknown BLEU tokenizer ${JSON.stringify(name)}; expected one of ${BLEU_TOKENIZER_NAMES.join(', ')}`);
  }
  return BLEU_TOKENIZERS[name];
}

/** sacrebleu's `tokenizer(line)` for the named BLEU tokenizer. */
export function tokenizeForBleu(name: BleuTokenizerName, line: string): string {
  return getBleuTokenizer(name).tokenize(line);
}
