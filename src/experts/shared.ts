/**
 * What the three CTC experts share (SignBind-LLM §3.3): run the bundle's network through ONNX Runtime, log-softmax
 * its logits, decode them with src/ctc and time the tokens. The sign and fingerspelling experts are the same network
 * — backbone features + a positional embedding → a linear CTC head — over different vocabularies, so both are
 * `FeatureCtcExpert`; the lipreading expert differs only in its input.
 */
import type { Bundle, BundleRef, LoadBundleOptions } from '../bundles/loader.js';
import type { BundleManifest } from '../bundles/schema.js';
import { beamSearch, type BeamSearchOptions } from '../ctc/beam.js';
import { greedyDecode } from '../ctc/greedy.js';
import { logSoftmax } from '../ctc/logits.js';
import { toTokenStream } from '../ctc/token-stream.js';
import type { CtcHypothesis } from '../ctc/types.js';
import { CtcVocabulary } from '../ctc/vocab.js';
import { SignweaveInputError } from '../errors.js';
import { GraphBuilder, type OnnxModel } from '../graph/builder.js';
import { linear, positionalEmbedding } from '../graph/modules.js';
import { float32, type HostTensor } from '../graph/tensor.js';
import type { Sequence, TokenStream } from '../types.js';

export type ExpertKind = 'sign' | 'fingerspell' | 'lipread';

/** How each expert's labels join into text: glosses and phonemes with spaces, letters directly (' ' is a label). */
const JOINERS: Record<ExpertKind, string> = { sign: ' ', fingerspell: '', lipread: ' ' };

export interface ExpertResult<K extends ExpertKind = ExpertKind> {
  kind: K;
  /** The decoded labels joined (glosses or phonemes by spaces, fingerspelled letters directly). */
  text: string;
  /** One timed token per decoded label; times in seconds of the input (start of its first output frame to end of its last). */
  stream: TokenStream;
  /** Raw network logits `[T′, |vocab|]` at fps / temporalStride (the same value as `stream.logits`). */
  logits: Sequence;
  bundle: BundleRef;
  /** Lipreading: input frames without a face, fed as zeros. */
  missingFrames?: number[];
}

export interface DecodeOptions extends Pick<BeamSearchOptions, 'beamWidth' | 'topK' | 'tokenMinLogProb' | 'cutoffProb' | 'beamPruneLogProb' | 'lexicon' | 'hotwords' | 'lm'> {
  /** Default 'beam' (prefix beam search, width 16); 'greedy' takes no lexicon, LM or hotwords. */
  decoder?: 'beam' | 'greedy';
}

/** Loading options of an expert (its kind is fixed). */
export type ExpertLoadOptions = Omit<LoadBundleOptions, 'expectKind'>;

/** T′ of a network that keeps one output frame per `stride` input frames. */
export function outputFrames(frames: number, stride: number): number {
  return Math.ceil(frames / stride);
}

function checkFps(bundle: Bundle, fps: number): void {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new SignweaveInputError(`${bundle.kind} expert (bundle ${bundle.dir}): fps must be a positive number, got ${fps}`);
}

/** The common runner: one input tensor of `frames` frames → logits → decoded, timed tokens. */
export abstract class CtcExpert<K extends ExpertKind> implements AsyncDisposable {
  readonly vocabulary: CtcVocabulary;

  protected constructor(readonly bundle: Bundle<K>) {
    // The type says K, but a bundle loaded without expectKind may be anything.
    const m = bundle.manifest as BundleManifest;
    if ((m.kind !== 'sign' && m.kind !== 'fingerspell' && m.kind !== 'lipread') || !bundle.vocab) throw new SignweaveInputError(`bundle ${bundle.dir}: kind: "${m.kind}" is not an expert`);
    this.vocabulary = new CtcVocabulary({ labels: bundle.vocab, blank: m.output.blank, joiner: JOINERS[m.kind] });
  }

  get kind(): K {
    return this.bundle.kind;
  }

  /** Checks fps and the frame count (at least 1, at most input.maxFrames) before ONNX Runtime sees the input. */
  protected checkFrames(frames: number, fps: number): void {
    checkFps(this.bundle, fps);
    if (!Number.isInteger(frames) || frames < 1) throw new SignweaveInputError(`${this.kind} expert (bundle ${this.bundle.dir}): the input has ${frames} frames; at least 1 is needed`);
    const max = (this.bundle.manifest.input as { maxFrames?: number }).maxFrames;
    if (max !== undefined && frames > max) {
      throw new SignweaveInputError(`bundle ${this.bundle.dir}: input.maxFrames: the model takes at most ${max} frames, the input has ${frames} (split it into shorter segments)`);
    }
  }

  /** Runs the network on `input` (`frames` frames at `fps`) and decodes its logits. */
  protected async decode(input: HostTensor, frames: number, fps: number, options: DecodeOptions, missingFrames?: number[]): Promise<ExpertResult<K>> {
    const m = this.bundle.manifest;
    const session = await this.bundle.session();
    const inputName = (m.input as { name: string }).name;
    const outputName = m.output.name;
    const logits = (await session.run({ [inputName]: input }, [outputName]))[outputName];
    const stride = m.temporalStride;
    const expected = [outputFrames(frames, stride), this.vocabulary.V];
    if (logits.dtype !== 'float32' || logits.shape.length !== 2 || logits.shape[0] !== expected[0] || logits.shape[1] !== expected[1]) {
      throw new SignweaveInputError(
        `bundle ${this.bundle.dir}: temporalStride: the model turned ${frames} frames into ${logits.dtype} [${logits.shape.join(', ')}]; with temporalStride ${stride} and ${expected[1]} labels [${expected.join(', ')}] was expected`,
      );
    }
    const [T, V] = expected;
    const logProbs = logSoftmax({ data: logits.data, T, V });
    const hypothesis = this.search(logProbs.data as Float32Array, T, options);
    const sequence: Sequence = { data: logits.data, shape: [T, V], fps: fps / stride };
    const timed = toTokenStream(hypothesis, fps / stride);
    // The last output frame of a strided network may cover fewer input frames than the stride.
    const end = frames / fps;
    const stream: TokenStream = { tokens: timed.tokens.map((t) => ({ ...t, end: Math.min(t.end, end) })), logits: sequence };
    return { kind: this.kind, text: hypothesis.text, stream, logits: sequence, bundle: this.bundle.ref, ...(missingFrames ? { missingFrames } : {}) };
  }

  /** The best hypothesis; with a lexicon that nothing matches, the empty one. */
  private search(data: Float32Array, T: number, options: DecodeOptions): CtcHypothesis {
    const { decoder = 'beam', ...beam } = options;
    const m = { data, T, V: this.vocabulary.V };
    if (decoder === 'greedy') {
      if (beam.lexicon || beam.lm || beam.hotwords) throw new SignweaveInputError(`${this.kind} expert: a lexicon, LM or hotwords need decoder 'beam'`);
      return greedyDecode(m, this.vocabulary);
    }
    const { labels, blank, joiner } = this.vocabulary;
    const [best] = beamSearch(m, { labels, blank, joiner, ...beam, nBest: 1 });
    return best ?? { tokens: [], labels: [], text: '', logProb: -Infinity, lmScore: 0, hotwordScore: 0, score: -Infinity, spans: [] };
  }

  dispose(): Promise<void> {
    return this.bundle.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Sign and fingerspelling: features + positional embedding → linear CTC head

export const FEATURES_INPUT = 'features';
export const LOGITS_OUTPUT = 'logits';

export interface FeatureCtcHeadOptions {
  /** Backbone feature dimension D (DINOv2 ViT-S/14: 384). */
  dim: number;
  /** CTC vocabulary size, blank included. */
  vocabSize: number;
  /** Rows of the learned positional table: the longest sequence the head takes. */
  maxLen: number;
  /** Initialisation seed (default 0). */
  seed?: number;
  /** Trained parameters `pos.weight` [maxLen, dim], `head.weight` [dim, vocabSize], `head.bias` [vocabSize]. */
  weights?: Record<string, Float32Array>;
  /** Graph name written into the model. */
  name?: string;
}

/** The dropout-mask input of the training graph: same shape as `features`, multiplied into them. */
export const DROPOUT_INPUT = 'dropout';

/**
 * The head's graph definition. Training uses `batched` (`features` [B, T, dim], padded; every op is per frame, so
 * padding changes no real frame's logits) and `dropout` (an inverted-dropout mask over the features).
 */
export function featureCtcHeadDefinition(options: Pick<FeatureCtcHeadOptions, 'dim' | 'vocabSize' | 'maxLen'>, training: { batched?: boolean; dropout?: boolean } = {}): (g: GraphBuilder) => void {
  const { dim, vocabSize, maxLen } = options;
  return (g) => {
    const shape = training.batched ? ['B', 'T', dim] : ['T', dim];
    let x = g.input(FEATURES_INPUT, 'float32', shape);
    if (training.dropout) x = g.mul(x, g.input(DROPOUT_INPUT, 'float32', shape));
    const h = positionalEmbedding('pos', maxLen, dim).apply(g, x);
    g.output(linear('head', dim, vocabSize).apply(g, h), LOGITS_OUTPUT);
  };
}

/** `features` [T, dim] → + positional embedding (`pos`) → linear (`head`) → `logits` [T, vocabSize]. */
export function buildFeatureCtcHead(options: FeatureCtcHeadOptions): OnnxModel {
  const g = new GraphBuilder({ seed: options.seed, weights: options.weights, name: options.name ?? 'signweave-feature-ctc-head' });
  featureCtcHeadDefinition(options)(g);
  return g.build();
}

/** A sign or fingerspelling expert: backbone features `[T, D]` → CTC logits → decoded tokens. */
export class FeatureCtcExpert<K extends 'sign' | 'fingerspell' = 'sign' | 'fingerspell'> extends CtcExpert<K> {
  constructor(bundle: Bundle<K>) {
    super(bundle);
  }

  async run(features: Sequence, options: DecodeOptions = {}): Promise<ExpertResult<K>> {
    const [T, D] = features.shape;
    const m = this.bundle.manifest;
    const dim = (m.input as { dim: number }).dim;
    this.checkFrames(T, features.fps);
    if (D !== dim) throw new SignweaveInputError(`bundle ${this.bundle.dir}: input.dim is ${dim} but the features have D = ${D} (shape [${T}, ${D}]); were they made by another backbone?`);
    if (features.data.length !== T * D) throw new SignweaveInputError(`${this.kind} expert: features.data has ${features.data.length} values, shape [${T}, ${D}] needs ${T * D}`);
    return this.decode(float32(features.data, [T, D]), T, features.fps, options);
  }
}
