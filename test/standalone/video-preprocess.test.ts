import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import type { VideoFrame } from '../../src/types.js';
import {
  cropFrame,
  decodeVideo,
  frameToTensor,
  loadImageProcessorConfig,
  parseImageProcessorConfig,
  preprocessFrame,
  preprocessGeometry,
  resizeAndCrop,
  resizeFrame,
} from '../../src/video/index.js';
import { collect, HOW2SIGN_CLIP, POSE_CLIP, SIGNMT_CLIP, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

const frameOf = (width: number, height: number, data: Uint8Array): VideoFrame => ({ index: 0, time: 0, width, height, data });

/** CLIP ViT-B/32's preprocessor_config.json as published (bicubic, shortest edge 224, 224 crop, CLIP mean/std). */
const CLIP_CONFIG = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { shortest_edge: 224 },
};

describe('resizeFrame reproduces Pillow', () => {
  /**
   * Pillow's own accuracy vectors (Tests/test_image_resample.py, TestImagingCoreResampleAccuracy): an image of two
   * dark and two bright squares, resized; `data` is the top-left quarter of the expected result, the rest mirrors it.
   */
  const makeCase = (size: number, color: number): VideoFrame => {
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const bright = (x < size / 2 && y < size / 2) || (x >= size / 2 && y >= size / 2);
        data.fill(bright ? color : 255 - color, (y * size + x) * 3, (y * size + x + 1) * 3);
      }
    }
    return frameOf(size, size, data);
  };
  const expected = (hex: string, size: number): Uint8Array => {
    const v = hex.split(' ').map((h) => parseInt(h, 16));
    const half = size / 2;
    const out = new Uint8Array(size * size);
    for (let y = 0; y < half; y++) {
      for (let x = 0; x < half; x++) {
        const val = v[y * half + x];
        out[y * size + x] = val;
        out[(size - y - 1) * size + (size - x - 1)] = val;
        out[(size - y - 1) * size + x] = 255 - val;
        out[y * size + (size - x - 1)] = 255 - val;
      }
    }
    return out;
  };
  const cases: [string, number, number, number, string][] = [
    ['reduce box', 8, 4, 4, 'e1 e1 e1 e1'],
    ['reduce bilinear', 8, 4, 2, 'e1 c9 c9 b7'],
    ['reduce hamming', 8, 4, 5, 'e1 da da d3'],
    ['reduce bicubic', 12, 6, 3, 'e1 e3 d4 e3 e5 d6 d4 d6 c9'],
    ['reduce lanczos', 16, 8, 1, 'e1 e0 e4 d7 e0 df e3 d6 e4 e3 e7 da d7 d6 d9 ce'],
    ['enlarge box', 2, 4, 4, 'e1 e1 e1 e1'],
    ['enlarge bilinear', 2, 4, 2, 'e1 b0 b0 98'],
    ['enlarge hamming', 2, 4, 5, 'e1 d2 d2 c5'],
    ['enlarge bicubic', 4, 8, 3, 'e1 e5 ee b9 e5 e9 f3 bc ee f3 fd c1 b9 bc c1 a2'],
    ['enlarge lanczos', 6, 12, 1, 'e1 e0 db ed f5 b8 e0 df da ec f3 b7 db db d6 e7 ee b5 ed ec e6 fb ff bf f5 f4 ee ff ff c4 b8 b7 b4 bf c4 a0'],
  ];
  for (const [name, inSize, outSize, resample, hex] of cases) {
    it(name, () => {
      const out = resizeFrame(makeCase(inSize, 0xe1), outSize, outSize, resample);
      const want = expected(hex, outSize);
      for (let c = 0; c < 3; c++) assert.deepEqual(out.data.filter((_, i) => i % 3 === c), want, `channel ${c}`);
    });
  }

  it('a flat colour stays flat through a 5× bicubic reduction (Pillow issue 2161)', () => {
    const data = new Uint8Array(1280 * 1280 * 3);
    for (let i = 0; i < data.length; i += 3) data.set([0x20, 0x40, 0x60], i);
    const out = resizeFrame(frameOf(1280, 1280, data), 256, 256, 3);
    for (let i = 0; i < out.data.length; i += 3) assert.deepEqual([out.data[i], out.data[i + 1], out.data[i + 2]], [0x20, 0x40, 0x60]);
  });

  it('one axis only, and a no-op size returns a copy', () => {
    const src = makeCase(8, 0xe1);
    const wide = resizeFrame(src, 4, 8, 2);
    assert.deepEqual([wide.width, wide.height, wide.data.length], [4, 8, 96]);
    const same = resizeFrame(src, 8, 8);
    assert.deepEqual(same.data, src.data);
    assert.notEqual(same.data, src.data);
  });
});

describe('image processor config', () => {
  it('a published CLIP config', () => {
    assert.deepEqual(parseImageProcessorConfig(CLIP_CONFIG), {
      resize: { shortestEdge: 224 },
      resample: 3,
      centerCrop: { height: 224, width: 224 },
      rescaleFactor: 0.00392156862745098,
      normalize: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
    });
  });

  it('steps switched off, defaults, square sizes', () => {
    assert.deepEqual(parseImageProcessorConfig({}), { resample: 2, rescaleFactor: 1 / 255 });
    assert.deepEqual(parseImageProcessorConfig({ do_resize: false, size: { height: 1, width: 1 }, do_rescale: false, crop_size: 200, image_mean: 0.5, image_std: 0.5 }), {
      resample: 2,
      centerCrop: { height: 200, width: 200 },
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
  });

  it('errors name the field', () => {
    const bad: [unknown, RegExp][] = [
      [[], /expected a JSON object/],
      [{ size: 224 }, /field "size" is a bare number \(224\), which Hugging Face processors read differently/],
      [{ size: { shortest_edge: 0 } }, /field "size\.shortest_edge" must be a positive integer, got 0/],
      [{ size: { shortest_edge: 224, longest_edge: 1333 } }, /field "size" must be \{"shortest_edge": N\} or \{"height": H, "width": W\}/],
      [{ size: { height: 224, width: '224' } }, /field "size\.width" must be a positive integer/],
      [{ do_resize: true }, /field "size" is required when do_resize is true/],
      [{ size: { shortest_edge: 8 }, resample: 7 }, /field "resample" must be a Pillow filter number 0–5/],
      [{ size: { shortest_edge: 8 }, resample: 0 }, /field "resample" is 0 \(nearest\)/],
      [{ do_center_crop: true }, /field "crop_size" must be N or \{"height": H, "width": W\} when do_center_crop is true/],
      [{ crop_size: { height: 2 } }, /field "crop_size" must be N or/],
      [{ rescale_factor: -1 }, /field "rescale_factor" must be a positive number/],
      [{ image_mean: [0.5, 0.5], image_std: [1, 1, 1] }, /field "image_mean" must be a number or a list of 3 numbers/],
      [{ image_mean: [0.5, 0.5, 0.5], image_std: [1, 0, 1] }, /field "image_std" must be positive/],
      [{ do_normalize: 'yes' }, /field "do_normalize" must be true or false/],
    ];
    for (const [raw, pattern] of bad) assert.throws(() => parseImageProcessorConfig(raw, 'cfg.json'), (err: Error) => err instanceof SignweaveInputError && pattern.test(err.message) && err.message.startsWith('cfg.json: '), JSON.stringify(raw));
  });

  it('from a file', () => {
    const good = join(tmp.dir, 'preprocessor_config.json');
    writeFileSync(good, JSON.stringify(CLIP_CONFIG));
    assert.equal(loadImageProcessorConfig(good).resample, 3);
    const broken = join(tmp.dir, 'broken.json');
    writeFileSync(broken, '{"size": ');
    assert.throws(() => loadImageProcessorConfig(broken), /image processor config .*broken\.json is not valid JSON/);
    assert.throws(() => loadImageProcessorConfig(join(tmp.dir, 'none.json')), /cannot read image processor config .*none\.json: no such file/);
  });
});

describe('geometry, crop and tensor, as transformers computes them', () => {
  const clip = parseImageProcessorConfig(CLIP_CONFIG);

  it('shortest edge, then center crop', () => {
    assert.deepEqual(preprocessGeometry(clip, 1280, 720), { resized: { width: 398, height: 224 }, crop: { x: 87, y: 0, width: 224, height: 224 }, width: 224, height: 224 });
    assert.deepEqual(preprocessGeometry(clip, 540, 720), { resized: { width: 224, height: 298 }, crop: { x: 0, y: 37, width: 224, height: 224 }, width: 224, height: 224 });
    const fixed = parseImageProcessorConfig({ size: { height: 100, width: 50 } });
    assert.deepEqual(preprocessGeometry(fixed, 1280, 720), { resized: { width: 50, height: 100 }, width: 50, height: 100 });
  });

  it('a crop larger than the image pads with zeros, centred as transformers pads', () => {
    const config = parseImageProcessorConfig({ crop_size: { height: 4, width: 5 } });
    // 3×2 image into 5×4: transformers pads ceil(2/2) = 1 column left and ceil(2/2) = 1 row on top
    assert.deepEqual(preprocessGeometry(config, 3, 2).crop, { x: -1, y: -1, width: 5, height: 4 });
    const img = frameOf(3, 2, Uint8Array.from({ length: 18 }, (_, i) => i + 1));
    const out = cropFrame(img, preprocessGeometry(config, 3, 2).crop!);
    const rows = Array.from({ length: 4 }, (_, y) => Array.from(out.data.subarray(y * 15, y * 15 + 15)).filter((_, i) => i % 3 === 0));
    assert.deepEqual(rows, [[0, 0, 0, 0, 0], [0, 1, 4, 7, 0], [0, 10, 13, 16, 0], [0, 0, 0, 0, 0]]);
  });

  it('frameToTensor: channels first, float32(v / 255), then (x − mean) / std in float32', () => {
    const img = frameOf(2, 1, Uint8Array.from([0, 128, 255, 10, 20, 30]));
    const config = parseImageProcessorConfig({ image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225] });
    const t = frameToTensor(img, config);
    assert.deepEqual(t.shape, [3, 1, 2]);
    const f = Math.fround;
    const want = [
      [0, 10],
      [128, 20],
      [255, 30],
    ].flatMap((px, c) => px.map((v) => f(f(f(v * (1 / 255)) - f([0.485, 0.456, 0.406][c])) / f([0.229, 0.224, 0.225][c]))));
    assert.deepEqual(Array.from(t.data), want);
    assert.ok(Math.abs(t.data[0] - -0.485 / 0.229) < 1e-6);
    assert.deepEqual(Array.from(frameToTensor(img, parseImageProcessorConfig({ do_rescale: false })).data), [0, 10, 128, 20, 255, 30]);
  });

  it('frameToTensor refuses a frame not at the model size', () => {
    assert.throws(() => frameToTensor(frameOf(8, 8, new Uint8Array(192)), clip), /frame 0 is 8x8 but the image processor config makes 224x224 inputs/);
  });
});

describe('ffmpeg preprocessing agrees with the TypeScript path on real frames', () => {
  /** Decodes one frame both ways and compares bytes; `border` is the band of the resized image Pillow treats differently. */
  async function compare(path: string, time: number, raw: object) {
    const config = parseImageProcessorConfig(raw);
    const [viaFfmpeg] = await collect(decodeVideo(path, { start: time, end: time + 0.03, preprocess: config }));
    const [full] = await collect(decodeVideo(path, { start: time, end: time + 0.03 }));
    const viaTs = resizeAndCrop(full, config);
    assert.deepEqual([viaFfmpeg.width, viaFfmpeg.height, viaFfmpeg.time], [viaTs.width, viaTs.height, full.time]);
    let same = 0;
    let withinOne = 0;
    let max = 0;
    for (let i = 0; i < viaTs.data.length; i++) {
      const d = Math.abs(viaFfmpeg.data[i] - viaTs.data[i]);
      if (d === 0) same++;
      if (d <= 1) withinOne++;
      max = Math.max(max, d);
    }
    const n = viaTs.data.length;
    const tensorA = frameToTensor(viaFfmpeg, config);
    const tensorB = preprocessFrame(full, config);
    let tensorMax = 0;
    for (let i = 0; i < tensorA.data.length; i++) tensorMax = Math.max(tensorMax, Math.abs(tensorA.data[i] - tensorB.data[i]));
    return { same: same / n, withinOne: withinOne / n, max, tensorMax, shape: tensorB.shape };
  }

  it('How2Sign 1280×720 → CLIP (bicubic) and ViT-style bilinear inputs', async () => {
    const bicubic = await compare(HOW2SIGN_CLIP, 1, CLIP_CONFIG);
    assert.deepEqual(bicubic.shape, [3, 224, 224]);
    assert.ok(bicubic.same > 0.8 && bicubic.withinOne > 0.98 && bicubic.max <= 6, JSON.stringify(bicubic));
    const bilinear = await compare(HOW2SIGN_CLIP, 1, { ...CLIP_CONFIG, resample: 2 });
    assert.ok(bilinear.same > 0.85 && bilinear.withinOne > 0.99 && bilinear.max <= 8, JSON.stringify(bilinear));
    // 8 levels / 255 / the smallest std
    assert.ok(bilinear.tensorMax <= 8 / 255 / 0.2613 + 1e-6, JSON.stringify(bilinear));
  });

  it('portrait full-range clip, and an enlargement (320×240 → shortest edge 256)', async () => {
    const portrait = await compare(POSE_CLIP, 0.5, { ...CLIP_CONFIG, resample: 2 });
    assert.ok(portrait.same > 0.8 && portrait.withinOne > 0.99 && portrait.max <= 8, JSON.stringify(portrait));
    const up = await compare(SIGNMT_CLIP, 1, { ...CLIP_CONFIG, resample: 2, size: { shortest_edge: 256 }, crop_size: 256 });
    assert.ok(up.same > 0.85 && up.withinOne > 0.99 && up.max <= 4, JSON.stringify(up));
  });

  it('a crop larger than the frame pads with black in ffmpeg too', async () => {
    const pad = await compare(SIGNMT_CLIP, 1, { do_resize: false, crop_size: { height: 300, width: 330 } });
    assert.deepEqual([pad.same, pad.max], [1, 0]);
  });

  it('filters without an ffmpeg kernel are refused for the ffmpeg path', async () => {
    const config = parseImageProcessorConfig({ ...CLIP_CONFIG, resample: 5 });
    await assert.rejects(collect(decodeVideo(SIGNMT_CLIP, { preprocess: config })), /resample 5 \(hamming\) has no ffmpeg equivalent: decode without the preprocess option and call preprocessFrame/);
    assert.throws(() => decodeVideo(SIGNMT_CLIP, { preprocess: config, maxSide: 100 }), /preprocess sets the frame size itself: drop maxSide/);
  });
});
