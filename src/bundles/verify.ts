/**
 * `signweave models verify`: everything `loadBundle` checks, reported rather than thrown, plus what only ONNX
 * Runtime can tell — that it accepts the model, and that a run on zeros gives the declared output shape (catching a
 * wrong temporalStride).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { OnnxSession } from '../graph/session.js';
import { float32, type HostTensor } from '../graph/tensor.js';
import { inspectBundle, MANIFEST_FILE, type BundleInspection } from './loader.js';
import type { BundleKind, BundleManifest, WeightsKind } from './schema.js';
import type { BundleProblem } from './validate.js';

export interface BundleReport {
  dir: string;
  ok: boolean;
  kind?: BundleKind;
  name?: string;
  version?: string;
  weights?: WeightsKind;
  /** Labels of vocab.txt, or the router's classes. */
  vocabSize?: number;
  sha256?: string;
  problems: BundleProblem[];
}

/** Frames of the smoke run: enough for a strided model to drop some, few enough to be quick. */
const SMOKE_FRAMES = 5;

/** Zeros for every input and the output shape they must give; undefined for fusion, whose stream lengths are the model's own business. */
function smokeRun(m: BundleManifest, outputSize: number): { feeds: Record<string, HostTensor>; expected: number[] } | undefined {
  const zeros = (shape: number[]) => float32(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  switch (m.kind) {
    case 'sign':
    case 'fingerspell':
    case 'lipread': {
      const T = Math.min(SMOKE_FRAMES, m.input.maxFrames ?? SMOKE_FRAMES);
      const shape = m.kind === 'lipread' ? [T, m.input.size, m.input.size, m.input.channels] : [T, m.input.dim];
      return { feeds: { [m.input.name]: zeros(shape) }, expected: [Math.ceil(T / m.temporalStride), outputSize] };
    }
    case 'router':
      return { feeds: { [m.input.name]: zeros([2, m.input.dim]) }, expected: [2, outputSize] };
    case 'fusion':
      return undefined;
  }
}

async function runtimeProblems(found: BundleInspection): Promise<BundleProblem[]> {
  const m = found.manifest as BundleManifest;
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(found.onnxPath as string, { intraOpThreads: 1 });
  } catch (err) {
    if (!(err instanceof SignweaveInputError)) throw err;
    return [{ field: 'onnx.file', message: `ONNX Runtime refuses it: ${err.message}` }];
  }
  try {
    const smoke = smokeRun(m, m.kind === 'router' ? m.output.classes.length : (found.vocab as string[]).length);
    if (!smoke) return [];
    const out = (await session.run(smoke.feeds, [m.output.name]))[m.output.name];
    if (out.shape.join() !== smoke.expected.join()) {
      const frames = smoke.feeds[Object.keys(smoke.feeds)[0]].shape[0];
      return [{ field: 'temporalStride', message: `a run on ${frames} frames of zeros gave [${out.shape.join(', ')}]; temporalStride ${m.temporalStride} means [${smoke.expected.join(', ')}]` }];
    }
    return [];
  } catch (err) {
    if (!(err instanceof SignweaveInputError)) throw err;
    return [{ field: 'onnx.file', message: `a run on zeros failed: ${err.message}` }];
  } finally {
    await session.dispose();
  }
}

/** Every problem of one bundle folder (none: `ok`), with what could be read of it for a listing. */
export async function verifyBundle(dir: string): Promise<BundleReport> {
  const found = await inspectBundle(dir);
  const problems = [...found.problems];
  if (problems.length === 0) problems.push(...(await runtimeProblems(found)));
  const m = found.manifest;
  return {
    dir,
    ok: problems.length === 0,
    kind: m?.kind,
    name: m?.name,
    version: m?.version,
    weights: m?.weights,
    vocabSize: m?.kind === 'router' ? m.output.classes.length : found.vocab?.length,
    sha256: m?.onnx.sha256,
    problems,
  };
}

/**
 * A bundle folder (it holds bundle.json), or a folder of bundles: every sub-folder not starting with '.' is
 * verified, and one without bundle.json is reported as such. A folder with neither is an input error.
 */
export async function verifyBundles(path: string): Promise<BundleReport[]> {
  if (!existsSync(path)) throw new SignweaveInputError(`cannot verify ${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) throw new SignweaveInputError(`cannot verify ${path}: it is a file; give a bundle folder or a folder of bundles`);
  if (existsSync(join(path, MANIFEST_FILE))) return [await verifyBundle(path)];
  const folders = readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) throw new SignweaveInputError(`cannot verify ${path}: no ${MANIFEST_FILE} in it and no bundle folders under it`);
  const reports: BundleReport[] = [];
  for (const name of folders) reports.push(await verifyBundle(join(path, name)));
  return reports;
}
