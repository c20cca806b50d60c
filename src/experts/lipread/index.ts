/**
 * The lipreading expert: mouth crops → phoneme CTC logits at a lower frame rate (the bundle's temporalStride) →
 * decoded phonemes, timed in seconds of the input video.
 */
import { loadBundle } from '../../bundles/loader.js';
import type { LipCropsInput } from '../../bundles/schema.js';
import { SignweaveInputError } from '../../errors.js';
import { float32, type HostTensor } from '../../graph/tensor.js';
import type { LipCrop } from '../../landmarks/types.js';
import { CtcExpert, type DecodeOptions, type ExpertLoadOptions, type ExpertResult } from '../shared.js';

export { buildLipreadModel, LIPREAD_VOCAB, LIPS_INPUT, type LipreadModelOptions } from './model.js';

/**
 * `frames` mouth crops, row-major `[frames, size, size, channels]`: bytes (normalised here with the bundle's mean
 * and std) or float32 already normalised. `missing[t]` marks frames without a face; their values are ignored.
 */
export interface LipCrops {
  data: Uint8Array | Float32Array;
  frames: number;
  fps: number;
  missing?: readonly boolean[];
}

/** Packs src/landmarks' per-frame crops (a frame without a face has no data) into one `LipCrops`. */
export function packLipCrops(crops: readonly LipCrop[], fps: number): LipCrops {
  if (crops.length === 0) throw new SignweaveInputError('lip crops: no frames');
  const { size, channels } = crops[0];
  const frameSize = size * size * channels;
  const data = new Uint8Array(crops.length * frameSize);
  const missing = crops.map((c, t) => {
    if (c.size !== size || c.channels !== channels) {
      throw new SignweaveInputError(`lip crops: frame ${t} is ${c.size}×${c.size}×${c.channels}, frame 0 is ${size}×${size}×${channels}`);
    }
    if (!c.data) return true;
    if (c.data.length !== frameSize) throw new SignweaveInputError(`lip crops: frame ${t} has ${c.data.length} bytes, ${size}×${size}×${channels} needs ${frameSize}`);
    data.set(c.data, t * frameSize);
    return false;
  });
  return { data, frames: crops.length, fps, missing };
}

/**
 * The network's input `[frames, size, size, channels]`: bytes become `(v / 255 − mean[c]) / std[c]`, float32 is taken
 * as normalised; missing frames are zeros (the mean colour). `where` names the bundle in errors.
 */
export function normalizeLipCrops(crops: LipCrops, input: LipCropsInput, where: string): { tensor: HostTensor & { dtype: 'float32' }; missingFrames: number[] } {
  const { size, channels, mean, std } = input;
  const { frames, data } = crops;
  const frameSize = size * size * channels;
  if (data.length !== frames * frameSize) {
    throw new SignweaveInputError(`${where}: input.size is ${size} and input.channels ${channels}, so ${frames} frames need ${frames * frameSize} values; the crops have ${data.length}`);
  }
  if (crops.missing && crops.missing.length !== frames) throw new SignweaveInputError(`lip crops: missing has ${crops.missing.length} entries for ${frames} frames`);
  const missingFrames = crops.missing ? crops.missing.flatMap((m, t) => (m ? [t] : [])) : [];
  const out = new Float32Array(data.length);
  const scale = std.map((s) => 1 / (255 * s));
  const shift = mean.map((m, c) => m / std[c]);
  for (let t = 0; t < frames; t++) {
    if (crops.missing?.[t]) continue;
    const off = t * frameSize;
    if (data instanceof Float32Array) out.set(data.subarray(off, off + frameSize), off);
    else for (let i = 0; i < frameSize; i++) out[off + i] = data[off + i] * scale[i % channels] - shift[i % channels];
  }
  return { tensor: float32(out, [frames, size, size, channels]), missingFrames };
}

export class LipreadExpert extends CtcExpert<'lipread'> {
  static async load(dir: string, options: ExpertLoadOptions = {}): Promise<LipreadExpert> {
    return new LipreadExpert(await loadBundle(dir, { ...options, expectKind: 'lipread' }));
  }

  /** Phonemes of the crops; token times come from the output frames (fps / temporalStride), `missingFrames` lists faceless frames. */
  async run(crops: LipCrops, options: DecodeOptions = {}): Promise<ExpertResult<'lipread'>> {
    this.checkFrames(crops.frames, crops.fps);
    const { tensor, missingFrames } = normalizeLipCrops(crops, this.bundle.manifest.input, `bundle ${this.bundle.dir}`);
    return this.decode(tensor, crops.frames, crops.fps, options, missingFrames);
  }
}
