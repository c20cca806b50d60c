/**
 * What a video file holds, from ffprobe: the first video stream's size, rate, duration, rotation and codec.
 * Also the ffmpeg plumbing `decode.ts` shares: running the tools and turning their failures into input errors.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { SignweaveInputError } from '../errors.js';

/** An exact ratio, as ffmpeg writes rates and time bases ("30000/1001"). */
export interface Rational {
  num: number;
  den: number;
}

export interface VideoInfo {
  path: string;
  /** Container format as ffprobe names it ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", …). */
  container: string;
  /** Index of the video stream decoded (the first one that is not cover art). */
  streamIndex: number;
  codec: string;
  pixelFormat: string;
  /** Size as stored. */
  codedWidth: number;
  codedHeight: number;
  /** Size as displayed, after rotation: the size decoded frames have. */
  width: number;
  height: number;
  /** Counter-clockwise rotation for display in degrees, [0, 360), as ffprobe reports the display matrix. */
  rotation: number;
  /** Average frame rate (r_frame_rate when the container gives none). */
  fps: number;
  frameRate: Rational;
  /** Frame count when the container records it (MP4 does; Matroska usually does not). */
  frameCount?: number;
  /** Seconds of video (the stream's duration, or the container's when the stream has none). */
  duration: number;
  /** Seconds from the file's origin to the first video frame; usually 0. */
  startTime: number;
  /**
   * The origin of every time signweave reports (frame times, ranges, `startTime`): the container's start time in
   * seconds, which is also where ffmpeg's `-ss 0` points.
   */
  containerStartTime: number;
  timeBase: Rational;
  /** Bytes. */
  fileSize: number;
}

export interface ToolOptions {
  signal?: AbortSignal;
  /** ffprobe to run; by default the one beside `ffmpegPath`, else `ffprobe` on the PATH. */
  ffprobePath?: string;
  /** ffmpeg to run (`ffmpeg` on the PATH by default). */
  ffmpegPath?: string;
}

export function parseRational(text: string | undefined): Rational | undefined {
  const m = /^(-?\d+)\/(\d+)$/.exec(text ?? '');
  if (!m) return undefined;
  const r = { num: Number(m[1]), den: Number(m[2]) };
  return r.num !== 0 && r.den !== 0 ? r : undefined;
}

/** The ffprobe beside a given ffmpeg (same folder), so one option points signweave at a whole install. */
export function ffprobeFor(options: ToolOptions): string {
  if (options.ffprobePath) return options.ffprobePath;
  const m = /^(.*\/)ffmpeg([^/]*)$/.exec(options.ffmpegPath ?? '');
  return m ? `${m[1]}ffprobe${m[2]}` : 'ffprobe';
}

/** A spawn failure (the tool itself cannot be run) as an input error telling how to install it. */
export function toolError(path: string, tool: string, command: string, err: NodeJS.ErrnoException): SignweaveInputError {
  if (err.code === 'ENOENT') {
    return new SignweaveInputError(`${path}: ${tool} is not installed (cannot run ${command}): install ffmpeg, e.g. apt-get install ffmpeg`);
  }
  return new SignweaveInputError(`${path}: cannot run ${command}: ${err.code === 'EACCES' ? 'permission denied' : err.message}`);
}

const STAT_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', ENOTDIR: 'no such file' };

/** Fails early, naming the file, when it cannot be a video at all; returns its size. */
export async function checkVideoFile(path: string): Promise<number> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new SignweaveInputError(`cannot read video ${path}: it is a directory`);
    size = st.size;
  } catch (err) {
    if (err instanceof SignweaveInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new SignweaveInputError(`cannot read video ${path}: ${STAT_ERRORS[code] ?? (err as Error).message}`);
  }
  if (size === 0) throw new SignweaveInputError(`${path} is not a video: the file is empty`);
  return size;
}

/** ffmpeg's messages without the `[demuxer @ 0x…]` prefixes and the repeated file name. */
export function cleanToolMessages(stderr: string, path: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.replace(/^(\[[^\]]*@ 0x[0-9a-f]+\] )+/, '').replace(/^\[(error|fatal|panic|warning)\] /, '').trim().replace(/\.$/, ''))
    .map((line) => (line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line))
    .filter((line) => line !== '');
}

interface ProbeJson {
  streams?: {
    index: number;
    codec_type?: string;
    codec_name?: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    start_time?: string;
    time_base?: string;
    disposition?: { attached_pic?: number };
    tags?: Record<string, string>;
    side_data_list?: { side_data_type?: string; rotation?: number | string }[];
  }[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

function runFfprobe(path: string, options: ToolOptions): Promise<string> {
  const tool = ffprobeFor(options);
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', path],
      { signal: options.signal, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (options.signal?.aborted) return reject(options.signal.reason);
        const spawnErr = err as NodeJS.ErrnoException;
        if (typeof spawnErr.code === 'string') return reject(toolError(path, 'ffprobe', tool, spawnErr));
        const why = cleanToolMessages(stderr, path).slice(-3).join('; ') || `ffprobe exited with ${String(spawnErr.code)}`;
        reject(new SignweaveInputError(`${path} is not a readable video: ${why}`));
      },
    );
  });
}

/**
 * Rotation as ffmpeg applies it when decoding: the display matrix's angle (counter-clockwise), or the older `rotate`
 * tag (clockwise) when the matrix is absent.
 */
function rotationOf(stream: NonNullable<ProbeJson['streams']>[number]): number {
  const matrix = stream.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && d.rotation !== undefined);
  let ccw = 0;
  if (matrix) ccw = Number(matrix.rotation);
  else if (stream.tags?.rotate !== undefined) ccw = -Number(stream.tags.rotate);
  if (!Number.isFinite(ccw)) return 0;
  return ((Math.round(ccw) % 360) + 360) % 360;
}

/** Reads a video's properties with ffprobe; every failure is an input error naming the file. */
export async function probeVideo(path: string, options: ToolOptions = {}): Promise<VideoInfo> {
  options.signal?.throwIfAborted();
  const fileSize = await checkVideoFile(path);
  const json = JSON.parse(await runFfprobe(path, options)) as ProbeJson;
  const container = json.format?.format_name ?? 'unknown';
  // ffprobe reads plain text as an ANSI-art "video" (tty); no one means that by a video file.
  if (container === 'tty') throw new SignweaveInputError(`${path} is not a video: it is a text file`);
  const stream = json.streams?.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!stream) {
    const kinds = [...new Set((json.streams ?? []).map((s) => s.codec_type ?? 'unknown'))];
    throw new SignweaveInputError(`${path} has no video stream${kinds.length ? ` (only ${kinds.join(', ')})` : ''}`);
  }
  const frameRate = parseRational(stream.avg_frame_rate) ?? parseRational(stream.r_frame_rate);
  if (!stream.width || !stream.height || !frameRate) {
    throw new SignweaveInputError(`${path}: the video stream has no ${!frameRate ? 'frame rate' : 'picture size'}; the file is probably damaged`);
  }
  const timeBase = parseRational(stream.time_base) ?? { num: 1, den: 1_000_000 };
  const containerStartTime = Number(json.format?.start_time ?? 0) || 0;
  const streamStart = Number(stream.start_time ?? containerStartTime);
  const duration = Number(stream.duration ?? json.format?.duration);
  if (!Number.isFinite(duration) || duration <= 0) throw new SignweaveInputError(`${path}: the video has no duration; the file is probably damaged`);
  const rotation = rotationOf(stream);
  const quarterTurn = rotation === 90 || rotation === 270;
  const frameCount = Number(stream.nb_frames ?? NaN);
  return {
    path,
    container,
    streamIndex: stream.index,
    codec: stream.codec_name ?? 'unknown',
    pixelFormat: stream.pix_fmt ?? 'unknown',
    codedWidth: stream.width,
    codedHeight: stream.height,
    width: quarterTurn ? stream.height : stream.width,
    height: quarterTurn ? stream.width : stream.height,
    rotation,
    fps: frameRate.num / frameRate.den,
    frameRate,
    ...(Number.isInteger(frameCount) && frameCount > 0 ? { frameCount } : {}),
    duration,
    startTime: Number.isFinite(streamStart) ? Math.max(0, streamStart - containerStartTime) : 0,
    containerStartTime,
    timeBase,
    fileSize,
  };
}
