import { readFileSync } from 'node:fs';
import { SignweaveInputError } from '../errors.js';

/** Result slot for `NgramLm.score`, reused by callers so scoring allocates nothing. */
export interface LmStep {
  /** log10 P(word | state), with backoff. */
  log10: number;
  /** Context after the word (the longest suffix of the history the model knows, at most order−1 words). */
  state: number;
}

/** KenLM's probability for a word outside a model without `<unk>`. */
const MISSING_UNK_LOG10 = -100;
const MAX_VOCAB = 16777216;

/**
 * A back-off n-gram language model read from an ARPA file (`\data\`, `\N-grams:` sections of
 * `log10prob w1 … wN [log10backoff]`, `\end\`). Contexts are states (small integers): state 0 is the empty
 * context, `startState()` the sentence start `<s>`. Words outside the vocabulary score as `<unk>`.
 */
export class NgramLm {
  readonly order: number;
  /** Number of n-grams of each order (index 0: unigrams), as declared in `\data\` and verified. */
  readonly counts: readonly number[];
  readonly source: string;
  private readonly vocab = new Map<string, number>();
  private readonly child = new Map<number, number>();
  // per trie node (node 0 = empty context); node i ≥ 1 is one n-gram
  private readonly prob: number[] = [0];
  private readonly backoff: number[] = [0];
  private readonly depth: number[] = [0];
  private readonly parent: number[] = [-1];
  private readonly word: number[] = [-1];
  private suffix: Int32Array = new Int32Array(1);
  private readonly unk: number;
  private readonly bosState: number;
  readonly eos: number;
  /** Upper bound of any `score(…).log10` (≤ 0 unless the file has positive log10 values, which ARPA permits). */
  readonly maxLog10: number;

  private constructor(text: string, source: string) {
    this.source = source;
    const declared = this.parse(text);
    this.order = declared.length;
    this.counts = declared;
    this.unk = this.vocab.get('<unk>') ?? -1;
    const bos = this.vocab.get('<s>');
    this.bosState = bos === undefined ? 0 : this.childOf(0, bos);
    this.eos = this.vocab.get('</s>') ?? -1;
    this.buildSuffixLinks();
    let maxProb = -Infinity;
    let maxBackoff = 0;
    for (let i = 1; i < this.prob.length; i++) {
      if (this.prob[i] > maxProb) maxProb = this.prob[i];
      if (this.backoff[i] > maxBackoff) maxBackoff = this.backoff[i];
    }
    this.maxLog10 = maxProb + (this.order - 1) * maxBackoff;
  }

  static parse(text: string, source = '<arpa>'): NgramLm {
    return new NgramLm(text, source);
  }

  static load(path: string): NgramLm {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SignweaveInputError(`cannot read ARPA file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return new NgramLm(text, path);
  }

  private parse(text: string): number[] {
    const lines = text.split(/\r?\n/);
    let i = 0;
    const fail = (line: number, msg: string): never => {
      throw new SignweaveInputError(`${this.source}:${line + 1}: ${msg}`);
    };
    while (i < lines.length && lines[i].trim() !== '\\data\\') i++;
    if (i === lines.length) fail(0, 'no \\data\\ section; not an ARPA file');
    i++;
    const declared: number[] = [];
    for (; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '') continue;
      if (line.startsWith('\\')) break;
      const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(line);
      if (!m) fail(i, `expected "ngram N=count" in \\data\\, got ${JSON.stringify(line)}`);
      const n = Number(m![1]);
      if (n !== declared.length + 1) fail(i, `expected the count of ${declared.length + 1}-grams, got ${n}-grams`);
      declared.push(Number(m![2]));
    }
    if (declared.length === 0) fail(i, 'the \\data\\ section declares no n-gram counts');
    for (let n = 1; n <= declared.length; n++) {
      while (i < lines.length && lines[i].trim() === '') i++;
      if (i === lines.length || lines[i].trim() !== `\\${n}-grams:`) {
        fail(Math.min(i, lines.length - 1), `expected \\${n}-grams: section${i < lines.length ? `, got ${JSON.stringify(lines[i].trim())}` : ''}`);
      }
      const header = i++;
      let count = 0;
      for (; i < lines.length; i++) {
        const line = lines[i].trim();
        if (line === '') continue;
        if (line.startsWith('\\')) break;
        this.addNgram(line, n, i, fail);
        count++;
      }
      if (count !== declared[n - 1]) {
        fail(header, `\\${n}-grams: has ${count} entries but \\data\\ declares ${declared[n - 1]}`);
      }
    }
    while (i < lines.length && lines[i].trim() === '') i++;
    if (i === lines.length || lines[i].trim() !== '\\end\\') fail(Math.min(i, lines.length - 1), 'expected \\end\\');
    return declared;
  }

  private addNgram(line: string, n: number, lineNo: number, fail: (line: number, msg: string) => never): void {
    const fields = line.split(/\s+/);
    if (fields.length !== n + 1 && fields.length !== n + 2) {
      fail(lineNo, `a ${n}-gram line needs a log10 probability, ${n} word(s) and an optional backoff; got ${fields.length} fields`);
    }
    const prob = parseLog10(fields[0]);
    if (prob === undefined) fail(lineNo, `bad log10 probability ${JSON.stringify(fields[0])}`);
    const backoff = fields.length === n + 2 ? parseLog10(fields[n + 1]) : 0;
    if (backoff === undefined) fail(lineNo, `bad log10 backoff ${JSON.stringify(fields[n + 1])}`);
    let node = 0;
    for (let k = 1; k <= n; k++) {
      const w = fields[k];
      let id = this.vocab.get(w);
      if (id === undefined) {
        if (n > 1) fail(lineNo, `word ${JSON.stringify(w)} is not among the 1-grams`);
        if (this.vocab.size >= MAX_VOCAB) fail(lineNo, `more than ${MAX_VOCAB} words`);
        id = this.vocab.size;
        this.vocab.set(w, id);
      }
      if (k < n) {
        node = this.childOf(node, id);
        if (node < 0) fail(lineNo, `the ${n}-gram's prefix "${fields.slice(1, k + 1).join(' ')}" is not in the model`);
      } else {
        if (this.childOf(node, id) >= 0) fail(lineNo, `duplicate ${n}-gram "${fields.slice(1, n + 1).join(' ')}"`);
        const created = this.prob.length;
        this.child.set(this.key(node, id), created);
        this.prob.push(prob!);
        this.backoff.push(backoff!);
        this.depth.push(n);
        this.parent.push(node);
        this.word.push(id);
      }
    }
  }

  private key(node: number, word: number): number {
    // node < 2^29 n-grams fit in memory anyway, so node·2^24 + word stays an exact double
    return node * MAX_VOCAB + word;
  }

  private childOf(node: number, word: number): number {
    return this.child.get(this.key(node, word)) ?? -1;
  }

  /** Suffix link of every node: the longest proper suffix of its words that is itself in the model. */
  private buildSuffixLinks(): void {
    const n = this.prob.length;
    this.suffix = new Int32Array(n);
    const words: number[] = [];
    for (let node = 1; node < n; node++) {
      words.length = 0;
      for (let x = node; x > 0; x = this.parent[x]) words.push(this.word[x]);
      words.reverse();
      let link = 0;
      for (let start = 1; start < words.length && link === 0; start++) {
        let x = 0;
        for (let k = start; k < words.length && x >= 0; k++) x = this.childOf(x, words[k]);
        if (x > 0) link = x;
      }
      this.suffix[node] = link;
    }
  }

  /** Vocabulary size (the 1-grams, including `<s>`, `</s>`, `<unk>` when present). */
  get vocabularySize(): number {
    return this.vocab.size;
  }

  /** The 1-gram words in file order (e.g. to build a lexicon, as pyctcdecode and parlance do). */
  words(): string[] {
    return [...this.vocab.keys()];
  }

  /** Word id, -1 outside the vocabulary. */
  index(word: string): number {
    return this.vocab.get(word) ?? -1;
  }

  /** The `<s>` context (the empty context if the model has no `<s>`). */
  startState(): number {
    return this.bosState;
  }

  /** log10 P(word | state) with back-off; `word` -1 (unknown) scores as `<unk>`. Writes into `out`. */
  score(state: number, word: number, out: LmStep): LmStep {
    if (word < 0) {
      if (this.unk < 0) {
        out.log10 = MISSING_UNK_LOG10;
        out.state = 0;
        return out;
      }
      word = this.unk;
    }
    let bo = 0;
    for (let node = state; ; node = this.suffix[node]) {
      const next = this.childOf(node, word);
      if (next >= 0) {
        out.log10 = bo + this.prob[next];
        out.state = this.depth[next] < this.order ? next : this.suffix[next];
        return out;
      }
      // every vocabulary word is a 1-gram, so the walk ends at the latest in the empty context
      bo += this.backoff[node];
    }
  }

  /** The model's own entry for an n-gram, or undefined. */
  entry(words: readonly string[]): { log10: number; backoff: number } | undefined {
    let node = 0;
    for (const w of words) {
      const id = this.vocab.get(w);
      node = id === undefined ? -1 : this.childOf(node, id);
      if (node < 0) return undefined;
    }
    return node > 0 ? { log10: this.prob[node], backoff: this.backoff[node] } : undefined;
  }

  /** log10 probability of a word sequence, from `<s>` and including `</s>` unless told otherwise. */
  sentenceLog10Prob(words: readonly string[], options: { bos?: boolean; eos?: boolean } = {}): number {
    const step: LmStep = { log10: 0, state: options.bos === false ? 0 : this.bosState };
    let total = 0;
    for (const w of options.eos === false ? words : [...words, '</s>']) {
      total += this.score(step.state, this.index(w), step).log10;
    }
    return total;
  }
}

function parseLog10(s: string): number | undefined {
  if (s === '-inf' || s === '-Infinity') return -Infinity;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}
