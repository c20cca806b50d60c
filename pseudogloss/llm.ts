/**
 * LLM pseudo-glosser: English sentence → ASL-ordered upper-case gloss, as SignBind-LLM made its targets with GPT-4o,
 * here with any local GGUF model run by node-llama-cpp.
 *
 * The model's answer is constrained by a JSON-schema grammar (`{"gloss": ["TOMORROW", "STORE", ...]}`), then checked
 * with ajv against the same schema and by semantic rules; an invalid answer or a failed generation is replaced by the
 * injected rule-based glosser's answer, marked `provenance.fallback`. Answers are cached on disk so a corpus is never
 * generated twice.
 *
 * Cache design: one JSONL file per (model sha256, prompt version) in `cacheDir`, `<sha256>.<promptVersion>.jsonl`,
 * one line per sentence: `{"s": settingsKey, "sentence": normalised sentence, "tokens": [...], "provenance": {...}}`.
 * `settingsKey` hashes the generation settings that change the output (max tokens, gloss length, temperature, seed,
 * context size, prompt format, fallback glosser), so several settings share a file and only matching lines are
 * used. Each answer is appended as one whole line in a single `O_APPEND` write, so concurrent writers never
 * interleave and a crash leaves at most a torn last line: loading skips and reports it, and the next append starts
 * on a fresh line. Lines are never rewritten, so no temp-file-and-rename step is needed.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import {
  LlamaChatSession,
  LlamaCompletion,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type Token,
} from 'node-llama-cpp';
import { SignweaveInputError } from '../src/errors.js';
import { checkGgufFile, fileSha256, getLlamaRuntime, type LlamaRuntime, type RuntimeModel } from '../src/llm/runtime.js';
import type { GlossProvenance, PseudoGloss, PseudoGlosser } from './types.js';

/** Bumped whenever the prompt text (instruction, default examples, layout) changes. */
export const PROMPT_VERSION = 'asl-gloss-json-v1';
/** The glosser's own version: bumped when validation or post-processing changes. */
export const LLM_GLOSSER_VERSION = '1';

export interface FewShotExample {
  english: string;
  gloss: readonly string[];
}

/** Written for this project: time first, topic before comment, wh-words last, no articles or "be". */
export const DEFAULT_FEW_SHOT: readonly FewShotExample[] = [
  { english: 'I am going to the store tomorrow.', gloss: ['TOMORROW', 'STORE', 'I', 'GO'] },
  { english: 'What is your name?', gloss: ['YOUR', 'NAME', 'WHAT'] },
  { english: 'My brother does not like coffee.', gloss: ['MY', 'BROTHER', 'COFFEE', 'LIKE', 'NOT'] },
  { english: 'We finished the homework yesterday.', gloss: ['YESTERDAY', 'HOMEWORK', 'WE', 'FINISH'] },
];

const GLOSS_TOKEN = /^[A-Z0-9'-]+$/;
const MAX_TOKEN_CHARS = 32;
const DEFAULT_MAX_GLOSS_TOKENS = 32;

export interface LlmGlosserOptions {
  /** The GGUF model file. */
  modelPath: string;
  /** Answers when the model's output is invalid (the rule-based glosser). Not disposed by this glosser. */
  fallback: PseudoGlosser;
  /** Default: the process's shared runtime (`getLlamaRuntime()`). */
  runtime?: LlamaRuntime;
  /** Default `$XDG_CACHE_HOME/signweave/pseudogloss` (or `~/.cache/...`); `null` keeps answers in memory only. */
  cacheDir?: string | null;
  /** llama.cpp threads (default 1: tiny models collapse with 2 threads on a loaded machine). */
  threads?: number;
  /** Context window in tokens (default 1024; the prompt plus `maxTokens` must fit, else the fallback answers). */
  contextSize?: number;
  /** Generation budget in tokens (default 128). */
  maxTokens?: number;
  /** Most gloss tokens the grammar admits (default 32). */
  maxGlossTokens?: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  /** Sampling seed, used when temperature > 0 (default 0). */
  seed?: number;
  /** Replaces the default examples; the prompt version then carries a hash of them. */
  fewShot?: readonly FewShotExample[];
  /**
   * `'auto'` (default): the model's own chat template through node-llama-cpp's `resolveChatWrapper` when the file has
   * one, plain completion otherwise; `'none'`: always plain completion; a ChatWrapper: that chat format.
   */
  chatWrapper?: 'auto' | 'none' | ChatWrapper;
  /** Cache problems (torn or unreadable lines) and generation errors. Default: `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

export interface LlmGlosserStats {
  /** Sentences sent to the model by this instance (answered by it or by the fallback). */
  generated: number;
  /** Sentences answered from the cache (disk or earlier in this run), whatever their provenance. */
  cached: number;
  /** Generated sentences whose answer came from the fallback glosser. */
  fallbacks: number;
  /** Why those fallbacks happened: `truncated`, `invalid-json`, `schema`, `token-format`, `too-long`, `prompt-too-long`, `generation-error`. */
  invalidReasons: Record<string, number>;
}

export interface LlmGlossCacheInfo {
  /** The JSONL file, or null when the cache is in memory only. */
  file: string | null;
  /** Answers loaded for this prompt version and these settings. */
  loaded: number;
  /** Lines that could not be read (a torn last line after a crash, or damage) and were skipped. */
  unreadableLines: number;
}

export interface GlossProgress {
  done: number;
  total: number;
  cached: number;
  fallbacks: number;
}

export interface GlossManyOptions {
  onProgress?: (progress: GlossProgress) => void;
  /** Stops between sentences and interrupts a running generation; glossMany then rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface CacheLine {
  s: string;
  sentence: string;
  tokens: string[];
  provenance: GlossProvenance;
}

/** A checked model answer: the gloss tokens, or why it was rejected. */
export type GlossAnswerCheck = { ok: true; tokens: string[] } | { ok: false; reason: string };

interface Engine {
  generate(sentence: string, signal: AbortSignal | undefined): Promise<GlossAnswerCheck>;
  dispose(): Promise<void>;
}

/** The JSON schema of an answer, shared by the grammar and ajv. */
function glossSchema(maxItems: number) {
  return {
    type: 'object',
    properties: {
      gloss: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_CHARS },
        minItems: 1,
        maxItems,
      },
    },
    required: ['gloss'],
    additionalProperties: false,
  } as const;
}

const validators = new Map<number, ValidateFunction>();

/**
 * Checks a model's answer for `sentence` (normalised): JSON (`truncated`: generation hit maxTokens, else
 * `invalid-json`), the answer schema with ajv (`schema`), gloss words `/^[A-Z0-9'-]+$/` after trimming
 * (`token-format`), and at most 2 × words + 2 tokens (`too-long`).
 */
export function checkGlossAnswer(
  text: string,
  sentence: string,
  options: { maxGlossTokens?: number; truncated?: boolean } = {},
): GlossAnswerCheck {
  const maxItems = options.maxGlossTokens ?? DEFAULT_MAX_GLOSS_TOKENS;
  let validate = validators.get(maxItems);
  if (!validate) {
    validate = new Ajv({ strict: true }).compile(glossSchema(maxItems));
    validators.set(maxItems, validate);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: options.truncated ? 'truncated' : 'invalid-json' };
  }
  if (!validate(data)) return { ok: false, reason: 'schema' };
  const tokens = (data as { gloss: string[] }).gloss.map((t) => t.trim());
  if (!tokens.every((t) => GLOSS_TOKEN.test(t))) return { ok: false, reason: 'token-format' };
  // A gloss is rarely longer than its sentence; twice the words leaves room for compounds and classifiers.
  if (tokens.length > 2 * sentence.split(' ').length + 2) return { ok: false, reason: 'too-long' };
  return { ok: true, tokens };
}

/** The cache key's sentence form: NFC, trimmed, runs of whitespace as one space. Also what the model sees. */
export function normaliseSentence(sentence: string): string {
  return sentence.normalize('NFC').trim().replace(/\s+/g, ' ');
}

function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'signweave', 'pseudogloss');
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function positiveInt(value: number | undefined, fallback: number, field: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new SignweaveInputError(`${field} must be a positive integer, got ${value}`);
  return v;
}

function instruction(maxItems: number): string {
  return (
    'Rewrite each English sentence as ASL gloss: the signs in ASL order written as upper-case English words ' +
    '(time first, then the topic, then the comment; question words last), without articles, forms of "be" or word ' +
    `endings. Each item is one sign: one upper-case word of letters, digits, ' or -. At most ${maxItems} items. ` +
    'Answer with JSON only.'
  );
}

function answerJson(gloss: readonly string[]): string {
  return JSON.stringify({ gloss });
}

// Answers are shared by the cache; callers get their own copy to edit.
function copyGloss(g: PseudoGloss): PseudoGloss {
  return { tokens: [...g.tokens], provenance: { ...g.provenance, ...(g.provenance.model ? { model: { ...g.provenance.model } } : {}) } };
}

function isCacheLine(value: unknown): value is CacheLine {
  const v = value as CacheLine;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.s === 'string' &&
    typeof v.sentence === 'string' &&
    Array.isArray(v.tokens) &&
    v.tokens.every((t) => typeof t === 'string') &&
    typeof v.provenance === 'object' &&
    v.provenance !== null
  );
}

export class LlmGlosser implements PseudoGlosser {
  readonly name = 'llm';
  readonly version = LLM_GLOSSER_VERSION;
  /** PROMPT_VERSION, plus a hash of the examples when `fewShot` replaces the default ones. */
  readonly promptVersion: string;
  /** The GGUF file (absolute path) and its sha256. */
  readonly model: { path: string; sha256: string };

  private readonly runtimeOption: LlamaRuntime | undefined;
  private readonly fallback: PseudoGlosser;
  private readonly threads: number;
  private readonly contextSize: number;
  private readonly maxTokens: number;
  private readonly maxGlossTokens: number;
  private readonly temperature: number;
  private readonly seed: number;
  private readonly fewShot: readonly FewShotExample[];
  private readonly chatWrapper: 'auto' | 'none' | ChatWrapper;
  private readonly settingsKey: string;
  private readonly answers = new Map<string, PseudoGloss>();
  private readonly inflight = new Map<string, Promise<PseudoGloss>>();
  private readonly counts: LlmGlosserStats = { generated: 0, cached: 0, fallbacks: 0, invalidReasons: {} };
  private readonly cache: LlmGlossCacheInfo;
  private readonly onWarning: (message: string) => void;
  private cacheNeedsNewline = false;
  private cacheDirReady = false;
  private engine: Promise<Engine> | null = null;
  private disposed = false;

  private constructor(options: LlmGlosserOptions, model: { path: string; sha256: string }, cacheDir: string | null) {
    this.model = model;
    this.runtimeOption = options.runtime;
    this.fallback = options.fallback;
    this.threads = positiveInt(options.threads, 1, 'threads');
    this.contextSize = positiveInt(options.contextSize, 1024, 'contextSize');
    this.maxTokens = positiveInt(options.maxTokens, 128, 'maxTokens');
    this.maxGlossTokens = positiveInt(options.maxGlossTokens, DEFAULT_MAX_GLOSS_TOKENS, 'maxGlossTokens');
    this.temperature = options.temperature ?? 0;
    if (!(this.temperature >= 0)) throw new SignweaveInputError(`temperature must be >= 0, got ${options.temperature}`);
    this.seed = options.seed ?? 0;
    this.fewShot = options.fewShot ?? DEFAULT_FEW_SHOT;
    for (const [i, ex] of this.fewShot.entries()) {
      if (!normaliseSentence(ex.english) || ex.gloss.length === 0 || !ex.gloss.every((t) => GLOSS_TOKEN.test(t))) {
        throw new SignweaveInputError(`fewShot[${i}]: needs an English sentence and upper-case gloss tokens matching ${GLOSS_TOKEN}`);
      }
    }
    this.promptVersion = options.fewShot ? `${PROMPT_VERSION}+fewshot-${shortHash(options.fewShot)}` : PROMPT_VERSION;
    this.chatWrapper = options.chatWrapper ?? 'auto';
    this.settingsKey = shortHash({
      maxTokens: this.maxTokens,
      maxGlossTokens: this.maxGlossTokens,
      temperature: this.temperature,
      seed: this.temperature > 0 ? this.seed : null,
      contextSize: this.contextSize,
      format: typeof this.chatWrapper === 'string' ? this.chatWrapper : `chat:${this.chatWrapper.wrapperName}`,
      fallback: `${this.fallback.name}@${this.fallback.version}`,
    });
    this.cache = {
      file: cacheDir === null ? null : join(cacheDir, `${model.sha256}.${this.promptVersion}.jsonl`),
      loaded: 0,
      unreadableLines: 0,
    };
    this.onWarning = options.onWarning ?? ((message) => process.emitWarning(message, 'SignweaveLlmGlosserWarning'));
  }

  /**
   * Checks the model file (exists, GGUF) and hashes it, and loads the cache. The model itself is loaded on the first
   * sentence the cache cannot answer, so a fully cached corpus never loads it.
   */
  static async create(options: LlmGlosserOptions): Promise<LlmGlosser> {
    if (typeof options.modelPath !== 'string' || !options.modelPath) throw new SignweaveInputError('modelPath is required');
    if (!options.fallback) throw new SignweaveInputError('fallback: a PseudoGlosser is required');
    const file = await checkGgufFile(options.modelPath);
    const sha256 = await fileSha256(file.path);
    const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
    const glosser = new LlmGlosser(options, { path: file.path, sha256 }, cacheDir);
    await glosser.loadCache();
    return glosser;
  }

  stats(): LlmGlosserStats {
    return { ...this.counts, invalidReasons: { ...this.counts.invalidReasons } };
  }

  cacheInfo(): LlmGlossCacheInfo {
    return { ...this.cache };
  }

  async gloss(sentence: string, options: { signal?: AbortSignal } = {}): Promise<PseudoGloss> {
    if (this.disposed) throw new Error('LlmGlosser: gloss() after dispose()');
    const key = normaliseSentence(sentence);
    if (!key) throw new SignweaveInputError('sentence: empty after trimming');
    const known = this.answers.get(key);
    if (known) {
      this.counts.cached++;
      return copyGloss(known);
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.answer(key, options.signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    } else {
      this.counts.cached++;
    }
    return copyGloss(await pending);
  }

  /** Glosses sentence by sentence, reporting progress after each; rejects with the signal's reason when aborted. */
  async glossMany(sentences: readonly string[], options: GlossManyOptions = {}): Promise<PseudoGloss[]> {
    const { onProgress, signal } = options;
    const progress: GlossProgress = { done: 0, total: sentences.length, cached: 0, fallbacks: 0 };
    const out: PseudoGloss[] = [];
    for (const sentence of sentences) {
      signal?.throwIfAborted();
      const before = this.stats();
      out.push(await this.gloss(sentence, { signal }));
      progress.done++;
      progress.cached += this.counts.cached - before.cached;
      progress.fallbacks += this.counts.fallbacks - before.fallbacks;
      onProgress?.({ ...progress });
    }
    return out;
  }

  /** Releases the context this glosser created; the runtime and the model belong to the runtime's owner. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const engine = this.engine;
    this.engine = null;
    if (engine) await engine.then((e) => e.dispose(), () => undefined);
  }

  private async answer(sentence: string, signal: AbortSignal | undefined): Promise<PseudoGloss> {
    const engine = await this.getEngine();
    let attempt: GlossAnswerCheck;
    try {
      attempt = await engine.generate(sentence, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (this.disposed) throw err;
      this.onWarning(`${this.model.path}: generation failed for ${JSON.stringify(sentence)}: ${(err as Error).message}`);
      attempt = { ok: false, reason: 'generation-error' };
    }
    this.counts.generated++;
    const provenance: GlossProvenance = {
      glosser: this.name,
      version: this.version,
      model: { ...this.model },
      promptVersion: this.promptVersion,
      fallback: !attempt.ok,
    };
    let tokens: string[];
    if (attempt.ok) {
      tokens = attempt.tokens;
    } else {
      tokens = (await this.fallback.gloss(sentence)).tokens;
      this.counts.fallbacks++;
      this.counts.invalidReasons[attempt.reason] = (this.counts.invalidReasons[attempt.reason] ?? 0) + 1;
    }
    const result: PseudoGloss = { tokens, provenance };
    this.answers.set(sentence, result);
    await this.persist({ s: this.settingsKey, sentence, tokens, provenance });
    return result;
  }

  private getEngine(): Promise<Engine> {
    if (this.disposed) throw new Error('LlmGlosser: gloss() after dispose()');
    this.engine ??= this.startEngine();
    return this.engine;
  }

  private async startEngine(): Promise<Engine> {
    const runtime = this.runtimeOption ?? (await getLlamaRuntime());
    const loaded = await runtime.loadModel(this.model.path);
    if (loaded.sha256 !== this.model.sha256) {
      throw new SignweaveInputError(`model file changed since the glosser was created: ${this.model.path}`);
    }
    let context: LlamaContext;
    try {
      context = await loaded.model.createContext({ contextSize: this.contextSize, threads: this.threads, sequences: 1 });
    } catch (err) {
      throw new Error(`cannot create a ${this.contextSize}-token context for ${this.model.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      const grammar = await runtime.llama.createGrammarForJsonSchema(glossSchema(this.maxGlossTokens));
      const sequence = context.getSequence();
      const wrapper =
        this.chatWrapper === 'none'
          ? null
          : this.chatWrapper === 'auto'
            ? loaded.chatTemplate === null
              ? null
              : resolveChatWrapper(loaded.model)
            : this.chatWrapper;
      const generate = wrapper
        ? this.chatGenerator(loaded, sequence, grammar, wrapper)
        : this.completionGenerator(loaded, sequence, grammar);
      return { generate, dispose: () => context.dispose() };
    } catch (err) {
      await context.dispose();
      throw err;
    }
  }

  private generationOptions(grammar: LlamaGrammar, signal: AbortSignal | undefined) {
    return {
      grammar,
      maxTokens: this.maxTokens,
      temperature: this.temperature,
      seed: this.seed,
      signal,
      // The answer repeats quotes and commas by design; a repeat penalty would fight the grammar.
      repeatPenalty: false,
    } as const;
  }

  private fits(tokens: number): boolean {
    return tokens + this.maxTokens <= this.contextSize;
  }

  private completionGenerator(loaded: RuntimeModel, sequence: LlamaContextSequence, grammar: LlamaGrammar): Engine['generate'] {
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const head =
      instruction(this.maxGlossTokens) +
      '\n\n' +
      this.fewShot.map((ex) => `English: ${normaliseSentence(ex.english)}\nGloss: ${answerJson(ex.gloss)}\n\n`).join('');
    return async (sentence, signal) => {
      const prompt = `${head}English: ${sentence}\nGloss: `;
      const tokens: Token[] = loaded.model.tokenize(prompt);
      // +1 for the BOS token node-llama-cpp prepends. A prompt that does not fit would be cut from the left, losing
      // the instruction, so it is refused instead.
      if (!this.fits(tokens.length + 1)) return { ok: false, reason: 'prompt-too-long' };
      const res = await completion.generateCompletionWithMeta(tokens, {
        ...this.generationOptions(grammar, signal),
        disableContextShift: true,
      });
      const truncated = res.metadata.stopReason === 'maxTokens';
      return checkGlossAnswer(res.response, sentence, { maxGlossTokens: this.maxGlossTokens, truncated });
    };
  }

  private chatGenerator(
    loaded: RuntimeModel,
    sequence: LlamaContextSequence,
    grammar: LlamaGrammar,
    wrapper: ChatWrapper,
  ): Engine['generate'] {
    const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper: wrapper, autoDisposeSequence: false });
    const history: ChatHistoryItem[] = [{ type: 'system', text: instruction(this.maxGlossTokens) }];
    for (const ex of this.fewShot) {
      history.push({ type: 'user', text: normaliseSentence(ex.english) }, { type: 'model', response: [answerJson(ex.gloss)] });
    }
    return async (sentence, signal) => {
      const rendered = wrapper.generateContextState({
        chatHistory: [...history, { type: 'user', text: sentence }, { type: 'model', response: [] }],
      });
      const promptTokens = rendered.contextText.tokenize(loaded.model.tokenizer).length;
      if (!this.fits(promptTokens)) return { ok: false, reason: 'prompt-too-long' };
      // Each sentence starts from the examples alone; the shared prefix stays in the KV cache.
      session.setChatHistory(history);
      const res = await session.promptWithMeta(sentence, this.generationOptions(grammar, signal));
      const truncated = res.stopReason === 'maxTokens';
      return checkGlossAnswer(res.responseText, sentence, { maxGlossTokens: this.maxGlossTokens, truncated });
    };
  }

  private async loadCache(): Promise<void> {
    const file = this.cache.file;
    if (file === null) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SignweaveInputError(`cannot read the pseudo-gloss cache ${file}: ${(err as Error).message}`);
    }
    this.cacheDirReady = true;
    this.cacheNeedsNewline = text.length > 0 && !text.endsWith('\n');
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line) continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = undefined;
      }
      if (!isCacheLine(entry)) {
        this.cache.unreadableLines++;
        const torn = i === lines.length - 1;
        this.onWarning(`${file}:${i + 1}: ${torn ? 'torn last line (interrupted write)' : 'unreadable line'}, skipped`);
        continue;
      }
      if (entry.s !== this.settingsKey || entry.provenance.promptVersion !== this.promptVersion) continue;
      if (!this.answers.has(entry.sentence)) this.cache.loaded++;
      this.answers.set(entry.sentence, { tokens: entry.tokens, provenance: entry.provenance });
    }
  }

  private async persist(line: CacheLine): Promise<void> {
    const file = this.cache.file;
    if (file === null) return;
    const prefix = this.cacheNeedsNewline ? '\n' : '';
    try {
      if (!this.cacheDirReady) {
        await mkdir(dirname(file), { recursive: true });
        this.cacheDirReady = true;
      }
      await appendFile(file, prefix + JSON.stringify(line) + '\n');
    } catch (err) {
      throw new SignweaveInputError(`cannot write the pseudo-gloss cache ${file}: ${(err as Error).message}`);
    }
    this.cacheNeedsNewline = false;
  }
}
