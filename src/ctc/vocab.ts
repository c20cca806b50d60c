import { SignweaveInputError } from '../errors.js';
import { checkBlank } from './logits.js';
import type { CtcHypothesis, CtcVocabularyOptions, WordMode } from './types.js';

/** A vocabulary with its word segmentation resolved once, shared by every decoder built from it. */
export class CtcVocabulary {
  readonly labels: readonly string[];
  readonly V: number;
  readonly blank: number;
  readonly joiner: string;
  readonly words: WordMode;
  /** Separator token index in `separator` mode, else -1. */
  readonly separator: number;
  readonly collapseSeparators: boolean;
  /** 1 where the token begins a word in `marker` mode. */
  readonly startsWord: Uint8Array;
  /** The characters a token adds to its word (label without the word-piece marker). */
  readonly wordText: readonly string[];

  constructor(options: CtcVocabularyOptions) {
    const labels = options.labels;
    if (labels.length === 0) throw new SignweaveInputError('CTC vocabulary: no labels');
    this.labels = labels;
    this.V = labels.length;
    this.blank = options.blank ?? 0;
    checkBlank(this.blank, this.V);
    this.joiner = options.joiner ?? '';
    this.words = options.words ?? defaultWordMode(labels, this.blank, this.joiner);
    this.separator = -1;
    this.startsWord = new Uint8Array(this.V);
    let wordText = labels.slice();
    if (this.words.kind === 'separator') {
      const sep = this.words.separator;
      const idx = labels.findIndex((l, i) => l === sep && i !== this.blank);
      if (idx < 0) throw new SignweaveInputError(`CTC vocabulary: word separator ${JSON.stringify(sep)} is not a label`);
      this.separator = idx;
    } else if (this.words.kind === 'marker') {
      const marker = this.words.marker;
      if (marker === '') throw new SignweaveInputError('CTC vocabulary: empty word-piece marker');
      wordText = labels.map((l, i) => {
        if (i === this.blank || !l.startsWith(marker)) return l;
        this.startsWord[i] = 1;
        return l.slice(marker.length);
      });
    }
    this.wordText = wordText;
    this.collapseSeparators = this.words.kind === 'separator' && (options.collapseSeparators ?? true);
  }

  /** Text of a token sequence: labels joined with `joiner`; in `marker` mode markers become spaces, trimmed. */
  textOf(tokens: readonly number[]): string {
    const text = tokens.map((t) => this.labels[t]).join(this.joiner);
    if (this.words.kind !== 'marker') return text;
    return text.split(this.words.marker).join(' ').trim().replace(/ {2,}/g, ' ');
  }
}

function defaultWordMode(labels: readonly string[], blank: number, joiner: string): WordMode {
  if (joiner === ' ') return { kind: 'token' };
  if (labels.some((l, i) => l === ' ' && i !== blank)) return { kind: 'separator', separator: ' ' };
  if (labels.some((l, i) => l.startsWith('▁') && i !== blank)) return { kind: 'marker', marker: '▁' };
  return { kind: 'token' };
}

export interface CtcWordSpan {
  word: string;
  startFrame: number;
  /** Inclusive, as in token spans. */
  endFrame: number;
  /** Mean of its tokens' confidences. */
  confidence: number;
}

/**
 * Groups a hypothesis' token spans into words by the vocabulary's word mode (separator tokens are dropped; a word
 * runs from its first token's start frame to its last token's end frame).
 */
export function groupWords(hypothesis: CtcHypothesis, vocabulary: CtcVocabulary | CtcVocabularyOptions): CtcWordSpan[] {
  const vocab = vocabulary instanceof CtcVocabulary ? vocabulary : new CtcVocabulary(vocabulary);
  const out: CtcWordSpan[] = [];
  let word = '';
  let start = -1;
  let end = -1;
  let confSum = 0;
  let n = 0;
  const flush = (): void => {
    if (n > 0) out.push({ word, startFrame: start, endFrame: end, confidence: confSum / n });
    word = '';
    n = 0;
    confSum = 0;
  };
  for (const span of hypothesis.spans) {
    if (span.token === vocab.separator) {
      flush();
      continue;
    }
    if (vocab.words.kind === 'token' || (vocab.words.kind === 'marker' && vocab.startsWord[span.token] === 1)) flush();
    if (n === 0) start = span.startFrame;
    word += vocab.wordText[span.token];
    end = span.endFrame;
    confSum += span.confidence;
    n++;
  }
  flush();
  return out;
}
