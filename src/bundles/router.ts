/**
 * Router bundles: the segment router's MLP (SignBind-LLM §3.4) as an ONNX model built with the graph builder, and
 * back into src/router's `Router`, which runs it in TypeScript next to pooling and Gumbel routing.
 */
import { SignweaveInputError } from '../errors.js';
import { GraphBuilder, type OnnxModel } from '../graph/builder.js';
import { mlp } from '../graph/modules.js';
import { ROUTER_CLASSES, Router, type Activation, type LinearLayer } from '../router/router.js';
import type { RouterEngine } from '../router/gumbel.js';
import { loadBundle, type Bundle } from './loader.js';

/** Parameter prefix of the router MLP: layers `mlp.0`, `mlp.1`, … with `weight` [in, out] and `bias` [out]. */
export const ROUTER_MLP = 'mlp';
export const POOLED_INPUT = 'pooled';

export interface RouterModelOptions {
  /** Feature dimension D of the pooled segments. */
  dim: number;
  /** Hidden layer sizes (default [256]). */
  hidden?: readonly number[];
  /** Number of classes (default 3: sign, fingerspell, rest). */
  classes?: number;
  /** Between layers (default 'gelu', exact erf form as src/router). */
  activation?: Activation;
  seed?: number;
  weights?: Record<string, Float32Array>;
}

/** The router's graph definition (training feeds the segments of a whole batch as the S rows). */
export function routerModelDefinition(options: Omit<RouterModelOptions, 'seed' | 'weights'>): (g: GraphBuilder) => void {
  return (g) => {
    const x = g.input(POOLED_INPUT, 'float32', ['S', options.dim]);
    const dims = [options.dim, ...(options.hidden ?? [256]), options.classes ?? ROUTER_CLASSES.length];
    g.output(mlp(ROUTER_MLP, dims, { activation: options.activation ?? 'gelu' }).apply(g, x), 'logits');
  };
}

/** `pooled` [S, dim] → MLP → `logits` [S, classes]. */
export function buildRouterModel(options: RouterModelOptions): OnnxModel {
  const g = new GraphBuilder({ seed: options.seed, weights: options.weights, name: 'signweave-router' });
  routerModelDefinition(options)(g);
  return g.build();
}

/**
 * The MLP of a router bundle as src/router layers. The graph builder stores a linear weight `[in, out]` (y = x·W);
 * `LinearLayer` wants PyTorch's row-major `[out, in]` (y = W·x), so each weight is transposed here, once.
 */
export function routerLayers(bundle: Bundle<'router'>): LinearLayer[] {
  const weights = bundle.readWeights();
  const shapes = new Map(bundle.onnx.initializers.map((t) => [t.name, t.shape]));
  const fail = (message: string): never => {
    throw new SignweaveInputError(`bundle ${bundle.dir}: onnx.file: ${message}`);
  };
  const layers: LinearLayer[] = [];
  const used = new Set<string>();
  for (let i = 0; `${ROUTER_MLP}.${i}.weight` in weights; i++) {
    const wName = `${ROUTER_MLP}.${i}.weight`;
    const bName = `${ROUTER_MLP}.${i}.bias`;
    const shape = shapes.get(wName) ?? [];
    if (shape.length !== 2) fail(`${wName} has shape [${shape.join(', ')}]; [in, out] expected`);
    const [n, out] = shape;
    const bias = weights[bName] ?? fail(`layer ${i} has no bias ${bName}`);
    if (bias.length !== out) fail(`${bName} has ${bias.length} values for ${out} outputs`);
    const w = weights[wName];
    const t = new Float32Array(n * out);
    for (let r = 0; r < n; r++) for (let c = 0; c < out; c++) t[c * n + r] = w[r * out + c];
    layers.push({ weights: t, bias, in: n, out });
    used.add(wName).add(bName);
  }
  if (layers.length === 0) fail(`no router MLP weights (${ROUTER_MLP}.0.weight, …) in the model`);
  const unused = Object.keys(weights).filter((k) => !used.has(k));
  if (unused.length > 0) fail(`weights ${unused.join(', ')} are not part of a ${ROUTER_MLP}.N.weight/bias layer chain`);
  return layers;
}

/** A router bundle as a `Router` (pooling window and hop, classes and activation from bundle.json). */
export async function loadRouterBundle(dir: string, options: { engine?: RouterEngine } = {}): Promise<Router<string>> {
  const bundle = await loadBundle(dir, { expectKind: 'router' });
  const { input, output, architecture } = bundle.manifest;
  try {
    return new Router<string>({ layers: routerLayers(bundle), activation: architecture.activation, classes: output.classes, window: input.window, hop: input.hop, engine: options.engine });
  } catch (err) {
    if (err instanceof SignweaveInputError && !err.message.startsWith('bundle ')) throw new SignweaveInputError(`bundle ${dir}: ${err.message}`);
    throw err;
  }
}
