/**
 * A bare ONNX image encoder (e.g. a torch.onnx export of DINOv2: `input` [B, 3, 224, 224] → `embedding` [B, 384]) run
 * through signweave's OnnxSession. The file carries no preprocessing, so the caller gives it.
 */
import { SignweaveInputError } from '../errors.js';
import { OnnxSession, ONNX_RUNTIME_VERSION } from '../graph/session.js';
import { float32, formatShape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { loadImageProcessorConfig, type ImageProcessorConfig } from '../video/preprocess.js';
import { BaseBackbone, checkImageInput, fixedImageSize } from './base.js';
import { inspectOnnx } from './hash.js';
import type { BackboneInfo } from './types.js';

export interface OnnxBackboneOptions {
  /** The image input (default: the graph's only input). */
  inputName?: string;
  /** The feature output, `[N, tokens, D]` (CLS = token 0) or `[N, D]` (default: the graph's only output). */
  outputName?: string;
  /** How frames become inputs: a parsed config, or the path of a Hugging Face `preprocessor_config.json`. */
  preprocessing: ImageProcessorConfig | string;
  /** ONNX Runtime threads inside one op (default: all cores). */
  threads?: number;
}

function pick(path: string, specs: readonly TensorSpec[], wanted: string | undefined, what: 'input' | 'output'): TensorSpec {
  const names = specs.map((s) => `'${s.name}' ${formatShape(s.shape)}`).join(', ');
  if (wanted === undefined) {
    if (specs.length !== 1) throw new SignweaveInputError(`${path}: the model has ${specs.length} ${what}s (${names}); name the image ${what} (${what}Name)`);
    return specs[0];
  }
  const spec = specs.find((s) => s.name === wanted);
  if (!spec) throw new SignweaveInputError(`${path}: no ${what} named '${wanted}'; the model's ${what}s are ${names}`);
  return spec;
}

async function probeDim(session: OnnxSession, inputName: string, outputName: string, n: number, size: { width: number; height: number }): Promise<number> {
  const out = await session.run({ [inputName]: float32(new Float32Array(n * 3 * size.height * size.width), [n, 3, size.height, size.width]) }, [outputName]);
  return out[outputName].shape[out[outputName].shape.length - 1];
}

export class OnnxBackbone extends BaseBackbone {
  private constructor(
    info: BackboneInfo,
    private readonly session: OnnxSession,
    /** The input's batch dimension when the graph fixes it (many exports fix it to 1): batches are run in chunks of it. */
    private readonly staticBatch: number | undefined,
  ) {
    super(info);
  }

  static async load(path: string, options: OnnxBackboneOptions): Promise<OnnxBackbone> {
    const { info: file, sha256 } = await inspectOnnx(path);
    const input = pick(path, file.inputs, options.inputName, 'input');
    const output = pick(path, file.outputs, options.outputName, 'output');
    const preprocessing = typeof options.preprocessing === 'string' ? loadImageProcessorConfig(options.preprocessing) : options.preprocessing;
    const preprocessingSource = typeof options.preprocessing === 'string' ? `image processor config ${options.preprocessing}` : 'the preprocessing option';
    const imageSize = fixedImageSize(preprocessing, preprocessingSource);
    if (input.dtype !== 'float32') throw new SignweaveInputError(`${path}: input '${input.name}' is ${input.dtype}; a backbone takes float32 images`);
    checkImageInput(path, input.name, input.shape, imageSize);
    if (output.dtype !== 'float32') throw new SignweaveInputError(`${path}: output '${output.name}' is ${output.dtype}; float32 features expected`);
    if (output.shape.length !== 2 && output.shape.length !== 3) {
      throw new SignweaveInputError(`${path}: output '${output.name}' has shape ${formatShape(output.shape)}; [N, tokens, D] or [N, D] features expected`);
    }
    const session = await OnnxSession.create(path, { intraOpThreads: options.threads });
    const staticBatch = typeof input.shape[0] === 'number' ? input.shape[0] : undefined;
    try {
      const d = output.shape[output.shape.length - 1];
      // A feature size the graph leaves symbolic is learnt from one blank image.
      const dim = typeof d === 'number' ? d : await probeDim(session, input.name, output.name, staticBatch ?? 1, imageSize);
      const runtime = `onnxruntime-node ${ONNX_RUNTIME_VERSION}`;
      return new OnnxBackbone({ kind: 'onnx', source: path, sha256, inputName: input.name, outputName: output.name, dim, imageSize, preprocessing, runtime }, session, staticBatch);
    } catch (err) {
      await session.dispose();
      throw err;
    }
  }

  private async runChunk(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const { inputName, outputName, imageSize } = this.info;
    const out = await this.session.run({ [inputName]: float32(pixels, [n, 3, imageSize.height, imageSize.width]) }, [outputName]);
    const t = out[outputName];
    if (t.dtype !== 'float32') throw new SignweaveInputError(`${this.info.source}: output '${outputName}' is ${t.dtype}; float32 features expected`);
    return { data: t.data, dims: t.shape };
  }

  protected async run(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const step = this.staticBatch ?? n;
    if (step === n) return this.runChunk(pixels, n);
    const per = pixels.length / n;
    const parts: Float32Array[] = [];
    let rest: readonly number[] = [];
    for (let i = 0; i < n; i += step) {
      const m = Math.min(step, n - i);
      // The last chunk is padded with blank images up to the fixed batch size; their rows are dropped.
      const chunk = new Float32Array(step * per);
      chunk.set(pixels.subarray(i * per, (i + m) * per));
      const out = await this.runChunk(chunk, step);
      rest = out.dims.slice(1);
      parts.push(out.data.subarray(0, m * sizeOf(rest)));
    }
    const data = new Float32Array(n * sizeOf(rest));
    let offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.length;
    }
    return { data, dims: [n, ...rest] };
  }

  protected async release(): Promise<void> {
    await this.session.dispose();
  }
}
