/**
 * MediaPipe face, hand and pose landmarks for Node, computed by @mediapipe/tasks-vision in one long-lived headless
 * Chromium per extractor (src/landmarks/browser.ts hosts it; src/landmarks/page.ts is the page).
 *
 * - Streams: `run()` is one video — hands and pose run in VIDEO mode (MediaPipe tracks them from frame to frame, with
 *   strictly increasing timestamps per landmarker) and the face crop follows the previous frame's face. Each run gets
 *   fresh landmarkers, so the same frames always give the same landmarks, whatever ran before. `detect()` treats a
 *   frame as an independent still (IMAGE mode): the same frame twice gives identical results.
 * - Pipelining: `run()` keeps up to `inFlight` frames at the page, so Node reads (decodes) the next frames while
 *   Chromium detects; the page answers in order and results are yielded in frame order.
 * - Restarts: when Chromium or the page dies, a new one is started and every frame still in flight is sent again, in
 *   order; a stream's landmarkers are recreated (new VIDEO timestamps) and its face tracker resumes from the last
 *   result Node received. A frame in flight through more than `maxRestarts` deaths fails.
 * - Disposal: `dispose()`, `await using`, or aborting `signal` closes the WebSocket, the page, the browser (and its
 *   whole process group) and the local server.
 */
import { accessSync, constants, openSync, readSync, closeSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RawData } from 'ws';
import { SignweaveInputError } from '../errors.js';
import type { VideoFrame } from '../types.js';
import { AssetServer, ChromiumSession, tasksVision, type LandmarkTask } from './browser.js';
import { decodeResult, encodeCloseStream, encodeFrameHeader, type PageMessage } from './protocol.js';
import type { FrameLandmarks, PixelBox } from './types.js';
import { sha256File } from '../util/hash.js';

export type { LandmarkTask } from './browser.js';

/** Where the official models are published (the .task bundles tasks-vision loads). */
export const OFFICIAL_MODELS: Record<LandmarkTask, { file: string; url: string }> = {
  face: {
    file: 'face_landmarker.task',
    url: 'https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/latest/face_landmarker.task',
  },
  hands: {
    file: 'hand_landmarker.task',
    url: 'https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/latest/hand_landmarker.task',
  },
  pose: {
    file: 'pose_landmarker_full.task',
    url: 'https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_full/float16/latest/pose_landmarker_full.task',
  },
};

export const DEFAULT_CHROMIUM = '/usr/lib/chromium/chromium';

/** `true` takes `<modelDir>/<official file name>`; an object names the file. */
export type LandmarkTaskOption = boolean | { modelPath: string };

export interface LandmarkExtractorOptions {
  face?: LandmarkTaskOption;
  hands?: LandmarkTaskOption;
  pose?: LandmarkTaskOption;
  /** Folder with the official .task files, for tasks given as `true`. Default: $SIGNWEAVE_MEDIAPIPE_MODELS. */
  modelDir?: string;
  /** The Chromium executable. Default: $SIGNWEAVE_CHROMIUM, else /usr/lib/chromium/chromium (Debian's `chromium`). */
  chromiumPath?: string;
  /** Frames `run()` keeps at the page at once (default 2; 1 turns pipelining off). */
  inFlight?: number;
  /** Chromium deaths a frame may live through before it fails (default 2). */
  maxRestarts?: number;
  /** Limit for starting Chromium, loading the page and the models (default 60 s). */
  startTimeoutMs?: number;
  /** Aborting it disposes the extractor. */
  signal?: AbortSignal;
}

export interface LandmarkExtractorInfo {
  tasksVision: string;
  chromium: string;
  chromiumPath: string;
  models: Partial<Record<LandmarkTask, { path: string; sha256: string }>>;
}

export interface RunOptions {
  /** Aborting stops the run (it rejects with the signal's reason); the extractor stays usable. */
  signal?: AbortSignal;
  /** Called after each frame's result, with the number done so far. */
  onProgress?: (done: number, result: FrameLandmarks) => void;
  /** Overrides the extractor's `inFlight` for this run. */
  inFlight?: number;
}

interface Stream {
  id: number;
  /** The face tracker's state after the last result received, sent to a new page after a restart. */
  track: PixelBox | null;
  /** The session that has this stream's landmarkers. */
  knownBy: number;
  closed: boolean;
}

interface Job {
  id: number;
  frame: VideoFrame;
  stream: Stream | null;
  /** How many sessions died while this frame was in flight. */
  deaths: number;
  sentAt: number;
  resolve: (result: FrameLandmarks) => void;
  reject: (err: unknown) => void;
}

const noop = () => {};

export class LandmarkExtractor {
  private session: ChromiumSession | null = null;
  private starting: Promise<void> | null = null;
  private readonly killing = new Set<Promise<void>>();
  private sessions = 0;
  private streams = 0;
  private jobs = 0;
  /** Frames sent (or waiting for a session), oldest first: the page answers in this order. */
  private readonly outstanding: Job[] = [];
  private disposing: Promise<void> | null = null;
  private chromiumVersion = '';
  private restartCount = 0;

  private constructor(
    private readonly assets: AssetServer,
    private readonly chromiumPath: string,
    private readonly models: LandmarkExtractorInfo['models'],
    private readonly settings: { inFlight: number; maxRestarts: number; startTimeoutMs: number },
  ) {}

  /**
   * Checks the model files and Chromium (input errors say which file is missing and where to get it), starts the
   * local server and Chromium, and loads the models.
   */
  static async create(options: LandmarkExtractorOptions): Promise<LandmarkExtractor> {
    options.signal?.throwIfAborted();
    const settings = {
      inFlight: positiveInteger(options.inFlight ?? 2, 'inFlight'),
      maxRestarts: nonNegativeInteger(options.maxRestarts ?? 2, 'maxRestarts'),
      startTimeoutMs: positiveInteger(options.startTimeoutMs ?? 60_000, 'startTimeoutMs'),
    };
    const paths: Partial<Record<LandmarkTask, string>> = {};
    for (const task of ['face', 'hands', 'pose'] as const) {
      const path = modelPathFor(task, options[task], options.modelDir);
      if (path) paths[task] = checkTaskFile(task, path);
    }
    if (Object.keys(paths).length === 0) {
      throw new SignweaveInputError('no landmark task requested: set face, hands and/or pose');
    }
    const chromiumPath = checkChromium(options.chromiumPath ?? process.env.SIGNWEAVE_CHROMIUM ?? DEFAULT_CHROMIUM);
    const models: LandmarkExtractorInfo['models'] = {};
    for (const [task, path] of Object.entries(paths) as [LandmarkTask, string][]) {
      models[task] = { path, sha256: await sha256File(path) };
    }
    const extractor = new LandmarkExtractor(await AssetServer.start(paths), chromiumPath, models, settings);
    const { signal } = options;
    const onAbort = () => void extractor.dispose();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await extractor.startSession(true);
      signal?.throwIfAborted();
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      await extractor.dispose();
      throw signal?.aborted ? signal.reason : err;
    }
    return extractor;
  }

  get info(): LandmarkExtractorInfo {
    return { tasksVision: tasksVision.version, chromium: this.chromiumVersion, chromiumPath: this.chromiumPath, models: this.models };
  }

  /** Which tasks run. */
  get tasks(): LandmarkTask[] {
    return Object.keys(this.models) as LandmarkTask[];
  }

  /** How many times Chromium was restarted after dying. */
  get restarts(): number {
    return this.restartCount;
  }

  /** The browser's main process id (its helpers share its process group), or null between a crash and the restart. */
  get browserPid(): number | null {
    return this.session?.alive ? this.session.pid : null;
  }

  get disposed(): boolean {
    return this.disposing !== null;
  }

  /** Landmarks of one frame on its own (IMAGE mode: no tracking, so the same frame always gives the same result). */
  async detect(frame: VideoFrame): Promise<FrameLandmarks> {
    return this.submit(frame, null);
  }

  /**
   * Landmarks of a video's frames, in order. Up to `inFlight` frames are at the page at once; the frames are read
   * from `frames` only as fast as results are taken. Stopping early (break, abort) releases the stream.
   */
  async *run(frames: AsyncIterable<VideoFrame> | Iterable<VideoFrame>, options: RunOptions = {}): AsyncGenerator<FrameLandmarks> {
    const { signal, onProgress } = options;
    const inFlight = positiveInteger(options.inFlight ?? this.settings.inFlight, 'inFlight');
    this.checkOpen();
    signal?.throwIfAborted();
    const stream: Stream = { id: ++this.streams, track: null, knownBy: 0, closed: false };
    const iterator = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : asAsync(frames[Symbol.iterator]());
    const aborted = abortPromise(signal);
    const queue: Promise<FrameLandmarks>[] = [];
    let exhausted = false;
    let reading: Promise<IteratorResult<VideoFrame>> | null = null;
    let done = 0;
    try {
      while (true) {
        while (!exhausted && queue.length < inFlight) {
          reading = iterator.next();
          const next = await Promise.race([reading, aborted.promise]);
          reading = null;
          if (next.done) {
            exhausted = true;
            break;
          }
          const pending = this.submit(next.value, stream);
          // Rejections are observed when the result is awaited below; this keeps an early one from being "unhandled".
          pending.catch(noop);
          queue.push(pending);
        }
        const head = queue.shift();
        if (!head) break;
        const result = await Promise.race([head, aborted.promise]);
        onProgress?.(++done, result);
        yield result;
      }
    } finally {
      aborted.dispose();
      this.closeStream(stream);
      if (!exhausted) {
        // An abort can land while the source is producing a frame; it is closed once that frame arrives.
        if (reading) void reading.then(() => iterator.return?.(), noop).catch(noop);
        else await iterator.return?.();
      }
    }
  }

  /** Closes the page, the browser and the server; frames still in flight fail. Safe to call more than once. */
  dispose(): Promise<void> {
    this.disposing ??= this.shutdown();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private checkOpen(): void {
    if (this.disposing) throw new Error('the landmark extractor has been disposed');
  }

  private submit(frame: VideoFrame, stream: Stream | null): Promise<FrameLandmarks> {
    this.checkOpen();
    checkFrame(frame);
    return new Promise<FrameLandmarks>((resolve, reject) => {
      const job: Job = { id: ++this.jobs, frame, stream, deaths: 0, sentAt: 0, resolve, reject };
      this.outstanding.push(job);
      if (this.session?.alive) this.transmit(this.session, job);
      else this.ensureSession();
    });
  }

  private transmit(session: ChromiumSession, job: Job): void {
    const { frame, stream } = job;
    let track: PixelBox | null = null;
    if (stream && stream.knownBy !== this.sessions) {
      // The first frame of this stream the current page sees: it seeds the face tracker (null for a new stream).
      stream.knownBy = this.sessions;
      track = stream.track;
    }
    const header = encodeFrameHeader({
      job: job.id,
      stream: stream?.id ?? 0,
      width: frame.width,
      height: frame.height,
      channels: 3,
      timeMs: frame.time * 1000,
      track,
    });
    job.sentAt = performance.now();
    session.send([header, frame.data]);
  }

  private closeStream(stream: Stream): void {
    stream.closed = true;
    if (this.session?.alive && stream.knownBy === this.sessions) this.session.send([encodeCloseStream(stream.id)]);
  }

  private ensureSession(): void {
    if (this.session?.alive || this.starting || this.disposing) return;
    this.startSession(false).catch(noop);
  }

  /** Starts a session and sends it every frame in flight; a failure fails those frames (and `create`, the first time). */
  private startSession(first: boolean): Promise<void> {
    const id = ++this.sessions;
    const starting = (async () => {
      let session: ChromiumSession;
      try {
        session = await ChromiumSession.start(this.assets, { chromiumPath: this.chromiumPath, id, timeoutMs: this.settings.startTimeoutMs });
      } catch (err) {
        const error = new Error(`cannot ${first ? 'start' : 'restart'} Chromium (${this.chromiumPath}): ${(err as Error).message}`, { cause: err });
        for (const job of this.outstanding.splice(0)) job.reject(error);
        throw error;
      }
      if (this.disposing) {
        await session.close();
        return;
      }
      this.session = session;
      this.chromiumVersion = session.version;
      session.onMessage((data, isBinary) => this.receive(session, data, isBinary));
      session.onDeath((why) => this.died(session, why));
      // Frames of runs that ended (aborted, broken off) are not worth a restart's time.
      for (const job of this.outstanding.filter((j) => j.stream?.closed)) this.drop(job, new Error('the run was stopped'));
      for (const job of this.outstanding) this.transmit(session, job);
    })();
    this.starting = starting;
    return starting.finally(() => {
      if (this.starting === starting) this.starting = null;
    });
  }

  private drop(job: Job, err: Error): void {
    this.outstanding.splice(this.outstanding.indexOf(job), 1);
    job.reject(err);
  }

  private died(session: ChromiumSession, why: string): void {
    if (session !== this.session || this.disposing) return;
    this.session = null;
    this.restartCount++;
    const killing = session.kill().finally(() => this.killing.delete(killing));
    this.killing.add(killing);
    for (const job of [...this.outstanding]) {
      if (++job.deaths > this.settings.maxRestarts) {
        this.drop(job, new Error(`Chromium died ${job.deaths} times while frame ${job.frame.index} was being processed (last: ${why})`));
      }
    }
    this.ensureSession();
  }

  private receive(session: ChromiumSession, data: RawData, isBinary: boolean): void {
    if (session !== this.session) return;
    const job = this.outstanding[0];
    const bytes = data as Buffer;
    if (!isBinary) {
      const message = JSON.parse(bytes.toString('utf8')) as PageMessage;
      if (message.op === 'error' && job?.id === message.job) {
        this.outstanding.shift();
        job.reject(new Error(`MediaPipe failed on frame ${job.frame.index}: ${message.message}`));
        return;
      }
      this.protocolError(session, `unexpected message ${JSON.stringify(message)}`);
      return;
    }
    const result = decodeResult(bytes);
    if (!job || result.job !== job.id) {
      this.protocolError(session, `result for job ${result.job} while waiting for ${job?.id ?? 'nothing'}`);
      return;
    }
    this.outstanding.shift();
    if (job.stream) job.stream.track = result.track;
    job.resolve({
      index: job.frame.index,
      time: job.frame.time,
      width: job.frame.width,
      height: job.frame.height,
      face: result.face,
      faceRegion: result.faceRegion,
      hands: result.hands,
      pose: result.pose,
      timings: { ...result.timings, roundTrip: performance.now() - job.sentAt },
    });
  }

  /** Replies out of order mean the page's state is unknown: treat it like a crash (restart and resend). */
  private protocolError(session: ChromiumSession, what: string): void {
    this.died(session, `landmark page protocol error: ${what}`);
  }

  private async shutdown(): Promise<void> {
    const error = new Error('the landmark extractor was disposed');
    for (const job of this.outstanding.splice(0)) job.reject(error);
    await this.starting?.catch(noop);
    const session = this.session;
    this.session = null;
    await session?.close();
    await Promise.all(this.killing);
    await this.assets.close();
  }
}

function modelPathFor(task: LandmarkTask, option: LandmarkTaskOption | undefined, modelDir: string | undefined): string | null {
  if (!option) return null;
  if (option !== true) return option.modelPath;
  const dir = modelDir ?? process.env.SIGNWEAVE_MEDIAPIPE_MODELS;
  const { file, url } = OFFICIAL_MODELS[task];
  if (!dir) {
    throw new SignweaveInputError(
      `${task}: no model file given: pass ${task}.modelPath, or modelDir / SIGNWEAVE_MEDIAPIPE_MODELS for a folder holding ${file} (download: ${url})`,
    );
  }
  return resolve(dir, file);
}

/** The model must be a readable MediaPipe .task bundle (a zip; MediaPipe's start with two zero bytes before it). */
function checkTaskFile(task: LandmarkTask, path: string): string {
  const abs = resolve(path);
  const { file, url } = OFFICIAL_MODELS[task];
  const howToGet = `the official ${file} is at ${url}`;
  let head: Buffer;
  try {
    if (!statSync(abs).isFile()) throw new SignweaveInputError(`${task} model is not a file: ${abs} (${howToGet})`);
    head = readHead(abs, 6);
  } catch (err) {
    if (err instanceof SignweaveInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new SignweaveInputError(`cannot read the ${task} model ${abs}: ${why} (${howToGet})`);
  }
  const zip = Buffer.from('PK\x03\x04', 'latin1');
  if (head.length < 6 || (!head.subarray(0, 4).equals(zip) && !head.subarray(2, 6).equals(zip))) {
    throw new SignweaveInputError(`${task} model ${abs} is not a MediaPipe .task bundle (not a zip file; ${howToGet})`);
  }
  return abs;
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

function checkChromium(path: string): string {
  const abs = resolve(path);
  try {
    if (!statSync(abs).isFile()) throw new Error('not a file');
    accessSync(abs, constants.X_OK);
  } catch {
    throw new SignweaveInputError(
      `Chromium not found at ${abs} (or not executable): set chromiumPath or SIGNWEAVE_CHROMIUM to a Chromium ` +
        'executable; on Debian or Ubuntu `apt-get install chromium` provides /usr/lib/chromium/chromium',
    );
  }
  return abs;
}

function checkFrame(frame: VideoFrame): void {
  const { index, width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SignweaveInputError(`frame ${index}: invalid size ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new SignweaveInputError(`frame ${index}: ${data.length} bytes of pixels, but ${width}×${height} RGB24 needs ${width * height * 3}`);
  }
  if (!Number.isFinite(frame.time)) throw new SignweaveInputError(`frame ${index}: time is ${frame.time}`);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new SignweaveInputError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new SignweaveInputError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** A promise that rejects with the signal's reason when it aborts (never, without a signal). */
function abortPromise(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(noop), dispose: noop };
  let onAbort = noop;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(noop);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

async function* asAsync<T>(iterator: Iterator<T>): AsyncGenerator<T> {
  for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
}
