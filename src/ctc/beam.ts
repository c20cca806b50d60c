import { SignweaveInputError } from '../errors.js';
import type { LmStep, NgramLm } from './arpa.js';
import { CompiledHotwords, type HotwordOptions } from './hotwords.js';
import type { CompiledLexicon, Lexicon } from './lexicon.js';
import { validateLogProbs, type CtcMatrix } from './logits.js';
import type { CtcHypothesis, CtcSpan, CtcVocabularyOptions } from './types.js';
import { CtcVocabulary } from './vocab.js';

export interface LmFusionOptions {
  model: NgramLm;
  /** LM weight α (≥ 0) on the natural-log LM probability; default 0.5 (pyctcdecode). */
  alpha?: number;
  /** Insertion bonus β per word; default 1.5 (pyctcdecode). */
  beta?: number;
  /**
   * `word`: the LM's units are words, scored as each word completes (at a separator, at the next word-piece start,
   * or per token for gloss vocabularies) and the last one at the end. `token`: the LM's units are the tokens
   * themselves (a character LM), scored per token. Default `word`.
   */
  level?: 'word' | 'token';
  /** At `token` level, the LM word standing for the word separator (whitespace labels); default `<space>`. */
  separatorWord?: string;
  /** Score the first unit after `<s>` and add P(`</s>`) at the end; default true (pyctcdecode lm_score_boundary). */
  sentenceBoundaries?: boolean;
  /**
   * Added to log10 P of every unit outside `knownWords`, on top of the model's own `<unk>` probability
   * (pyctcdecode's unk_score_offset, -10 there); default 0.
   */
  unknownLog10Offset?: number;
  /** The units that count as known for `unknownLog10Offset` (pyctcdecode's `unigrams`); default the LM's vocabulary. */
  knownWords?: Iterable<string>;
}

export interface BeamSearchOptions extends CtcVocabularyOptions {
  /** Prefixes kept after each frame; default 16. */
  beamWidth?: number;
  /** Hypotheses returned; default beamWidth. */
  nBest?: number;
  /** Per frame, only the topK most probable tokens are considered (parlance cutoff_top_n); default 40. */
  topK?: number;
  /** Per frame, tokens below this natural-log probability are skipped, the argmax excepted (pyctcdecode token_min_logp); default -∞. */
  tokenMinLogProb?: number;
  /** Per frame, the most probable tokens whose cumulative probability first reaches this are kept (parlance cutoff_prob); default 1 (off). */
  cutoffProb?: number;
  /** Prefixes scoring more than this below the best are dropped, each frame and in the final n-best (pyctcdecode beam_prune_logp, e.g. -10); default -∞. */
  beamPruneLogProb?: number;
  lexicon?: Lexicon;
  hotwords?: HotwordOptions;
  lm?: LmFusionOptions;
}

/** The alignment a prefix state's Viterbi path gives its last token (immutable; chains to earlier tokens). */
class SpanRec {
  constructor(
    readonly token: number,
    readonly start: number,
    readonly end: number,
    readonly sum: number,
    readonly count: number,
    readonly prev: SpanRec | null,
  ) {}
}

/** A node of the prefix trie: one token sequence, with the word/LM/hotword state it has reached. */
class PrefixNode {
  id = -1;
  parent: PrefixNode | null = null;
  token = -1;
  depth = 0;
  /** Frame stamp while in the beam, and its index there (finds parents of beam members in O(1)). */
  beamStamp = 0;
  beamIdx = 0;
  /** Frame stamp when one of its children is in the beam. */
  kidStamp = 0;
  lex = 0;
  lmState = 0;
  /** Σ ln P_LM of the units scored so far (unweighted). */
  lmLog = 0;
  words = 0;
  hwState = 0;
  hwCount = 0;
  hwPartial = 0;
  partialChars = 0;
  partialLen = 0;
  /** lmScore + hotword score: what ranking adds to the acoustic log-probability. */
  fused = 0;

  copyStateFrom(p: PrefixNode): void {
    this.lex = p.lex;
    this.lmState = p.lmState;
    this.lmLog = p.lmLog;
    this.words = p.words;
    this.hwState = p.hwState;
    this.hwCount = p.hwCount;
    this.hwPartial = p.hwPartial;
    this.partialChars = p.partialChars;
    this.partialLen = p.partialLen;
  }
}

const LN10 = Math.LN10;
const KIND_KEEP = 0;
const KIND_EXTEND = 1;
const KIND_NEW = 2;

function logAdd(a: number, b: number): number {
  if (a < b) {
    const t = a;
    a = b;
    b = t;
  }
  if (b === -Infinity) return a;
  return a + Math.log1p(Math.exp(b - a));
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new SignweaveInputError(`beam search: ${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * CTC prefix beam search in log space, compiled once per configuration (vocabulary, lexicon, hotwords, LM) and
 * reusable. Each prefix keeps the log-probabilities of its alignments ending in a blank and ending in its last
 * token; extensions are generated only from the tokens that survive the per-frame pruning (computed once per frame
 * and shared by all beams), and prefixes live in a trie (parent pointer + last token) so nothing copies token arrays.
 */
export class CtcBeamDecoder {
  readonly vocab: CtcVocabulary;
  readonly beamWidth: number;
  readonly nBest: number;
  readonly topK: number;
  readonly tokenMinLogProb: number;
  readonly cutoffProb: number;
  readonly beamPruneLogProb: number;
  /** @internal */ readonly lexicon: CompiledLexicon | null;
  /** @internal */ readonly hotwords: CompiledHotwords | null;
  /** @internal */ readonly lm: NgramLm | null;
  /** @internal */ readonly alpha: number;
  /** @internal */ readonly beta: number;
  /** @internal */ readonly lmTokenLevel: boolean;
  /** @internal */ readonly lmBoundaries: boolean;
  /** LM word id per token (token-level LM or gloss vocabularies). @internal */
  readonly lmToken: Int32Array;
  /** Log10 offset per token for unknown units (token-level LM or gloss vocabularies). @internal */
  readonly lmTokenOffset: Float64Array;
  /** @internal */ readonly unknownOffset: number;
  /** @internal */ readonly knownWords: ReadonlySet<string> | null;
  /** Upper bound of what one extension can add to `fused`, for skipping hopeless extensions. @internal */
  readonly maxGain: number;

  constructor(options: BeamSearchOptions) {
    this.vocab = new CtcVocabulary(options);
    this.beamWidth = positiveInt('beamWidth', options.beamWidth ?? 16);
    this.nBest = positiveInt('nBest', options.nBest ?? this.beamWidth);
    const topK = options.topK ?? 40;
    if (!(topK >= 1)) throw new SignweaveInputError(`beam search: topK must be ≥ 1, got ${topK}`);
    this.topK = Math.min(Math.floor(topK), this.vocab.V);
    this.tokenMinLogProb = options.tokenMinLogProb ?? -Infinity;
    this.cutoffProb = options.cutoffProb ?? 1;
    if (!(this.cutoffProb > 0 && this.cutoffProb <= 1)) throw new SignweaveInputError(`beam search: cutoffProb must be in (0, 1], got ${this.cutoffProb}`);
    this.beamPruneLogProb = options.beamPruneLogProb ?? -Infinity;
    if (!(this.beamPruneLogProb <= 0)) throw new SignweaveInputError(`beam search: beamPruneLogProb must be ≤ 0, got ${this.beamPruneLogProb}`);
    this.lexicon = options.lexicon ? options.lexicon.compile(this.vocab) : null;
    this.hotwords = options.hotwords ? new CompiledHotwords(options.hotwords, this.vocab) : null;
    const lm = options.lm;
    this.lm = lm ? lm.model : null;
    this.alpha = lm?.alpha ?? 0.5;
    this.beta = lm?.beta ?? 1.5;
    if (!(this.alpha >= 0) || !Number.isFinite(this.alpha)) throw new SignweaveInputError(`LM fusion: alpha must be a finite number ≥ 0, got ${this.alpha}`);
    if (!Number.isFinite(this.beta)) throw new SignweaveInputError(`LM fusion: beta must be finite, got ${this.beta}`);
    this.lmTokenLevel = lm?.level === 'token';
    this.lmBoundaries = lm?.sentenceBoundaries ?? true;
    this.unknownOffset = lm?.unknownLog10Offset ?? 0;
    if (!Number.isFinite(this.unknownOffset)) throw new SignweaveInputError(`LM fusion: unknownLog10Offset must be finite, got ${this.unknownOffset}`);
    this.knownWords = lm?.knownWords ? new Set(lm.knownWords) : null;
    this.lmToken = new Int32Array(this.vocab.V).fill(-1);
    this.lmTokenOffset = new Float64Array(this.vocab.V);
    if (lm) {
      const sepWord = lm.separatorWord ?? '<space>';
      this.vocab.labels.forEach((label, t) => {
        if (t === this.vocab.blank) return;
        const unit = this.lmTokenLevel && label.trim() === '' ? sepWord : label;
        this.lmToken[t] = lm.model.index(unit);
        this.lmTokenOffset[t] = this.isKnown(unit, this.lmToken[t]) ? 0 : this.unknownOffset;
      });
    }
    const lmGain = this.lm ? this.alpha * Math.max(0, (this.lm.maxLog10 + Math.max(0, this.unknownOffset)) * LN10) + Math.max(0, this.beta) : 0;
    this.maxGain = lmGain + (this.hotwords ? 2 * Math.abs(this.hotwords.weight) : 0);
  }

  /** @internal */
  isKnown(word: string, lmId: number): boolean {
    return this.knownWords ? this.knownWords.has(word) : lmId >= 0;
  }

  /** Decodes a whole `[T, V]` log-probability matrix; the n-best, best first. */
  decode(m: CtcMatrix): CtcHypothesis[] {
    const state = this.start();
    state.push(m);
    return state.finish();
  }

  /** Incremental decoding: push frames in chunks, read the best partial hypothesis, finish for the n-best. */
  start(): BeamSearchState {
    return new BeamSearchState(this);
  }
}

/** Convenience: `new CtcBeamDecoder(options).decode(m)`. */
export function beamSearch(m: CtcMatrix, options: BeamSearchOptions): CtcHypothesis[] {
  return new CtcBeamDecoder(options).decode(m);
}

interface Finalized {
  node: PrefixNode;
  logProb: number;
  viterbi: number;
  rec: SpanRec | null;
  lmScore: number;
  hotwordScore: number;
  score: number;
}

/** The frame-by-frame state of one beam search (see `CtcBeamDecoder.start`). */
export class BeamSearchState {
  private readonly d: CtcBeamDecoder;
  private readonly V: number;
  private t = 0;
  private stamp = 0;
  private nextId = 1;
  private finished = false;
  private readonly step: LmStep = { log10: 0, state: 0 };

  // current beam, best first
  private nB = 1;
  private bNode: PrefixNode[];
  private bPb: Float64Array;
  private bPnb: Float64Array;
  /**
   * Viterbi log-probability of each state's best single alignment; spans (SpanRec chains) follow that alignment,
   * i.e. every state keeps the span path of its most probable incoming alignment.
   */
  private bVb: Float64Array;
  private bVnb: Float64Array;
  private bRecB: (SpanRec | null)[];
  private bRecNb: (SpanRec | null)[];

  // tokens surviving this frame's pruning, best first
  private readonly inC: Int32Array;
  private readonly cTok: Int32Array;
  private readonly cLp: Float64Array;
  private nC = 0;

  // candidate slots: 0..nB-1 continue the current beams, the rest are new prefixes
  private sCap = 0;
  private sNode: PrefixNode[] = [];
  private sPb = new Float64Array(0);
  private sPnb = new Float64Array(0);
  private sVb = new Float64Array(0);
  private sVnb = new Float64Array(0);
  private sRecB: (SpanRec | null)[] = [];
  private sSrcNb: (SpanRec | null)[] = [];
  private sKind = new Uint8Array(0);
  private sNbLp = new Float64Array(0);
  private sScore = new Float64Array(0);
  private order = new Int32Array(0);
  private readonly pool: PrefixNode[] = [];
  private readonly merge = new Map<number, number>();
  private readonly tauHeap: Float64Array;
  private tauN = 0;

  constructor(decoder: CtcBeamDecoder) {
    this.d = decoder;
    this.V = decoder.vocab.V;
    const B = decoder.beamWidth;
    const root = new PrefixNode();
    root.id = 0;
    root.lmState = decoder.lm && decoder.lmBoundaries ? decoder.lm.startState() : 0;
    this.bNode = [root];
    this.bPb = new Float64Array(B).fill(-Infinity);
    this.bPnb = new Float64Array(B).fill(-Infinity);
    this.bVb = new Float64Array(B).fill(-Infinity);
    this.bVnb = new Float64Array(B).fill(-Infinity);
    this.bPb[0] = 0;
    this.bVb[0] = 0;
    this.bRecB = [null];
    this.bRecNb = [null];
    this.inC = new Int32Array(this.V);
    this.cTok = new Int32Array(decoder.topK);
    this.cLp = new Float64Array(decoder.topK);
    this.tauHeap = new Float64Array(B);
    this.ensureSlots(B * 2);
  }

  /** Frames consumed so far. */
  get frames(): number {
    return this.t;
  }

  push(m: CtcMatrix): void {
    if (this.finished) throw new Error('beam search: push() after finish()');
    validateLogProbs(m, this.d.vocab.labels, this.d.vocab.blank);
    for (let r = 0; r < m.T; r++) {
      this.stepFrame(m.data, r * m.V);
      this.t++;
    }
  }

  /** The best hypothesis so far, before end-of-sequence scoring (a trailing collapsed separator is left out). */
  best(): CtcHypothesis {
    const node = this.bNode[0];
    const logProb = logAdd(this.bPb[0], this.bPnb[0]);
    let rec = this.bVb[0] >= this.bVnb[0] ? this.bRecB[0] : this.bRecNb[0];
    let tokenNode: PrefixNode = node;
    if (this.d.vocab.collapseSeparators && node.token === this.d.vocab.separator) {
      tokenNode = node.parent as PrefixNode;
      if (rec && rec.token === node.token) rec = rec.prev;
    }
    const lmScore = this.lmScoreOf(node);
    const hotwordScore = this.hwScoreOf(node);
    return this.hypothesis(tokenNode, rec, logProb, lmScore, hotwordScore);
  }

  /** Ends the sequence (last word, `</s>`, lexicon end check) and returns the n-best, best first. */
  finish(): CtcHypothesis[] {
    if (this.finished) throw new Error('beam search: finish() called twice');
    this.finished = true;
    const d = this.d;
    const vocab = d.vocab;
    const byNode = new Map<number, Finalized>();
    const ranked: Finalized[] = [];
    const scratch = new PrefixNode();
    for (let i = 0; i < this.nB; i++) {
      const node = this.bNode[i];
      const logProb = logAdd(this.bPb[i], this.bPnb[i]);
      if (logProb === -Infinity) continue;
      const useB = this.bVb[i] >= this.bVnb[i];
      let rec = useB ? this.bRecB[i] : this.bRecNb[i];
      const viterbi = useB ? this.bVb[i] : this.bVnb[i];
      let key = node;
      scratch.copyStateFrom(node);
      if (vocab.collapseSeparators && node.token === vocab.separator) {
        key = node.parent as PrefixNode;
        if (rec && rec.token === node.token) rec = rec.prev;
      } else if (vocab.words.kind !== 'token' && node.partialLen > 0) {
        if (!this.completeWord(scratch, -1, this.partialWord(node))) continue;
      }
      if (d.lexicon && d.lexicon.kind === 'tokens' && !d.lexicon.accepts(scratch.lex)) continue;
      if (d.lm && d.lmBoundaries) {
        scratch.lmLog += d.lm.score(scratch.lmState, d.lm.eos, this.step).log10 * LN10;
      }
      const lmScore = this.lmScoreOf(scratch);
      const hotwordScore = this.hwScoreOf(scratch);
      const seen = byNode.get(key.id);
      if (seen) {
        seen.logProb = logAdd(seen.logProb, logProb);
        seen.score = seen.logProb + seen.lmScore + seen.hotwordScore;
        if (viterbi > seen.viterbi) {
          seen.viterbi = viterbi;
          seen.rec = rec;
        }
        continue;
      }
      const f: Finalized = { node: key, logProb, viterbi, rec, lmScore, hotwordScore, score: logProb + lmScore + hotwordScore };
      byNode.set(key.id, f);
      ranked.push(f);
    }
    ranked.sort((a, b) => b.score - a.score);
    const floor = ranked.length > 0 ? ranked[0].score + d.beamPruneLogProb : 0;
    return ranked
      .filter((f) => f.score >= floor)
      .slice(0, d.nBest)
      .map((f) => this.hypothesis(f.node, f.rec, f.logProb, f.lmScore, f.hotwordScore));
  }

  private hypothesis(node: PrefixNode, rec: SpanRec | null, logProb: number, lmScore: number, hotwordScore: number): CtcHypothesis {
    const labels = this.d.vocab.labels;
    const tokens = new Array<number>(node.depth);
    for (let n: PrefixNode | null = node, i = node.depth - 1; n && n.parent; n = n.parent, i--) tokens[i] = n.token;
    const spans = new Array<CtcSpan>(node.depth);
    let i = node.depth - 1;
    for (let r = rec; r; r = r.prev, i--) {
      spans[i] = { token: r.token, label: labels[r.token], startFrame: r.start, endFrame: r.end, confidence: r.sum / r.count };
    }
    if (i !== -1) throw new Error(`beam search: internal error, ${node.depth} tokens but ${node.depth - 1 - i} spans`);
    return {
      tokens,
      labels: tokens.map((t) => labels[t]),
      text: this.d.vocab.textOf(tokens),
      logProb,
      lmScore,
      hotwordScore,
      score: logProb + lmScore + hotwordScore,
      spans,
    };
  }

  private lmScoreOf(n: PrefixNode): number {
    return this.d.lm ? this.d.alpha * n.lmLog + this.d.beta * n.words : 0;
  }

  private hwScoreOf(n: PrefixNode): number {
    const hw = this.d.hotwords;
    return hw ? hw.weight * n.hwCount + hw.partialBonus(n.hwPartial, n.partialChars) : 0;
  }

  /** The current partial word of a character / word-piece prefix. */
  private partialWord(node: PrefixNode): string {
    const parts = new Array<string>(node.partialLen);
    let n = node;
    for (let i = node.partialLen - 1; i >= 0; i--, n = n.parent as PrefixNode) parts[i] = this.d.vocab.wordText[n.token];
    return parts.join('');
  }

  /** Lexicon check, LM score, word count and hotword match for a completed word (token id in `token` mode). */
  private completeWord(n: PrefixNode, token: number, word: string): boolean {
    const d = this.d;
    if (d.lexicon) {
      if (d.lexicon.kind === 'spelling') {
        if (!d.lexicon.accepts(n.lex)) return false;
        n.lex = 0;
      } else {
        n.lex = d.lexicon.advance(n.lex, token);
        if (n.lex < 0) return false;
      }
    }
    if (d.lm && !d.lmTokenLevel) {
      let id: number;
      let offset: number;
      if (token >= 0) {
        id = d.lmToken[token];
        offset = d.lmTokenOffset[token];
      } else {
        id = d.lm.index(word);
        offset = d.isKnown(word, id) ? 0 : d.unknownOffset;
      }
      d.lm.score(n.lmState, id, this.step);
      n.lmLog += (this.step.log10 + offset) * LN10;
      n.lmState = this.step.state;
    }
    n.words++;
    if (d.hotwords) {
      const s = d.hotwords.step(n.hwState, token >= 0 ? d.hotwords.tokenWordId(token) : d.hotwords.wordId(word));
      if (s < 0) n.hwCount++;
      n.hwState = s < 0 ? 0 : s;
    }
    n.partialChars = 0;
    n.partialLen = 0;
    n.hwPartial = 0;
    return true;
  }

  private extendPartial(n: PrefixNode, token: number): boolean {
    const d = this.d;
    if (d.lexicon) {
      n.lex = d.lexicon.advance(n.lex, token);
      if (n.lex < 0) return false;
    }
    if (d.hotwords) n.hwPartial = d.hotwords.advancePartial(n.hwPartial, token);
    n.partialChars += d.vocab.wordText[token].length;
    n.partialLen++;
    return true;
  }

  /** Fills `out` as the child of `p` by token `c`; false when the lexicon rejects it. */
  private extend(p: PrefixNode, c: number, out: PrefixNode): boolean {
    const d = this.d;
    const vocab = d.vocab;
    out.parent = p;
    out.token = c;
    out.depth = p.depth + 1;
    out.copyStateFrom(p);
    if (vocab.words.kind === 'token') {
      if (!this.completeWord(out, c, '')) return false;
    } else if (c === vocab.separator) {
      if (p.partialLen > 0) {
        if (!this.completeWord(out, -1, this.partialWord(p))) return false;
      } else if (d.lexicon) {
        // an empty word (leading or doubled separator) is in no lexicon
        return false;
      }
    } else {
      if (vocab.startsWord[c] === 1 && p.partialLen > 0 && !this.completeWord(out, -1, this.partialWord(p))) return false;
      if (!this.extendPartial(out, c)) return false;
    }
    if (d.lm && d.lmTokenLevel) {
      d.lm.score(out.lmState, d.lmToken[c], this.step);
      out.lmLog += (this.step.log10 + d.lmTokenOffset[c]) * LN10;
      out.lmState = this.step.state;
    }
    out.fused = this.lmScoreOf(out) + this.hwScoreOf(out);
    return true;
  }

  /**
   * Tokens considered at this frame, shared by every beam: the topK most probable (ties to the lower index), then
   * those below tokenMinLogProb dropped (the argmax kept), then cut where their cumulative probability reaches
   * cutoffProb. Stored best first, so a beam can stop at the first token that cannot beat the pruning threshold.
   */
  private selectTokens(data: Float32Array | Float64Array, off: number): void {
    const d = this.d;
    const cap = d.topK;
    const tok = this.cTok;
    const lp = this.cLp;
    // min-heap on (lp, then higher index) of the best `cap` tokens
    let n = 0;
    const V = this.V;
    let v = 0;
    for (; v < V && n < cap; v++) {
      const x = data[off + v];
      if (x === -Infinity) continue;
      let i = n++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (lp[parent] < x || (lp[parent] === x && tok[parent] > v)) break;
        tok[i] = tok[parent];
        lp[i] = lp[parent];
        i = parent;
      }
      tok[i] = v;
      lp[i] = x;
    }
    // the heap is full: most values lose to its minimum in one comparison
    let rootLp = lp[0];
    for (; v < V; v++) {
      const x = data[off + v];
      if (x > rootLp) {
        siftDown(tok, lp, n, v, x);
        rootLp = lp[0];
      }
    }
    // heap sort into descending order
    for (let end = n - 1; end > 0; end--) {
      const t0 = tok[0];
      const l0 = lp[0];
      siftDown(tok, lp, end, tok[end], lp[end]);
      tok[end] = t0;
      lp[end] = l0;
    }
    let k = n;
    if (d.tokenMinLogProb > -Infinity) {
      k = 1;
      while (k < n && lp[k] >= d.tokenMinLogProb) k++;
    }
    if (d.cutoffProb < 1) {
      let cum = 0;
      let keep = 0;
      while (keep < k && cum < d.cutoffProb) cum += Math.exp(lp[keep++]);
      k = keep;
    }
    const stamp = this.stamp;
    for (let i = 0; i < k; i++) this.inC[tok[i]] = stamp;
    this.nC = k;
  }

  private ensureSlots(n: number): void {
    if (n <= this.sCap) return;
    const cap = Math.max(n, this.sCap * 2);
    const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.sPb = grow(this.sPb);
    this.sPnb = grow(this.sPnb);
    this.sVb = grow(this.sVb);
    this.sVnb = grow(this.sVnb);
    this.sNbLp = grow(this.sNbLp);
    this.sScore = grow(this.sScore);
    const kind = new Uint8Array(cap);
    kind.set(this.sKind);
    this.sKind = kind;
    this.order = new Int32Array(cap);
    this.sCap = cap;
  }

  private tauPush(score: number): void {
    const B = this.d.beamWidth;
    const h = this.tauHeap;
    if (this.tauN < B) {
      let i = this.tauN++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (h[parent] <= score) break;
        h[i] = h[parent];
        i = parent;
      }
      h[i] = score;
    } else if (score > h[0]) {
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        if (l >= B) break;
        const c = l + 1 < B && h[l + 1] < h[l] ? l + 1 : l;
        if (h[c] >= score) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = score;
    }
  }

  private stepFrame(data: Float32Array | Float64Array, off: number): void {
    const d = this.d;
    const vocab = d.vocab;
    const V = this.V;
    const stamp = ++this.stamp;
    this.selectTokens(data, off);
    const inC = this.inC;
    const nC = this.nC;
    const cTok = this.cTok;
    const cLp = this.cLp;
    const nB = this.nB;
    const blank = vocab.blank;
    const sep = vocab.separator;
    const collapse = vocab.collapseSeparators;
    const blankLp = inC[blank] === stamp ? data[off + blank] : -Infinity;
    const sepOn = collapse && inC[sep] === stamp;
    const sepLp = sepOn ? data[off + sep] : -Infinity;

    this.ensureSlots(nB * (nC + 1));
    const { sNode, sPb, sPnb, sVb, sVnb, sRecB, sSrcNb, sKind, sNbLp, sScore } = this;
    const { bNode, bPb, bPnb, bVb, bVnb, bRecB, bRecNb } = this;
    for (let i = 0; i < nB; i++) {
      const node = bNode[i];
      sNode[i] = node;
      sPb[i] = -Infinity;
      sPnb[i] = -Infinity;
      sVb[i] = -Infinity;
      sVnb[i] = -Infinity;
      sRecB[i] = null;
      sSrcNb[i] = null;
      sKind[i] = KIND_KEEP;
      node.beamStamp = stamp;
      node.beamIdx = i;
    }
    this.merge.clear();

    // pass 1: everything that lands on an existing beam member (blank, repeat, absorbed separator, child in beam)
    for (let i = 0; i < nB; i++) {
      const node = bNode[i];
      const pb = bPb[i];
      const pnb = bPnb[i];
      const tot = logAdd(pb, pnb);
      const vbest = bVb[i] >= bVnb[i] ? bVb[i] : bVnb[i];
      const rbest = bVb[i] >= bVnb[i] ? bRecB[i] : bRecNb[i];
      if (blankLp > -Infinity && vbest + blankLp > sVb[i]) {
        sVb[i] = vbest + blankLp;
        sRecB[i] = rbest;
      }
      if (blankLp > -Infinity) sPb[i] = logAdd(sPb[i], tot + blankLp);
      const last = node.token;
      if (last >= 0 && inC[last] === stamp && pnb > -Infinity) {
        const lp = data[off + last];
        sPnb[i] = logAdd(sPnb[i], pnb + lp);
        if (bVnb[i] + lp > sVnb[i]) {
          sVnb[i] = bVnb[i] + lp;
          sSrcNb[i] = bRecNb[i];
          sKind[i] = KIND_EXTEND;
          sNbLp[i] = lp;
        }
      }
      if (sepOn && (last === sep || node.parent === null)) {
        // separator at the start or after a separator: no new token, the separator's span grows
        const fromB = last === sep;
        const from = fromB ? pb : tot;
        const vfrom = fromB ? bVb[i] : vbest;
        if (from > -Infinity) {
          sPnb[i] = logAdd(sPnb[i], from + sepLp);
          if (vfrom + sepLp > sVnb[i]) {
            sVnb[i] = vfrom + sepLp;
            const src = fromB ? bRecB[i] : rbest;
            sSrcNb[i] = src;
            sKind[i] = src ? KIND_EXTEND : KIND_KEEP;
            sNbLp[i] = sepLp;
          }
        }
      }
      const parent = node.parent;
      if (parent !== null && parent.beamStamp === stamp && inC[node.token] === stamp) {
        const j = parent.beamIdx;
        const c = node.token;
        const useB = c === parent.token;
        const from = useB ? bPb[j] : logAdd(bPb[j], bPnb[j]);
        if (from > -Infinity) {
          const lp = data[off + c];
          sPnb[i] = logAdd(sPnb[i], from + lp);
          const pvb = bVb[j];
          const pvnb = bVnb[j];
          const vfrom = useB || pvb >= pvnb ? pvb : pvnb;
          if (vfrom + lp > sVnb[i]) {
            sVnb[i] = vfrom + lp;
            sSrcNb[i] = useB || pvb >= pvnb ? bRecB[j] : bRecNb[j];
            sKind[i] = KIND_NEW;
            sNbLp[i] = lp;
          }
        }
        parent.kidStamp = stamp;
        this.merge.set(parent.id * V + c, i);
      }
    }

    let best = -Infinity;
    this.tauN = 0;
    for (let i = 0; i < nB; i++) {
      const tot = logAdd(sPb[i], sPnb[i]);
      const s = tot === -Infinity ? -Infinity : tot + sNode[i].fused;
      sScore[i] = s;
      if (s === -Infinity) continue;
      if (s > best) best = s;
      this.tauPush(s);
    }
    const B = d.beamWidth;
    const prune = d.beamPruneLogProb;
    const maxGain = d.maxGain;
    let tau = this.tauN === B ? Math.max(best + prune, this.tauHeap[0]) : best + prune;

    // pass 2: new prefixes, skipping any that cannot reach the current pruning threshold
    let nS = nB;
    for (let i = 0; i < nB; i++) {
      const node = bNode[i];
      const pb = bPb[i];
      const tot = logAdd(pb, bPnb[i]);
      if (tot === -Infinity) continue;
      const useBbest = bVb[i] >= bVnb[i];
      const vbest = useBbest ? bVb[i] : bVnb[i];
      const rbest = useBbest ? bRecB[i] : bRecNb[i];
      const last = node.token;
      const absorbsSep = collapse && (last === sep || node.parent === null);
      const bound = node.fused + maxGain;
      const hasKids = node.kidStamp === stamp;
      for (let q = 0; q < nC; q++) {
        const c = cTok[q];
        if (c === blank || (absorbsSep && c === sep)) continue;
        const lp = cLp[q];
        const repeat = c === last;
        const from = repeat ? pb : tot;
        if (from === -Infinity) continue;
        if (from + lp + bound < tau) {
          // tokens come best first: no later one does better from `tot`
          if (repeat) continue;
          break;
        }
        if (hasKids && this.merge.has(node.id * V + c)) continue;
        const poolIdx = nS - nB;
        if (poolIdx === this.pool.length) this.pool.push(new PrefixNode());
        const ext = this.pool[poolIdx];
        if (!this.extend(node, c, ext)) continue;
        const score = from + lp + ext.fused;
        if (score < tau) continue;
        sNode[nS] = ext;
        sPb[nS] = -Infinity;
        sPnb[nS] = from + lp;
        sVb[nS] = -Infinity;
        sRecB[nS] = null;
        sVnb[nS] = (repeat ? bVb[i] : vbest) + lp;
        sSrcNb[nS] = repeat ? bRecB[i] : rbest;
        sKind[nS] = KIND_NEW;
        sNbLp[nS] = lp;
        sScore[nS] = score;
        nS++;
        if (score > best) best = score;
        this.tauPush(score);
        tau = this.tauN === B ? Math.max(best + prune, this.tauHeap[0]) : best + prune;
      }
    }

    // select: everything at or above the final threshold, best first (ties keep slot order), at most B
    const order = this.order;
    let n = 0;
    for (let s = 0; s < nS; s++) if (sScore[s] >= tau && sScore[s] > -Infinity) order[n++] = s;
    const sel = Array.from(order.subarray(0, n)).sort((a, b) => sScore[b] - sScore[a] || a - b);
    const keep = Math.min(B, sel.length);
    const nextNode = new Array<PrefixNode>(keep);
    const nextRecB = new Array<SpanRec | null>(keep);
    const nextRecNb = new Array<SpanRec | null>(keep);
    const t = this.t;
    for (let r = 0; r < keep; r++) {
      const s = sel[r];
      const node = sNode[s];
      if (s >= nB) {
        node.id = this.nextId++;
        this.pool[s - nB] = new PrefixNode();
      }
      nextNode[r] = node;
      bPb[r] = sPb[s];
      bPnb[r] = sPnb[s];
      bVb[r] = sVb[s];
      bVnb[r] = sVnb[s];
      nextRecB[r] = sRecB[s];
      const src = sSrcNb[s];
      const p = Math.exp(sNbLp[s]);
      switch (sKind[s]) {
        case KIND_EXTEND:
          nextRecNb[r] = src ? new SpanRec(src.token, src.start, t, src.sum + p, src.count + 1, src.prev) : null;
          break;
        case KIND_NEW:
          nextRecNb[r] = sVnb[s] > -Infinity ? new SpanRec(node.token, t, t, p, 1, src) : null;
          break;
        default:
          nextRecNb[r] = src;
      }
    }
    this.bNode = nextNode;
    this.bRecB = nextRecB;
    this.bRecNb = nextRecNb;
    this.nB = keep;
    if (keep === 0) throw new SignweaveInputError(`beam search: every hypothesis was pruned at frame ${t} (lexicon too restrictive or pruning too tight)`);
  }
}

function siftDown(tok: Int32Array, lp: Float64Array, n: number, v: number, x: number): void {
  let i = 0;
  while (true) {
    const l = 2 * i + 1;
    if (l >= n) break;
    let c = l;
    const r = l + 1;
    if (r < n && (lp[r] < lp[l] || (lp[r] === lp[l] && tok[r] > tok[l]))) c = r;
    if (lp[c] > x || (lp[c] === x && tok[c] < v)) break;
    tok[i] = tok[c];
    lp[i] = lp[c];
    i = c;
  }
  tok[i] = v;
  lp[i] = x;
}
