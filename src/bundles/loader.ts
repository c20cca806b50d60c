/**
 * Reading bundle folders. `inspectBundle` gathers every problem a folder has (verify reports them all);
 * `loadBundle` refuses a folder with any, and returns a `Bundle` whose ONNX Runtime session is created on first use.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { readOnnxInfo, readOnnxWeights, type OnnxFileInfo } from '../graph/proto.js';
import { OnnxSession, type SessionOptions } from '../graph/session.js';
import { parseVocabFile } from '../vocab.js';
import { type BundleKind, type BundleManifest, type WeightsKind } from './schema.js';
import { checkManifest, formatProblems, validateManifest, type BundleProblem } from './validate.js';
import { sha256File } from '../util/hash.js';

export const MANIFEST_FILE = 'bundle.json';


/** What results carry to say which model produced them. */
export interface BundleRef {
  name: string;
  version: string;
  sha256: string;
  weights: WeightsKind;
}

/** What reading a folder found: the parts that could be read, and every problem (empty when the bundle is usable). */
export interface BundleInspection {
  dir: string;
  /** Present when bundle.json passed the schema. */
  manifest?: BundleManifest;
  vocab?: string[];
  onnxPath?: string;
  onnx?: OnnxFileInfo;
  problems: BundleProblem[];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readManifestJson(dir: string): { data?: unknown; problem?: BundleProblem } {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    return { problem: { field: 'folder', message: 'does not exist' } };
  }
  if (!stat.isDirectory()) return { problem: { field: 'folder', message: 'is a file, not a bundle folder' } };
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: { field: MANIFEST_FILE, message: code === 'ENOENT' ? 'no such file (not a bundle folder?)' : (err as Error).message } };
  }
  try {
    return { data: JSON.parse(text) };
  } catch (err) {
    return { problem: { field: MANIFEST_FILE, message: `is not valid JSON: ${(err as Error).message}` } };
  }
}

/**
 * Reads and checks everything in a bundle folder without stopping at the first problem: bundle.json against the
 * schema (nothing further when it fails), the expected kind, the ONNX file's presence and sha256, the vocabulary
 * (CTC kinds), and the ONNX file's inputs and outputs against bundle.json.
 */
export async function inspectBundle(dir: string, expectKind?: BundleKind): Promise<BundleInspection> {
  const read = readManifestJson(dir);
  if (read.problem) return { dir, problems: [read.problem] };
  const schemaProblems = validateManifest(read.data);
  if (schemaProblems.length > 0) return { dir, problems: schemaProblems };
  const manifest = read.data as BundleManifest;
  const problems: BundleProblem[] = [];
  if (expectKind !== undefined && manifest.kind !== expectKind) {
    problems.push({ field: 'kind', message: `is "${manifest.kind}" but a "${expectKind}" bundle is needed here` });
  }

  let onnxPath: string | undefined = join(dir, manifest.onnx.file);
  let onnx: OnnxFileInfo | undefined;
  if (!isFile(onnxPath)) {
    problems.push({ field: 'onnx.file', message: `${manifest.onnx.file} does not exist in the bundle folder` });
    onnxPath = undefined;
  } else {
    const actual = await sha256File(onnxPath);
    if (actual !== manifest.onnx.sha256) {
      problems.push({ field: 'onnx.sha256', message: `is ${manifest.onnx.sha256} but ${manifest.onnx.file} hashes to ${actual} (the model file changed after the bundle was written)` });
    }
    try {
      onnx = readOnnxInfo(onnxPath);
    } catch (err) {
      if (!(err instanceof SignweaveInputError)) throw err;
      problems.push({ field: 'onnx.file', message: err.message });
    }
  }

  let vocab: string[] | undefined;
  if (manifest.kind !== 'router') {
    const vocabPath = join(dir, manifest.output.vocab);
    if (!isFile(vocabPath)) {
      problems.push({ field: 'output.vocab', message: `${manifest.output.vocab} does not exist in the bundle folder (a ${manifest.kind} bundle decodes with CTC and needs its vocabulary)` });
    } else {
      try {
        vocab = parseVocabFile(readFileSync(vocabPath, 'utf8'), manifest.output.vocab);
      } catch (err) {
        if (!(err instanceof SignweaveInputError)) throw err;
        problems.push({ field: 'output.vocab', message: err.message });
      }
    }
  }

  problems.push(...checkManifest(manifest, vocab, onnx));
  return { dir, manifest, vocab, onnxPath, onnx, problems };
}

export interface LoadBundleOptions<K extends BundleKind = BundleKind> {
  /** Refuse a bundle of another kind. */
  expectKind?: K;
  /** ONNX Runtime settings for the session created on first use. */
  session?: SessionOptions;
}

/** A checked bundle. The ONNX Runtime session is created on the first `session()` call and released by `dispose()`. */
export class Bundle<K extends BundleKind = BundleKind> implements AsyncDisposable {
  private pending: Promise<OnnxSession> | undefined;
  private disposed = false;

  /** @internal use `loadBundle` */
  constructor(
    readonly dir: string,
    readonly manifest: BundleManifest<K>,
    /** The labels of vocab.txt (CTC kinds); undefined for the router. */
    readonly vocab: readonly string[] | undefined,
    readonly onnxPath: string,
    /** The ONNX file's inputs, outputs and initializers. */
    readonly onnx: OnnxFileInfo,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  get kind(): K {
    return this.manifest.kind as K;
  }

  get ref(): BundleRef {
    const { name, version, weights, onnx } = this.manifest;
    return { name, version, sha256: onnx.sha256, weights };
  }

  /** Whether the ONNX Runtime session exists yet (it is made on first use). */
  get hasSession(): boolean {
    return this.pending !== undefined;
  }

  /** The model's session, created on the first call; a failed creation is retried by the next call. */
  session(): Promise<OnnxSession> {
    if (this.disposed) return Promise.reject(new Error(`bundle ${this.dir} is disposed`));
    this.pending ??= OnnxSession.create(this.onnxPath, this.sessionOptions).catch((err: unknown) => {
      this.pending = undefined;
      throw err;
    });
    return this.pending;
  }

  /** The model's float32 initializers by name (trained parameters, e.g. for a graph builder's `weights`). */
  readWeights(): Record<string, Float32Array> {
    return readOnnxWeights(this.onnxPath);
  }

  /** Releases the session if one was made; later `session()` calls fail. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const pending = this.pending;
    this.pending = undefined;
    const session = await pending?.catch(() => undefined);
    await session?.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Loads a bundle folder. Any problem (schema, kind, missing or changed ONNX file, vocabulary, ONNX inputs and
 * outputs that contradict bundle.json) is a `SignweaveInputError` naming the folder and the field.
 */
export async function loadBundle<K extends BundleKind = BundleKind>(dir: string, options: LoadBundleOptions<K> = {}): Promise<Bundle<K>> {
  const found = await inspectBundle(dir, options.expectKind);
  if (found.problems.length > 0) throw new SignweaveInputError(formatProblems(dir, found.problems));
  return new Bundle<K>(dir, found.manifest as BundleManifest<K>, found.vocab, found.onnxPath as string, found.onnx as OnnxFileInfo, options.session);
}
