/**
 * The one place signweave imports `onnxruntime-node`. Every network runs through sessions made here, so one native
 * runtime is loaded per process (the version @huggingface/transformers pins, so its sessions share it).
 *
 * Feeds are checked against the model's declared inputs before ONNX Runtime sees them — names, dtypes, ranks,
 * static dims, and symbols (a 'T' shared by two inputs must have one value) — so mistakes are input errors that name
 * the model and the input instead of a native message.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { SignweaveInputError } from '../errors.js';
import { formatShape, sizeOf, type Dim, type ElementType, type HostTensor, type TensorSpec } from './tensor.js';

/** The ONNX Runtime version loaded in this process. */
export const ONNX_RUNTIME_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

export interface SessionOptions {
  /** Threads used inside one op (default: the machine's available parallelism). */
  intraOpThreads?: number;
  /** Threads running independent ops at once (default 1: signweave's graphs are chains). */
  interOpThreads?: number;
  /** ONNX Runtime graph optimisation (default 'all': constant folding, fusions such as LayerNorm and Gelu). */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Execution providers in order of preference (default ['cpu']). */
  executionProviders?: string[];
  /** Fixes symbolic dims (e.g. { B: 1 }) so ONNX Runtime can plan memory for them. */
  freeDimensionOverrides?: Record<string, number>;
  /** ONNX Runtime's own log threshold (default 'fatal': its errors reach the caller as exceptions with context, not as stderr lines). */
  logSeverity?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /** How errors name the model when it is given as bytes (default 'ONNX model bytes'). */
  label?: string;
}

const SEVERITY = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const;

const DTYPES = new Set<string>(['float32', 'int64', 'bool']);

function specsOf(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return metadata.map((m) =>
    m.isTensor
      ? { name: m.name, dtype: m.type as ElementType, shape: m.shape.map((d): Dim => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' && d !== '' ? d : null)) }
      : { name: m.name, dtype: 'unknown', shape: [] },
  );
}

/** An ONNX Runtime inference session with checked feeds and host-tensor results. */
export class OnnxSession {
  private disposed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    /** The model's path, or the label given for bytes. */
    readonly label: string,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
  ) {}

  /** Loads a model from a file path or from bytes. A missing file or anything ONNX Runtime refuses is an input error naming it. */
  static async create(source: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
    const label = typeof source === 'string' ? source : (options.label ?? 'ONNX model bytes');
    if (typeof source === 'string') {
      let isFile: boolean;
      try {
        isFile = statSync(source).isFile();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new SignweaveInputError(`cannot read ONNX model ${source}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      if (!isFile) throw new SignweaveInputError(`cannot read ONNX model ${source}: it is not a file`);
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: options.executionProviders ?? ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? availableParallelism(),
      interOpNumThreads: options.interOpThreads ?? 1,
      graphOptimizationLevel: options.graphOptimization ?? 'all',
      logSeverityLevel: SEVERITY[options.logSeverity ?? 'fatal'],
      freeDimensionOverrides: options.freeDimensionOverrides,
    };
    let session: ort.InferenceSession;
    try {
      // Two calls because path and bytes are separate overloads of create().
      session = typeof source === 'string' ? await ort.InferenceSession.create(source, sessionOptions) : await ort.InferenceSession.create(source, sessionOptions);
    } catch (err) {
      const message = (err as Error).message;
      if (/protobuf parsing failed/i.test(message)) throw new SignweaveInputError(`${label} is not an ONNX model (ONNX Runtime: ${message})`);
      throw new SignweaveInputError(`cannot load ONNX model ${label}: ${message}`);
    }
    return new OnnxSession(session, label, specsOf(session.inputMetadata), specsOf(session.outputMetadata));
  }

  get inputNames(): string[] {
    return this.inputs.map((s) => s.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((s) => s.name);
  }

  /** Checks feeds against the declared inputs; returns the sizes the symbolic dims took. */
  checkFeeds(feeds: Record<string, HostTensor>): Record<string, number> {
    const expected = new Map(this.inputs.map((s) => [s.name, s]));
    for (const name of Object.keys(feeds)) {
      if (!expected.has(name)) throw new SignweaveInputError(`${this.label}: unknown input '${name}'; the model takes ${this.inputNames.map((n) => `'${n}'`).join(', ')}`);
    }
    const symbols: Record<string, number> = {};
    const where: Record<string, string> = {};
    for (const spec of this.inputs) {
      const t = feeds[spec.name];
      const declared = `${spec.dtype} ${formatShape(spec.shape)}`;
      if (!t) throw new SignweaveInputError(`${this.label}: missing input '${spec.name}' (${declared})`);
      if (t.dtype !== spec.dtype) throw new SignweaveInputError(`${this.label}: input '${spec.name}' is ${t.dtype}; the model expects ${declared}`);
      if (sizeOf(t.shape) !== t.data.length) throw new SignweaveInputError(`${this.label}: input '${spec.name}' has shape ${formatShape(t.shape)} but ${t.data.length} values`);
      if (spec.shape.length > 0 && t.shape.length !== spec.shape.length) {
        throw new SignweaveInputError(`${this.label}: input '${spec.name}' has shape ${formatShape(t.shape)}; the model expects ${declared}`);
      }
      spec.shape.forEach((d, i) => {
        const got = t.shape[i];
        if (typeof d === 'number' && d !== got) {
          throw new SignweaveInputError(`${this.label}: input '${spec.name}' has shape ${formatShape(t.shape)}; the model expects ${declared} (dimension ${i} must be ${d})`);
        }
        if (typeof d === 'string') {
          if (d in symbols && symbols[d] !== got) {
            throw new SignweaveInputError(`${this.label}: dimension '${d}' is ${symbols[d]} in input '${where[d]}' but ${got} in input '${spec.name}' ${formatShape(t.shape)}`);
          }
          symbols[d] = got;
          where[d] ??= spec.name;
        }
      });
    }
    return symbols;
  }

  /** Runs the model; returns the requested outputs (default: all) as host tensors. */
  async run(feeds: Record<string, HostTensor>, outputNames: readonly string[] = this.outputNames): Promise<Record<string, HostTensor>> {
    if (this.disposed) throw new Error(`the ONNX session for ${this.label} is disposed`);
    this.checkFeeds(feeds);
    for (const name of outputNames) {
      if (!this.outputNames.includes(name)) throw new SignweaveInputError(`${this.label}: unknown output '${name}'; the model gives ${this.outputNames.map((n) => `'${n}'`).join(', ')}`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data, [...t.shape]);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds, outputNames);
    } catch (err) {
      throw new SignweaveInputError(`${this.label}: ONNX Runtime could not run the model on these inputs: ${(err as Error).message}`);
    }
    const out: Record<string, HostTensor> = {};
    for (const name of outputNames) {
      const t = results[name] as ort.Tensor;
      if (!DTYPES.has(t.type)) throw new SignweaveInputError(`${this.label}: output '${name}' is ${t.type}; signweave reads float32, int64 and bool tensors`);
      out[name] = { dtype: t.type, shape: [...t.dims], data: t.data } as HostTensor;
    }
    return out;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Releases the native session; later runs are errors. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
