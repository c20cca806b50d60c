/**
 * The English decoder stage (SignBind-LLM's last stage): a config's `decoder` section made into a src/decoder decoder
 * on first use, run on the fused pseudo-gloss of a pipeline run, or alone on a given pseudo-gloss
 * (`signweave translate --gloss`), which loads no video stage.
 */
import { createDecoder } from '../decoder/index.js';
import type { GlossDecoder, TokenCallback } from '../decoder/types.js';
import { SignweaveInputError } from '../errors.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import type { DecoderStageConfig } from './config.js';
import { Lazy } from './lazy.js';
import type { EnglishTranslation, GlossTranslationResult, PipelineProgress, PipelineProvenance } from './result.js';

export interface EnglishRunOptions {
  /** Each piece of raw English as the model generates it (streaming). */
  onToken?: TokenCallback;
  /** `decoder` events. */
  onProgress?: (event: PipelineProgress) => void;
  /** Aborting stops the generation; it rejects with the signal's reason. */
  signal?: AbortSignal;
}

export class EnglishStage implements AsyncDisposable {
  private readonly decoder: Lazy<GlossDecoder>;
  private loaded = false;

  /**
   * `where` prefixes the decoder's input errors (`pipeline config x.json: /decoder`); a decoder made from
   * command-line options has none, and its messages stand alone.
   */
  constructor(config: DecoderStageConfig, where?: string) {
    this.decoder = new Lazy(async () => {
      try {
        return await createDecoder(config);
      } catch (err) {
        if (where !== undefined && err instanceof SignweaveInputError) throw new SignweaveInputError(`${where}: ${err.message}`, err.exitCode);
        throw err;
      }
    });
  }

  /** Loads the model (once; a failed load is tried again by the next call). */
  async load(): Promise<GlossDecoder> {
    const decoder = await this.decoder.get();
    this.loaded = true;
    return decoder;
  }

  /** One pseudo-gloss to English. A failed generation is in the output, never thrown; aborting rejects. */
  async run(decoder: GlossDecoder, pseudoGloss: string, options: EnglishRunOptions = {}): Promise<EnglishTranslation> {
    const { onToken, onProgress, signal } = options;
    const budget = decoder.provenance.maxTokens;
    let pieces = 0;
    const output = await decoder.translate(pseudoGloss, {
      signal,
      onToken: (piece) => {
        onToken?.(piece);
        onProgress?.({ stage: 'decoder', done: Math.min(++pieces, budget), total: budget });
      },
    });
    onProgress?.({ stage: 'decoder', done: output.generatedTokens, total: output.generatedTokens });
    return { ...output, pseudoGloss };
  }

  /** The decoder alone on `gloss`, loading it on first use; `config` is the pipeline config's provenance, if any. */
  async translate(gloss: string, options: EnglishRunOptions = {}, config: PipelineProvenance['config'] | null = null): Promise<GlossTranslationResult> {
    const started = performance.now();
    const firstLoad = !this.loaded;
    const decoder = await this.load();
    const load = firstLoad ? performance.now() - started : 0;
    options.signal?.throwIfAborted();
    const generating = performance.now();
    const english = await this.run(decoder, gloss, options);
    const now = performance.now();
    return { english, timings: { load, decoder: now - generating, total: now - started }, provenance: { signweave: SIGNWEAVE_VERSION, config, decoder: decoder.provenance } };
  }

  /** Disposes the decoder (its llama.cpp context); the shared runtime and model belong to the runtime's owner. */
  dispose(): Promise<void> {
    return this.decoder.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
