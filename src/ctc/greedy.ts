import { validateLogProbs, type CtcMatrix } from './logits.js';
import type { CtcHypothesis, CtcSpan, CtcVocabularyOptions } from './types.js';
import { CtcVocabulary } from './vocab.js';

interface OpenSpan {
  token: number;
  start: number;
  end: number;
  sum: number;
  count: number;
}

/**
 * Incremental greedy (best-path) decoding: argmax per frame (lowest index on ties), repeats collapsed, blanks
 * dropped. With collapsing separators a separator run at the start or after another separator is absorbed into
 * the previous separator's span, and a trailing separator is left out of the hypothesis.
 */
export class GreedyState {
  readonly vocab: CtcVocabulary;
  private spans: OpenSpan[] = [];
  /** Span the current run of equal argmaxes extends, or null (after a blank or a leading separator). */
  private active: OpenSpan | null = null;
  private prevArg = -1;
  private logProb = 0;
  private t = 0;

  constructor(vocabulary: CtcVocabulary | CtcVocabularyOptions) {
    this.vocab = vocabulary instanceof CtcVocabulary ? vocabulary : new CtcVocabulary(vocabulary);
  }

  /** Frames consumed so far. */
  get frames(): number {
    return this.t;
  }

  push(m: CtcMatrix): void {
    validateLogProbs(m, this.vocab.labels, this.vocab.blank);
    const { data, T, V } = m;
    const { blank, separator } = this.vocab;
    const collapse = this.vocab.collapseSeparators;
    for (let r = 0; r < T; r++, this.t++) {
      const off = r * V;
      let arg = 0;
      let lp = data[off];
      for (let v = 1; v < V; v++) {
        const x = data[off + v];
        if (x > lp) {
          lp = x;
          arg = v;
        }
      }
      this.logProb += lp;
      const p = Math.exp(lp);
      if (arg === blank) {
        this.active = null;
      } else if (arg === this.prevArg) {
        if (this.active) extend(this.active, this.t, p);
      } else if (collapse && arg === separator && (this.spans.length === 0 || this.spans[this.spans.length - 1].token === separator)) {
        this.active = this.spans.length === 0 ? null : this.spans[this.spans.length - 1];
        if (this.active) extend(this.active, this.t, p);
      } else {
        this.active = { token: arg, start: this.t, end: this.t, sum: p, count: 1 };
        this.spans.push(this.active);
      }
      this.prevArg = arg;
    }
  }

  hypothesis(): CtcHypothesis {
    let open = this.spans;
    if (this.vocab.collapseSeparators && open.length > 0 && open[open.length - 1].token === this.vocab.separator) {
      open = open.slice(0, -1);
    }
    const spans: CtcSpan[] = open.map((s) => ({
      token: s.token,
      label: this.vocab.labels[s.token],
      startFrame: s.start,
      endFrame: s.end,
      confidence: s.sum / s.count,
    }));
    const tokens = spans.map((s) => s.token);
    return {
      tokens,
      labels: spans.map((s) => s.label),
      text: this.vocab.textOf(tokens),
      logProb: this.logProb,
      lmScore: 0,
      hotwordScore: 0,
      score: this.logProb,
      spans,
    };
  }
}

function extend(span: OpenSpan, t: number, p: number): void {
  span.end = t;
  span.sum += p;
  span.count++;
}

/** Greedy decoding of a whole `[T, V]` log-probability matrix. */
export function greedyDecode(m: CtcMatrix, vocabulary: CtcVocabulary | CtcVocabularyOptions): CtcHypothesis {
  const state = new GreedyState(vocabulary);
  state.push(m);
  return state.hypothesis();
}
