/**
 * The pseudo-gloss → English decoder's contract (SignBind-LLM §3.5: a LLaMA model, LoRA-tuned, renders the fused
 * pseudo-gloss as an English sentence). The implementation runs GGUF models with node-llama-cpp through the process's
 * shared runtime (src/llm/runtime.ts); the pipeline and the evaluators see only these types.
 */
import type { LlamaRuntime, LlamaRuntimeInfo } from '../llm/runtime.js';

/** Which llama.cpp backend (`'cpu'` is node-llama-cpp's `gpu: false`); a fallback to the CPU is logged and recorded. */
export type DecoderGpu = 'auto' | 'cuda' | 'vulkan' | 'cpu';

/** One pseudo-gloss → English example of a few-shot prompt. */
export interface FewShotPair {
  gloss: string;
  english: string;
}

/**
 * The prompt: an instruction and optional few-shot pairs. Built-in template `gloss2en-v1` when nothing is given; a
 * custom instruction or examples give the version `gloss2en-v1+<hash>`, so cached or reported results say which prompt
 * made them. A model trained by signweave (`signweave.decoder.format` in its GGUF) is prompted as it was trained and
 * takes no instruction, examples or chat format (an input error).
 */
export interface DecoderPromptOptions {
  instruction?: string;
  /** Few-shot pairs, or a file of them (JSONL `{"gloss": …, "english": …}` per line, or TSV `gloss<TAB>english`). */
  fewShot?: readonly FewShotPair[] | string;
  /**
   * `'auto'` (default): the model's own chat template when the GGUF has one, plain completion otherwise;
   * `'completion'` / `'chat'` force one (`'chat'` on a model without a template is an input error).
   */
  format?: 'auto' | 'completion' | 'chat';
}

/** Sampling; the default is greedy decoding (temperature 0), which is deterministic. */
export interface DecoderSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Used when temperature > 0 (default 0). */
  seed?: number;
}

/** A LoRA adapter in GGUF (llama.cpp's `convert_lora_to_gguf.py` output) applied with `scale` (default 1). */
export interface LoraAdapterOptions {
  path: string;
  scale?: number;
}

export interface DecoderOptions {
  /** The GGUF model (LLaMA-2-7B Q4 in production). */
  model: string;
  /** Default: the process's shared runtime, started with `gpu`. */
  runtime?: LlamaRuntime;
  gpu?: DecoderGpu;
  /** llama.cpp threads (default: node-llama-cpp's, the CPU's math cores; 1 for a model trained by signweave, which is small). */
  threads?: number;
  /** Context window in tokens (default 1024: pseudo-gloss prompts are short, but the default few-shot prompt is ~470 tokens for a model with a small vocabulary such as stories260K). */
  contextSize?: number;
  /** Generation budget in tokens (default 64). */
  maxTokens?: number;
  /** Sequences decoded at once by `translateMany` (default 1); each takes `contextSize` tokens of KV cache. */
  parallel?: number;
  prompt?: DecoderPromptOptions;
  sampling?: DecoderSampling;
  /** Extra stop strings (a newline always stops plain completion). */
  stop?: readonly string[];
  lora?: readonly LoraAdapterOptions[];
}

/**
 * Why there is no English: an empty pseudo-gloss (the model is not called), nothing left after post-processing, the
 * prompt not fitting the context, or an error in llama.cpp.
 */
export type DecoderFailure = 'empty-input' | 'empty' | 'prompt-too-long' | 'generation-error';

export interface DecoderOutput {
  /** The input pseudo-gloss, whitespace-normalised. */
  gloss: string;
  /** The English sentence after post-processing, or null when the generation failed (see `failure`). */
  text: string | null;
  failure: DecoderFailure | null;
  /** What went wrong, in words, when `failure` is set. */
  message: string | null;
  /** The model's raw completion, before post-processing. */
  raw: string;
  /** Why generation stopped (never `sentence-end` for a model trained by signweave: it ends with `</s>`). */
  stop: 'eos' | 'stop-string' | 'max-tokens' | 'sentence-end' | 'error' | 'not-run';
  promptTokens: number;
  generatedTokens: number;
  /** Milliseconds to the first generated token, and in all. */
  firstTokenMs: number | null;
  totalMs: number;
}

/** How outputs were made: enough to reproduce them. */
export interface DecoderProvenance {
  model: { path: string; sha256: string; name: string | null };
  lora: { path: string; sha256: string; scale: number }[];
  /** `gloss2en-v1[+hash]`, or the trained format (`signweave-gloss2en/1`) for a model trained by signweave. */
  promptVersion: string;
  format: 'completion' | 'chat';
  sampling: Required<DecoderSampling>;
  maxTokens: number;
  contextSize: number;
  runtime: LlamaRuntimeInfo;
  nodeLlamaCpp: string;
}

/** Streaming: each piece of raw text as the model generates it (before post-processing). */
export type TokenCallback = (piece: string) => void;

export interface TranslateOptions {
  onToken?: TokenCallback;
  signal?: AbortSignal;
}

export interface TranslateManyOptions {
  onProgress?: (event: { done: number; total: number; failed: number }) => void;
  signal?: AbortSignal;
}

/** What the pipeline and evaluators call. */
export interface GlossDecoder extends AsyncDisposable {
  readonly provenance: DecoderProvenance;
  translate(gloss: string, options?: TranslateOptions): Promise<DecoderOutput>;
  /** Outputs in input order; a failed sample is a failed output, never a thrown error (aborting rejects). */
  translateMany(glosses: readonly string[], options?: TranslateManyOptions): Promise<DecoderOutput[]>;
  dispose(): Promise<void>;
}
