/**
 * What a video holds, from ffprobe: the first video stream's size, rate, duration, rotation and codec. A video is a
 * file, or a folder of numbered images (PHOENIX-2014T, ChicagoFSWild and CSL-Daily ship frames, not videos) read by
 * ffmpeg's image2 demuxer at a given frame rate. Also the ffmpeg plumbing `decode.ts` shares: the input arguments of
 * a source, running the tools and turning their failures into input errors.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SignweaveInputError } from '../errors.js';

/**
 * A folder of numbered images, all `.png` or all `.jpg`/`.jpeg`, shown at `fps`. Frames are taken in name order
 * (byte order, as ffmpeg's glob sorts them), so numbers must be zero-padded: `0001.png`, not `1.png`.
 */
export interface FrameFolder {
  frames: string;
  fps: number;
}

/** What can be decoded: a video file (any ffmpeg format) or a frame folder. */
export type VideoSource = string | FrameFolder;

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
  /** Bytes (a frame folder: of all its images). */
  fileSize: number;
  /** Frame folders only: the images' extension (as written, e.g. `.png`) and count; `fps` is the folder's. */
  frameFolder?: { extension: string; count: number };
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
const FOLDER_ERRORS: Record<string, string> = { ENOENT: 'no such folder', EACCES: 'permission denied', ENOTDIR: 'it is not a folder' };

/** The file or folder a source names: what messages show. */
export function sourcePath(source: VideoSource): string {
  return typeof source === 'string' ? source : source.frames;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The images of a frame folder in name order, with their common extension. Errors name the folder: missing, not a
 * folder, empty, no images, mixed image types, or numbers that are not zero-padded (name order would shuffle them).
 */
export async function listFrameFolder(folder: string): Promise<{ extension: string; files: string[] }> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new SignweaveInputError(`cannot read frame folder ${folder}: ${FOLDER_ERRORS[code] ?? (err as Error).message}`);
  }
  if (entries.length === 0) throw new SignweaveInputError(`frame folder ${folder} is empty`);
  // Hidden files are skipped, as ffmpeg's glob skips them.
  const images = entries.filter((e) => !e.isDirectory() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()));
  if (images.length === 0) {
    const shown = entries.slice(0, 5).map((e) => e.name + (e.isDirectory() ? '/' : '')).join(', ');
    throw new SignweaveInputError(`frame folder ${folder} has no .png or .jpg images (it holds ${shown}${entries.length > 5 ? ', …' : ''})`);
  }
  const counts = new Map<string, number>();
  for (const e of images) counts.set(extname(e.name), (counts.get(extname(e.name)) ?? 0) + 1);
  if (counts.size > 1) {
    const mix = [...counts].map(([ext, n]) => `${n} ${ext}`).join(', ');
    throw new SignweaveInputError(`frame folder ${folder} mixes image types (${mix}): keep one, ffmpeg reads one pattern`);
  }
  const files = images.map((e) => e.name).sort(byteOrder);
  // `frame9.png` sorting after `frame10.png` would play the frames out of order.
  const numbered = files.map((name) => /^(.*?)(\d+)(\D*)$/.exec(name));
  for (let i = 1; i < files.length; i++) {
    const [a, b] = [numbered[i - 1], numbered[i]];
    if (a && b && a[1] === b[1] && Number(a[2]) > Number(b[2])) {
      throw new SignweaveInputError(`frame folder ${folder}: frame numbers are not zero-padded (${files[i - 1]} sorts before ${files[i]}); frames are read in name order`);
    }
  }
  return { extension: extname(files[0]), files };
}

/** The characters glob(3) treats specially, escaped so that a folder's own name matches only itself. */
const escapeGlob = (text: string): string => text.replace(/[\\*?[\]{}]/g, '\\$&');

/**
 * ffmpeg's (and ffprobe's) input arguments for a probed source, ending with `-i`: a file as is; a frame folder through
 * the image2 demuxer, `-framerate <fps> -pattern_type glob -i '<folder>/*<ext>'`, frame k at k / fps.
 */
export function ffmpegInput(source: VideoSource, frameFolder: VideoInfo['frameFolder']): string[] {
  if (typeof source === 'string') return ['-i', source];
  if (!frameFolder) throw new Error(`${source.frames}: a frame folder's VideoInfo must come from probeVideo({ frames, fps })`);
  return ['-f', 'image2', '-framerate', String(source.fps), '-pattern_type', 'glob', '-i', join(escapeGlob(source.frames), `*${escapeGlob(frameFolder.extension)}`)];
}

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

function runFfprobe(path: string, input: string[], options: ToolOptions): Promise<string> {
  const tool = ffprobeFor(options);
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...input],
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

/** A frame folder's images and their total size; the folder and fps are checked first. */
async function checkFrameFolder(source: FrameFolder): Promise<{ frameFolder: NonNullable<VideoInfo['frameFolder']>; fileSize: number }> {
  if (typeof source.fps !== 'number' || !Number.isFinite(source.fps) || source.fps <= 0) {
    throw new SignweaveInputError(`frame folder ${source.frames}: fps must be a positive number, got ${source.fps}`);
  }
  const { extension, files } = await listFrameFolder(source.frames);
  const sizes = await Promise.all(
    files.map(async (f) => {
      const size = await stat(join(source.frames, f)).then(
        (st) => st.size,
        (err: NodeJS.ErrnoException) => {
          throw new SignweaveInputError(`frame folder ${source.frames}: cannot read ${f}: ${STAT_ERRORS[err.code ?? ''] ?? err.message}`);
        },
      );
      if (size === 0) throw new SignweaveInputError(`frame folder ${source.frames}: ${f} is empty`);
      return size;
    }),
  );
  return { frameFolder: { extension, count: files.length }, fileSize: sizes.reduce((a, b) => a + b, 0) };
}

/** Reads a video's properties with ffprobe; every failure is an input error naming the file or frame folder. */
export async function probeVideo(source: VideoSource, options: ToolOptions = {}): Promise<VideoInfo> {
  options.signal?.throwIfAborted();
  const path = sourcePath(source);
  const folder = typeof source === 'string' ? undefined : await checkFrameFolder(source);
  const fileSize = folder?.fileSize ?? (await checkVideoFile(path));
  const json = JSON.parse(await runFfprobe(path, ffmpegInput(source, folder?.frameFolder), options)) as ProbeJson;
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
  const frameCount = folder ? folder.frameFolder.count : Number(stream.nb_frames ?? NaN);
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
    // A frame folder's rate and length are exactly what was asked (ffprobe prints durations rounded to 1 µs).
    fps: typeof source === 'string' ? frameRate.num / frameRate.den : source.fps,
    frameRate,
    ...(Number.isInteger(frameCount) && frameCount > 0 ? { frameCount } : {}),
    duration: typeof source === 'string' ? duration : frameCount / source.fps,
    startTime: Number.isFinite(streamStart) ? Math.max(0, streamStart - containerStartTime) : 0,
    containerStartTime,
    timeBase,
    fileSize,
    ...(folder ? { frameFolder: folder.frameFolder } : {}),
  };
}
