/** Video test fixtures: the shared clips, synthetic videos made with ffmpeg's lavfi sources, and frame extraction. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoFrame } from '../../src/types.js';
import { sharedPath } from './shared.js';

/** How2Sign front view: 1280×720, 24 fps, 102 frames, 4.25 s, H.264 with the moov atom at the end. */
export const HOW2SIGN_CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
/** pose-format's test clip: 540×720 portrait, 359/12 fps, 58 frames, full-range yuvj420p, moov atom first. */
export const POSE_CLIP = sharedPath('data', 'videos_misc', 'pose_repo_test_video', 'test_video.mp4');
/** sign.mt's example sentence: 320×240, 25 fps, 107 frames. */
export const SIGNMT_CLIP = sharedPath('data', 'videos_misc', 'signmt_example_sentence', 'example-sentence-original.mp4');
/** The same sentence re-encoded at 120 fps: 514 frames. */
export const SIGNMT_120 = sharedPath('data', 'videos_misc', 'signmt_example_sentence', 'example-sentence.mp4');

/** Runs ffmpeg quietly and returns its stdout; throws with its stderr when it fails. */
export function ffmpeg(args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** A fresh temp folder and the function that removes it. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'signweave-video-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A testsrc2 video (moving pattern and a frame counter) encoded with x264's fastest preset. */
export function syntheticVideo(path: string, { size = '320x240', rate = 25, seconds = 2 } = {}): string {
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path]);
  return path;
}

/** A copy of `source` (no re-encoding) that players rotate 90° counter-clockwise for display. */
export function rotatedCopy(source: string, path: string): string {
  ffmpeg(['-i', source, '-c', 'copy', '-metadata:s:v', 'rotate=90', path]);
  return path;
}

/** One frame extracted by a separate ffmpeg run (`-ss` before `-i`, `-frames:v 1`), as packed RGB24. */
export function extractFrame(path: string, seconds: number, width: number, height: number): VideoFrame {
  const data = ffmpeg(['-ss', String(seconds), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  if (data.length !== width * height * 3) throw new Error(`extracted ${data.length} bytes, expected a ${width}x${height} frame`);
  return { index: 0, time: seconds, width, height, data: new Uint8Array(data) };
}

/** Whether a process exists (a zombie counts: it has not been reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Bytes a process has written so far (Linux /proc/PID/io `wchar`), or undefined where that cannot be read. */
export function bytesWritten(pid: number): number | undefined {
  try {
    const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The frame turned 90° counter-clockwise (what a player shows for a display matrix of +90°). */
export function rotateCcw(frame: VideoFrame): VideoFrame {
  const { width: w, height: h } = frame;
  const out = new Uint8Array(w * h * 3);
  // Source (x, y) lands at (y, w − 1 − x) in the h-wide result.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = ((w - 1 - x) * h + y) * 3;
      out[d] = frame.data[s];
      out[d + 1] = frame.data[s + 1];
      out[d + 2] = frame.data[s + 2];
    }
  }
  return { ...frame, width: h, height: w, data: out };
}
