/**
 * Softmax, argmax and Gumbel-softmax sampling for the router (SignBind-LLM §3.4). Two engines compute the same
 * thing: `mathjs` (what the design asks for) and `loop` (plain typed-array loops, the speed reference the
 * benchmark compares against); they agree to rounding.
 */
import { divide, dotDivide, exp, log, map, matrix, max, reshape, subtract, sum, unaryMinus, add, type Matrix } from 'mathjs';
import { SignweaveInputError } from '../errors.js';

export type RouterEngine = 'mathjs' | 'loop';

/** Uniform draws are clamped to [EPS, 1 − EPS]: mulberry32 can return exactly 0, and −log(−log(u)) needs 0 < u < 1. */
const EPS = 1e-12;

function toRows(m: Matrix): number[][] {
  return m.toArray() as number[][];
}

/** Row-wise softmax of `[rows, classes]` values (max-shifted, so large logits do not overflow). */
export function softmaxRows(values: readonly (readonly number[])[], engine: RouterEngine = 'mathjs'): number[][] {
  if (values.length === 0) return [];
  if (engine === 'mathjs') {
    const z = matrix(values.map((row) => [...row]), 'dense', 'number');
    const column = (v: Matrix): Matrix => reshape(v, [values.length, 1]);
    const e = map(subtract(z, column(max(z, 1) as unknown as Matrix)), exp);
    return toRows(dotDivide(e, column(sum(e, 1) as unknown as Matrix)));
  }
  return values.map((row) => {
    let m = -Infinity;
    for (const v of row) if (v > m) m = v;
    const e = row.map((v) => Math.exp(v - m));
    let s = 0;
    for (const v of e) s += v;
    return e.map((v) => v / s);
  });
}

/** Softmax of one vector. */
export function softmax(values: readonly number[], engine: RouterEngine = 'mathjs'): number[] {
  return softmaxRows([values], engine)[0];
}

/** Index of the largest value; the first one on ties. mathjs has no argmax: its `max`, then the first index holding it. */
export function argmax(values: readonly number[], engine: RouterEngine = 'mathjs'): number {
  if (values.length === 0) throw new SignweaveInputError('router: argmax of an empty vector');
  if (engine === 'mathjs') return values.indexOf(max([...values]));
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export interface GumbelOptions {
  /** Temperature τ > 0: small τ pushes `soft` towards a one-hot vector, large τ towards uniform. */
  tau: number;
  /** Uniforms in [0, 1), e.g. `mulberry32(seed)`; one draw per class, in class order. */
  rng: () => number;
  /** Straight-through: `value` is the one-hot `hard` instead of `soft`. */
  hard?: boolean;
  engine?: RouterEngine;
}

export interface GumbelSample {
  /** y = softmax((logits + g) / τ), g_i = −log(−log(u_i)): the differentiable sample. */
  soft: number[];
  /** One-hot of argmax(y) — by the Gumbel-max trick a draw from softmax(logits), whatever τ. */
  hard: number[];
  /** argmax(y). */
  index: number;
  /**
   * The forward value: `hard` with `hard: true`, else `soft`. With the straight-through estimator the gradient
   * flows through `soft` (value = hard − stopgrad(y) + y), which is why both are returned for training.
   */
  value: number[];
}

/** Gumbel noise −log(−log(u)) for `n` classes from the seeded generator. */
function gumbelNoise(n: number, rng: () => number, engine: RouterEngine): number[] {
  const u = Array.from({ length: n }, () => Math.min(1 - EPS, Math.max(EPS, rng())));
  // a lambda, not `log` itself: map passes (value, index) and log(x, base) would take the index as the base
  const ln = (x: number): number => log(x);
  if (engine === 'mathjs') return unaryMinus(map(unaryMinus(map(u, ln)), ln)) as number[];
  return u.map((x) => -Math.log(-Math.log(x)));
}

export function checkTau(tau: number): void {
  if (!(tau > 0) || !Number.isFinite(tau)) throw new SignweaveInputError(`router: tau must be a finite number > 0, got ${tau}`);
}

/** One Gumbel-softmax sample over `logits` (Jang et al. 2017; Maddison et al. 2017). */
export function gumbelSoftmax(logits: readonly number[], options: GumbelOptions): GumbelSample {
  checkTau(options.tau);
  if (logits.length === 0) throw new SignweaveInputError('router: logits must not be empty');
  if (!logits.every(Number.isFinite)) throw new SignweaveInputError(`router: logits must be finite, got [${logits.join(', ')}]`);
  const engine = options.engine ?? 'mathjs';
  const g = gumbelNoise(logits.length, options.rng, engine);
  const z = engine === 'mathjs' ? (divide(add([...logits], g), options.tau) as number[]) : logits.map((l, i) => (l + g[i]) / options.tau);
  const soft = softmax(z, engine);
  const index = argmax(soft, engine);
  const hard = soft.map((_, i) => (i === index ? 1 : 0));
  return { soft, hard, index, value: options.hard ? hard : soft };
}
