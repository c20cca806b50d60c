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
 * // A loss that needs the outputs first: run the forward model, compute ∂loss/∂logits in TypeScript, then the training model.
 * const forward = await OnnxSession.create(training.forwardBytes());
 * const { logits } = await forward.run(training.feeds({ features }, weights));
 * const session = await OnnxSession.create(training.toBytes());
 * const step = await training.run(session, { features }, weights, { logits: dLogits });
 * step.gradients['head.weight'];                          // Float32Array laid out like weights['head.weight']
 * writeInferenceModel('head.onnx', define, weights);      // the same definition, weights as initializers
 * ```
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
import type { OnnxSession } from '../graph/session.js';
import { formatShape, type HostTensor, type TensorSpec } from '../graph/tensor.js';

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

/** A forward graph and its gradient graph in one ONNX model. */
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
  ) {}

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

  /** Session feeds: data inputs, the weights by name, and (for the training model) the outputs' upstream gradients. */
  feeds(inputs: Record<string, HostTensor>, weights: Record<string, Float32Array>, outputGradients?: Record<string, HostTensor>): Record<string, HostTensor> {
    const all: Record<string, HostTensor> = { ...inputs };
    for (const p of this.parameters) {
      const w = weights[p.name];
      if (!w) throw new SignweaveInputError(`training feeds: no weights for parameter '${p.name}' ${formatShape(p.shape)}`);
      all[p.name] = { dtype: 'float32', shape: p.shape, data: w };
    }
    if (!outputGradients) return all;
    for (const name of Object.keys(outputGradients)) {
      if (!(name in this.gradientInputs)) throw new SignweaveInputError(`training feeds: output '${name}' takes no gradient; differentiated outputs: ${Object.keys(this.gradientInputs).join(', ') || 'none'}`);
    }
    for (const [out, input] of Object.entries(this.gradientInputs)) {
      const g = outputGradients[out];
      if (!g) throw new SignweaveInputError(`training feeds: missing the gradient of output '${out}' (input '${input}')`);
      all[input] = g;
    }
    return all;
  }

  /** One run of the training model (a session made from `toBytes()`): forward outputs and gradients. */
  async run(session: OnnxSession, inputs: Record<string, HostTensor>, weights: Record<string, Float32Array>, outputGradients: Record<string, HostTensor>): Promise<TrainingRun> {
    const forwardNames = this.forward.outputs.map((o) => o.name);
    const results = await session.run(this.feeds(inputs, weights, outputGradients), [...forwardNames, ...Object.values(this.gradientOutputs)]);
    const gradients: Record<string, Float32Array> = {};
    for (const [name, out] of Object.entries(this.gradientOutputs)) gradients[name] = results[out].data as Float32Array;
    return { outputs: Object.fromEntries(forwardNames.map((n) => [n, results[n]])), gradients };
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
  return new TrainingGraph(model, proto, forwardProto, trained, gradientInputs, gradientOutputs);
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
