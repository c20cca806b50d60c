/**
 * The one node-llama-cpp runtime per process. The pseudo-glosser (`pseudogloss/llm.ts`) and the pseudo-gloss → English
 * decoder share it, so llama.cpp's backend is initialised once and a GGUF model used by both is loaded once.
 *
 * Ownership: the runtime owns its models and llama.cpp disposes contexts with their model, so disposal runs
 * runtime → models → contexts. Whoever calls `getLlamaRuntime` first owns the runtime and disposes it; consumers
 * (glossers, decoders) dispose only the contexts they created.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getLlama, Llama, LlamaLogLevel, type LlamaModel, type LlamaModelOptions } from 'node-llama-cpp';
import { SignweaveInputError } from '../errors.js';
import { sha256File } from '../util/hash.js';

/** Which llama.cpp backend to use, as node-llama-cpp's `getLlama({ gpu })` (Metal is reached through `'auto'`). */
export type RuntimeGpu = 'auto' | 'cuda' | 'vulkan' | false;
export type RuntimeLogLevel = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';
export type RuntimeLogger = (level: RuntimeLogLevel, message: string) => void;

export interface LlamaRuntimeOptions {
  /**
   * `'auto'` (default) uses what node-llama-cpp detects among the installed prebuilt binaries (CUDA, Vulkan, Metal,
   * else the CPU); a backend that starts without a GPU device behind it counts as unavailable. `'cuda'` / `'vulkan'` ask for that backend and fall back to the CPU when it cannot start;
   * `false` is the CPU. The outcome, and why a fallback happened, is in `runtime.info` and goes to `logger`.
   */
  gpu?: RuntimeGpu;
  /** Minimum level of llama.cpp's own messages passed to `logger` (default `'warn'`). */
  logLevel?: RuntimeLogLevel;
  /** Receives llama.cpp's messages and the runtime's own notes (the GPU fallback). Default: stderr, so stdout stays for results. */
  logger?: RuntimeLogger;
  /** Upper bound on llama.cpp threads for the whole process (node-llama-cpp's default: the CPU's math cores, at least 4). */
  maxThreads?: number;
}

export interface LlamaRuntimeInfo {
  requestedGpu: RuntimeGpu;
  /** The backend in use; `false` is the CPU. */
  gpu: 'cuda' | 'vulkan' | 'metal' | false;
  /** Why the requested backend is not the one in use, or null. */
  fallback: string | null;
  /** `prebuilt` (npm binaries) or `localBuild`; the runtime never compiles or downloads llama.cpp. */
  buildType: 'prebuilt' | 'localBuild';
  llamaCppRelease: string;
}

/** A GGUF model loaded by the runtime, with the file's identity. Shared: one per path and file version. */
export class RuntimeModel {
  constructor(
    /** Absolute path of the GGUF file. */
    readonly path: string,
    /** sha256 of the file (hex). */
    readonly sha256: string,
    readonly model: LlamaModel,
  ) {}

  /** The Jinja chat template stored in the file, or null (then plain completion is the way to prompt it). */
  get chatTemplate(): string | null {
    return this.model.fileInfo.metadata.tokenizer?.chat_template ?? null;
  }

  get disposed(): boolean {
    return this.model.disposed;
  }

  /** Disposes the model and every context created from it; the runtime's cache forgets it. */
  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/** A model file as the caches know it: a new mtime or size is a new version. */
export interface GgufFileIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Resolves `path` and checks that it is a readable regular file starting with the GGUF magic. */
export async function checkGgufFile(path: string): Promise<GgufFileIdentity> {
  const abs = resolve(path);
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SignweaveInputError(`model file not found: ${abs}`);
    throw new SignweaveInputError(`cannot read model file ${abs}: ${(err as Error).message}`);
  }
  if (!info.isFile()) throw new SignweaveInputError(`model path is not a file: ${abs}`);
  const head = Buffer.alloc(4);
  let bytesRead: number;
  try {
    const handle = await open(abs, 'r');
    try {
      ({ bytesRead } = await handle.read(head, 0, 4, 0));
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new SignweaveInputError(`cannot read model file ${abs}: ${(err as Error).message}`);
  }
  if (bytesRead < 4 || !head.equals(GGUF_MAGIC)) {
    throw new SignweaveInputError(
      `not a GGUF model file: ${abs} (it starts with ${JSON.stringify(head.subarray(0, bytesRead).toString('latin1'))}, not "GGUF")`,
    );
  }
  return { path: abs, size: info.size, mtimeMs: info.mtimeMs };
}

// Multi-GB models take seconds to hash: hash each file version once per process. Keyed by path, mtime and size, the
// identity a rewritten file changes; the promise is cached so concurrent callers share one pass.
const sha256Cache = new Map<string, Promise<string>>();

function identityKey(id: GgufFileIdentity): string {
  return `${id.path}\0${id.mtimeMs}\0${id.size}`;
}

/**
 * sha256 (hex) of a file, streamed, cached per (path, mtime, size): a file rewritten in place with the same size
 * and mtime is not re-hashed.
 */
export async function fileSha256(path: string): Promise<string> {
  const abs = resolve(path);
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    throw new SignweaveInputError(`cannot read ${abs}: ${(err as Error).message}`);
  }
  return sha256Of({ path: abs, size: info.size, mtimeMs: info.mtimeMs });
}

function sha256Of(id: GgufFileIdentity): Promise<string> {
  const key = identityKey(id);
  let pending = sha256Cache.get(key);
  if (!pending) {
    pending = sha256File(id.path, 'GGUF model');
    pending.catch(() => sha256Cache.delete(key));
    sha256Cache.set(key, pending);
  }
  return pending;
}

export type RuntimeModelOptions = Omit<LlamaModelOptions, 'modelPath'>;

/** Writes each message to stderr as `[llama.cpp <level>] message`. */
function stderrLogger(level: RuntimeLogLevel, message: string): void {
  process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`);
}

export class LlamaRuntime {
  private readonly models = new Map<string, Promise<RuntimeModel>>();

  private constructor(
    readonly llama: Llama,
    readonly info: LlamaRuntimeInfo,
    // llama.cpp logs through a closure that reads this, so setLogger can redirect it after start.
    private readonly sink: { logger: RuntimeLogger },
  ) {}

  /** Starts llama.cpp with the prebuilt binaries only (`build: 'never'`): it never compiles or downloads. */
  static async start(options: LlamaRuntimeOptions = {}): Promise<LlamaRuntime> {
    const requestedGpu = options.gpu ?? 'auto';
    const sink = {
      logger: options.logger ?? stderrLogger,
    } satisfies { logger: RuntimeLogger };
    const common = {
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel[options.logLevel ?? 'warn'],
      logger: (level: LlamaLogLevel, message: string) => sink.logger(level as RuntimeLogLevel, message),
      ...(options.maxThreads !== undefined ? { maxThreads: options.maxThreads } : {}),
    } as const;
    let llama: Llama;
    let fallback: string | null = null;
    try {
      llama = await getLlama({ ...common, gpu: requestedGpu });
    } catch (err) {
      if (requestedGpu === false || requestedGpu === 'auto') {
        throw new Error(`node-llama-cpp could not start on the CPU: ${(err as Error).message}`, { cause: err });
      }
      fallback = `gpu '${requestedGpu}' is unavailable (${(err as Error).message}); using the CPU`;
      llama = await getLlama({ ...common, gpu: false });
    }
    // A backend can start without any device behind it (Vulkan with only a software rasteriser, as on CI machines):
    // it would then compute on the CPU while reporting a GPU, so it is replaced by the plain CPU build.
    if (llama.gpu !== false && !llama.supportsGpuOffloading) {
      const backend = llama.gpu;
      await llama.dispose();
      llama = await getLlama({ ...common, gpu: false });
      fallback =
        requestedGpu === 'auto'
          ? `gpu 'auto': the ${backend} backend found no GPU device; using the CPU`
          : `gpu '${requestedGpu}' is unavailable (the ${backend} backend found no GPU device); using the CPU`;
    }
    if (requestedGpu === 'auto' && llama.gpu === false) fallback ??= "gpu 'auto': no usable GPU backend found; using the CPU";
    if (fallback) sink.logger('info', `signweave: ${fallback}`);
    const info: LlamaRuntimeInfo = {
      requestedGpu,
      gpu: llama.gpu,
      fallback,
      buildType: llama.buildType,
      llamaCppRelease: llama.llamaCppRelease.release,
    };
    return new LlamaRuntime(llama, info, sink);
  }

  /** Redirects llama.cpp's messages and the runtime's notes. */
  setLogger(logger: RuntimeLogger): void {
    this.sink.logger = logger;
  }

  set logLevel(level: RuntimeLogLevel) {
    this.llama.logLevel = LlamaLogLevel[level];
  }

  get disposed(): boolean {
    return this.llama.disposed;
  }

  /**
   * Loads a GGUF model, or returns the one already loaded from this path (same mtime and size). The file is checked
   * (exists, GGUF magic) and hashed before llama.cpp sees it. `options` apply only to the first load of a path.
   */
  async loadModel(path: string, options: RuntimeModelOptions = {}): Promise<RuntimeModel> {
    if (this.disposed) throw new Error('the node-llama-cpp runtime has been disposed');
    const id = await checkGgufFile(path);
    const key = identityKey(id);
    let pending = this.models.get(key);
    if (!pending) {
      pending = this.load(id, options);
      pending.catch(() => this.models.delete(key));
      this.models.set(key, pending);
    }
    return pending;
  }

  private async load(id: GgufFileIdentity, options: RuntimeModelOptions): Promise<RuntimeModel> {
    const sha256 = await sha256Of(id);
    let model: LlamaModel;
    try {
      model = await this.llama.loadModel({ ...options, modelPath: id.path });
    } catch (err) {
      throw new SignweaveInputError(`cannot load GGUF model ${id.path}: ${(err as Error).message}`);
    }
    model.onDispose.createListener(() => this.models.delete(identityKey(id)));
    return new RuntimeModel(id.path, sha256, model);
  }

  /** Disposes every model (and so every context) and llama.cpp's backend. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.models.clear();
    await this.llama.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

let shared: { gpu: RuntimeGpu; runtime: Promise<LlamaRuntime> } | null = null;

/**
 * The process's runtime, started on first use with `options`. Later calls share it: a `gpu` different from the one it
 * was started with is an error; `logLevel` and `logger`, when given, are applied to the running instance. After its
 * `dispose()` the next call starts a fresh runtime.
 */
export async function getLlamaRuntime(options: LlamaRuntimeOptions = {}): Promise<LlamaRuntime> {
  const current = shared;
  if (!current) {
    const entry = { gpu: options.gpu ?? 'auto', runtime: LlamaRuntime.start(options) };
    shared = entry;
    entry.runtime.then(
      (runtime) => runtime.llama.onDispose.createListener(() => {
        if (shared === entry) shared = null;
      }),
      () => {
        if (shared === entry) shared = null;
      },
    );
    return entry.runtime;
  }
  const runtime = await current.runtime;
  if (runtime.disposed) {
    if (shared === current) shared = null;
    return getLlamaRuntime(options);
  }
  if (options.gpu !== undefined && options.gpu !== current.gpu) {
    throw new SignweaveInputError(
      `gpu: the node-llama-cpp runtime already runs with gpu ${JSON.stringify(current.gpu)}, ` +
        `cannot switch to ${JSON.stringify(options.gpu)} (dispose it first)`,
    );
  }
  if (options.logLevel !== undefined) runtime.logLevel = options.logLevel;
  if (options.logger !== undefined) runtime.setLogger(options.logger);
  return runtime;
}
