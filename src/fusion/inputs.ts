/**
 * What fusion reads per video, and the checks that turn a wrong shape, length or router row into an input error
 * naming the stream, before ONNX Runtime (or the reference) sees it.
 */
import { SignweaveInputError } from '../errors.js';
import { ROUTER_CLASSES, type FrameWeights } from '../router/index.js';
import type { Sequence } from '../types.js';
import { RENORM_EPSILON, type ResolvedFusionConfig } from './config.js';

/** One video's expert outputs. Streams the config drops (`lip: false`, `fingerspell: false`) are ignored if given. */
export interface FusionInputs {
  /** Sign expert output S `[T, Cs]`. */
  sign: Sequence;
  /** Fingerspelling expert output F `[T, Cf]`. */
  fingerspell?: Sequence;
  /**
   * Router weights `[T, 3]` in the order r_sign, r_fs, r_null (the router's `frameWeights`, whose classes must be
   * sign, fingerspell, rest in that order); each row a distribution.
   */
  router: Sequence | FrameWeights<string>;
  /** Lip expert output L `[T′, Cl]` at its own (lower) frame rate. */
  lips?: Sequence;
}

/** The checked inputs as flat arrays. */
export interface CheckedInputs {
  T: number;
  /** T′, the lip stream's length (0 without a lip stream). */
  lipT: number;
  /** The manual streams' frame rate. */
  fps: number;
  sign: Float32Array;
  fingerspell: Float32Array | null;
  router: Float32Array;
  lips: Float32Array | null;
}

/** How far a router row may sum from 1 (the router emits float32 softmax rows). */
const ROW_SUM_TOLERANCE = 1e-3;

function fail(message: string): never {
  throw new SignweaveInputError(`fusion: ${message}`);
}

function checkMatrix(name: string, data: unknown, shape: unknown, width: number): [number, Float32Array] {
  if (!(data instanceof Float32Array)) fail(`${name}.data must be a Float32Array`);
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`${name}.shape must be [T, D], got ${JSON.stringify(shape)}`);
  const [rows, cols] = shape as [number, number];
  if (cols !== width) fail(`${name} has ${cols} values per frame (shape [${rows}, ${cols}]); the fusion config expects ${width}`);
  if (rows < 1) fail(`${name} has no frames`);
  if (data.length !== rows * cols) fail(`${name} has shape [${rows}, ${cols}] but ${data.length} values`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail(`${name} holds a non-finite value at frame ${Math.floor(i / cols)}`);
  }
  return [rows, data];
}

function checkFps(name: string, fps: unknown): number {
  if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps)) fail(`${name}.fps must be a positive number, got ${String(fps)}`);
  return fps;
}

/** Checks every stream the config uses against it and against each other (one T, one frame rate, T′ from the stride). */
export function checkFusionInputs(config: ResolvedFusionConfig, inputs: FusionInputs): CheckedInputs {
  if (typeof inputs !== 'object' || inputs === null) fail('inputs must be an object { sign, fingerspell, router, lips }');
  if (!inputs.sign) fail('the sign stream is required');
  const [T, sign] = checkMatrix('sign', inputs.sign.data, inputs.sign.shape, config.inputs.sign);
  const fps = checkFps('sign', inputs.sign.fps);
  const sameLength = (name: string, rows: number): void => {
    if (rows !== T) fail(`${name} has ${rows} frames but sign has ${T}: the manual streams and the router share one time axis`);
  };

  let fingerspell: Float32Array | null = null;
  if (config.fingerspell) {
    if (!inputs.fingerspell) fail('the fingerspelling stream is required (fusion.fingerspell is true)');
    const [rows, data] = checkMatrix('fingerspell', inputs.fingerspell.data, inputs.fingerspell.shape, config.inputs.fingerspell!);
    sameLength('fingerspell', rows);
    if (checkFps('fingerspell', inputs.fingerspell.fps) !== fps) fail(`fingerspell is at ${inputs.fingerspell.fps} fps but sign at ${fps}`);
    fingerspell = data;
  }

  if (!inputs.router) fail('the router weights are required');
  const r = inputs.router;
  if ('classes' in r && (r.classes.length !== 3 || r.classes.some((c, i) => c !== ROUTER_CLASSES[i]))) {
    fail(`router classes are [${r.classes.join(', ')}]; fusion reads [${ROUTER_CLASSES.join(', ')}] in that order`);
  }
  if ('fps' in r && checkFps('router', r.fps) !== fps) fail(`router is at ${r.fps} fps but sign at ${fps}`);
  const [routerRows, router] = checkMatrix('router', r.data, r.shape, 3);
  sameLength('router', routerRows);
  for (let t = 0; t < T; t++) {
    const [a, b, c] = [router[3 * t], router[3 * t + 1], router[3 * t + 2]];
    if (a < 0 || b < 0 || c < 0) fail(`router weights of frame ${t} are [${a}, ${b}, ${c}]; weights must be ≥ 0`);
    if (Math.abs(a + b + c - 1) > ROW_SUM_TOLERANCE) fail(`router weights of frame ${t} sum to ${a + b + c}, not 1`);
  }

  let lips: Float32Array | null = null;
  let lipT = 0;
  if (config.lip) {
    if (!inputs.lips) fail('the lip stream is required (fusion.lip is true)');
    [lipT, lips] = checkMatrix('lips', inputs.lips.data, inputs.lips.shape, config.inputs.lips!);
    checkFps('lips', inputs.lips.fps);
    if (config.lipStride !== null && lipT !== Math.ceil(T / config.lipStride)) {
      fail(`lips has ${lipT} frames; with ${T} manual frames and fusion.lipStride ${config.lipStride} it must have ⌈${T}/${config.lipStride}⌉ = ${Math.ceil(T / config.lipStride)}`);
    }
  }
  return { T, lipT, fps, sign, fingerspell, router, lips };
}

/**
 * The router weights as fusion applies them, `[T, 3]`: as given, or with fingerspelling off r_fs = 0 and r_sign,
 * r_null divided by r_sign + r_null + ε — the same arithmetic as the graph.
 */
export function effectiveRouterWeights(config: ResolvedFusionConfig, router: Float32Array, T: number): Float32Array {
  if (config.fingerspell) return router.slice(0, 3 * T);
  const out = new Float32Array(3 * T);
  for (let t = 0; t < T; t++) {
    const denominator = router[3 * t] + router[3 * t + 2] + RENORM_EPSILON;
    out[3 * t] = router[3 * t] / denominator;
    out[3 * t + 2] = router[3 * t + 2] / denominator;
  }
  return out;
}
