/**
 * Any video ffmpeg can read, or a folder of numbered frames (`{ frames, fps }`, read by the image2 demuxer), → RGB24
 * frames, one at a time, with memory bounded by about two frames.
 *
 * ffmpeg decodes into `-f rawvideo -pix_fmt rgb24 pipe:1`; frames are cut from the pipe by size. Back-pressure: once a
 * whole frame is waiting for the consumer, the pipe is paused, the kernel's pipe buffer fills and ffmpeg blocks in
 * write(), so a slow consumer holds one ready frame, one partial frame and the pipe's 64 KiB, however long the video.
 *
 * Seeking: `start` is passed as `-ss` before `-i`. ffmpeg then seeks to the keyframe before `start` and decodes and
 * drops the frames before it (accurate seek, its default when decoding): fast and frame-exact, as the tests check
 * against a full decode; frames before `start` that pass ffmpeg's tick-rounded comparison are dropped here. A range is half-open, [start, end). ffmpeg's `-t` counts from the first frame it keeps, not
 * from `start`, so it is only the bound that stops ffmpeg; the end itself is applied to the exact frame times here.
 *
 * Timestamps: a `showinfo` filter at the end of the chain logs every output frame's pts to stderr before the frame
 * is written to the pipe; frame k of the pipe takes the k-th logged pts. Times are seconds from the container's start
 * (`VideoInfo.containerStartTime`, where ffmpeg's `-ss 0` points), computed exactly in the stream's ticks: ffmpeg
 * shifts timestamps by `start` rounded to a tick, and the shift is added back as the same whole number of ticks.
 * Resampled frames (`fps`) lie on ffmpeg's grid start + k / fps (to within that one tick).
 *
 * Errors: `-xerror` makes ffmpeg stop at the first decoding error instead of concealing it, so a truncated or corrupt
 * stream fails, naming the frame where decoding broke and ffmpeg's last messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { SignweaveInputError } from '../errors.js';
import type { VideoFrame } from '../types.js';
import { ffmpegPreprocessFilter, preprocessGeometry, type ImageProcessorConfig } from './preprocess.js';
import { cleanToolMessages, ffmpegInput, probeVideo, sourcePath, toolError, type Rational, type ToolOptions, type VideoInfo, type VideoSource } from './probe.js';

export interface DecodeOptions extends ToolOptions {
  /** Seconds from the file's start (the container's start time) of the first frame wanted. */
  start?: number;
  /** Seconds from the file's start where the range ends (exclusive); the end of the video by default. */
  end?: number;
  /** Resample to this frame rate (ffmpeg's `fps` filter: frames are dropped or repeated onto a start + k / fps grid). */
  fps?: number;
  /** Shrink so that the longer side is at most this many pixels, keeping the aspect ratio, even sides; never enlarges. */
  maxSide?: number;
  /** Resize to this width (and `height`, or the height that keeps the aspect ratio, even). */
  width?: number;
  /** Resize to this height (and `width`, or the width that keeps the aspect ratio, even). */
  height?: number;
  /** Have ffmpeg resize and center-crop frames as this image processor does (then `frameToTensor` each frame). */
  preprocess?: ImageProcessorConfig;
  /** ffmpeg decoding threads (0 or absent: ffmpeg chooses). */
  threads?: number;
  /** The source's `probeVideo` result when already known (saves running ffprobe again, e.g. for many ranges of one file). */
  info?: VideoInfo;
}

/** What a started decoder will produce. */
export interface DecodeTarget {
  info: VideoInfo;
  /** Size of every frame yielded. */
  width: number;
  height: number;
  /** The filter chain given to ffmpeg (`-vf`). */
  filter: string;
  /** The complete ffmpeg command line. */
  args: string[];
}

const PREPROCESS_EXCLUSIVE = ['maxSide', 'width', 'height'] as const;

function rangeText(options: DecodeOptions): string {
  return `[${options.start ?? 0}, ${options.end ?? 'end'}) s`;
}

function inRange(options: DecodeOptions): string {
  return options.start === undefined && options.end === undefined ? '' : ` in range ${rangeText(options)}`;
}

function validateOptions(path: string, options: DecodeOptions): void {
  const fail = (why: string): never => {
    throw new SignweaveInputError(`${path}: ${why}`);
  };
  const { start, end } = options;
  if (start !== undefined && (!Number.isFinite(start) || start < 0)) fail(`start must be a number of seconds ≥ 0, got ${start}`);
  if (end !== undefined && (!Number.isFinite(end) || end <= 0)) fail(`end must be a number of seconds > 0, got ${end}`);
  if (end !== undefined && end <= (start ?? 0)) {
    fail(`range ${rangeText(options)} is ${end === (start ?? 0) ? 'empty' : 'inverted'}: end must be after start`);
  }
  if (options.fps !== undefined && (!Number.isFinite(options.fps) || options.fps <= 0)) fail(`fps must be a positive number, got ${options.fps}`);
  for (const key of ['maxSide', 'width', 'height'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 2)) fail(`${key} must be an integer ≥ 2, got ${v}`);
  }
  if (options.maxSide !== undefined && (options.width !== undefined || options.height !== undefined)) {
    fail('give either maxSide or width/height, not both');
  }
  if (options.preprocess) {
    const clash = PREPROCESS_EXCLUSIVE.filter((k) => options[k] !== undefined);
    if (clash.length) fail(`preprocess sets the frame size itself: drop ${clash.join(', ')}`);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 0)) {
    fail(`threads must be a whole number ≥ 0, got ${options.threads}`);
  }
}

const even = (x: number): number => Math.max(2, 2 * Math.round(x / 2));

/** Output size and filter chain for a probed video; every chain ends in RGB24 at a size signweave chose. */
function planOutput(info: VideoInfo, options: DecodeOptions): { width: number; height: number; filters: string[] } {
  const filters: string[] = [];
  if (options.fps !== undefined) filters.push(`fps=${options.fps}`);
  let { width, height } = info;
  if (options.preprocess) {
    // Pillow resizes RGB images, so convert first and scale in RGB (closer to HF's pixels than scaling YUV).
    filters.push('format=rgb24');
    const chain = ffmpegPreprocessFilter(options.preprocess, width, height);
    if (chain) filters.push(chain);
    ({ width, height } = preprocessGeometry(options.preprocess, width, height));
  } else {
    if (options.width !== undefined || options.height !== undefined) {
      const w = options.width ?? even((options.height! * width) / height);
      const h = options.height ?? even((options.width! * height) / width);
      ({ width, height } = { width: w, height: h });
    } else if (options.maxSide !== undefined && Math.max(width, height) > options.maxSide) {
      const maxSide = options.maxSide;
      const f = maxSide / Math.max(width, height);
      const fit = (x: number): number => (even(x) > maxSide ? even(x) - 2 : even(x));
      ({ width, height } = { width: fit(width * f), height: fit(height * f) });
    }
    // Always an explicit size: frames are cut from the pipe by byte count, so the size must be ours, not inferred.
    filters.push(`scale=${width}:${height}`);
  }
  filters.push('format=rgb24', 'showinfo=checksum=0');
  return { width, height, filters };
}

/** `us` microseconds in ticks of `tb`, rounded to nearest with ties away from zero, as ffmpeg's av_rescale_q. */
function usToTicks(us: bigint, tb: Rational): bigint {
  const num = us * BigInt(tb.den);
  const den = 1_000_000n * BigInt(tb.num);
  const q = num / den;
  const r = num % den;
  const twice = (r < 0n ? -r : r) * 2n;
  return twice >= den ? q + (num < 0n ? -1n : 1n) : q;
}

/** Exact `a·ta + b·tb` in seconds (one rounding, at the end). */
function ticksToSeconds(a: bigint, ta: Rational, b: bigint, tb: Rational): number {
  const n = a * BigInt(ta.num) * BigInt(tb.den) + b * BigInt(tb.num) * BigInt(ta.den);
  return Number(n) / Number(BigInt(ta.den) * BigInt(tb.den));
}

const SHOWINFO_FRAME = /Parsed_showinfo_\d+ @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*(-?\d+|NOPTS)/;
const SHOWINFO_CONFIG = /Parsed_showinfo_\d+ @ [^\]]+\] \[info\] config in time_base: (\d+)\/(\d+)/;
const PROBLEM_LINE = /\[(error|fatal|panic)\] /;

/** One ffmpeg child: cuts its stdout into frames, pairs them with the pts it logs, and reports how it ended. */
class FfmpegRun {
  readonly child: ChildProcess;
  bytesRead = 0;
  private readonly ready: Uint8Array[] = [];
  private partial: Uint8Array | undefined;
  private filled = 0;
  private readonly times: number[] = [];
  private lastTime: number | undefined;
  private filterTimeBase: Rational | undefined;
  private stderrRest = '';
  private readonly problems: string[] = [];
  private readonly recent: string[] = [];
  private stdoutEnded = false;
  private stderrEnded = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(
    command: string,
    args: string[],
    private readonly frameSize: number,
    private readonly offsetTicks: bigint,
    private readonly streamTimeBase: Rational,
    private readonly frameStep: number,
  ) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout, stderr } = this.child as { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
    stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    stdout.on('end', () => this.notify(() => (this.stdoutEnded = true)));
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => this.notify(() => this.onStderr(text)));
    stderr.on('end', () => this.notify(() => (this.stderrEnded = true)));
    this.child.on('error', (err) => this.fail(err));
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.notify(() => (this.exit = { code, signal }));
        resolve();
      });
    });
  }

  /** Resolves once ffmpeg is running; rejects with an input error when it cannot be started. */
  async started(path: string, command: string): Promise<void> {
    try {
      await once(this.child, 'spawn');
    } catch (err) {
      throw toolError(path, 'ffmpeg', command, err as NodeJS.ErrnoException);
    }
  }

  fail(reason: unknown): void {
    this.notify(() => (this.failure ??= reason));
    this.child.kill('SIGKILL');
  }

  private notify(change: () => void): void {
    change();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private onData(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.partial) {
        // allocUnsafeSlow: each frame owns its memory (no pool slab kept alive) and skips zero-filling.
        const buf = Buffer.allocUnsafeSlow(this.frameSize);
        this.partial = new Uint8Array(buf.buffer, buf.byteOffset, this.frameSize);
        this.filled = 0;
      }
      const n = Math.min(chunk.length - offset, this.frameSize - this.filled);
      this.partial.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameSize) {
        this.ready.push(this.partial);
        this.partial = undefined;
        this.filled = 0;
      }
    }
    // A whole frame is waiting: stop reading so ffmpeg blocks on the full pipe until the consumer takes it.
    if (this.ready.length > 0) this.child.stdout!.pause();
    this.notify(() => undefined);
  }

  private onStderr(text: string): void {
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = lines.pop()!;
    for (const line of lines) {
      const frame = SHOWINFO_FRAME.exec(line);
      if (frame) {
        this.times.push(this.timeOf(frame[1]));
        continue;
      }
      const config = SHOWINFO_CONFIG.exec(line);
      if (config) {
        this.filterTimeBase = { num: Number(config[1]), den: Number(config[2]) };
        continue;
      }
      if (PROBLEM_LINE.test(line)) this.problems.push(line);
      if (!line.includes('[info]')) this.recent.push(line);
      if (this.problems.length > 8) this.problems.shift();
      if (this.recent.length > 8) this.recent.shift();
    }
  }

  private timeOf(pts: string): number {
    // A frame without a pts (rare: some raw elementary streams) follows the one before it by a frame period.
    const time =
      pts === 'NOPTS' || !this.filterTimeBase
        ? (this.lastTime ?? -this.frameStep) + this.frameStep
        : ticksToSeconds(BigInt(pts), this.filterTimeBase, this.offsetTicks, this.streamTimeBase);
    this.lastTime = time;
    return time;
  }

  /** The next frame and its time, or undefined when ffmpeg has finished (check `outcome()` then). */
  async next(): Promise<{ data: Uint8Array; time: number } | undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ready.length > 0 && this.times.length > 0) {
        const data = this.ready.shift()!;
        if (this.ready.length === 0 && !this.stdoutEnded) this.child.stdout!.resume();
        return { data, time: this.times.shift()! };
      }
      if (this.ready.length > 0 && this.stderrEnded) {
        throw new Error(`ffmpeg logged no timestamp for a frame it wrote (showinfo output not recognised)`);
      }
      if (this.ready.length === 0 && this.stdoutEnded && this.exit) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** After the last frame: throws unless ffmpeg exited cleanly on a whole number of frames (or was stopped at `end`). */
  checkOutcome(path: string, frames: number, range: string, lastTime: number | undefined, reachedEnd: boolean): void {
    const messages = cleanToolMessages((this.problems.length ? this.problems : this.recent).slice(-4).join('\n'), path).join('; ');
    // Stopped at `end`: ffmpeg is still running and is killed; only whether any frame was in range matters.
    if (!reachedEnd) {
      const exit = this.exit!;
      if (exit.code !== 0) {
        const at = `at frame ${frames}${lastTime !== undefined ? ` (the last good frame was at ${lastTime.toFixed(3)} s)` : ''}`;
        const how = exit.signal ? `ffmpeg was killed by ${exit.signal}` : `ffmpeg exited with code ${exit.code}`;
        throw new SignweaveInputError(`${path}: decoding failed ${at}${range}: ${messages || how}`);
      }
      if (this.filled > 0) {
        throw new SignweaveInputError(`${path}: ffmpeg's output stopped inside frame ${frames} (${this.filled} of ${this.frameSize} bytes)${messages ? `: ${messages}` : ''}`);
      }
    }
    if (frames === 0) {
      throw new SignweaveInputError(`${path}: no frames decoded${range}${messages ? `: ${messages}` : ''}`);
    }
  }

  /** Kills ffmpeg if it still runs and waits until it has exited and been reaped. */
  async stop(): Promise<void> {
    if (!this.exit) {
      this.child.kill('SIGKILL');
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    }
    await this.closed;
  }
}

/**
 * Decodes one video (or a time range of it) into RGB24 frames; iterate it once with `for await`. Leaving the loop
 * early, an exception in the loop, or `signal` aborting kills ffmpeg and waits for it to exit. A decoder never
 * iterated to the end must be `dispose()`d.
 */
export class VideoDecoder implements AsyncIterable<VideoFrame> {
  /** The file or frame folder, as messages name it. */
  readonly path: string;
  private target: Promise<DecodeTarget> | undefined;
  private run: FfmpegRun | undefined;
  private iterated = false;
  private disposed = false;
  private readonly onAbort = () => this.run?.fail(this.options.signal!.reason);

  constructor(
    readonly source: VideoSource,
    private readonly options: DecodeOptions = {},
  ) {
    this.path = sourcePath(source);
    validateOptions(this.path, options);
  }

  /** ffmpeg's process id while it runs (after `open()` or the first frame). */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  /** Bytes read from ffmpeg's pipe so far. */
  get bytesRead(): number {
    return this.run?.bytesRead ?? 0;
  }

  /** Probes the file and starts ffmpeg; iterating does this by itself. */
  open(): Promise<DecodeTarget> {
    this.target ??= this.start();
    return this.target;
  }

  private async start(): Promise<DecodeTarget> {
    const { options, path } = this;
    options.signal?.throwIfAborted();
    const info = options.info ?? (await probeVideo(this.source, options));
    this.checkRange(info);
    const { width, height, filters } = planOutput(info, options);
    const startUs = BigInt(Math.round((options.start ?? 0) * 1e6));
    const args = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info', '-xerror'];
    if (options.threads !== undefined) args.push('-threads', String(options.threads));
    if (options.start) args.push('-ss', formatSeconds(options.start));
    // One frame period of slack: ffmpeg may keep a frame before `start` (see the iterator) and count `-t` from it.
    if (options.end !== undefined) args.push('-t', formatSeconds(options.end - (options.start ?? 0) + 1 / info.fps));
    const filter = filters.join(',');
    args.push(...ffmpegInput(this.source, info.frameFolder), '-map', `0:${info.streamIndex}`, '-an', '-sn', '-dn', '-vf', filter, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');

    options.signal?.throwIfAborted();
    if (this.disposed) throw new Error(`${path}: the decoder was disposed`);
    const originUs = BigInt(Math.round(info.containerStartTime * 1e6));
    const offsetTicks = usToTicks(startUs + originUs, info.timeBase) - usToTicks(originUs, info.timeBase);
    const command = options.ffmpegPath ?? 'ffmpeg';
    this.run = new FfmpegRun(command, args, width * height * 3, offsetTicks, info.timeBase, 1 / (options.fps ?? info.fps));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    await this.run.started(path, command);
    return { info, width, height, filter, args };
  }

  private checkRange(info: VideoInfo): void {
    const { start, end } = this.options;
    const videoEnd = info.startTime + info.duration;
    const range = rangeText(this.options);
    if (start !== undefined && start >= videoEnd) {
      throw new SignweaveInputError(`${this.path}: range ${range} starts after the video ends (at ${videoEnd.toFixed(3)} s)`);
    }
    // One frame period of slack: sentence offsets and container durations are both rounded.
    if (end !== undefined && end > videoEnd + 1 / info.fps) {
      throw new SignweaveInputError(`${this.path}: range ${range} ends after the video ends (at ${videoEnd.toFixed(3)} s)`);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<VideoFrame, void, undefined> {
    if (this.iterated) throw new Error(`${this.path}: a VideoDecoder can be iterated only once`);
    this.iterated = true;
    try {
      const { width, height } = await this.open();
      const run = this.run!;
      let index = 0;
      let lastTime: number | undefined;
      let reachedEnd = false;
      for (;;) {
        const frame = await run.next();
        if (!frame) break;
        // ffmpeg's accurate seek compares in the stream's ticks: with a coarse time base (a frame folder's 1 / fps),
        // `start` rounds down to a tick and the frame just before it passes.
        if (this.options.start !== undefined && frame.time < this.options.start - 1e-9) continue;
        if (this.options.end !== undefined && frame.time >= this.options.end) {
          reachedEnd = true;
          break;
        }
        yield { index, time: frame.time, width, height, data: frame.data };
        this.options.signal?.throwIfAborted();
        index++;
        lastTime = frame.time;
      }
      run.checkOutcome(this.path, index, inRange(this.options), lastTime, reachedEnd);
    } finally {
      await this.dispose();
    }
  }

  /** Stops ffmpeg (if running) and waits until the process has exited; safe to call more than once. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.run) {
      this.run.fail(new Error(`${this.path}: the decoder was disposed`));
      await this.run.stop();
    }
  }
}

/** `-ss`/`-t` in whole microseconds, the precision ffmpeg parses them with. */
function formatSeconds(seconds: number): string {
  return (Math.round(seconds * 1e6) / 1e6).toFixed(6);
}

/** Decodes a video file or frame folder (optionally a time range, resampled, resized or preprocessed) into RGB24 frames. */
export function decodeVideo(source: VideoSource, options: DecodeOptions = {}): VideoDecoder {
  return new VideoDecoder(source, options);
}
