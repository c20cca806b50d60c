/**
 * The fusion stage at run time: one video's expert outputs and router weights in, pseudo-gloss logits out (with the
 * per-frame lip gate, so a result can say how much each frame leaned on the manual stream). The network runs in
 * ONNX Runtime through `OnnxSession`; its source is a built `OnnxModel`, ONNX bytes, a file path, or a session a
 * bundle loader opened — with the config it was built from, checked against the model's inputs and outputs.
 */
import { OnnxModel } from '../graph/builder.js';
import { OnnxSession, type SessionOptions } from '../graph/session.js';
import { float32, type TensorSpec } from '../graph/tensor.js';
import { SignweaveInputError } from '../errors.js';
import type { Sequence } from '../types.js';
import { hasGate, resolveFusionConfig, type FusionConfig, type ResolvedFusionConfig } from './config.js';
import { FUSION_IO } from './graphs.js';
import { checkFusionInputs, effectiveRouterWeights, type FusionInputs } from './inputs.js';

/** Where the fusion network comes from. A given `OnnxSession` stays the caller's: the stage does not dispose it. */
export type FusionModelSource = OnnxModel | Uint8Array | string | OnnxSession;

export interface FusionResult {
  /** Pseudo-gloss CTC logits `[T, V]` at the manual streams' frame rate (log-softmax them for decoding). */
  logits: Sequence;
  /** The gate g `[T, d]` of the gated fusions (1 = manual stream, 0 = lips); null for the others and without lips. */
  gate: Sequence | null;
  /** Per frame, the mean of g over d: the manual stream's share of the frame; null when there is no gate. */
  gateMean: number[] | null;
  /** `[T, 3]` r_sign, r_fs, r_null as applied (renormalised over sign and rest when fingerspelling is off). */
  routerWeights: Sequence;
}

function describe(spec: TensorSpec): string {
  return `'${spec.name}' [${spec.shape.map((d) => d ?? '?').join(', ')}]`;
}

export class FusionStage {
  private constructor(
    private readonly session: OnnxSession,
    private readonly owned: boolean,
    readonly config: ResolvedFusionConfig,
  ) {}

  /** Opens the network (`options` apply when the stage opens the session itself) and checks its inputs and outputs against `config`. */
  static async load(source: FusionModelSource, config: FusionConfig, options: SessionOptions = {}): Promise<FusionStage> {
    const resolved = resolveFusionConfig(config);
    const owned = !(source instanceof OnnxSession);
    const label = options.label ?? (source instanceof OnnxModel ? `built graph '${source.name}'` : undefined);
    const session = source instanceof OnnxSession ? source : await OnnxSession.create(source instanceof OnnxModel ? source.toBytes() : source, { ...options, label });
    try {
      FusionStage.checkModel(session, resolved);
    } catch (err) {
      if (owned) await session.dispose();
      throw err;
    }
    return new FusionStage(session, owned, resolved);
  }

  private static checkModel(session: OnnxSession, c: ResolvedFusionConfig): void {
    const where = `fusion: the model (${session.label})`;
    const expected: [string, number][] = [[FUSION_IO.sign, c.inputs.sign]];
    if (c.fingerspell) expected.push([FUSION_IO.fingerspell, c.inputs.fingerspell!]);
    expected.push([FUSION_IO.router, 3]);
    if (c.lip) expected.push([FUSION_IO.lips, c.inputs.lips!]);
    const names = expected.map(([n]) => n);
    const extra = session.inputs.filter((s) => !names.includes(s.name));
    if (extra.length > 0 || session.inputs.length !== names.length) {
      throw new SignweaveInputError(
        `${where} takes inputs ${session.inputs.map(describe).join(', ')}, but the fusion config (lip: ${c.lip}, fingerspell: ${c.fingerspell}) needs ${names.map((n) => `'${n}'`).join(', ')}`,
      );
    }
    for (const [name, width] of expected) {
      const spec = session.inputs.find((s) => s.name === name)!;
      if (spec.shape.length !== 2 || (typeof spec.shape[1] === 'number' && spec.shape[1] !== width)) {
        throw new SignweaveInputError(`${where}: input ${describe(spec)} does not match the fusion config, which gives it [T, ${width}]`);
      }
    }
    const logits = session.outputs.find((s) => s.name === FUSION_IO.logits);
    if (!logits) throw new SignweaveInputError(`${where} has no '${FUSION_IO.logits}' output (outputs: ${session.outputs.map(describe).join(', ')})`);
    if (typeof logits.shape[1] === 'number' && logits.shape[1] !== c.vocabSize) {
      throw new SignweaveInputError(`${where}: output ${describe(logits)} has ${logits.shape[1]} classes but fusion.vocabSize is ${c.vocabSize}`);
    }
    const gate = session.outputs.some((s) => s.name === FUSION_IO.gate);
    if (gate !== hasGate(c)) {
      throw new SignweaveInputError(`${where} ${gate ? 'has' : 'has no'} '${FUSION_IO.gate}' output, but the fusion config (type '${c.type}', lip: ${c.lip}) ${gate ? 'has no gate' : 'is gated'}`);
    }
  }

  /** Fuses one video's streams. Inputs are checked first (shapes, one T, T′ from fusion.lipStride, router rows). */
  async run(inputs: FusionInputs): Promise<FusionResult> {
    const c = this.config;
    const x = checkFusionInputs(c, inputs);
    if (c.layers > 0 && x.T > c.maxLen) throw new SignweaveInputError(`fusion: ${x.T} frames, more than fusion.maxLen = ${c.maxLen} (the positional table's length)`);
    const feeds = {
      [FUSION_IO.sign]: float32(x.sign, [x.T, c.inputs.sign]),
      [FUSION_IO.router]: float32(x.router, [x.T, 3]),
      ...(x.fingerspell && { [FUSION_IO.fingerspell]: float32(x.fingerspell, [x.T, c.inputs.fingerspell!]) }),
      ...(x.lips && { [FUSION_IO.lips]: float32(x.lips, [x.lipT, c.inputs.lips!]) }),
    };
    const gated = hasGate(c);
    const out = await this.session.run(feeds, gated ? [FUSION_IO.logits, FUSION_IO.gate] : [FUSION_IO.logits]);
    const sequence = (name: string, width: number): Sequence => {
      const t = out[name];
      if (t.dtype !== 'float32' || t.shape.length !== 2 || t.shape[0] !== x.T || t.shape[1] !== width) {
        throw new SignweaveInputError(`fusion: the model (${this.session.label}): output '${name}' came out ${t.dtype} [${t.shape.join(', ')}], not float32 [${x.T}, ${width}]`);
      }
      return { data: t.data, shape: [x.T, width], fps: x.fps };
    };
    const gate = gated ? sequence(FUSION_IO.gate, c.d) : null;
    const gateMean = gate && Array.from({ length: x.T }, (_, t) => gate.data.subarray(t * c.d, (t + 1) * c.d).reduce((s, v) => s + v, 0) / c.d);
    return {
      logits: sequence(FUSION_IO.logits, c.vocabSize),
      gate,
      gateMean,
      routerWeights: { data: effectiveRouterWeights(c, x.router, x.T), shape: [x.T, 3], fps: x.fps },
    };
  }

  /** Releases the ONNX session unless it was given by the caller. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.owned) await this.session.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
