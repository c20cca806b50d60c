/**
 * Frames → model input, the way a Hugging Face image processor (`preprocessor_config.json`, the PIL-based "slow"
 * processors: ViT, CLIP, VideoMAE, DINOv2…) does it: resize (shortest edge to N, or to H×W), center crop, rescale,
 * normalise, channels first.
 *
 * Two paths give the same pixels: `preprocessFrame` here works on frames already decoded (resampling exactly as
 * Pillow does, fixed-point arithmetic included), and `decodeVideo(path, { preprocess })` has ffmpeg do the resize and
 * crop while decoding (`ffmpegPreprocessFilter`), so full-size frames never reach JavaScript. Either way
 * `frameToTensor` then rescales and normalises.
 */
import { SignweaveInputError } from '../errors.js';
import type { VideoFrame } from '../types.js';
import { readJsonFile } from '../util/text-files.js';

/** Pillow's resampling filters by their `Image.Resampling` number, as `resample` stores them in HF configs. */
export const RESAMPLE_FILTERS = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' } as const;

/** A validated image-processor configuration; each step is absent when the config turns it off. */
export interface ImageProcessorConfig {
  resize?: { shortestEdge: number } | { height: number; width: number };
  /** Pillow filter number (`RESAMPLE_FILTERS`); 2 (bilinear) when the config does not say. */
  resample: number;
  centerCrop?: { height: number; width: number };
  rescaleFactor?: number;
  normalize?: { mean: [number, number, number]; std: [number, number, number] };
}

/** A model input: float32, channels first (`[3, H, W]`, R then G then B planes). */
export interface ImageTensor {
  data: Float32Array;
  shape: [3, number, number];
}

/** Where the resize and crop of one input size lead: the crop box is in resized coordinates and may reach outside it. */
export interface PreprocessGeometry {
  /** Size after the resize step (the input size when there is none). */
  resized: { width: number; height: number };
  /** Crop box (HF `center_crop`: negative x/y or a box past the edge means zero padding); absent without a crop step. */
  crop?: { x: number; y: number; width: number; height: number };
  /** Final frame size. */
  width: number;
  height: number;
}

type Json = Record<string, unknown>;

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Validates a `preprocessor_config.json`-like object. Keys it does not use (`image_processor_type`, …) are ignored.
 * A step whose `do_*` flag is absent is on when its parameters are present (`size`, `crop_size`, `image_mean`/
 * `image_std`); rescaling is on by default with factor 1/255, as in every HF image processor.
 */
export function parseImageProcessorConfig(raw: unknown, source = 'image processor config'): ImageProcessorConfig {
  const fail = (field: string, why: string): never => {
    throw new SignweaveInputError(`${source}: field "${field}" ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SignweaveInputError(`${source}: expected a JSON object`);
  }
  const c = raw as Json;
  const flag = (field: string, fallback: boolean): boolean => {
    const v = c[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  };

  const config: ImageProcessorConfig = { resample: 2 };

  if (flag('do_resize', c.size !== undefined)) {
    const size = c.size;
    if (size === undefined) fail('size', 'is required when do_resize is true');
    if (typeof size === 'number') {
      fail('size', `is a bare number (${size}), which Hugging Face processors read differently (ViT as {"height","width"}, CLIP as {"shortest_edge"}); write {"shortest_edge": ${size}} or {"height": ${size}, "width": ${size}}`);
    }
    const s = size as Json;
    if (typeof s !== 'object' || s === null) fail('size', `must be {"shortest_edge": N} or {"height": H, "width": W}, got ${JSON.stringify(size)}`);
    const keys = Object.keys(s).sort().join(',');
    if (keys === 'shortest_edge') {
      if (!isPositiveInt(s.shortest_edge)) fail('size.shortest_edge', `must be a positive integer, got ${JSON.stringify(s.shortest_edge)}`);
      config.resize = { shortestEdge: s.shortest_edge as number };
    } else if (keys === 'height,width') {
      if (!isPositiveInt(s.height)) fail('size.height', `must be a positive integer, got ${JSON.stringify(s.height)}`);
      if (!isPositiveInt(s.width)) fail('size.width', `must be a positive integer, got ${JSON.stringify(s.width)}`);
      config.resize = { height: s.height as number, width: s.width as number };
    } else {
      fail('size', `must be {"shortest_edge": N} or {"height": H, "width": W}, got ${JSON.stringify(size)}`);
    }
    const resample = c.resample ?? 2;
    if (!Number.isInteger(resample) || !((resample as number) in RESAMPLE_FILTERS)) {
      fail('resample', `must be a Pillow filter number 0–5 (${Object.entries(RESAMPLE_FILTERS).map(([k, v]) => `${k} ${v}`).join(', ')}), got ${JSON.stringify(resample)}`);
    }
    if (resample === 0) {
      fail('resample', 'is 0 (nearest), which signweave does not reproduce; use 2 (bilinear) or 3 (bicubic)');
    }
    config.resample = resample as number;
  }

  if (flag('do_center_crop', c.crop_size !== undefined)) {
    const crop = c.crop_size;
    // A bare number is unambiguous here: every HF processor reads crop_size with default_to_square=True.
    if (isPositiveInt(crop)) {
      config.centerCrop = { height: crop, width: crop };
    } else if (typeof crop === 'object' && crop !== null && Object.keys(crop).sort().join(',') === 'height,width') {
      const { height, width } = crop as Json;
      if (!isPositiveInt(height)) fail('crop_size.height', `must be a positive integer, got ${JSON.stringify(height)}`);
      if (!isPositiveInt(width)) fail('crop_size.width', `must be a positive integer, got ${JSON.stringify(width)}`);
      config.centerCrop = { height: height as number, width: width as number };
    } else {
      fail('crop_size', `must be N or {"height": H, "width": W}${crop === undefined ? ' when do_center_crop is true' : `, got ${JSON.stringify(crop)}`}`);
    }
  }

  if (flag('do_rescale', true)) {
    const factor = c.rescale_factor ?? 1 / 255;
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0) fail('rescale_factor', `must be a positive number, got ${JSON.stringify(factor)}`);
    config.rescaleFactor = factor as number;
  }

  if (flag('do_normalize', c.image_mean !== undefined || c.image_std !== undefined)) {
    const triple = (field: string, positive: boolean): [number, number, number] => {
      const v = c[field];
      const values = typeof v === 'number' ? [v, v, v] : v;
      if (!Array.isArray(values) || values.length !== 3 || !values.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        fail(field, `must be a number or a list of 3 numbers (R, G, B)${v === undefined ? ' when do_normalize is true' : `, got ${JSON.stringify(v)}`}`);
      }
      if (positive && (values as number[]).some((x) => x <= 0)) fail(field, `must be positive, got ${JSON.stringify(v)}`);
      return values as [number, number, number];
    };
    config.normalize = { mean: triple('image_mean', false), std: triple('image_std', true) };
  }
  return config;
}

/** Reads and validates a `preprocessor_config.json` file. */
export function loadImageProcessorConfig(path: string): ImageProcessorConfig {
  return parseImageProcessorConfig(readJsonFile(path, 'image processor config').data, `image processor config ${path}`);
}

/** The resize and crop a config applies to a `width`×`height` input, computed as HF's processors compute them. */
export function preprocessGeometry(config: ImageProcessorConfig, width: number, height: number): PreprocessGeometry {
  let resized = { width, height };
  const r = config.resize;
  if (r && 'shortestEdge' in r) {
    // transformers' get_resize_output_image_size: the short side becomes N, the long side int(N * long / short).
    const long = Math.trunc((r.shortestEdge * Math.max(width, height)) / Math.min(width, height));
    resized = width <= height ? { width: r.shortestEdge, height: long } : { width: long, height: r.shortestEdge };
  } else if (r) {
    resized = { width: r.width, height: r.height };
  }
  const c = config.centerCrop;
  if (!c) return { resized, width: resized.width, height: resized.height };
  // transformers' center_crop: top = (h - crop_h) // 2. When the crop is larger, HF pads ceil((crop_h - h) / 2) rows of
  // zeros above first, which is the same box: floor((h - crop_h) / 2) = -ceil((crop_h - h) / 2).
  const crop = { x: Math.floor((resized.width - c.width) / 2), y: Math.floor((resized.height - c.height) / 2), width: c.width, height: c.height };
  return { resized, crop, width: c.width, height: c.height };
}

type Kernel = (x: number) => number;

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI));
const F054 = Math.fround(0.54);
const F046 = Math.fround(0.46);

/** Pillow's filters (libImaging/Resample.c) with their support. */
const KERNELS: Record<number, { kernel: Kernel; support: number }> = {
  1: { kernel: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0), support: 3 },
  2: { kernel: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0), support: 1 },
  3: {
    kernel: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
    support: 2,
  },
  4: { kernel: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  5: {
    kernel: (x) => {
      x = Math.abs(x);
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (F054 + F046 * Math.cos(x));
    },
    support: 1,
  },
};

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, the first input pixel and fixed-point weights. */
function coefficients(inSize: number, outSize: number, filter: { kernel: Kernel; support: number }): { ksize: number; bounds: Int32Array; k: Int32Array } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = filter.kernel((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, k };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes packed RGB24 exactly as Pillow's `Image.resize` with a resampling filter does (two passes, horizontal first,
 * 8-bit rounding between them, antialiasing when shrinking), so frames match what HF processors feed their models.
 */
export function resizeFrame(frame: VideoFrame, width: number, height: number, resample = 2): VideoFrame {
  const filter = KERNELS[resample];
  if (!filter) throw new SignweaveInputError(`resample ${resample} is not a supported Pillow filter (1–5)`);
  if (!isPositiveInt(width) || !isPositiveInt(height)) throw new SignweaveInputError(`cannot resize frame ${frame.index} to ${width}x${height}`);
  if (width === frame.width && height === frame.height) return { ...frame, data: frame.data.slice() };
  const src = frame.data;
  const inW = frame.width;
  const vert = coefficients(frame.height, height, filter);
  const needHorizontal = width !== inW;
  const needVertical = height !== frame.height;

  // Horizontal pass over only the rows the vertical pass reads (Pillow's ybox_first … ybox_last).
  let tmp = src;
  let tmpRowOffset = 0;
  if (needHorizontal) {
    const yFirst = vert.bounds[0];
    const yLast = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
    const rows = needVertical ? yLast - yFirst : frame.height;
    const rowStart = needVertical ? yFirst : 0;
    const { ksize, bounds, k } = coefficients(inW, width, filter);
    tmp = new Uint8Array(width * rows * 3);
    const half = 1 << (PRECISION_BITS - 1);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + rowStart) * inW * 3;
      const outRow = y * width * 3;
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const kOff = xx * ksize;
        let s0 = half;
        let s1 = half;
        let s2 = half;
        let p = inRow + xmin * 3;
        for (let x = 0; x < xmax; x++, p += 3) {
          const w = k[kOff + x];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
        }
        const o = outRow + xx * 3;
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
      }
    }
    tmpRowOffset = rowStart;
  }
  if (!needVertical) return { index: frame.index, time: frame.time, width, height, data: tmp };

  const out = new Uint8Array(width * height * 3);
  const { ksize, bounds, k } = vert;
  const half = 1 << (PRECISION_BITS - 1);
  const stride = width * 3;
  for (let yy = 0; yy < height; yy++) {
    const ymin = bounds[yy * 2] - tmpRowOffset;
    const ymax = bounds[yy * 2 + 1];
    const kOff = yy * ksize;
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) {
      let s = half;
      let p = ymin * stride + i;
      for (let y = 0; y < ymax; y++, p += stride) s += tmp[p] * k[kOff + y];
      out[outRow + i] = clip8(s);
    }
  }
  return { index: frame.index, time: frame.time, width, height, data: out };
}

/** Crops `box` out of a frame; parts of the box outside the frame are black (HF `center_crop`'s zero padding). */
export function cropFrame(frame: VideoFrame, box: { x: number; y: number; width: number; height: number }): VideoFrame {
  const out = new Uint8Array(box.width * box.height * 3);
  const x0 = Math.max(0, box.x);
  const x1 = Math.min(frame.width, box.x + box.width);
  for (let y = Math.max(0, box.y); y < Math.min(frame.height, box.y + box.height); y++) {
    if (x1 <= x0) break;
    out.set(frame.data.subarray((y * frame.width + x0) * 3, (y * frame.width + x1) * 3), ((y - box.y) * box.width + (x0 - box.x)) * 3);
  }
  return { index: frame.index, time: frame.time, width: box.width, height: box.height, data: out };
}

/** The resize and center crop of a config, in TypeScript, on a frame already decoded: the result is still RGB24. */
export function resizeAndCrop(frame: VideoFrame, config: ImageProcessorConfig): VideoFrame {
  const g = preprocessGeometry(config, frame.width, frame.height);
  const resized = resizeFrame(frame, g.resized.width, g.resized.height, config.resample);
  return g.crop ? cropFrame(resized, g.crop) : resized;
}

/**
 * Rescales and normalises a frame already at the model's size into a `[3, H, W]` float32 tensor, with HF's arithmetic:
 * `float32(pixel × factor)` (computed in float64), then `(x − mean) / std` in float32.
 */
export function frameToTensor(frame: VideoFrame, config: ImageProcessorConfig): ImageTensor {
  const fixed = config.centerCrop ?? (config.resize && 'height' in config.resize ? config.resize : undefined);
  if (fixed && (frame.width !== fixed.width || frame.height !== fixed.height)) {
    throw new SignweaveInputError(
      `frame ${frame.index} is ${frame.width}x${frame.height} but the image processor config makes ${fixed.width}x${fixed.height} inputs: resize it first (preprocessFrame) or decode with the preprocess option`,
    );
  }
  const { width, height, data } = frame;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    // Per channel, a pixel's value depends only on its byte: a 256-entry table makes the loop a lookup.
    const table = new Float32Array(256);
    const mean = Math.fround(config.normalize?.mean[c] ?? 0);
    const std = Math.fround(config.normalize?.std[c] ?? 1);
    for (let v = 0; v < 256; v++) {
      let x = config.rescaleFactor === undefined ? v : Math.fround(v * config.rescaleFactor);
      if (config.normalize) x = Math.fround(Math.fround(x - mean) / std);
      table[v] = x;
    }
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = table[data[i * 3 + c]];
  }
  return { data: out, shape: [3, height, width] };
}

/** The whole HF pipeline on one decoded frame: resize, center crop, rescale, normalise, channels first. */
export function preprocessFrame(frame: VideoFrame, config: ImageProcessorConfig): ImageTensor {
  return frameToTensor(resizeAndCrop(frame, config), config);
}

/**
 * swscale's kernel for each Pillow filter. They are not bit-identical: swscale keeps 15-bit intermediates where Pillow
 * rounds to 8 bits between passes, its bicubic is Mitchell–Netravali B = 0, C = 0.6 against Pillow's a = −0.5 (the
 * scale filter's param0/param1 do not set C reliably in ffmpeg 5.1), and at the image border swscale repeats the edge
 * pixel where Pillow renormalises the truncated kernel. Measured on a How2Sign frame, 1280×720 → 398×224: interior
 * within ±2 (bilinear), ±4 (bicubic), ±3 (lanczos), ~90 % of bytes identical; border pixels within ±6.
 */
const FFMPEG_SCALERS: Record<number, string> = { 1: 'lanczos', 2: 'bilinear', 3: 'bicubic' };

/**
 * The ffmpeg filter chain (after conversion to RGB24) that resizes and crops a `width`×`height` picture as `config`
 * does; `decodeVideo` appends it when given `preprocess`.
 */
export function ffmpegPreprocessFilter(config: ImageProcessorConfig, width: number, height: number): string {
  const g = preprocessGeometry(config, width, height);
  const filters: string[] = [];
  if (g.resized.width !== width || g.resized.height !== height) {
    const scaler = FFMPEG_SCALERS[config.resample];
    if (!scaler) {
      throw new SignweaveInputError(
        `resample ${config.resample} (${RESAMPLE_FILTERS[config.resample as keyof typeof RESAMPLE_FILTERS]}) has no ffmpeg equivalent: decode without the preprocess option and call preprocessFrame`,
      );
    }
    filters.push(`scale=${g.resized.width}:${g.resized.height}:flags=${scaler}`);
  }
  if (g.crop) {
    const { x, y } = g.crop;
    if (x < 0 || y < 0) {
      // A box reaching outside the picture: pad with black so the canvas holds both, then crop from the canvas.
      const offX = Math.max(0, -x);
      const offY = Math.max(0, -y);
      const padW = Math.max(offX + g.resized.width, offX + x + g.crop.width);
      const padH = Math.max(offY + g.resized.height, offY + y + g.crop.height);
      filters.push(`pad=${padW}:${padH}:${offX}:${offY}:black`);
    }
    filters.push(`crop=${g.crop.width}:${g.crop.height}:${Math.max(0, x)}:${Math.max(0, y)}`);
  }
  return filters.join(',');
}
