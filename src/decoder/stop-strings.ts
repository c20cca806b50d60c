/**
 * The `stop` option's strings, matched on the streamed text. node-llama-cpp 3.21's own stop triggers match each token
 * detokenized alone, which drops a SentencePiece token's leading space ("▁is" → "is"), so a stop string that starts
 * with a space (" Gloss:") never fires there; the streamed pieces are detokenized in context and keep it.
 */
export class StopStringFilter {
  private pending = '';
  /** The stop string that ended the text, once one has. */
  matched: string | null = null;

  constructor(private readonly stops: readonly string[]) {}

  /**
   * Adds a generated piece and returns the text that can be passed on: everything before a stop string, and nothing
   * of a tail that may still grow into one.
   */
  push(piece: string): string {
    if (this.matched !== null) return '';
    this.pending += piece;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        this.matched = stop;
      }
    }
    if (cut >= 0) {
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** The held-back tail, once generation has ended without completing a stop string. */
  flush(): string {
    const out = this.matched === null ? this.pending : '';
    this.pending = '';
    return out;
  }
}
