import { SignweaveInputError } from '../errors.js';
import { CtcBeamDecoder, type BeamSearchOptions, type BeamSearchState } from './beam.js';
import { GreedyState } from './greedy.js';
import type { CtcMatrix } from './logits.js';
import type { CtcHypothesis, CtcVocabularyOptions } from './types.js';

export type CtcStreamOptions = ({ mode: 'greedy' } & CtcVocabularyOptions) | ({ mode?: 'beam' } & BeamSearchOptions);

/**
 * Decodes a stream of frames chunk by chunk. Every frame updates the same state whole-sequence decoding updates,
 * so `finish()` returns exactly what `greedyDecode` / `CtcBeamDecoder.decode` return for the concatenated frames.
 */
export class CtcStreamDecoder {
  private readonly state: GreedyState | BeamSearchState;
  private readonly V: number;
  private finished = false;

  /** From options, or from a compiled beam decoder (to share its lexicon / LM setup between streams). */
  constructor(options: CtcStreamOptions | CtcBeamDecoder) {
    if (options instanceof CtcBeamDecoder) {
      this.state = options.start();
      this.V = options.vocab.V;
    } else if (options.mode === 'greedy') {
      const greedy = new GreedyState(options);
      this.state = greedy;
      this.V = greedy.vocab.V;
    } else {
      const decoder = new CtcBeamDecoder(options);
      this.state = decoder.start();
      this.V = decoder.vocab.V;
    }
  }

  /** Frames consumed so far. */
  get frames(): number {
    return this.state.frames;
  }

  /** Appends frames: a `[T, V]` matrix, or bare row-major log-probabilities whose length is a multiple of V. */
  push(chunk: CtcMatrix | Float32Array | Float64Array): void {
    if (this.finished) throw new Error('CTC stream: push() after finish()');
    if (chunk instanceof Float32Array || chunk instanceof Float64Array) {
      if (chunk.length % this.V !== 0) {
        throw new SignweaveInputError(`CTC stream: a chunk of ${chunk.length} values is not whole frames of V = ${this.V}`);
      }
      chunk = { data: chunk, T: chunk.length / this.V, V: this.V };
    }
    this.state.push(chunk);
  }

  /** The best hypothesis of the frames so far (not yet end-of-sequence scored). */
  best(): CtcHypothesis {
    return this.state instanceof GreedyState ? this.state.hypothesis() : this.state.best();
  }

  /** Ends the stream; the n-best (one hypothesis for greedy decoding), best first. */
  finish(): CtcHypothesis[] {
    if (this.finished) throw new Error('CTC stream: finish() called twice');
    this.finished = true;
    return this.state instanceof GreedyState ? [this.state.hypothesis()] : this.state.finish();
  }
}
