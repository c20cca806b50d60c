/**
 * MediaPipe landmark speed end to end from Node, decoding included: a How2Sign clip (102 frames, 1280×720) decoded by
 * ffmpeg straight to 640×480 (the size ../shared/design/notes.md measured: ≈31 ms/frame face, ≈86 ms/frame
 * hands end to end), then through LandmarkExtractor.run() in headless Chromium (CPU delegate):
 * - decode only (the baseline stage, timed in the same run);
 * - face; hands; face + hands; face + lip crops (96×96, smoothed, cropped in Node);
 * - each with pipelining off (1 frame in flight) and on (2): with overlap, end-to-end time per frame should approach
 *   the slowest stage (detection in the page) instead of the sum of decoding, transfer and detection — as far as a
 *   free core allows: detection (single-threaded wasm) holds one core, and decoding, Node and the page's frame
 *   worker (fetching each 0.9 MB frame over HTTP and widening it to RGBA) share the other. The load average before
 *   and after is printed.
 * Every pass is a new run() (a new video stream: fresh VIDEO-mode landmarkers), as for a real video.
 *
 *   node --import tsx bench/landmarks.ts [--runs 3] [--json]
 */
import { loadavg } from 'node:os';
import { LandmarkExtractor, type LandmarkExtractorOptions } from '../src/landmarks/extractor.js';
import { extractLipCrops } from '../src/landmarks/lips.js';
import type { FrameLandmarks } from '../src/landmarks/types.js';
import { decodeVideo } from '../src/video/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport, timeRunsAsync } from './harness.js';

const args = benchArgs();
const loadBefore = Number(loadavg()[0].toFixed(2));
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const SIZE = { width: 640, height: 480 };
const model = (file: string) => ({ modelPath: sharedPath('models', 'mediapipe', file) });
const frames = () => decodeVideo(clip, SIZE);

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const decode = await timeRunsAsync(async () => {
  let n = 0;
  for await (const _frame of frames()) n++;
  return n;
}, args.runs);
const frameCount = decode.value;
const decodeMs = (decode.medianSeconds * 1000) / frameCount;

type Row = Record<string, string | number>;
const rows: Row[] = [{ case: 'decode only (baseline)', 'in flight': '-', 'ms/frame': round(decodeMs), 'frames/s': round(1000 / decodeMs) }];

const pageTime = (r: FrameLandmarks): number => r.timings.image + r.timings.face + r.timings.hands + r.timings.pose;

/** Seconds of one call. */
async function seconds<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function bench(name: string, options: LandmarkExtractorOptions, lips: boolean): Promise<void> {
  await using extractor = await LandmarkExtractor.create(options);
  const pass = async (inFlight: number): Promise<FrameLandmarks[]> => {
    const out: FrameLandmarks[] = [];
    if (lips) for await (const { landmarks } of extractLipCrops(extractor, frames(), { inFlight, size: 96 })) out.push(landmarks);
    else for await (const landmarks of extractor.run(frames(), { inFlight })) out.push(landmarks);
    return out;
  };
  const modes = [1, 2];
  // Warm-up, then the two modes alternate, so a change in the machine's load touches both alike.
  for (const inFlight of modes) await pass(inFlight);
  const timed = new Map(modes.map((m) => [m, [] as { value: FrameLandmarks[]; seconds: number }[]]));
  for (let r = 0; r < args.runs; r++) for (const inFlight of modes) timed.get(inFlight)!.push(await seconds(() => pass(inFlight)));
  for (const inFlight of modes) {
    const runs = timed.get(inFlight)!;
    const value = runs[0].value;
    const ms = (median(runs.map((t) => t.seconds)) * 1000) / value.length;
    // Time the page spends on a frame (after the first, which also creates the stream's landmarkers).
    const pageMs = median(runs.flatMap((t) => t.value.slice(1).map(pageTime)));
    const slowest = Math.max(pageMs, decodeMs);
    // With one frame in flight, a frame's round trip minus its page time is the cost of moving it: the HTTP transfer
    // to the page's frame worker and its widening to RGBA (off the page's thread: with 2 in flight it overlaps the
    // detection of the frame before), the WebSocket reply and the decoding of it.
    const transferMs = inFlight === 1 ? round(median(runs.flatMap((t) => t.value.slice(1).map((r) => r.timings.roundTrip - pageTime(r))))) : '-';
    rows.push({
      case: name,
      'in flight': inFlight,
      'ms/frame': round(ms),
      'frames/s': round(1000 / ms),
      'page ms/frame': round(pageMs),
      'transfer ms/frame': transferMs,
      'decode + page': round(decodeMs + pageMs),
      '× slowest stage': round(ms / slowest, 2),
      faces: `${value.filter((r) => r.face).length}/${value.length}`,
    });
  }
}

await bench('face', { face: model('face_landmarker.task') }, false);
// Hands alone is what notes.md timed as "hand landmarks" (≈69 ms in the page, ≈86 end to end).
await bench('hands', { hands: model('hand_landmarker_rebuilt.task') }, false);
await bench('face + hands', { face: model('face_landmarker.task'), hands: model('hand_landmarker_rebuilt.task') }, false);
await bench('face + lip crops', { face: model('face_landmarker.task') }, true);

// The load average says whether other work shared the CPUs while this ran (the figures assume it did not).
const setup = { clip: '_0fO5ETSwyg_0-5-rgb_front.mp4', frames: frameCount, input: `${SIZE.width}x${SIZE.height}`, runs: args.runs, loadBefore, loadAfter: round(loadavg()[0], 2) };
printReport('landmarks', setup, rows, args.json);
