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
 * Strides: with `stride` k, ffmpeg keeps every k-th frame of the range (a `select` filter before any scaling or
 * conversion), so the frames not used are never converted, piped or copied; each keeps its index in the range (0, k,
 * 2k, …) and its own pts. Frames before `start` that ffmpeg's tick-rounded seek lets through are dropped by a time
 * `select` first, so the counting starts at the same frame as without a stride.
 *
 * One decode, several sizes (`decodeVideoSplit`): one ffmpeg, one filter graph that `split`s the frames into one
 * chain per output, each written to its own pipe (fd 1, then 3, 4, …). Each output is iterated by its own consumer;
 * each holds at most its `queue` frames ahead of that consumer, and ffmpeg blocks on the fullest pipe, so a slow
 * consumer slows the others instead of letting memory grow.
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

/** The size of the frames one output yields (at most one of `maxSide`, `width`/`height`, `preprocess`). */
export interface FrameSizeOptions {
  /** Shrink so that the longer side is at most this many pixels, keeping the aspect ratio, even sides; never enlarges. */
  maxSide?: number;
  /** Resize to this width (and `height`, or the height that keeps the aspect ratio, even). */
  width?: number;
  /** Resize to this height (and `width`, or the width that keeps the aspect ratio, even). */
  height?: number;
  /** Have ffmpeg resize and center-crop frames as this image processor does (then `frameToTensor` each frame). */
  preprocess?: ImageProcessorConfig;
}

/** Which frames are decoded, and how: everything but their size. */
export interface DecodeRangeOptions extends ToolOptions {
  /** Seconds from the file's start (the container's start time) of the first frame wanted. */
  start?: number;
  /** Seconds from the file's start where the range ends (exclusive); the end of the video by default. */
  end?: number;
  /** Resample to this frame rate (ffmpeg's `fps` filter: frames are dropped or repeated onto a start + k / fps grid). */
  fps?: number;
  /** Keep every `stride`-th frame of the range, from its first (default 1); ffmpeg drops the others before scaling. */
  stride?: number;
  /** ffmpeg decoding threads (0 or absent: ffmpeg chooses). */
  threads?: number;
  /** The source's `probeVideo` result when already known (saves running ffprobe again, e.g. for many ranges of one file). */
  info?: VideoInfo;
}

export interface DecodeOptions extends DecodeRangeOptions, FrameSizeOptions {}

/** One output of `decodeVideoSplit`. */
export interface SplitOutput extends FrameSizeOptions {
  /** Frames read from ffmpeg ahead of this output's consumer (default 1); memory is bounded by about `queue + 1` frames. */
  queue?: number;
}

/** What a started decoder will produce. */
export interface DecodeTarget {
  info: VideoInfo;
  /** Size of every frame yielded. */
  width: number;
  height: number;
  /** The filter graph given to ffmpeg (`-filter_complex`); this output's chain ends in `[oN]`. */
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

function validateRange(path: string, options: DecodeRangeOptions): void {
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
  if (options.stride !== undefined && (!Number.isInteger(options.stride) || options.stride < 1)) fail(`stride must be a positive integer, got ${options.stride}`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 0)) {
    fail(`threads must be a whole number ≥ 0, got ${options.threads}`);
  }
}

function validateSize(path: string, options: SplitOutput): void {
  const fail = (why: string): never => {
    throw new SignweaveInputError(`${path}: ${why}`);
  };
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
  if (options.queue !== undefined && (!Number.isInteger(options.queue) || options.queue < 1)) fail(`queue must be a positive integer, got ${options.queue}`);
}

const even = (x: number): number => Math.max(2, 2 * Math.round(x / 2));

/** One output's size and filter chain for a probed video; every chain ends in RGB24 at a size signweave chose. */
function planOutput(info: VideoInfo, options: FrameSizeOptions, output: number): { width: number; height: number; filters: string[] } {
  const filters: string[] = [];
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
  // Named, so that each output's log lines (and so its frame times) can be told apart.
  filters.push('format=rgb24', `showinfo@o${output}=checksum=0`);
  return { width, height, filters };
}

/**
 * The filters every output shares: resampling, then the stride. `select`'s `n` counts the frames that reach it, so
 * frames before `start` (which ffmpeg's tick-rounded seek may pass; see the iterator) are dropped by time before it:
 * `threshold` is `start` in the filter's clock, which runs `offset` seconds behind the file's.
 */
function sharedFilters(options: DecodeRangeOptions, offset: number): string[] {
  const filters: string[] = [];
  if (options.fps !== undefined) filters.push(`fps=${options.fps}`);
  const stride = options.stride ?? 1;
  if (stride > 1) {
    if (options.start) filters.push(`select='gte(t\\,${(options.start - offset - 1e-9).toFixed(12)})'`);
    filters.push(`select='not(mod(n\\,${stride}))'`);
  }
  return filters;
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

const SHOWINFO_FRAME = /showinfo@o(\d+) @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*(-?\d+|NOPTS)/;
const SHOWINFO_CONFIG = /showinfo@o(\d+) @ [^\]]+\] \[info\] config in time_base: (\d+)\/(\d+)/;
const PROBLEM_LINE = /\[(error|fatal|panic)\] /;

/** The file descriptor ffmpeg writes output `i` to: stdout, then the ones after stderr. */
const outputFd = (i: number): number => (i === 0 ? 1 : i + 2);

/** One output pipe of an ffmpeg child: cut into frames, paired with the pts its showinfo logs. */
class OutputPipe {
  bytesRead = 0;
  readonly ready: Uint8Array[] = [];
  partial: Uint8Array | undefined;
  filled = 0;
  readonly times: number[] = [];
  lastTime: number | undefined;
  timeBase: Rational | undefined;
  ended = false;
  /** Its consumer has finished: what still arrives is read and dropped, so ffmpeg never blocks on this pipe. */
  draining = false;

  constructor(
    readonly stream: NodeJS.ReadableStream,
    readonly frameSize: number,
    readonly queue: number,
  ) {}

  take(data: Buffer): void {
    this.bytesRead += data.length;
    if (this.draining) return;
    let offset = 0;
    while (offset < data.length) {
      if (!this.partial) {
        // allocUnsafeSlow: each frame owns its memory (no pool slab kept alive) and skips zero-filling.
        const buf = Buffer.allocUnsafeSlow(this.frameSize);
        this.partial = new Uint8Array(buf.buffer, buf.byteOffset, this.frameSize);
        this.filled = 0;
      }
      const n = Math.min(data.length - offset, this.frameSize - this.filled);
      this.partial.set(data.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameSize) {
        this.ready.push(this.partial);
        this.partial = undefined;
        this.filled = 0;
      }
    }
    // Enough frames wait for the consumer: stop reading so ffmpeg blocks on the full pipe until it takes one.
    if (this.ready.length >= this.queue) this.stream.pause();
  }

  drain(): void {
    this.draining = true;
    this.ready.length = 0;
    this.partial = undefined;
    this.stream.resume();
  }
}

/** One ffmpeg child: cuts each output pipe into frames, pairs them with the pts it logs, and reports how it ended. */
class FfmpegRun {
  readonly child: ChildProcess;
  readonly outputs: OutputPipe[];
  private stderrRest = '';
  private readonly problems: string[] = [];
  private readonly recent: string[] = [];
  private stderrEnded = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private failure: unknown;
  private waiting: (() => void)[] = [];
  readonly closed: Promise<void>;

  constructor(
    command: string,
    args: string[],
    outputs: readonly { frameSize: number; queue: number }[],
    private readonly offsetTicks: bigint,
    private readonly streamTimeBase: Rational,
    private readonly frameStep: number,
  ) {
    const extraPipes = outputs.slice(1).map(() => 'pipe' as const);
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', ...extraPipes] });
    this.outputs = outputs.map(({ frameSize, queue }, i) => {
      const stream = this.child.stdio[outputFd(i)] as NodeJS.ReadableStream;
      const pipe = new OutputPipe(stream, frameSize, queue);
      stream.on('data', (chunk: Buffer) => this.notify(() => pipe.take(chunk)));
      stream.on('end', () => this.notify(() => (pipe.ended = true)));
      return pipe;
    });
    const stderr = this.child.stderr!;
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

  get running(): boolean {
    return !this.exit;
  }

  fail(reason: unknown): void {
    this.notify(() => (this.failure ??= reason));
    this.child.kill('SIGKILL');
  }

  private notify(change: () => void): void {
    change();
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  private onStderr(text: string): void {
    const lines = (this.stderrRest + text).split('\n');
    this.stderrRest = lines.pop()!;
    for (const line of lines) {
      const frame = SHOWINFO_FRAME.exec(line);
      if (frame) {
        const output = this.outputs[Number(frame[1])];
        output.times.push(this.timeOf(output, frame[2]));
        continue;
      }
      const config = SHOWINFO_CONFIG.exec(line);
      if (config) {
        this.outputs[Number(config[1])].timeBase = { num: Number(config[2]), den: Number(config[3]) };
        continue;
      }
      if (PROBLEM_LINE.test(line)) this.problems.push(line);
      if (!line.includes('[info]')) this.recent.push(line);
      if (this.problems.length > 8) this.problems.shift();
      if (this.recent.length > 8) this.recent.shift();
    }
  }

  private timeOf(output: OutputPipe, pts: string): number {
    // A frame without a pts (rare: some raw elementary streams) follows the one before it by a frame period.
    const time =
      pts === 'NOPTS' || !output.timeBase
        ? (output.lastTime ?? -this.frameStep) + this.frameStep
        : ticksToSeconds(BigInt(pts), output.timeBase, this.offsetTicks, this.streamTimeBase);
    output.lastTime = time;
    return time;
  }

  /** Output `i`'s next frame and its time, or undefined when ffmpeg has finished (check `outcome()` then). */
  async next(i: number): Promise<{ data: Uint8Array; time: number } | undefined> {
    const output = this.outputs[i];
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (output.ready.length > 0 && output.times.length > 0) {
        const data = output.ready.shift()!;
        if (output.ready.length < output.queue && !output.ended) output.stream.resume();
        return { data, time: output.times.shift()! };
      }
      if (output.ready.length > 0 && this.stderrEnded) {
        throw new Error(`ffmpeg logged no timestamp for a frame it wrote (showinfo output not recognised)`);
      }
      if (output.ready.length === 0 && output.ended && this.exit) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** After output `i`'s last frame: throws unless ffmpeg exited cleanly on a whole number of frames (or was stopped at `end`). */
  checkOutcome(i: number, path: string, frames: number, range: string, lastTime: number | undefined, reachedEnd: boolean): void {
    const output = this.outputs[i];
    const messages = cleanToolMessages((this.problems.length ? this.problems : this.recent).slice(-4).join('\n'), path).join('; ');
    // Stopped at `end`: ffmpeg may still be running; only whether any frame was in range matters.
    if (!reachedEnd) {
      const exit = this.exit!;
      if (exit.code !== 0) {
        const at = `at frame ${frames}${lastTime !== undefined ? ` (the last good frame was at ${lastTime.toFixed(3)} s)` : ''}`;
        const how = exit.signal ? `ffmpeg was killed by ${exit.signal}` : `ffmpeg exited with code ${exit.code}`;
        throw new SignweaveInputError(`${path}: decoding failed ${at}${range}: ${messages || how}`);
      }
      if (output.filled > 0) {
        throw new SignweaveInputError(`${path}: ffmpeg's output stopped inside frame ${frames} (${output.filled} of ${output.frameSize} bytes)${messages ? `: ${messages}` : ''}`);
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
      for (const stream of this.child.stdio) (stream as NodeJS.ReadableStream & { destroy?: () => void } | null)?.destroy?.();
    }
    await this.closed;
  }
}

/**
 * One ffmpeg run shared by the decoders of its outputs: started by the first of them to open, stopped when every
 * output has finished, or at once when any of them stops early (a `break`, an error, an abort): the others then fail
 * with that reason rather than wait for frames that will not come. Internal: use `decodeVideo` or `decodeVideoSplit`.
 */
export class SharedDecode {
  readonly path: string;
  private target: Promise<Omit<DecodeTarget, 'width' | 'height'> & { sizes: { width: number; height: number }[] }> | undefined;
  run: FfmpegRun | undefined;
  private readonly finished = new Set<number>();
  private disposed = false;
  private readonly onAbort = () => this.run?.fail(this.options.signal!.reason);

  constructor(
    readonly source: VideoSource,
    readonly options: DecodeRangeOptions,
    readonly outputs: readonly SplitOutput[],
  ) {
    this.path = sourcePath(source);
    validateRange(this.path, options);
    for (const output of outputs) validateSize(this.path, output);
  }

  open(): NonNullable<SharedDecode['target']> {
    this.target ??= this.start();
    return this.target;
  }

  private async start(): Promise<Awaited<NonNullable<SharedDecode['target']>>> {
    const { options, path } = this;
    options.signal?.throwIfAborted();
    const info = options.info ?? (await probeVideo(this.source, options));
    this.checkRange(info);
    const startUs = BigInt(Math.round((options.start ?? 0) * 1e6));
    const originUs = BigInt(Math.round(info.containerStartTime * 1e6));
    const offsetTicks = usToTicks(startUs + originUs, info.timeBase) - usToTicks(originUs, info.timeBase);
    const offset = ticksToSeconds(offsetTicks, info.timeBase, 0n, info.timeBase);
    const plans = this.outputs.map((o, i) => planOutput(info, o, i));
    const shared = sharedFilters(options, offset);
    const n = plans.length;
    const input = `[0:${info.streamIndex}]`;
    const filter =
      n === 1
        ? `${input}${[...shared, ...plans[0].filters].join(',')}[o0]`
        : // `split` gives all its outputs one pixel format: pin the decoder's own, or the first output's RGB would be
          // forced on the others and they would scale in RGB, not as their own decode does.
          `${input}${[...shared, ...(/^\w+$/.test(info.pixelFormat) ? [`format=${info.pixelFormat}`] : []), `split=${n}`].join(',')}${plans.map((_, i) => `[s${i}]`).join('')};` +
          plans.map((p, i) => `[s${i}]${p.filters.join(',')}[o${i}]`).join(';');
    const args = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info', '-xerror'];
    if (options.threads !== undefined) args.push('-threads', String(options.threads));
    if (options.start) args.push('-ss', formatSeconds(options.start));
    // One frame period of slack: ffmpeg may keep a frame before `start` (see the iterator) and count `-t` from it.
    if (options.end !== undefined) args.push('-t', formatSeconds(options.end - (options.start ?? 0) + 1 / info.fps));
    args.push(...ffmpegInput(this.source, info.frameFolder), '-an', '-sn', '-dn', '-filter_complex', filter);
    for (let i = 0; i < n; i++) args.push('-map', `[o${i}]`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', `pipe:${outputFd(i)}`);

    options.signal?.throwIfAborted();
    if (this.disposed) throw new Error(`${path}: the decoder was disposed`);
    const command = options.ffmpegPath ?? 'ffmpeg';
    const pipes = plans.map((p, i) => ({ frameSize: p.width * p.height * 3, queue: this.outputs[i].queue ?? 1 }));
    this.run = new FfmpegRun(command, args, pipes, offsetTicks, info.timeBase, (options.stride ?? 1) / (options.fps ?? info.fps));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    await this.run.started(path, command);
    return { info, sizes: plans.map(({ width, height }) => ({ width, height })), filter, args };
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

  /** Output `i` is done: completely (its pipe is drained from now on) or early (everything stops). */
  async release(i: number, completed: boolean): Promise<void> {
    if (this.finished.has(i)) return;
    this.finished.add(i);
    if (completed && this.finished.size < this.outputs.length) {
      this.run?.outputs[i].drain();
      return;
    }
    this.disposed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.run) {
      const why = this.outputs.length > 1 && !completed ? `output ${i} of the shared decode stopped` : 'the decoder was disposed';
      if (this.run.running) this.run.fail(new Error(`${this.path}: ${why}`));
      await this.run.stop();
    }
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
  private readonly shared: SharedDecode;
  private iterated = false;

  /** A decoder of its own, or (a `SharedDecode`, from `decodeVideoSplit`) output `output` of a shared one. */
  constructor(
    source: VideoSource | SharedDecode,
    options: DecodeOptions = {},
    private readonly output = 0,
  ) {
    this.shared = source instanceof SharedDecode ? source : new SharedDecode(source, options, [options]);
    this.path = this.shared.path;
  }

  /** ffmpeg's process id while it runs (after `open()` or the first frame). */
  get pid(): number | undefined {
    return this.shared.run?.child.pid;
  }

  /** Bytes read from this output's pipe so far. */
  get bytesRead(): number {
    return this.shared.run?.outputs[this.output].bytesRead ?? 0;
  }

  /** Probes the file and starts ffmpeg; iterating does this by itself. */
  async open(): Promise<DecodeTarget> {
    const { sizes, ...target } = await this.shared.open();
    return { ...target, ...sizes[this.output] };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<VideoFrame, void, undefined> {
    if (this.iterated) throw new Error(`${this.path}: a VideoDecoder can be iterated only once`);
    this.iterated = true;
    const { options } = this.shared;
    const stride = options.stride ?? 1;
    let completed = false;
    try {
      const { width, height } = await this.open();
      const run = this.shared.run!;
      let count = 0;
      let lastTime: number | undefined;
      let reachedEnd = false;
      for (;;) {
        const frame = await run.next(this.output);
        if (!frame) break;
        // ffmpeg's accurate seek compares in the stream's ticks: with a coarse time base (a frame folder's 1 / fps),
        // `start` rounds down to a tick and the frame just before it passes.
        if (options.start !== undefined && frame.time < options.start - 1e-9) continue;
        if (options.end !== undefined && frame.time >= options.end) {
          reachedEnd = true;
          break;
        }
        yield { index: count * stride, time: frame.time, width, height, data: frame.data };
        options.signal?.throwIfAborted();
        count++;
        lastTime = frame.time;
      }
      run.checkOutcome(this.output, this.path, count, inRange(options), lastTime, reachedEnd);
      completed = true;
    } finally {
      await this.shared.release(this.output, completed);
    }
  }

  /** Stops ffmpeg (if running; for a shared decode, every output's) and waits until it has exited; safe to call more than once. */
  async dispose(): Promise<void> {
    await this.shared.release(this.output, false);
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

/**
 * One ffmpeg decode of a range, split into outputs of different sizes (e.g. a backbone's preprocessed input and a
 * downscaled frame for landmarks): the same frames, times and indices in each. Iterate every output, concurrently
 * (ffmpeg feeds them in step, so an output nobody reads stalls the others), or dispose one to stop them all.
 */
export function decodeVideoSplit(source: VideoSource, options: DecodeRangeOptions, outputs: readonly SplitOutput[]): VideoDecoder[] {
  if (outputs.length === 0) throw new Error('decodeVideoSplit: no outputs');
  const shared = new SharedDecode(source, options, outputs);
  return outputs.map((_, i) => new VideoDecoder(shared, {}, i));
}
