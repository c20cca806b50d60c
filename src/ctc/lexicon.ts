import { SignweaveInputError } from '../errors.js';
import type { CtcVocabulary } from './vocab.js';

/**
 * The words (or, for gloss vocabularies, token phrases) a hypothesis may consist of. Beams whose tokens leave the
 * lexicon are dropped, and a hypothesis must end on a word (phrase) boundary.
 * - Character / word-piece vocabularies (`separator`, `marker` word modes): `fromWords`; a word is spelled by the
 *   tokens between two word boundaries. Words the vocabulary cannot spell are never reached (parlance also skips them).
 * - Gloss vocabularies (`token` word mode): `fromWords` gives the allowed tokens; `fromPhrases` the allowed token
 *   sequences, a hypothesis being any concatenation of them. Entries naming a label not in the vocabulary are ignored.
 */
export class Lexicon {
  private constructor(
    /** Each entry as its words; single words have one. */
    readonly entries: readonly (readonly string[])[],
    readonly kind: 'words' | 'phrases',
  ) {}

  static fromWords(words: Iterable<string>): Lexicon {
    const entries: string[][] = [];
    for (const raw of words) {
      const word = raw.trim();
      if (word === '') continue;
      if (/\s/.test(word)) throw new SignweaveInputError(`lexicon: word ${JSON.stringify(word)} contains whitespace; use Lexicon.fromPhrases`);
      entries.push([word]);
    }
    return new Lexicon(entries, 'words');
  }

  /** Phrases as label arrays, or strings whose whitespace separates the labels. */
  static fromPhrases(phrases: Iterable<string | readonly string[]>): Lexicon {
    const entries: string[][] = [];
    for (const p of phrases) {
      const words = (typeof p === 'string' ? p.trim().split(/\s+/) : [...p]).filter((w) => w !== '');
      if (words.length > 0) entries.push(words);
    }
    return new Lexicon(entries, 'phrases');
  }

  get size(): number {
    return this.entries.length;
  }

  /** The automaton the beam search runs, for this vocabulary and its word mode. */
  compile(vocab: CtcVocabulary): CompiledLexicon {
    if (vocab.words.kind === 'token') return new TokenLexicon(this.entries, vocab);
    if (this.kind === 'phrases') {
      throw new SignweaveInputError('lexicon: phrases need a vocabulary whose tokens are words (word mode "token")');
    }
    return new SpellingLexicon(this.entries.map((e) => e[0]), vocab);
  }
}

/** State machine over lexicon positions; state 0 is the start, -1 "outside the lexicon". */
export interface CompiledLexicon {
  /**
   * `spelling`: the decoder feeds the tokens of the current word and checks `accepts` at each word boundary, then
   * restarts at 0. `tokens`: every token is fed and `accepts` is checked at the end of the hypothesis.
   */
  readonly kind: 'spelling' | 'tokens';
  advance(state: number, token: number): number;
  accepts(state: number): boolean;
}

/** Character trie of words; a token advances by the characters of its label (word-piece marker stripped). */
class SpellingLexicon implements CompiledLexicon {
  readonly kind = 'spelling';
  private readonly child = new Map<number, number>();
  private readonly terminal: boolean[] = [false];
  private readonly cache = new Map<number, number>();

  constructor(
    words: readonly string[],
    private readonly vocab: CtcVocabulary,
  ) {
    for (const word of words) {
      let node = 0;
      for (let i = 0; i < word.length; i++) {
        const key = node * 65536 + word.charCodeAt(i);
        let next = this.child.get(key);
        if (next === undefined) {
          next = this.terminal.length;
          this.terminal.push(false);
          this.child.set(key, next);
        }
        node = next;
      }
      this.terminal[node] = true;
    }
  }

  advance(state: number, token: number): number {
    const key = state * this.vocab.V + token;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const text = this.vocab.wordText[token];
    let node = state;
    for (let i = 0; i < text.length && node >= 0; i++) node = this.child.get(node * 65536 + text.charCodeAt(i)) ?? -1;
    this.cache.set(key, node);
    return node;
  }

  accepts(state: number): boolean {
    return this.terminal[state];
  }
}

/**
 * Phrases over token ids as a lazily built DFA: a state is the set of phrase-trie nodes the hypothesis may be in
 * (trie node 0 = between phrases), so phrases that are prefixes of one another need no lookahead.
 */
class TokenLexicon implements CompiledLexicon {
  readonly kind = 'tokens';
  private readonly child = new Map<number, number>();
  private readonly terminal: boolean[] = [false];
  private readonly hasChildren: boolean[] = [false];
  private readonly states: number[][] = [[0]];
  private readonly stateIds = new Map<string, number>([['0', 0]]);
  private readonly transitions = new Map<number, number>();
  private readonly V: number;

  constructor(entries: readonly (readonly string[])[], vocab: CtcVocabulary) {
    this.V = vocab.V;
    const index = new Map<string, number>();
    vocab.labels.forEach((l, i) => {
      if (i !== vocab.blank && vocab.separator !== i && !index.has(l)) index.set(l, i);
    });
    for (const phrase of entries) {
      const ids = phrase.map((w) => index.get(w));
      if (ids.some((id) => id === undefined)) continue;
      let node = 0;
      for (const id of ids as number[]) {
        const key = node * this.V + id;
        let next = this.child.get(key);
        if (next === undefined) {
          next = this.terminal.length;
          this.terminal.push(false);
          this.hasChildren.push(false);
          this.child.set(key, next);
        }
        this.hasChildren[node] = true;
        node = next;
      }
      this.terminal[node] = true;
    }
  }

  advance(state: number, token: number): number {
    const key = state * this.V + token;
    const cached = this.transitions.get(key);
    if (cached !== undefined) return cached;
    const set = new Set<number>();
    for (const node of this.states[state]) {
      const next = this.child.get(node * this.V + token);
      if (next === undefined) continue;
      // leaves are dropped so that single-token entries keep the DFA at one state
      if (this.hasChildren[next]) set.add(next);
      if (this.terminal[next]) set.add(0);
    }
    let id = -1;
    if (set.size > 0) {
      const nodes = [...set].sort((a, b) => a - b);
      const name = nodes.join(',');
      id = this.stateIds.get(name) ?? -1;
      if (id < 0) {
        id = this.states.length;
        this.states.push(nodes);
        this.stateIds.set(name, id);
      }
    }
    this.transitions.set(key, id);
    return id;
  }

  accepts(state: number): boolean {
    return this.states[state][0] === 0;
  }
}
