import { SignweaveInputError } from '../errors.js';
import type { CtcVocabulary } from './vocab.js';

export interface HotwordOptions {
  /** Words or phrases (words separated by whitespace) to boost, e.g. names spelled by fingerspelling. */
  phrases: readonly string[];
  /** Bonus of a complete match, in the units of the score (natural log); default 10 as in pyctcdecode. */
  weight?: number;
}

/**
 * pyctcdecode-style hotword scoring, compiled against a vocabulary.
 * - A complete match of a phrase earns `weight`. Matches are counted as each word completes; a phrase ending at
 *   that word counts unless it overlaps a match already counted (earliest-ending first). pyctcdecode counts with a
 *   leftmost-longest regex over the text, which differs only when hotword phrases overlap one another.
 * - The partial word being spelled (character and word-piece vocabularies) earns `weight · len(partial) / len(w)`
 *   while it is a prefix of a hotword's word, w being the shortest such word (pyctcdecode takes the first one its
 *   trie yields, which is the shortest unless words share a prefix).
 */
export class CompiledHotwords {
  readonly weight: number;
  // character trie of the hotwords' words, for the partial-word bonus
  private readonly charChild = new Map<number, number>();
  private readonly minLen: number[] = [Infinity];
  private readonly partialCache = new Map<number, number>();
  // Aho–Corasick automaton over word ids, for complete phrase matches
  private readonly wordIds = new Map<string, number>();
  private readonly tokenWord: Int32Array;
  private readonly acGoto = new Map<number, number>();
  private readonly acFail: number[] = [0];
  private readonly acOut: boolean[] = [false];

  constructor(
    options: HotwordOptions,
    private readonly vocab: CtcVocabulary,
  ) {
    this.weight = options.weight ?? 10;
    if (!Number.isFinite(this.weight)) throw new SignweaveInputError(`hotwords: weight must be finite, got ${options.weight}`);
    const phrases = options.phrases.map((p) => p.trim().split(/\s+/).filter((w) => w !== '')).filter((p) => p.length > 0);
    for (const phrase of phrases) for (const w of phrase) if (!this.wordIds.has(w)) this.wordIds.set(w, this.wordIds.size);
    this.tokenWord = new Int32Array(vocab.V).fill(-1);
    vocab.labels.forEach((label, t) => {
      if (t !== vocab.blank) this.tokenWord[t] = this.wordIds.get(label) ?? -1;
    });
    for (const word of this.wordIds.keys()) this.addCharWord(word);
    for (const phrase of phrases) this.addPhrase(phrase.map((w) => this.wordIds.get(w) as number));
    this.buildFailLinks();
  }

  private addCharWord(word: string): void {
    let node = 0;
    this.minLen[0] = Math.min(this.minLen[0], word.length);
    for (let i = 0; i < word.length; i++) {
      const key = node * 65536 + word.charCodeAt(i);
      let next = this.charChild.get(key);
      if (next === undefined) {
        next = this.minLen.length;
        this.minLen.push(Infinity);
        this.charChild.set(key, next);
      }
      node = next;
      this.minLen[node] = Math.min(this.minLen[node], word.length);
    }
  }

  private addPhrase(ids: number[]): void {
    const W = this.wordIds.size;
    let node = 0;
    for (const id of ids) {
      const key = node * W + id;
      let next = this.acGoto.get(key);
      if (next === undefined) {
        next = this.acFail.length;
        this.acFail.push(0);
        this.acOut.push(false);
        this.acGoto.set(key, next);
      }
      node = next;
    }
    this.acOut[node] = true;
  }

  private buildFailLinks(): void {
    const W = this.wordIds.size;
    const children: [number, number][][] = this.acFail.map(() => []);
    for (const [key, child] of this.acGoto) children[Math.floor(key / W)].push([key % W, child]);
    const queue = children[0].map(([, c]) => c);
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi];
      for (const [w, child] of children[node]) {
        this.acFail[child] = this.gotoFrom(this.acFail[node], w);
        this.acOut[child] = this.acOut[child] || this.acOut[this.acFail[child]];
        queue.push(child);
      }
    }
  }

  private gotoFrom(state: number, w: number): number {
    const W = this.wordIds.size;
    for (let s = state; ; s = this.acFail[s]) {
      const next = this.acGoto.get(s * W + w);
      if (next !== undefined) return next;
      if (s === 0) return 0;
    }
  }

  /** Word id of a word string for `step`, -1 when no phrase contains it. */
  wordId(word: string): number {
    return this.wordIds.get(word) ?? -1;
  }

  /** Word id of a token in `token` word mode. */
  tokenWordId(token: number): number {
    return this.tokenWord[token];
  }

  /** Next phrase-matcher state after a completed word; -1 means a phrase matched (the matcher restarts at 0). */
  step(state: number, wordId: number): number {
    if (wordId < 0) return 0;
    const next = this.gotoFrom(state, wordId);
    return this.acOut[next] ? -1 : next;
  }

  /** Partial-word trie state after appending a token's characters; -1 once the partial word left every hotword. */
  advancePartial(state: number, token: number): number {
    if (state < 0) return -1;
    const cacheKey = state * this.vocab.V + token;
    const cached = this.partialCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const text = this.vocab.wordText[token];
    let node = state;
    for (let i = 0; i < text.length && node >= 0; i++) node = this.charChild.get(node * 65536 + text.charCodeAt(i)) ?? -1;
    this.partialCache.set(cacheKey, node);
    return node;
  }

  partialBonus(state: number, chars: number): number {
    if (state < 0 || chars === 0) return 0;
    return (this.weight * chars) / this.minLen[state];
  }
}
