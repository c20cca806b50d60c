/**
 * Stage 1 assembled: each sentence becomes its three training targets — pseudo-gloss (sign / fusion streams),
 * phonemes of that pseudo-gloss (lipreading stream) and fingerspelled spans with their letters (fingerspelling
 * stream) — with the provenance of each, plus the vocabularies and statistics of a whole corpus.
 */
import { ARPABET_PHONEMES, CTC_BLANK, FINGERSPELLING_ALPHABET } from '../src/vocab.js';
import type { CorpusSentence, Language } from './corpora.js';
import { detectFingerspelling, FINGERSPELL_VERSION } from './fingerspell.js';
import { Phonemizer } from './phonemes.js';
import type { FingerspellSpan, GlossProvenance, PseudoGlosser, WordPhonemes } from './types.js';

export interface TargetRecord {
  id: string;
  text: string;
  language: Language;
  /** Upper-case pseudo-gloss tokens. */
  pseudogloss: string[];
  /** The phonemes of each pseudo-gloss word (English only; empty for other languages). */
  phonemes: WordPhonemes[];
  /** Spans a signer would fingerspell, with their letters (English only). */
  fingerspell: FingerspellSpan[];
  /** The corpus's own glosses, where it has them (PHOENIX-2014T, CSL-Daily). */
  referenceGloss?: string[];
  video?: string;
  start?: number;
  end?: number;
  frames?: number;
  provenance: {
    gloss: GlossProvenance;
    phonemes: string;
    fingerspell: string;
    /** The corpus file and line the sentence came from. */
    source?: { path: string; sha256: string; line: number };
  };
}

export interface TargetBuilderOptions {
  glosser: PseudoGlosser;
  /** Shared phonemizer (loading the dictionary and G2P model once); created on demand when omitted. */
  phonemizer?: Phonemizer;
}

/**
 * Non-English corpora have no English glosser, phoneme dictionary or fingerspelling alphabet here: their pseudo-gloss
 * is the corpus's own gloss where it has one (PHOENIX-2014T `orth`, CSL-Daily), else the translation's words
 * upper-cased and passed through unfiltered; their phoneme and fingerspelling targets are empty.
 */
function passthroughGloss(sentence: CorpusSentence): { tokens: string[]; provenance: GlossProvenance } {
  if (sentence.gloss && sentence.gloss.length > 0) {
    return { tokens: [...sentence.gloss], provenance: { glosser: 'corpus-gloss', version: '1' } };
  }
  return {
    tokens: sentence.text.split(/\s+/).filter(Boolean).map((w) => w.toLocaleUpperCase(sentence.language)),
    provenance: { glosser: `passthrough-${sentence.language}`, version: '1' },
  };
}

export class TargetBuilder {
  readonly glosser: PseudoGlosser;
  readonly phonemizer: Phonemizer;

  constructor(options: TargetBuilderOptions) {
    this.glosser = options.glosser;
    this.phonemizer = options.phonemizer ?? new Phonemizer();
  }

  /** The targets of one sentence: a plain string is English text; a corpus record keeps its ids, times and source. */
  async build(input: CorpusSentence | string, source?: { path: string; sha256: string }): Promise<TargetRecord> {
    const sentence: CorpusSentence = typeof input === 'string' ? { id: 'sentence', line: 1, text: input, language: 'en' } : input;
    const english = sentence.language === 'en';
    const gloss = english ? await this.glosser.gloss(sentence.text) : passthroughGloss(sentence);
    const { id, text, language, gloss: referenceGloss, video, start, end, frames } = sentence;
    return {
      id,
      text,
      language,
      pseudogloss: gloss.tokens,
      phonemes: english && gloss.tokens.length > 0 ? this.phonemizer.phonemize(gloss.tokens) : [],
      fingerspell: english ? detectFingerspelling(text) : [],
      ...(referenceGloss ? { referenceGloss } : {}),
      ...(video !== undefined ? { video } : {}),
      ...(start !== undefined ? { start, end } : {}),
      ...(frames !== undefined ? { frames } : {}),
      provenance: {
        gloss: gloss.provenance,
        phonemes: english ? this.phonemizer.provenance : 'none (not English)',
        fingerspell: english ? `fingerspell-${FINGERSPELL_VERSION}` : 'none (not English)',
        ...(source ? { source: { ...source, line: sentence.line } } : {}),
      },
    };
  }
}

export interface TargetVocabularies {
  /** `<blank>` then the pseudo-gloss tokens, most frequent first (ties alphabetical). */
  gloss: string[];
  /** `<blank>` then the 39 ARPAbet phonemes. */
  phonemes: string[];
  /** `<blank>` then the fingerspelling alphabet. */
  letters: string[];
}

export interface TargetStatsSummary {
  sentences: number;
  vocabulary: { gloss: number; phonemes: number; letters: number };
  /** Pseudo-gloss words not in CMUdict (their phonemes came from the G2P model): share of tokens and of types. */
  phonemeOov: { tokens: number; types: number };
  averages: { textWords: number; glossTokens: number; phonemes: number; fingerspellChars: number };
  fingerspell: { spans: number; spansPerSentence: number; sentencesWithSpan: number };
  /** How many sentences each glosser (and LLM fallback) produced. */
  glossers: Record<string, number>;
}

/** Accumulates a corpus's vocabularies and statistics one record at a time (no second pass over the records). */
export class TargetStats {
  private sentences = 0;
  private textWords = 0;
  private glossTokens = 0;
  private phonemeCount = 0;
  private fingerspellChars = 0;
  private spans = 0;
  private sentencesWithSpan = 0;
  private oovTokens = 0;
  private phonemizedTokens = 0;
  private readonly glossCounts = new Map<string, number>();
  private readonly wordSources = new Map<string, WordPhonemes['source']>();
  private readonly glossers = new Map<string, number>();

  add(record: TargetRecord): void {
    this.sentences++;
    this.textWords += record.text.split(/\s+/).filter(Boolean).length;
    this.glossTokens += record.pseudogloss.length;
    for (const token of record.pseudogloss) this.glossCounts.set(token, (this.glossCounts.get(token) ?? 0) + 1);
    for (const word of record.phonemes) {
      this.phonemeCount += word.phonemes.length;
      this.phonemizedTokens++;
      if (word.source === 'g2p') this.oovTokens++;
      this.wordSources.set(word.word.toUpperCase(), word.source);
    }
    this.spans += record.fingerspell.length;
    if (record.fingerspell.length > 0) this.sentencesWithSpan++;
    for (const span of record.fingerspell) this.fingerspellChars += span.chars.length;
    const g = record.provenance.gloss;
    const key = g.fallback ? `${g.glosser} (fallback to rules)` : g.glosser;
    this.glossers.set(key, (this.glossers.get(key) ?? 0) + 1);
  }

  vocabularies(): TargetVocabularies {
    const gloss = [...this.glossCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([t]) => t);
    return {
      gloss: [CTC_BLANK, ...gloss],
      phonemes: [CTC_BLANK, ...ARPABET_PHONEMES],
      letters: [CTC_BLANK, ...FINGERSPELLING_ALPHABET],
    };
  }

  summary(): TargetStatsSummary {
    const n = Math.max(this.sentences, 1);
    const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
    const oovTypes = [...this.wordSources.values()].filter((s) => s === 'g2p').length;
    return {
      sentences: this.sentences,
      vocabulary: { gloss: this.glossCounts.size + 1, phonemes: ARPABET_PHONEMES.length + 1, letters: FINGERSPELLING_ALPHABET.length + 1 },
      phonemeOov: { tokens: ratio(this.oovTokens, this.phonemizedTokens), types: ratio(oovTypes, this.wordSources.size) },
      averages: {
        textWords: this.textWords / n,
        glossTokens: this.glossTokens / n,
        phonemes: this.phonemeCount / n,
        fingerspellChars: this.fingerspellChars / n,
      },
      fingerspell: { spans: this.spans, spansPerSentence: this.spans / n, sentencesWithSpan: this.sentencesWithSpan / n },
      glossers: Object.fromEntries(this.glossers),
    };
  }
}
