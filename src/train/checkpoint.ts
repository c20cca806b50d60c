/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped — parameters, optimiser moments
 * and step, RNG states, the data position, the config (and its hash) and the signweave version — in one file written
 * atomically (a crash leaves the previous checkpoint, never a half-written one).
 *
 * File layout (all integers little-endian):
 *
 *   bytes 0–7     magic `SWCKPT1\n`
 *   bytes 8–11    uint32 H, the header's byte length
 *   bytes 12…     H bytes of UTF-8 JSON: { format, signweaveVersion, created, config, configHash, position, rng,
 *                 optimizerStep, extra, tensors: [{ name, role: 'parameter' | 'moment', shape, offset, bytes, sha256 }] }
 *   zero padding to the next multiple of 64, where the blob area begins
 *   blobs         each tensor's float32 values, little-endian, at `offset` bytes from the blob area's start (every offset
 *                 a multiple of 64), `bytes` long, with the sha256 of those bytes
 *
 * Reading copies each blob's bytes into a new Float32Array, so values (NaN payloads and -0 included) come back
 * bit-identical; a blob whose sha256 differs is refused as corrupted. `configHash` is the sha256 of the config as JSON
 * with keys sorted, so the same settings hash alike whatever their key order.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { canonicalJson, jsonDifferences } from '../util/canonical-json.js';
import { readInputFile } from '../util/text-files.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import type { DataPosition } from './data.js';

export const CHECKPOINT_FORMAT = 'signweave-checkpoint/1';
const MAGIC = 'SWCKPT1\n';
const ALIGN = 64;

export interface Tensor {
  data: Float32Array;
  shape: readonly number[];
}

export interface CheckpointState {
  parameters: Record<string, Tensor>;
  /** Optimiser state: its step count and its moment arrays by name (e.g. `m/<param>`, `v/<param>`). */
  optimizer: { step: number; moments: Record<string, Float32Array> };
  /** Generator states by use (e.g. `gumbel`, `dropout`), as the generators export them (uint32 words). */
  rng: Record<string, number[]>;
  /** The next batch to train on (`Batch.next` of the last batch trained). */
  position: DataPosition;
  /** The run's settings, as JSON. */
  config: unknown;
  /** Anything else worth resuming (best eval loss, data fingerprint…), as JSON. */
  extra?: Record<string, unknown>;
}

export interface Checkpoint extends CheckpointState {
  path: string;
  configHash: string;
  signweaveVersion: string;
  created: string;
}

interface TensorEntry {
  name: string;
  role: 'parameter' | 'moment';
  shape: number[];
  offset: number;
  bytes: number;
  sha256: string;
}

interface Header {
  format: string;
  signweaveVersion: string;
  created: string;
  config: unknown;
  configHash: string;
  position: DataPosition;
  rng: Record<string, number[]>;
  optimizerStep: number;
  extra?: Record<string, unknown>;
  tensors: TensorEntry[];
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function configHash(config: unknown): string {
  return sha256(canonicalJson(config));
}

/** Dotted paths whose values differ between two JSON values, for saying how two configs differ. */
function configDifferences(a: unknown, b: unknown): string[] {
  return jsonDifferences(a, b).map((d) => `${d.path || '(the whole config)'}: ${d.a ?? '(none)'} in the checkpoint, ${d.b ?? '(none)'} now`);
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

export function encodeCheckpoint(state: CheckpointState): Uint8Array {
  // Blobs are the arrays' own bytes: the file is little-endian only where the machine is.
  if (endianness() !== 'LE') throw new Error('checkpoints are written on little-endian machines only');
  const arrays: { entry: Omit<TensorEntry, 'offset' | 'sha256' | 'bytes'>; data: Float32Array }[] = [];
  for (const [name, { data, shape }] of Object.entries(state.parameters)) {
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`parameter ${name}: ${data.length} values for shape [${shape.join(', ')}]`);
    arrays.push({ entry: { name, role: 'parameter', shape: [...shape] }, data });
  }
  for (const [name, data] of Object.entries(state.optimizer.moments)) arrays.push({ entry: { name, role: 'moment', shape: [data.length] }, data });
  let end = 0;
  const tensors: TensorEntry[] = arrays.map(({ entry, data }) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const t = { ...entry, offset: align(end), bytes: bytes.length, sha256: sha256(bytes) };
    end = t.offset + t.bytes;
    return t;
  });
  const header: Header = {
    format: CHECKPOINT_FORMAT,
    signweaveVersion: SIGNWEAVE_VERSION,
    created: new Date().toISOString(),
    config: state.config,
    configHash: configHash(state.config),
    position: state.position,
    rng: state.rng,
    optimizerStep: state.optimizer.step,
    ...(state.extra ? { extra: state.extra } : {}),
    tensors,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = align(12 + json.length);
  const out = new Uint8Array(start + end);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  arrays.forEach(({ data }, i) => out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start + tensors[i].offset));
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  const bad = (why: string): never => {
    throw new SignweaveInputError(`checkpoint ${path}: ${why}`);
  };
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) bad('not a signweave checkpoint (no SWCKPT1 magic)');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + length > bytes.length) bad(`truncated: the header needs ${length} bytes, the file has ${bytes.length - 12} after the magic`);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + length)).toString('utf8')) as Header;
  } catch {
    return bad('the header is not JSON');
  }
  if (header.format !== CHECKPOINT_FORMAT) bad(`format ${JSON.stringify(header.format)}, not ${CHECKPOINT_FORMAT}`);
  const start = align(12 + length);
  const parameters: Record<string, Tensor> = {};
  const moments: Record<string, Float32Array> = {};
  for (const t of header.tensors) {
    const from = start + t.offset;
    if (from + t.bytes > bytes.length) bad(`truncated: ${t.role} ${t.name} ends at byte ${from + t.bytes}, the file has ${bytes.length}`);
    if (t.bytes !== 4 * t.shape.reduce((a, b) => a * b, 1)) bad(`${t.role} ${t.name}: ${t.bytes} bytes for shape [${t.shape.join(', ')}]`);
    const blob = bytes.subarray(from, from + t.bytes);
    if (sha256(blob) !== t.sha256) bad(`${t.role} ${t.name} is corrupted (its sha256 differs from the header's)`);
    // A copy (a Buffer's slice would be a view): aligned for Float32Array and independent of the file's bytes.
    const data = new Float32Array(new Uint8Array(blob).buffer);
    if (t.role === 'parameter') parameters[t.name] = { data, shape: t.shape };
    else moments[t.name] = data;
  }
  return {
    path,
    configHash: header.configHash,
    signweaveVersion: header.signweaveVersion,
    created: header.created,
    config: header.config,
    parameters,
    optimizer: { step: header.optimizerStep, moments },
    rng: header.rng,
    position: header.position,
    ...(header.extra ? { extra: header.extra } : {}),
  };
}

/** Writes one checkpoint file atomically. */
export function writeCheckpoint(path: string, state: CheckpointState): void {
  writeFileAtomic(path, encodeCheckpoint(state));
}

export interface CheckpointExpectations {
  /** The config of the run that resumes: refused when its hash differs from the checkpoint's. */
  config?: unknown;
  /** The model's parameter names and shapes: refused when any name or shape differs. */
  parameters?: Record<string, readonly number[]>;
}

/** Reads a checkpoint back exactly; with `expect`, refuses one made for another config or another model. */
export function readCheckpoint(path: string, expect: CheckpointExpectations = {}): Checkpoint {
  const checkpoint = decodeCheckpoint(readInputFile(path, 'checkpoint'), path);
  if (expect.config !== undefined && configHash(expect.config) !== checkpoint.configHash) {
    const diff = configDifferences(checkpoint.config, expect.config);
    throw new SignweaveInputError(
      `checkpoint ${path} was written for another config (hash ${checkpoint.configHash.slice(0, 12)}…, now ${configHash(expect.config).slice(0, 12)}…): ${diff.slice(0, 4).join('; ')}${diff.length > 4 ? `; ${diff.length - 4} more` : ''}`,
    );
  }
  if (expect.parameters) {
    const have = checkpoint.parameters;
    const problems = [
      ...Object.keys(expect.parameters)
        .filter((n) => !(n in have))
        .map((n) => `${n} is missing`),
      ...Object.keys(have)
        .filter((n) => !(n in expect.parameters!))
        .map((n) => `${n} is not in the model`),
      ...Object.entries(expect.parameters)
        .filter(([n, shape]) => n in have && have[n].shape.join() !== shape.join())
        .map(([n, shape]) => `${n} has shape [${have[n].shape.join(', ')}], the model [${shape.join(', ')}]`),
    ];
    if (problems.length > 0) {
      throw new SignweaveInputError(`checkpoint ${path} does not fit the model: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; ${problems.length - 4} more` : ''}`);
    }
  }
  return checkpoint;
}

const CHECKPOINT_FILE = /^step-(\d+)\.ckpt$/;

/** The checkpoints in `dir` (`step-<optimizer step>.ckpt`), oldest first; a missing folder has none. */
export function listCheckpoints(dir: string): { path: string; step: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SignweaveInputError(`cannot read the checkpoint folder ${dir}: ${(err as Error).message}`);
  }
  return names
    .flatMap((name) => {
      const m = CHECKPOINT_FILE.exec(name);
      return m ? [{ path: join(dir, name), step: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(dir: string): string | undefined {
  return listCheckpoints(dir).at(-1)?.path;
}

/**
 * Writes `<dir>/step-<optimizer step>.ckpt` and then removes all but the newest `keep` checkpoints (default: keep
 * all); the new file is complete before any old one goes. Returns the new file's path.
 */
export function saveCheckpoint(dir: string, state: CheckpointState, options: { keep?: number } = {}): string {
  const { keep } = options;
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1)) throw new SignweaveInputError(`keep must be a positive number of checkpoints, got ${keep}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SignweaveInputError(`cannot create the checkpoint folder ${dir}: ${(err as Error).message}`);
  }
  const path = join(dir, `step-${String(state.optimizer.step).padStart(9, '0')}.ckpt`);
  writeCheckpoint(path, state);
  // The file just written stays even when a run restarted from an earlier step left later ones.
  if (keep !== undefined) for (const old of listCheckpoints(dir).slice(0, -keep)) if (old.path !== path) rmSync(old.path, { force: true });
  return path;
}
