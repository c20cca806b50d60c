/**
 * Video decoding speed and memory:
 * - ms per frame decoding a How2Sign clip (1280×720, 24 fps, 102 frames) at full size, at maxSide 640, and as
 *   224×224 CLIP model input (ffmpeg resizes and crops, `frameToTensor` normalises); also the all-TypeScript
 *   preprocessing of full-size frames (`preprocessFrame`) on the first second, to show why ffmpeg does the resize;
 * - baselines timed in the same run as child processes: ffmpeg with our exact command line but `-f null -` instead of
 *   the rawvideo pipe (the ratio is our pipe + JavaScript overhead), and plain `ffmpeg -i clip -f null -` (decoding
 *   alone);
 * - a long synthetic video (testsrc2 640×480 25 fps, 10 minutes by default, made once in the temp folder): ms per
 *   frame and RSS sampled every 250 frames (start / peak / end), to show memory stays flat however long the video.
 *
 *   node --import tsx bench/video.ts [--runs 5] [--json]      (SIGNWEAVE_BENCH_VIDEO_MINUTES=60 for an hour)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeVideo, frameToTensor, parseImageProcessorConfig, preprocessFrame, probeVideo, type DecodeOptions } from '../src/video/index.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, printReport, timeRunsAsync } from './harness.js';

const args = benchArgs();
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const MB = 1024 * 1024;

/** CLIP ViT-B/32's published preprocessor_config.json. */
const clipConfig = parseImageProcessorConfig({
  size: { shortest_edge: 224 },
  crop_size: { height: 224, width: 224 },
  resample: 3,
  rescale_factor: 1 / 255,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
});

function runFfmpeg(ffmpegArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ffmpegArgs, { stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${ffmpegArgs.join(' ')} exited with ${code}`))));
  });
}

/** Our command line with the rawvideo pipe output swapped for the null muxer. */
function nullBaseline(decoderArgs: string[]): string[] {
  const i = decoderArgs.indexOf('-f', decoderArgs.indexOf('-vf'));
  return [...decoderArgs.slice(0, i), '-f', 'null', '-'];
}

const info = await probeVideo(clip);
const probeMs = (await timeRunsAsync(() => probeVideo(clip), args.runs)).medianSeconds * 1000;
const decodeOnly = (await timeRunsAsync(() => runFfmpeg(['-nostdin', '-v', 'error', '-i', clip, '-f', 'null', '-']), args.runs)).medianSeconds;

type Row = Record<string, string | number>;
const rows: Row[] = [];

async function benchCase(name: string, options: DecodeOptions, perFrame?: (frame: Parameters<typeof frameToTensor>[0]) => void): Promise<void> {
  const decoder = decodeVideo(clip, { ...options, info });
  const target = await decoder.open();
  await decoder.dispose();
  const decode = await timeRunsAsync(async () => {
    let n = 0;
    for await (const frame of decodeVideo(clip, { ...options, info })) {
      perFrame?.(frame);
      n++;
    }
    return n;
  }, args.runs);
  const frames = decode.value;
  const baseline = (await timeRunsAsync(() => runFfmpeg(nullBaseline(target.args)), args.runs)).medianSeconds;
  const msPerFrame = (decode.medianSeconds * 1000) / frames;
  const clipFrames = info.frameCount ?? frames;
  rows.push({
    case: name,
    size: `${target.width}x${target.height}`,
    frames,
    'ms/frame': round(msPerFrame, 2),
    'frames/s': Math.round(1000 / msPerFrame),
    'same cmd -f null ms/frame': round((baseline * 1000) / frames, 2),
    '× same cmd -f null': round(decode.medianSeconds / baseline, 2),
    '× decode only': round(msPerFrame / ((decodeOnly * 1000) / clipFrames), 2),
  });
}

await benchCase('full size', {});
await benchCase('maxSide 640', { maxSide: 640 });
await benchCase('CLIP 224 (ffmpeg resize+crop) + frameToTensor', { preprocess: clipConfig }, (f) => frameToTensor(f, clipConfig));
await benchCase('full size + preprocessFrame in TS, first 1 s', { end: 1 }, (f) => preprocessFrame(f, clipConfig));

// The long video: made once (x264 ultrafast writes it at ~45× real time here), then decoded with RSS sampling.
const minutes = Number(process.env.SIGNWEAVE_BENCH_VIDEO_MINUTES ?? 10);
const long = join(tmpdir(), `signweave-bench-testsrc2-640x480-25fps-${minutes}min.mp4`);
if (!existsSync(long)) {
  const made = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=25', '-t', String(minutes * 60), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', `${long}.tmp.mp4`]);
  if (made.status !== 0) throw new Error(`could not make ${long}: ${made.stderr.toString()}`);
  spawnSync('mv', [`${long}.tmp.mp4`, long]);
}
const rssBefore = process.memoryUsage().rss;
const samples: number[] = [];
let longFrames = 0;
let checksum = 0;
const t0 = process.hrtime.bigint();
for await (const frame of decodeVideo(long)) {
  checksum = (checksum + frame.data[frame.data.length >> 1]) & 0xffff;
  if (longFrames % 250 === 0) samples.push(process.memoryUsage().rss);
  longFrames++;
}
const longSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
samples.push(process.memoryUsage().rss);
const longStart = Date.now();
await runFfmpeg(['-nostdin', '-v', 'error', '-i', long, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', '/dev/null']);
const longDevNull = (Date.now() - longStart) / 1000;
rows.push({
  case: `${minutes} min testsrc2 640x480 25 fps`,
  size: '640x480',
  frames: longFrames,
  'ms/frame': round((longSeconds * 1000) / longFrames, 2),
  'frames/s': Math.round(longFrames / longSeconds),
  'same cmd -f null ms/frame': '',
  '× same cmd -f null': '',
  '× decode only': '',
});

const memory = {
  rssBeforeMB: round(rssBefore / MB, 1),
  rssStartMB: round(samples[0] / MB, 1),
  rssPeakMB: round(Math.max(...samples) / MB, 1),
  rssEndMB: round(samples[samples.length - 1] / MB, 1),
  samples: samples.length,
  rawvideoToDevNullMsPerFrame: round((longDevNull * 1000) / longFrames, 2),
  checksum,
};
const setup = { runs: args.runs, clip: `${info.width}x${info.height} ${info.fps} fps ${info.frameCount} frames`, probeMs: round(probeMs, 1), decodeOnlyMsPerFrame: round((decodeOnly * 1000) / (info.frameCount ?? 1), 2), longVideo: memory };
printReport('video', setup, rows, args.json);
if (!args.json) {
  process.stdout.write(
    `long video: ${longFrames} frames in ${longSeconds.toFixed(1)} s; RSS start ${memory.rssStartMB} MB, peak ${memory.rssPeakMB} MB, end ${memory.rssEndMB} MB ` +
      `(sampled every 250 frames; ffmpeg alone to /dev/null ${memory.rawvideoToDevNullMsPerFrame} ms/frame)\n`,
  );
}
