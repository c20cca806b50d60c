/**
 * Fusion bundles: the fusion network (src/fusion) with the FusionConfig it was built from (`architecture` in
 * bundle.json), the streams it reads and the pseudo-gloss vocabulary of its CTC head. `loadFusionBundle` checks the
 * three against each other and runs a FusionStage on the bundle's ONNX Runtime session.
 */
import { SignweaveInputError } from '../errors.js';
import { resolveFusionConfig, type FusionConfig, type ResolvedFusionConfig } from '../fusion/config.js';
import { fusionVariantOf, type FusionVariant } from '../fusion/variants.js';
import { FusionStage, type FusionResult } from '../fusion/fusion.js';
import type { FusionInputs } from '../fusion/inputs.js';
import { FUSION_IO } from '../fusion/graphs.js';
import { ROUTER_CLASSES } from '../router/router.js';
import { loadBundle, type Bundle, type BundleRef, type LoadBundleOptions } from './loader.js';
import type { StreamsInput } from './schema.js';

export { FUSION_VARIANTS, FUSION_VARIANT_NAMES, fusionVariantConfig, fusionVariantOf, type FusionVariant } from '../fusion/variants.js';

type FusionStream = StreamsInput['streams'][number];

/** The streams a fusion graph built from `config` reads: each graph input, the output that feeds it, its width. */
export function fusionStreams(config: FusionConfig): FusionStream[] {
  const c = resolveFusionConfig(config);
  const streams: FusionStream[] = [{ name: FUSION_IO.sign, source: 'sign', dim: c.inputs.sign }];
  if (c.fingerspell) streams.push({ name: FUSION_IO.fingerspell, source: 'fingerspell', dim: c.inputs.fingerspell! });
  streams.push({ name: FUSION_IO.router, source: 'router', dim: ROUTER_CLASSES.length });
  if (c.lip) streams.push({ name: FUSION_IO.lips, source: 'lipread', dim: c.inputs.lips! });
  return streams;
}

/** A loaded fusion bundle: its FusionStage, vocabulary and provenance. Disposing it releases the session. */
export class FusionBundle implements AsyncDisposable {
  /** @internal use `loadFusionBundle` */
  constructor(
    readonly bundle: Bundle<'fusion'>,
    readonly stage: FusionStage,
  ) {}

  get config(): ResolvedFusionConfig {
    return this.stage.config;
  }

  /** The pseudo-gloss CTC labels of vocab.txt. */
  get vocab(): readonly string[] {
    return this.bundle.vocab!;
  }

  get ref(): BundleRef {
    return this.bundle.ref;
  }

  get variant(): FusionVariant | null {
    return fusionVariantOf(this.bundle.manifest.architecture);
  }

  run(inputs: FusionInputs): Promise<FusionResult> {
    return this.stage.run(inputs);
  }

  async dispose(): Promise<void> {
    await this.stage.dispose();
    await this.bundle.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** The disagreements between a fusion bundle's streams and vocabulary and its architecture, as `field: message`. */
function streamProblems(bundle: Bundle<'fusion'>, config: ResolvedFusionConfig): string[] {
  const { input, output, architecture } = bundle.manifest;
  const expected = fusionStreams(architecture);
  const problems: string[] = [];
  input.streams.forEach((s, i) => {
    const want = expected.find((e) => e.name === s.name);
    if (!want) {
      problems.push(`input.streams[${i}].name: "${s.name}" is not an input of this fusion graph, which reads ${expected.map((e) => `"${e.name}"`).join(', ')}`);
      return;
    }
    if (s.source !== want.source) problems.push(`input.streams[${i}].source: is "${s.source}" but the "${s.name}" input reads the ${want.source} output`);
    if (s.dim !== want.dim) {
      const why = s.name === FUSION_IO.router ? `the router's ${ROUTER_CLASSES.join(', ')} weights` : `architecture.inputs.${s.name}`;
      problems.push(`input.streams[${i}].dim: is ${s.dim}, not ${want.dim} (${why})`);
    }
  });
  for (const e of expected) {
    if (!input.streams.some((s) => s.name === e.name)) problems.push(`input.streams: has no "${e.name}" stream, which the architecture (lip: ${config.lip}, fingerspell: ${config.fingerspell}) reads`);
  }
  if (bundle.vocab!.length !== config.vocabSize) {
    problems.push(`output.vocab: ${output.vocab} has ${bundle.vocab!.length} labels but architecture.vocabSize is ${config.vocabSize}`);
  }
  return problems;
}

/**
 * Loads a fusion bundle: bundle.json and its files as `loadBundle` checks them, the architecture as
 * `resolveFusionConfig` does, the streams and vocabulary against the architecture, then the graph against the
 * architecture (FusionStage). Every problem is a `SignweaveInputError` naming the folder and the field.
 */
export async function loadFusionBundle(dir: string, options: Omit<LoadBundleOptions, 'expectKind'> = {}): Promise<FusionBundle> {
  const bundle = await loadBundle(dir, { ...options, expectKind: 'fusion' });
  try {
    let config: ResolvedFusionConfig;
    try {
      config = resolveFusionConfig(bundle.manifest.architecture);
    } catch (err) {
      if (err instanceof SignweaveInputError) throw new SignweaveInputError(`bundle ${dir}: architecture: ${err.message}`);
      throw err;
    }
    const problems = streamProblems(bundle, config);
    if (problems.length === 1) throw new SignweaveInputError(`bundle ${dir}: ${problems[0]}`);
    if (problems.length > 1) throw new SignweaveInputError(`bundle ${dir} has ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    return new FusionBundle(bundle, await FusionStage.load(await bundle.session(), bundle.manifest.architecture));
  } catch (err) {
    await bundle.dispose();
    throw err;
  }
}
