/**
 * The binary protocol between Node and the detection page (src/landmarks/page.ts mirrors it in browser JavaScript).
 * Little-endian throughout. Node → page: each message is the body of one HTTP response to the page's frame worker,
 * which polls `frames?session=N` one request at a time (src/landmarks/browser.ts); page → Node: WebSocket messages.
 * Node sends each frame once; the page handles messages strictly in arrival order and answers every frame with one
 * result (or one JSON error), so replies come back in the order sent.
 *
 * Frame (Node → page):
 *   u32 kind=1 | u32 job | u32 stream (0 = independent still) | u32 width | u32 height | u32 channels (3 RGB, 4 RGBA)
 *   | f64 time ms | u32 hasTrack | u32 0 | f64×4 track box (px) | pixels
 *   `track` seeds a stream's face tracker when the page does not know the stream yet (after a Chromium restart).
 * Close stream (Node → page): u32 kind=2 | u32 stream.
 * Result (page → Node):
 *   u32 kind=1 | u32 job | u32 facePoints | u32 hands | u32 posePoints | u32 hasFace | f32×4 ms (image, face, hands,
 *   pose) | f64×4 face region (px) | f64×4 track box (px) | f32 face x,y,z… | per hand f32 handedness (0 Left,
 *   1 Right), score, 21 × x,y,z | f32 pose x,y,z,visibility,presence…
 * Text messages (WebSocket, both ways) are JSON: `{op:'init', models}` → `{op:'ready'}` or `{op:'failed', message}`;
 * a frame that fails is answered `{op:'error', job, message}`.
 */
import type { FrameLandmarks, HandLandmarks, Landmark, PixelBox } from './types.js';

export const FRAME_KIND = 1;
export const CLOSE_STREAM_KIND = 2;
export const FRAME_HEADER_BYTES = 72;
export const RESULT_HEADER_BYTES = 104;

export interface FrameHeader {
  job: number;
  stream: number;
  width: number;
  height: number;
  channels: 3 | 4;
  timeMs: number;
  track: PixelBox | null;
}

export function encodeFrameHeader(h: FrameHeader): Buffer {
  const buf = Buffer.alloc(FRAME_HEADER_BYTES);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, FRAME_KIND, true);
  dv.setUint32(4, h.job, true);
  dv.setUint32(8, h.stream, true);
  dv.setUint32(12, h.width, true);
  dv.setUint32(16, h.height, true);
  dv.setUint32(20, h.channels, true);
  dv.setFloat64(24, h.timeMs, true);
  dv.setUint32(32, h.track ? 1 : 0, true);
  if (h.track) writeBox(dv, 40, h.track);
  return buf;
}

export function encodeCloseStream(stream: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32LE(CLOSE_STREAM_KIND, 0);
  buf.writeUInt32LE(stream, 4);
  return buf;
}

/** A decoded result, before Node adds the frame's identity and its round-trip time. */
export interface PageResult {
  job: number;
  face: Landmark[] | null;
  faceRegion: PixelBox | null;
  /** The face tracker's state after this frame (the landmarks' bounding box), to resume a stream after a restart. */
  track: PixelBox | null;
  hands: HandLandmarks[];
  pose: Landmark[] | null;
  timings: Omit<FrameLandmarks['timings'], 'roundTrip'>;
}

export function decodeResult(bytes: Buffer): PageResult {
  if (bytes.byteLength < RESULT_HEADER_BYTES) throw new Error(`landmark page sent a ${bytes.byteLength}-byte result`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const facePoints = dv.getUint32(8, true);
  const handCount = dv.getUint32(12, true);
  const posePoints = dv.getUint32(16, true);
  const hasFace = dv.getUint32(20, true) === 1;
  const floats = facePoints * 3 + handCount * (2 + 21 * 3) + posePoints * 5;
  if (bytes.byteLength !== RESULT_HEADER_BYTES + floats * 4) {
    throw new Error(`landmark page sent a malformed result (${bytes.byteLength} bytes for ${floats} values)`);
  }
  let at = RESULT_HEADER_BYTES;
  const f32 = () => {
    const v = dv.getFloat32(at, true);
    at += 4;
    return v;
  };
  const points = (n: number, withVisibility: boolean): Landmark[] => {
    const out: Landmark[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p: Landmark = { x: f32(), y: f32(), z: f32() };
      if (withVisibility) {
        p.visibility = f32();
        p.presence = f32();
      }
      out[i] = p;
    }
    return out;
  };
  const face = facePoints > 0 ? points(facePoints, false) : null;
  const hands: HandLandmarks[] = [];
  for (let h = 0; h < handCount; h++) {
    const handedness = f32() === 1 ? 'Right' : 'Left';
    const score = f32();
    hands.push({ handedness, score, landmarks: points(21, false) });
  }
  const pose = posePoints > 0 ? points(posePoints, true) : null;
  return {
    job: dv.getUint32(4, true),
    face,
    faceRegion: hasFace ? readBox(dv, 40) : null,
    track: hasFace ? readBox(dv, 72) : null,
    hands,
    pose,
    timings: { image: dv.getFloat32(24, true), face: dv.getFloat32(28, true), hands: dv.getFloat32(32, true), pose: dv.getFloat32(36, true) },
  };
}

function writeBox(dv: DataView, at: number, b: PixelBox): void {
  dv.setFloat64(at, b.x, true);
  dv.setFloat64(at + 8, b.y, true);
  dv.setFloat64(at + 16, b.width, true);
  dv.setFloat64(at + 24, b.height, true);
}

function readBox(dv: DataView, at: number): PixelBox {
  return { x: dv.getFloat64(at, true), y: dv.getFloat64(at + 8, true), width: dv.getFloat64(at + 16, true), height: dv.getFloat64(at + 24, true) };
}

/** JSON text messages. */
export type PageMessage =
  | { op: 'ready' }
  | { op: 'failed'; message: string }
  | { op: 'error'; job: number; message: string };

export interface InitMessage {
  op: 'init';
  /** URLs (on the local server) of the .task files of the requested tasks. */
  models: { face?: string; hands?: string; pose?: string };
}
