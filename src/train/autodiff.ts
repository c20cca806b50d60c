/**
 * Reverse-mode differentiation on the graph builder: one module definition gives the training graph (parameters as
 * inputs, gradients as outputs) and the inference graph (trained parameters as initializers).
 *
 * ```ts
 * const define = (g: GraphBuilder): void => {
 *   const x = g.input('features', 'float32', ['B', 'T', 384]);
 *   g.output(linear('head', 384, 10).apply(g, x), 'logits');
 * };
 * const training = buildTrainingGraph(define, { seed: 1 });
 * // inputs: features, every trainable parameter by name, grad:logits (∂loss/∂logits, same shape as logits)
 * // outputs: logits, grad:head.weight, grad:head.bias
 * const weights = training.initialWeights();             // the optimiser owns these Float32Arrays
 * // A loss that needs the outputs first: forward, ∂loss/∂logits in TypeScript, then backward.
 * const step = await TrainingSession.create(training, { mode: 'split' });
 * const { logits } = await step.forward({ features }, weights);
 * const gradients = await step.backward({ logits: dLogits });
 * gradients['head.weight'];                               // Float32Array laid out like weights['head.weight']
 * writeInferenceModel('head.onnx', define, weights);      // the same definition, weights as initializers
 * ```
 *
 * Two ways to a step's gradients: 'split' cuts the training model after its forward nodes, so the forward model also
 * outputs the activations the backward nodes read and the backward model takes them (`splitBytes`, `saved`);
 * 'recompute' runs the forward model for the outputs, then the whole training model (`toBytes`, `run`), which
 * recomputes the forward pass. The backward nodes are the same, so the gradients are too.
 *
 * The backward pass walks the forward graph's nodes (the op table's units) in reverse and emits each op's `vjp`
 * (src/graph/ops.ts) as ONNX nodes named `grad/<forward node>/…`; gradients of a value used several times are added
 * with a Sum node. Only float32 values that depend on a trainable parameter (or on an input listed in
 * `inputGradients`) are differentiated; an op on such a path without a VJP (Shape, Constant) is an error that names
 * the op and its module scope. Frozen parameters (not `trainable`) stay initializers and get no gradient.
 */
import { SignweaveInputError } from '../errors.js';
import { GraphBuilder, type GraphBuilderOptions, type OnnxModel, type ParameterInfo, type Value } from '../graph/builder.js';
import { OPS, type Emitter, type OnnxAttr, type OpDef, type VjpArgs } from '../graph/ops.js';
import { attributeProto, encodeModel, tensorProto, valueInfoProto, type OnnxProto } from '../graph/proto.js';
import { OnnxSession, type SessionOptions } from '../graph/session.js';
import { formatShape, type DType, type HostTensor, type TensorSpec } from '../graph/tensor.js';

/** Adds inputs, parameters, modules and outputs to a builder; called once per graph built from it. */
export type GraphDefinition = (g: GraphBuilder) => void;

export interface TrainingGraphOptions extends GraphBuilderOptions {
  /** Parameters that get gradients: names, or a test on the name (default: all). The others stay initializers. */
  trainable?: readonly string[] | ((name: string) => boolean);
  /** Graph inputs whose gradients are outputs too (`grad:<input>`), e.g. to chain with a loss upstream. */
  inputGradients?: readonly string[];
  /** Outputs that take an upstream gradient (default: every float32 output that depends on what is differentiated). */
  differentiate?: readonly string[];
}

/** The prefix of gradient inputs and outputs: `grad:logits` in, `grad:head.weight` out. */
export const GRAD = 'grad:';

export interface TrainingRun {
  /** The forward outputs by name. */
  outputs: Record<string, HostTensor>;
  /** Gradients by parameter (or differentiated input) name, each laid out like the value it belongs to. */
  gradients: Record<string, Float32Array>;
}

/** A forward graph and its gradient graph: in one ONNX model, and cut into a forward and a backward model. */
export class TrainingGraph {
  /** @internal */
  constructor(
    /** The forward model (parameters with their initial values). */
    readonly forward: OnnxModel,
    private readonly trainingProto: OnnxProto.IModelProto,
    private readonly forwardProto: OnnxProto.IModelProto,
    /** Trainable parameters, fed as inputs every run, in creation order. */
    readonly parameters: readonly ParameterInfo[],
    /** Forward output name → the input that takes its upstream gradient. */
    readonly gradientInputs: Readonly<Record<string, string>>,
    /** Parameter or input name → the output that gives its gradient. */
    readonly gradientOutputs: Readonly<Record<string, string>>,
    private readonly splitProtos: SplitProtos,
  ) {}

  /**
   * The activations split mode passes from the forward model to the backward one (forward values the backward
   * pass reads, in forward order), with their declared shapes.
   */
  get saved(): readonly TensorSpec[] {
    return this.splitProtos.saved;
  }

  /** Copies of the trainable parameters' initial values by name. */
  initialWeights(): Record<string, Float32Array> {
    const all = this.forward.weights();
    return Object.fromEntries(this.parameters.map((p) => [p.name, all[p.name]]));
  }

  /** The training model: data inputs, trainable parameters and output gradients in; outputs and gradients out. */
  toBytes(): Uint8Array {
    return encodeModel(this.trainingProto);
  }

  /**
   * The forward model with the same inputs as the training model less the gradients: for a loss that needs the
   * outputs before it can give their gradients (run this, compute the loss, then run the training model).
   */
  forwardBytes(): Uint8Array {
    return encodeModel(this.forwardProto);
  }

  /**
   * Split mode's two models: the forward model, whose outputs are the forward outputs followed by the `saved`
   * activations, and the backward model, which takes the data inputs and parameters it reads, the outputs'
   * gradients and the saved activations, and gives the gradients without recomputing the forward pass.
   */
  splitBytes(): { forward: Uint8Array; backward: Uint8Array } {
    return { forward: encodeModel(this.splitProtos.forward), backward: encodeModel(this.splitProtos.backward) };
  }

  /** Session feeds: data inputs, the weights by name, and (for the training model) the outputs' upstream gradients. */
  feeds(inputs: Record<string, HostTensor>, weights: Record<string, Float32Array>, outputGradients?: Record<string, HostTensor>): Record<string, HostTensor> {
    const all: Record<string, HostTensor> = { ...inputs };
    for (const p of this.parameters) {
      const w = weights[p.name];
      if (!w) throw new SignweaveInputError(`training feeds: no weights for parameter '${p.name}' ${formatShape(p.shape)}`);
      all[p.name] = { dtype: 'float32', shape: p.shape, data: w };
    }
    return outputGradients ? { ...all, ...this.gradientFeeds(outputGradients) } : all;
  }

  /** The gradient inputs' feeds from the outputs' upstream gradients by output name. */
  gradientFeeds(outputGradients: Record<string, HostTensor>): Record<string, HostTensor> {
    for (const name of Object.keys(outputGradients)) {
      if (!(name in this.gradientInputs)) throw new SignweaveInputError(`training feeds: output '${name}' takes no gradient; differentiated outputs: ${Object.keys(this.gradientInputs).join(', ') || 'none'}`);
    }
    const feeds: Record<string, HostTensor> = {};
    for (const [out, input] of Object.entries(this.gradientInputs)) {
      const g = outputGradients[out];
      if (!g) throw new SignweaveInputError(`training feeds: missing the gradient of output '${out}' (input '${input}')`);
      feeds[input] = g;
    }
    return feeds;
  }

  /** Gradients by parameter (or input) name from the results of a run that computed them. */
  gradientsOf(results: Record<string, HostTensor>): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.gradientOutputs).map(([name, out]) => [name, results[out].data as Float32Array]));
  }

  /** One run of the training model (a session made from `toBytes()`): forward outputs and gradients. */
  async run(session: OnnxSession, inputs: Record<string, HostTensor>, weights: Record<string, Float32Array>, outputGradients: Record<string, HostTensor>): Promise<TrainingRun> {
    const forwardNames = this.forward.outputs.map((o) => o.name);
    const results = await session.run(this.feeds(inputs, weights, outputGradients), [...forwardNames, ...Object.values(this.gradientOutputs)]);
    return { outputs: Object.fromEntries(forwardNames.map((n) => [n, results[n]])), gradients: this.gradientsOf(results) };
  }
}

/**
 * How a `TrainingSession` gets gradients. 'split': the forward model also outputs the activations the backward pass
 * reads and the backward model takes them, so the forward pass is not computed twice, at the cost of copying those
 * activations out of ONNX Runtime and holding them on the JavaScript heap between the two runs. 'recompute': the backward run is the
 * whole training model, which recomputes the forward pass; less memory, more work.
 */
export type TrainingMode = 'split' | 'recompute';

export interface TrainingSessionOptions extends SessionOptions {
  /**
   * Default 'recompute': bench/train.ts measured the two equally fast on the reference model (2 threads), the time
   * split mode saves in the backward run going to copying ~57 MiB of activations out of the forward run, and
   * recompute holding ~85 MiB less.
   */
  mode?: TrainingMode;
}

/**
 * A training graph's ONNX sessions for a step whose loss is computed in TypeScript between the two passes:
 *
 * ```ts
 * const step = await TrainingSession.create(training, { mode: 'split', intraOpThreads: 2 });
 * const { logits } = await step.forward({ features }, weights);
 * const { grad } = ctcLoss(logits as Float32Tensor, lengths, targets, 0);
 * const gradients = await step.backward({ logits: float32(grad, logits.shape) });
 * ```
 *
 * `backward` uses the inputs and weights the last `forward` was given: change the weights (the optimiser step) only
 * after it. Both modes give the same gradients.
 */
export class TrainingSession {
  /** What the backward run needs from the last forward run, until it is used. */
  private pending: Record<string, HostTensor> | undefined;

  private constructor(
    readonly graph: TrainingGraph,
    readonly mode: TrainingMode,
    private readonly forwardSession: OnnxSession,
    private readonly backwardSession: OnnxSession,
  ) {}

  static async create(graph: TrainingGraph, options: TrainingSessionOptions = {}): Promise<TrainingSession> {
    const { mode = 'recompute', ...sessionOptions } = options;
    const models = mode === 'split' ? graph.splitBytes() : { forward: graph.forwardBytes(), backward: graph.toBytes() };
    const label = options.label ?? graph.forward.name;
    const forwardSession = await OnnxSession.create(models.forward, { ...sessionOptions, label: `${label} (forward)` });
    try {
      return new TrainingSession(graph, mode, forwardSession, await OnnxSession.create(models.backward, { ...sessionOptions, label: `${label} (backward, ${mode})` }));
    } catch (err) {
      await forwardSession.dispose();
      throw err;
    }
  }

  /** The forward outputs by name; remembers what `backward` needs. */
  async forward(inputs: Record<string, HostTensor>, weights: Record<string, Float32Array>): Promise<Record<string, HostTensor>> {
    this.pending = undefined;
    const feeds = this.graph.feeds(inputs, weights);
    const outputNames = this.graph.forward.outputs.map((o) => o.name);
    if (this.mode === 'recompute') {
      const outputs = await this.forwardSession.run(feeds, outputNames);
      this.pending = feeds;
      return outputs;
    }
    const results = await this.forwardSession.run(feeds);
    const all = { ...feeds, ...results };
    this.pending = Object.fromEntries(this.backwardSession.inputNames.filter((n) => n in all).map((n) => [n, all[n]]));
    return Object.fromEntries(outputNames.map((n) => [n, results[n]]));
  }

  /** Gradients by parameter (or differentiated input) name, given the upstream gradient of every differentiated output. */
  async backward(outputGradients: Record<string, HostTensor>): Promise<Record<string, Float32Array>> {
    if (!this.pending) throw new Error('TrainingSession.backward: no forward run to take the gradient of (call forward first, once per backward)');
    const feeds = { ...this.pending, ...this.graph.gradientFeeds(outputGradients) };
    this.pending = undefined;
    return this.graph.gradientsOf(await this.backwardSession.run(feeds, Object.values(this.graph.gradientOutputs)));
  }

  async dispose(): Promise<void> {
    this.pending = undefined;
    await Promise.all([this.forwardSession.dispose(), this.backwardSession.dispose()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Builds the graph `define` describes and differentiates it. */
export function buildTrainingGraph(define: GraphDefinition, options: TrainingGraphOptions = {}): TrainingGraph {
  const { trainable, inputGradients, differentiate, ...builderOptions } = options;
  const g = new GraphBuilder(builderOptions);
  define(g);
  return differentiateModel(g.build(), { trainable, inputGradients, differentiate });
}

/** Builds the inference model of `define` with trained `weights` as initializers and writes it atomically. */
export function writeInferenceModel(path: string, define: GraphDefinition, weights: Record<string, Float32Array>, options: Pick<GraphBuilderOptions, 'name' | 'seed' | 'weightsMode'> & { docString?: string } = {}): OnnxModel {
  const { docString, ...builderOptions } = options;
  const g = new GraphBuilder({ ...builderOptions, weights });
  define(g);
  const model = g.build();
  model.save(path, { docString });
  return model;
}

/** The training graph of an already built forward model. */
export function differentiateModel(model: OnnxModel, options: Pick<TrainingGraphOptions, 'trainable' | 'inputGradients' | 'differentiate'> = {}): TrainingGraph {
  const values = new Map<string, Value>();
  for (const node of model.nodes) for (const v of [...node.inputs, ...node.outputs]) if (v) values.set(v.name, v);

  const paramNames = model.parameters.map((p) => p.name);
  const { trainable } = options;
  if (Array.isArray(trainable)) {
    const unknown = trainable.filter((n) => !paramNames.includes(n));
    if (unknown.length > 0) throw new SignweaveInputError(`trainable parameters not in the graph: ${unknown.join(', ')}`);
  }
  const isTrainable = (name: string): boolean => (trainable === undefined ? true : typeof trainable === 'function' ? trainable(name) : trainable.includes(name));
  const trained = model.parameters.filter((p) => isTrainable(p.name));
  const gradInputs = (options.inputGradients ?? []).map((name) => {
    const spec = model.inputs.find((i) => i.name === name);
    if (!spec || spec.dtype !== 'float32') throw new SignweaveInputError(`input gradient: '${name}' is not a float32 input of the graph (inputs: ${model.inputs.map((i) => i.name).join(', ')})`);
    return spec;
  });

  // Forward: which values depend on what is differentiated.
  const requires = new Set<Value>();
  for (const name of [...trained.map((p) => p.name), ...gradInputs.map((i) => i.name)]) {
    const v = values.get(name);
    if (v) requires.add(v);
  }
  for (const node of model.nodes) {
    if (node.inputs.some((v) => v && requires.has(v))) for (const o of node.outputs) if (o.dtype === 'float32') requires.add(o);
  }
  const outputNames = model.outputs.map((o) => o.name);
  for (const name of options.differentiate ?? []) {
    if (!outputNames.includes(name)) throw new SignweaveInputError(`differentiate: '${name}' is not an output of the graph (outputs: ${outputNames.join(', ')})`);
    if (!requires.has(values.get(name)!)) throw new SignweaveInputError(`differentiate: output '${name}' does not depend on any trainable parameter or differentiated input`);
  }
  const differentiated = (options.differentiate ?? outputNames).filter((n) => requires.has(values.get(n)!));

  const forwardProto = withFrozenInitializers(model, model.toProto({ parametersAs: 'inputs' }), isTrainable);
  const proto = withFrozenInitializers(model, model.toProto({ parametersAs: 'inputs' }), isTrainable);
  const graph = proto.graph!;
  const nodes = graph.node!;
  const forwardNodeCount = nodes.length;
  const used = new Set<string>([...graph.input!.map((i) => i.name!), ...graph.initializer!.map((i) => i.name!), ...nodes.flatMap((n) => [...n.output!, n.name!])]);
  const claim = (name: string): string => {
    if (used.has(name)) throw new SignweaveInputError(`training graph: the name '${name}' is taken by the forward graph (gradients are named ${GRAD}<name>)`);
    used.add(name);
    return name;
  };
  const unique = (hint: string): string => {
    let name = hint;
    for (let k = 1; used.has(name); k++) name = `${hint}_${k}`;
    used.add(name);
    return name;
  };
  const put = (opType: string, input: string[], output: string[], name: string, attrs: Record<string, OnnxAttr | undefined> = {}): void => {
    const attribute = Object.entries(attrs)
      .filter((entry): entry is [string, OnnxAttr] => entry[1] !== undefined)
      .map(([k, a]) => attributeProto(k, a));
    nodes.push({ name, opType, input, output, attribute });
  };

  // Backward: gradients flow from the outputs' gradient inputs to every value that requires one.
  const contributions = new Map<Value, string[]>();
  const contribute = (v: Value, g: string): void => void (contributions.get(v) ?? contributions.set(v, []).get(v)!).push(g);
  const gradientInputs: Record<string, string> = {};
  for (const name of differentiated) {
    const v = values.get(name)!;
    const input = claim(`${GRAD}${name}`);
    graph.input!.push(valueInfoProto({ name: input, dtype: 'float32', shape: v.shape }));
    gradientInputs[name] = input;
    contribute(v, input);
  }
  const total = (v: Value): string | undefined => {
    const parts = contributions.get(v);
    if (!parts || parts.length <= 1) return parts?.[0];
    const sum = unique(`grad/${v.name}/sum`);
    put('Sum', parts, [sum], sum);
    return sum;
  };
  for (const node of [...model.nodes].reverse()) {
    const wants = node.inputs.map((v) => v !== undefined && requires.has(v));
    if (!wants.some(Boolean)) continue;
    const grads = node.outputs.map(total);
    if (grads.every((g) => g === undefined)) continue;
    const def = OPS[node.op] as OpDef<object>;
    const slash = node.name.lastIndexOf('/');
    const where = `${node.op} (node '${node.name}'${slash > 0 ? ` in module scope '${node.name.slice(0, slash)}'` : ''})`;
    if (!def.vjp) throw new SignweaveInputError(`backward pass: cannot differentiate through ${where}: the op has no vector-Jacobian product`);
    const e: Emitter = {
      node: (opType, inputs, outputs, attrs) => put(opType, [...inputs], [...outputs], unique(`grad/${node.name}/${opType}`), attrs),
      temp: (hint) => unique(`grad/${node.name}/${hint}`),
      constant: (value, hint) => {
        const out = unique(`grad/${node.name}/${hint}`);
        put('Constant', [], [out], out, { value: { tensor: value } });
        return out;
      },
    };
    const ins = node.inputs.map((v) => v?.name ?? '');
    while (ins.length > 0 && ins[ins.length - 1] === '') ins.pop();
    const args: VjpArgs = { ins, inInfos: node.inputs.map((v) => v?.info), outs: node.outputs.map((v) => v.name), outInfos: node.outputs.map((v) => v.info), grads, wants };
    let result: (string | undefined)[];
    try {
      result = def.vjp(e, args, node.attrs);
    } catch (err) {
      throw new SignweaveInputError(`backward pass: ${where}: ${(err as Error).message}`);
    }
    node.inputs.forEach((v, i) => {
      if (!wants[i]) return;
      const g = result[i];
      if (!g) throw new Error(`backward pass: the VJP of ${where} gave no gradient for input ${i}`);
      contribute(v!, g);
    });
  }

  // Gradient outputs; a parameter no differentiated output depends on gets zeros.
  const gradientOutputs: Record<string, string> = {};
  const differentiatedValues: TensorSpec[] = [...trained.map((p) => ({ name: p.name, dtype: 'float32' as const, shape: p.shape })), ...gradInputs];
  for (const spec of differentiatedValues) {
    const out = claim(`${GRAD}${spec.name}`);
    const v = values.get(spec.name);
    const g = v && total(v);
    if (g) put('Identity', [g], [out], out);
    else {
      const shape = unique(`grad/${spec.name}/shape`);
      put('Shape', [spec.name], [shape], shape);
      put('ConstantOfShape', [shape], [out], out);
    }
    graph.output!.push(valueInfoProto({ name: out, dtype: 'float32', shape: spec.shape }));
    gradientOutputs[spec.name] = out;
  }
  const specOf = (name: string): SavedSpec | undefined => {
    const v = values.get(name);
    return v && { name, dtype: v.dtype, shape: [...v.shape] };
  };
  const split = splitTrainingProto(proto, forwardNodeCount, Object.values(gradientInputs), Object.values(gradientOutputs), specOf);
  return new TrainingGraph(model, proto, forwardProto, trained, gradientInputs, gradientOutputs, split);
}

type SavedSpec = TensorSpec & { dtype: DType };

interface SplitProtos {
  forward: OnnxProto.IModelProto;
  backward: OnnxProto.IModelProto;
  saved: SavedSpec[];
}

/**
 * Cuts a training model after its forward nodes. Every forward node output that a backward node reads becomes an
 * output of the forward model and an input of the backward model; constants and frozen initializers the backward
 * nodes read are copied instead, being free to recreate.
 */
function splitTrainingProto(
  proto: OnnxProto.IModelProto,
  forwardNodeCount: number,
  gradientInputs: readonly string[],
  gradientOutputs: readonly string[],
  specOf: (name: string) => SavedSpec | undefined,
): SplitProtos {
  const { graph, ...header } = proto;
  const produced = new Set(graph!.node!.slice(0, forwardNodeCount).flatMap((n) => n.output!));
  // The backward pass often reads an activation only for its shape: that Shape runs in the forward model, which then
  // passes a few int64s instead of the activation.
  const isEarly = (n: OnnxProto.INodeProto, i: number): boolean => i >= forwardNodeCount && n.opType === 'Shape' && produced.has(n.input![0]);
  const forwardNodes = graph!.node!.filter((n, i) => i < forwardNodeCount || isEarly(n, i));
  const backwardNodes = graph!.node!.filter((n, i) => i >= forwardNodeCount && !isEarly(n, i));
  const read = new Set(backwardNodes.flatMap((n) => n.input!).filter((name) => name !== ''));
  const constants: OnnxProto.INodeProto[] = [];
  const saved: SavedSpec[] = [];
  for (const node of forwardNodes) {
    const wanted = node.output!.filter((o) => read.has(o));
    if (wanted.length === 0) continue;
    if (node.opType === 'Constant') {
      constants.push(node);
      continue;
    }
    for (const name of wanted) {
      const spec = specOf(name) ?? (node.opType === 'Shape' ? { name, dtype: 'int64' as const, shape: [null] } : undefined);
      // VJPs read their op's inputs and outputs, which the builder describes; an op-internal value here is a bug.
      if (!spec) throw new Error(`split training graph: the backward pass reads '${name}' (from node '${node.name}'), a value without a type`);
      saved.push(spec);
    }
  }
  const isGradientInput = new Set(gradientInputs);
  const isGradientOutput = new Set(gradientOutputs);
  const outputs = graph!.output!.filter((o) => !isGradientOutput.has(o.name!));
  const outputNames = new Set(outputs.map((o) => o.name!));
  const savedInfos = saved.map(valueInfoProto);
  return {
    forward: {
      ...header,
      graph: {
        name: graph!.name,
        node: forwardNodes,
        input: graph!.input!.filter((i) => !isGradientInput.has(i.name!)),
        initializer: graph!.initializer,
        output: [...outputs, ...savedInfos.filter((i) => !outputNames.has(i.name!))],
      },
    },
    backward: {
      ...header,
      graph: {
        name: `${graph!.name}-backward`,
        node: [...constants, ...backwardNodes],
        input: [...graph!.input!.filter((i) => isGradientInput.has(i.name!) || read.has(i.name!)), ...savedInfos],
        initializer: graph!.initializer!.filter((t) => read.has(t.name!)),
        output: graph!.output!.filter((o) => isGradientOutput.has(o.name!)),
      },
    },
    saved,
  };
}

/** Moves the frozen parameters of a parameters-as-inputs model back to initializers. */
function withFrozenInitializers(model: OnnxModel, proto: OnnxProto.IModelProto, isTrainable: (name: string) => boolean): OnnxProto.IModelProto {
  const frozen = model.parameters.filter((p) => !isTrainable(p.name));
  if (frozen.length === 0) return proto;
  const weights = model.weights();
  const names = new Set(frozen.map((p) => p.name));
  const graph = proto.graph!;
  graph.input = graph.input!.filter((i) => !names.has(i.name!));
  graph.initializer = frozen.map((p) => tensorProto(p.name, { dtype: 'float32', shape: p.shape, data: weights[p.name] }));
  return proto;
}
