/**
 * The pseudo-gloss → English decoder (SignBind-LLM §3.5): a LLaMA GGUF run by node-llama-cpp through the process's
 * shared runtime, prompted with `prompt.ts`, its answer cleaned by `postprocess.ts`.
 *
 * One context per decoder with `parallel` sequences; each sequence has its own `LlamaCompletion`, and node-llama-cpp
 * batches the sequences that generate at the same time into one llama.cpp decode. The prompt's fixed head (instruction
 * and examples) stays in each sequence's KV cache between sentences, so only the new gloss is evaluated.
 *
 * A model trained by `signweave train decoder` (its GGUF has `signweave.decoder.format`) is prompted as it was trained
 * instead, `<s> gloss <sep>`, and its whole answer up to `</s>` is kept (`trained.ts`).
 */
import {
  getModuleVersion,
  LlamaCompletion,
  resolveChatWrapper,
  type ChatWrapper,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaText,
  type Token,
} from 'node-llama-cpp';
import { SignweaveInputError } from '../errors.js';
import { getLlamaRuntime, type LlamaRuntime, type RuntimeGpu, type RuntimeModel } from '../llm/runtime.js';
import { checkLoraAdapter, recordLoadedAdapters, type CheckedLoraAdapter } from './lora.js';
import { answerIsComplete, postprocessTranslation, type PostprocessContext } from './postprocess.js';
import { chatHistory, completionPrompt, normaliseGloss, resolvePrompt, type ResolvedPrompt } from './prompt.js';
import { StopStringFilter } from './stop-strings.js';
import { trainedPrompting, trainedPromptTokens, trainedTranslation, type TrainedPrompting } from './trained.js';
import type {
  DecoderFailure,
  DecoderGpu,
  DecoderOptions,
  DecoderOutput,
  DecoderProvenance,
  DecoderSampling,
  GlossDecoder,
  TranslateManyOptions,
  TranslateOptions,
} from './types.js';

export const DEFAULT_DECODER_CONTEXT_SIZE = 1024;
export const DEFAULT_DECODER_MAX_TOKENS = 64;
/** node-llama-cpp's own defaults for top-k and top-p sampling; both only act when temperature > 0. */
export const DEFAULT_DECODER_SAMPLING: Required<DecoderSampling> = { temperature: 0, topP: 0.95, topK: 40, seed: 0 };

const GPUS: readonly DecoderGpu[] = ['auto', 'cuda', 'vulkan', 'cpu'];
const FORMATS = ['auto', 'completion', 'chat'] as const;

interface Settings {
  threads: number | undefined;
  contextSize: number;
  maxTokens: number;
  parallel: number;
  sampling: Required<DecoderSampling>;
  stop: string[];
  lora: { path: string; scale: number }[];
  format: (typeof FORMATS)[number];
}

function positiveInt(value: unknown, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw new SignweaveInputError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return v as number;
}

function checkOptions(options: DecoderOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new SignweaveInputError('decoder options are required');
  if (typeof options.model !== 'string' || options.model === '') throw new SignweaveInputError('model: a GGUF file path is required');
  if (options.gpu !== undefined && !GPUS.includes(options.gpu)) {
    throw new SignweaveInputError(`gpu must be one of ${GPUS.join(', ')}, got ${JSON.stringify(options.gpu)}`);
  }
  const threads = options.threads === undefined ? undefined : positiveInt(options.threads, 0, 'threads');
  const contextSize = positiveInt(options.contextSize, DEFAULT_DECODER_CONTEXT_SIZE, 'contextSize');
  const maxTokens = positiveInt(options.maxTokens, DEFAULT_DECODER_MAX_TOKENS, 'maxTokens');
  const parallel = positiveInt(options.parallel, 1, 'parallel');
  if (maxTokens >= contextSize) {
    throw new SignweaveInputError(`maxTokens (${maxTokens}) must be smaller than contextSize (${contextSize}): the prompt needs room too`);
  }

  const s = options.sampling ?? {};
  const sampling = { ...DEFAULT_DECODER_SAMPLING, ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) };
  if (typeof sampling.temperature !== 'number' || !Number.isFinite(sampling.temperature) || sampling.temperature < 0) {
    throw new SignweaveInputError(`sampling.temperature must be a number >= 0, got ${JSON.stringify(s.temperature)}`);
  }
  if (typeof sampling.topP !== 'number' || !(sampling.topP > 0 && sampling.topP <= 1)) {
    throw new SignweaveInputError(`sampling.topP must be in (0, 1], got ${JSON.stringify(s.topP)}`);
  }
  positiveInt(sampling.topK, 0, 'sampling.topK');
  if (!Number.isInteger(sampling.seed) || sampling.seed < 0 || sampling.seed > 0xffffffff) {
    throw new SignweaveInputError(`sampling.seed must be an integer in [0, 4294967295], got ${JSON.stringify(s.seed)}`);
  }

  const stop = options.stop ?? [];
  if (!Array.isArray(stop)) throw new SignweaveInputError('stop must be an array of strings');
  stop.forEach((str, i) => {
    if (typeof str !== 'string' || str === '') throw new SignweaveInputError(`stop[${i}] must be a non-empty string, got ${JSON.stringify(str)}`);
  });

  const lora = options.lora ?? [];
  if (!Array.isArray(lora)) throw new SignweaveInputError('lora must be an array of {path, scale} adapters');
  const adapters = lora.map((a, i) => {
    if (typeof a?.path !== 'string' || a.path === '') throw new SignweaveInputError(`lora[${i}].path must be a non-empty string`);
    const scale = a.scale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) {
      throw new SignweaveInputError(`lora[${i}].scale must be a finite number, got ${JSON.stringify(a.scale ?? null)}`);
    }
    return { path: a.path, scale };
  });

  const format = options.prompt?.format ?? 'auto';
  if (!FORMATS.includes(format)) throw new SignweaveInputError(`prompt.format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  return { threads, contextSize, maxTokens, parallel, sampling, stop: [...stop], lora: adapters, format };
}

function runtimeGpu(gpu: DecoderGpu): RuntimeGpu {
  return gpu === 'cpu' ? false : gpu;
}

async function runtimeFor(options: DecoderOptions): Promise<LlamaRuntime> {
  if (!options.runtime) return getLlamaRuntime(options.gpu === undefined ? {} : { gpu: runtimeGpu(options.gpu) });
  if (options.gpu !== undefined && options.runtime.info.requestedGpu !== runtimeGpu(options.gpu)) {
    throw new SignweaveInputError(
      `gpu: the given runtime was started with gpu ${JSON.stringify(options.runtime.info.requestedGpu)}, not ${JSON.stringify(runtimeGpu(options.gpu))}`,
    );
  }
  return options.runtime;
}

/** One sequence of the context and the completion object that generates on it. */
interface Slot {
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
}

/** Hands out the context's sequences, one caller at a time each; callers wait in order. */
class SlotPool {
  private readonly waiting: ((slot: Slot) => void)[] = [];

  constructor(private readonly free: Slot[]) {}

  /** A free slot, or the next one released; rejects with the signal's reason if aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<Slot> {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(signal?.reason);
      };
      const grant = (s: Slot) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

/** An output without English: the gloss, why, and whatever was generated before it went wrong. */
function failedOutput(
  gloss: string,
  started: number,
  failure: DecoderFailure,
  message: string,
  rest: Partial<DecoderOutput> = {},
): DecoderOutput {
  return {
    gloss,
    text: null,
    failure,
    message,
    raw: '',
    stop: 'not-run',
    promptTokens: 0,
    generatedTokens: 0,
    firstTokenMs: null,
    ...rest,
    totalMs: performance.now() - started,
  };
}

/**
 * A prompt as llama.cpp will see it: tokens without the BOS token (LlamaCompletion prepends it), and the stop triggers
 * node-llama-cpp watches (the newline of plain completion, or the chat template's end of turn; the `stop` option's
 * strings are matched on the streamed text by StopStringFilter).
 */
interface PromptTokens {
  tokens: Token[];
  /** Tokens the context holds for it: `tokens` plus the BOS token when the model wants one. */
  count: number;
  stopTriggers: (string | LlamaText)[];
}

export class Decoder implements GlossDecoder {
  private readonly pool: SlotPool;
  private readonly bos: boolean;
  private disposed = false;

  /** Use `createDecoder`. */
  constructor(
    readonly provenance: DecoderProvenance,
    private readonly loaded: RuntimeModel,
    private readonly context: LlamaContext,
    private readonly prompt: ResolvedPrompt,
    private readonly chatWrapper: ChatWrapper | null,
    private readonly settings: Settings,
    /** Set for a model trained here: then `prompt` and `chatWrapper` are unused. */
    private readonly trained: TrainedPrompting | null,
  ) {
    this.pool = new SlotPool(
      Array.from({ length: settings.parallel }, () => {
        const sequence = context.getSequence();
        return { sequence, completion: new LlamaCompletion({ contextSequence: sequence }) };
      }),
    );
    this.bos = loaded.model.tokens.shouldPrependBosToken;
  }

  /**
   * The prompt for `gloss` as the context will hold it: tokens (without the BOS token, which node-llama-cpp's
   * LlamaCompletion prepends), their count with it, and the stop triggers node-llama-cpp watches.
   */
  tokenizePrompt(gloss: string): PromptTokens {
    const model = this.loaded.model;
    const normalised = normaliseGloss(gloss);
    let tokens: Token[];
    if (this.trained) {
      // It ends its answer with </s>: no newline or end-of-turn trigger.
      tokens = trainedPromptTokens(this.loaded, this.trained, normalised, this.bos);
      return { tokens, count: tokens.length + (this.bos ? 1 : 0), stopTriggers: [] };
    }
    if (this.chatWrapper) {
      const state = this.chatWrapper.generateContextState({ chatHistory: chatHistory(this.prompt, normalised) });
      tokens = state.contextText.tokenize(model.tokenizer);
      // Templates render the BOS token themselves; LlamaCompletion adds it again unless it is taken off here.
      if (this.bos && tokens[0] === model.tokens.bos) tokens = tokens.slice(1);
      return { tokens, count: tokens.length + (this.bos ? 1 : 0), stopTriggers: state.stopGenerationTriggers };
    }
    // Token arrays, not text, go to llama.cpp: a gloss such as "<s>" is then text, never a control token.
    tokens = model.tokenize(completionPrompt(this.prompt, normalised), false, this.bos ? 'trimLeadingSpace' : undefined);
    return { tokens, count: tokens.length + (this.bos ? 1 : 0), stopTriggers: ['\n'] };
  }

  async translate(gloss: string, options: TranslateOptions = {}): Promise<DecoderOutput> {
    if (this.disposed) throw new Error('Decoder: translate() after dispose()');
    if (typeof gloss !== 'string') throw new SignweaveInputError(`gloss must be a string, got ${gloss === null ? 'null' : typeof gloss}`);
    const { signal } = options;
    signal?.throwIfAborted();
    const started = performance.now();
    const normalised = normaliseGloss(gloss);
    if (normalised === '') return failedOutput(normalised, started, 'empty-input', 'the pseudo-gloss is empty; the model was not run');

    const prompt = this.tokenizePrompt(normalised);
    const { maxTokens } = this.settings;
    const { contextSize } = this.provenance;
    if (prompt.count + maxTokens > contextSize) {
      return failedOutput(
        normalised,
        started,
        'prompt-too-long',
        `the prompt is ${prompt.count} tokens; with maxTokens ${maxTokens} it needs ${prompt.count + maxTokens} of the context's ${contextSize}`,
        { promptTokens: prompt.count },
      );
    }

    const slot = await this.pool.acquire(signal);
    try {
      return await this.generate(slot, normalised, prompt, started, options);
    } finally {
      this.pool.release(slot);
    }
  }

  private async generate(
    slot: Slot,
    gloss: string,
    prompt: PromptTokens,
    started: number,
    { onToken, signal }: TranslateOptions,
  ): Promise<DecoderOutput> {
    signal?.throwIfAborted();
    const { sampling, maxTokens } = this.settings;
    const postprocessContext: PostprocessContext = { gloss, instruction: this.prompt.instruction };
    // One signal for every reason to stop early: the caller's abort, a stop string, and a complete answer.
    const controller = new AbortController();
    const forward = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    const stops = new StopStringFilter(this.settings.stop);
    const meter = slot.sequence.tokenMeter.getState();
    let raw = '';
    let firstTokenMs: number | null = null;
    let earlyStop: 'stop-string' | 'sentence-end' | null = null;
    const emit = (text: string): void => {
      if (text === '') return;
      raw += text;
      onToken?.(text);
    };
    let response;
    try {
      response = await slot.completion.generateCompletionWithMeta(prompt.tokens, {
        maxTokens,
        temperature: sampling.temperature,
        topK: sampling.topK,
        topP: sampling.topP,
        seed: sampling.seed,
        // A translation may repeat words on purpose; greedy decoding stays plain argmax.
        repeatPenalty: false,
        customStopTriggers: prompt.stopTriggers,
        disableContextShift: true,
        signal: controller.signal,
        stopOnAbortSignal: true,
        onTextChunk: (piece) => {
          firstTokenMs ??= performance.now() - started;
          emit(stops.push(piece));
          if (controller.signal.aborted) return;
          if (stops.matched !== null) earlyStop = 'stop-string';
          else if (!this.trained && answerIsComplete(raw, postprocessContext)) earlyStop = 'sentence-end';
          if (earlyStop) controller.abort(earlyStop);
        },
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (this.disposed) throw err;
      return failedOutput(gloss, started, 'generation-error', `llama.cpp failed: ${(err as Error).message}`, {
        raw,
        stop: 'error',
        promptTokens: prompt.count,
        generatedTokens: slot.sequence.tokenMeter.diff(meter).usedOutputTokens,
        firstTokenMs,
      });
    } finally {
      signal?.removeEventListener('abort', forward);
    }
    if (signal?.aborted) throw signal.reason;
    emit(stops.flush());

    const reason = response.metadata.stopReason;
    let stop: DecoderOutput['stop'];
    if (earlyStop) stop = earlyStop;
    else if (reason === 'eogToken') stop = 'eos';
    else if (reason === 'maxTokens') stop = 'max-tokens';
    // The newline of plain completion, or the end of the model's turn in a chat template.
    else stop = this.chatWrapper ? 'eos' : 'stop-string';

    const post = this.trained ? trainedTranslation(raw) : postprocessTranslation(raw, postprocessContext);
    return {
      gloss,
      text: post.text,
      failure: post.failure,
      message: post.message,
      raw,
      stop,
      promptTokens: prompt.count,
      generatedTokens: slot.sequence.tokenMeter.diff(meter).usedOutputTokens,
      firstTokenMs,
      totalMs: performance.now() - started,
    };
  }

  async translateMany(glosses: readonly string[], options: TranslateManyOptions = {}): Promise<DecoderOutput[]> {
    const { onProgress, signal } = options;
    signal?.throwIfAborted();
    const outputs: DecoderOutput[] = new Array(glosses.length);
    let next = 0;
    let done = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < glosses.length) {
        signal?.throwIfAborted();
        const i = next++;
        outputs[i] = await this.translate(glosses[i], { signal });
        done++;
        if (outputs[i].failure) failed++;
        onProgress?.({ done, total: glosses.length, failed });
      }
    };
    // Every worker settles before this returns or rejects, so nothing is still generating afterwards.
    const results = await Promise.allSettled(Array.from({ length: Math.min(this.settings.parallel, glosses.length) }, worker));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw signal?.aborted ? signal.reason : rejected.reason;
    return outputs;
  }

  /** Releases this decoder's context; the model and the runtime belong to the runtime's owner. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.context.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Loads the model through the shared runtime (or `options.runtime`), checks the LoRA adapters and creates the
 * decoder's context. Every option is checked first; a bad one is a SignweaveInputError naming it.
 */
export async function createDecoder(options: DecoderOptions): Promise<Decoder> {
  const settings = checkOptions(options);
  const prompt = resolvePrompt(options.prompt);
  const runtime = await runtimeFor(options);
  const loaded = await runtime.loadModel(options.model);
  const adapters: CheckedLoraAdapter[] = [];
  for (const [i, adapter] of settings.lora.entries()) adapters.push(await checkLoraAdapter(adapter, i, loaded));

  const trained = trainedPrompting(loaded);
  if (trained) {
    const custom = (['instruction', 'fewShot'] as const).filter((k) => options.prompt?.[k] !== undefined);
    if (custom.length > 0 || settings.format === 'chat') {
      throw new SignweaveInputError(
        `${loaded.path} is a decoder trained by signweave (${trained.format}): it is prompted as it was trained, with the pseudo-gloss alone, ` +
          `so it takes no ${custom.length > 0 ? custom.map((k) => `prompt.${k}`).join(' or ') : "prompt.format 'chat'"}`,
      );
    }
  }
  // A trained model never saw a position past its training length: by default its context ends there, so a longer
  // prompt is reported (prompt-too-long) instead of decoded at positions it never learned.
  const contextSize = trained && options.contextSize === undefined ? Math.min(settings.contextSize, loaded.model.trainContextSize) : settings.contextSize;
  if (settings.maxTokens >= contextSize) {
    throw new SignweaveInputError(`maxTokens (${settings.maxTokens}) must be smaller than the ${contextSize}-token context ${loaded.path} was trained with: the prompt needs room too`);
  }
  // Models trained here are small (the shipped one has 1.4 M parameters): llama.cpp's per-op thread handoff costs
  // more than the arithmetic, so they run on one thread unless told otherwise (2 threads were 18× slower on 2 cores).
  const threads = settings.threads ?? (trained ? 1 : undefined);
  const hasTemplate = loaded.chatTemplate !== null;
  if (settings.format === 'chat' && !hasTemplate) {
    throw new SignweaveInputError(
      `prompt.format 'chat' needs a chat template, and ${loaded.path} has none (no tokenizer.chat_template): use 'completion' or 'auto'`,
    );
  }
  const format = trained || settings.format === 'completion' || (settings.format === 'auto' && !hasTemplate) ? 'completion' : 'chat';
  const chatWrapper = format === 'chat' ? resolveChatWrapper(loaded.model) : null;

  const nodeLlamaCpp = await getModuleVersion();
  let context: LlamaContext;
  try {
    context = await loaded.model.createContext({
      contextSize,
      sequences: settings.parallel,
      ...(threads !== undefined && { threads }),
      ...(adapters.length > 0 && { lora: { adapters: adapters.map((a) => ({ filePath: a.path, scale: a.scale })) } }),
    });
  } catch (err) {
    const message = (err as Error).message;
    if (adapters.length > 0) {
      throw new SignweaveInputError(
        `cannot apply the LoRA adapter${adapters.length > 1 ? 's' : ''} ${adapters.map((a) => a.path).join(', ')} to ${loaded.path}: ${message} ` +
          '(llama.cpp logs the tensor it refused)',
      );
    }
    throw new Error(`cannot create a ${contextSize}-token context for ${loaded.path}: ${message}`, { cause: err });
  }
  recordLoadedAdapters(loaded, adapters);

  const provenance: DecoderProvenance = {
    model: { path: loaded.path, sha256: loaded.sha256, name: loaded.model.fileInfo.metadata.general?.name ?? null },
    lora: adapters.map((a) => ({ ...a })),
    promptVersion: trained?.format ?? prompt.version,
    format,
    sampling: { ...settings.sampling },
    maxTokens: settings.maxTokens,
    // llama.cpp pads a context (to 256 tokens and up); what was asked for, a trained model's length included, binds.
    contextSize: Math.min(context.contextSize, contextSize),
    runtime: { ...runtime.info },
    nodeLlamaCpp,
  };
  return new Decoder(provenance, loaded, context, prompt, chatWrapper, settings, trained);
}
