/** What both backbone sources share: frames → pixel batch, network output → CLS rows, and the checks on both. */
import { SignweaveInputError } from '../errors.js';
import { formatShape, type Dim } from '../graph/tensor.js';
import type { VideoFrame } from '../types.js';
import { frameToTensor, preprocessFrame, type ImageProcessorConfig } from '../video/preprocess.js';
import type { Backbone, BackboneInfo } from './types.js';

/** The size a config makes every input (center crop, else a fixed resize); a ViT needs one, so none is an error. */
export function fixedImageSize(config: ImageProcessorConfig, source: string): { width: number; height: number } {
  if (config.centerCrop) return { ...config.centerCrop };
  if (config.resize && 'height' in config.resize) return { ...config.resize };
  throw new SignweaveInputError(
    `${source}: the preprocessing gives no fixed input size (needs "crop_size", or "size" as {"height", "width"}); a ViT backbone takes one size only`,
  );
}

/** Checks a declared `[N, 3, H, W]` image input against the preprocessing's output size. */
export function checkImageInput(label: string, name: string, shape: readonly Dim[], size: { width: number; height: number }): void {
  const expected = `[N, 3, ${size.height}, ${size.width}]`;
  if (shape.length !== 4) throw new SignweaveInputError(`${label}: input '${name}' has shape ${formatShape(shape)}; a backbone takes images ${expected}`);
  const [, c, h, w] = shape;
  if ((typeof c === 'number' && c !== 3) || (typeof h === 'number' && h !== size.height) || (typeof w === 'number' && w !== size.width)) {
    throw new SignweaveInputError(`${label}: input '${name}' is ${formatShape(shape)} but the preprocessing makes ${expected} images`);
  }
}

/**
 * A backbone over some runtime: subclasses run one `[n, 3, H, W]` batch and return the raw output, `[n, 1 + P, D]`
 * (token sequence: the CLS row is token 0) or `[n, D]` (already pooled to CLS).
 */
export abstract class BaseBackbone implements Backbone {
  private disposed = false;

  protected constructor(readonly info: BackboneInfo) {}

  protected abstract run(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: readonly number[] }>;
  protected abstract release(): Promise<void>;

  async embed(input: readonly VideoFrame[] | Float32Array): Promise<Float32Array> {
    if (this.disposed) throw new Error(`the backbone ${this.info.source} is disposed`);
    const { pixels, n } = input instanceof Float32Array ? this.checkBatch(input) : this.toBatch(input);
    if (n === 0) return new Float32Array(0);
    const out = await this.run(pixels, n);
    return this.clsRows(out.data, out.dims, n);
  }

  private get pixelsPerImage(): number {
    return 3 * this.info.imageSize.width * this.info.imageSize.height;
  }

  private checkBatch(pixels: Float32Array): { pixels: Float32Array; n: number } {
    const per = this.pixelsPerImage;
    if (pixels.length % per !== 0) {
      const { width, height } = this.info.imageSize;
      throw new SignweaveInputError(`${this.info.source}: a preprocessed batch must hold N × 3 × ${height} × ${width} values, got ${pixels.length}`);
    }
    return { pixels, n: pixels.length / per };
  }

  private toBatch(frames: readonly VideoFrame[]): { pixels: Float32Array; n: number } {
    const { width, height } = this.info.imageSize;
    const config = this.info.preprocessing;
    const pixels = new Float32Array(frames.length * this.pixelsPerImage);
    frames.forEach((frame, i) => {
      const atSize = frame.width === width && frame.height === height;
      pixels.set((atSize ? frameToTensor(frame, config) : preprocessFrame(frame, config)).data, i * this.pixelsPerImage);
    });
    return { pixels, n: frames.length };
  }

  private clsRows(data: Float32Array, dims: readonly number[], n: number): Float32Array {
    const d = this.info.dim;
    const fail = (): never => {
      throw new SignweaveInputError(
        `${this.info.source}: output '${this.info.outputName}' is [${dims.join(', ')}] for ${n} images; [${n}, tokens, ${d}] or [${n}, ${d}] expected`,
      );
    };
    if (dims[0] !== n || dims[dims.length - 1] !== d) fail();
    if (dims.length === 2) return data;
    if (dims.length !== 3 || dims[1] < 1) fail();
    const tokens = dims[1];
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) out.set(data.subarray(i * tokens * d, i * tokens * d + d), i * d);
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
