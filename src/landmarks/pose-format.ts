/**
 * `.pose` files (sign-language-processing/pose, "pose-format"), versions 0.1 and 0.2, read and written.
 *
 * Layout (little-endian; str = uint16 byte length + UTF-8):
 *   header  float32 version; uint16 width, height, depth; uint16 #components; per component: str name,
 *           str format ("XYZC"…), uint16 #points, #limbs, #colors, the point names (str), the limbs (uint16 pairs,
 *           indices within the component), the colours (uint16 r, g, b)
 *   v0.1    uint16 fps, uint16 frames, uint16 people
 *   v0.2    float32 fps, uint32 frames, uint16 people
 *   then    float32 data[frames][people][points][dims], float32 confidence[frames][people][points]
 * where points is the sum over components and dims = max(format length) − 1 (every point stores `dims` values).
 *
 * Format notes:
 * - The version is a float32 (0.1 is stored as 0.100000001…); like pose-format's readers we round it to three
 *   decimals. Versions other than 0.1 and 0.2 (0.0, the per-frame layout of 2019, included) are refused.
 * - v0.1's frame field is a uint16 that pose-format wrote as 0 for 65,535 frames or more, so we derive the count
 *   from the bytes left, as pose-format does, and write the field the way it did. Round trips are byte-identical
 *   whenever the stored field was right (it is in every staged file).
 * - A point is missing when its confidence is 0 (pose-format masks exactly those). Its coordinates mean nothing:
 *   pose-format's holistic writer stores 0, normalisation steps leave NaN (either sign), some files keep stale
 *   values. We keep whatever bits are stored, NaN payloads included, and poseFromLandmarks writes 0.
 * - Anything after the confidence array is an error, not a warning: the layout has no padding or trailer, so extra
 *   bytes mean a wrong frame count or a damaged file, and reading on would silently drop data. For v0.1, whose frame
 *   count comes from the byte count, a body that is not a whole number of frames is the same error.
 * - pose-format writes a string's character count as its length; we write the UTF-8 byte count, which is what every
 *   reader (theirs included) needs, and the same for ASCII names.
 */
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readInputFile } from '../util/text-files.js';
import { MEDIAPIPE_COMPONENTS, type LandmarkPart } from './pose-components.js';

export type PoseVersion = 0.1 | 0.2;

export interface PoseComponent {
  name: string;
  /** One letter per stored value, confidence last: "XYZC", "XYC", "XYZKC". */
  format: string;
  points: string[];
  /** Pairs of point indices within this component. */
  limbs: [number, number][];
  colors: [number, number, number][];
}

export interface PoseHeader {
  /** The version the file was read as (writePose writes the version it is asked for). */
  version: PoseVersion;
  width: number;
  height: number;
  depth: number;
  components: PoseComponent[];
}

export interface Pose {
  header: PoseHeader;
  fps: number;
  frames: number;
  people: number;
  /** Values per point: max(format length) − 1. */
  dims: number;
  /** `[frames][people][points][dims]`, points in component order. */
  data: Float32Array;
  /** `[frames][people][points]`; 0 marks a missing point. */
  confidence: Float32Array;
}

export interface WritePoseOptions {
  /** Default 0.2, the version pose-format writes. */
  version?: PoseVersion;
}

export interface PosePoint {
  x: number;
  y: number;
  /** undefined for 2-D poses. */
  z: number | undefined;
  confidence: number;
}

/** Total points over all components: the size of one person in one frame. */
export function totalPoints(header: PoseHeader): number {
  return header.components.reduce((sum, c) => sum + c.points.length, 0);
}

/** Values stored per point (pose-format's `num_dims`). */
export function poseDims(header: PoseHeader): number {
  return Math.max(...header.components.map((c) => c.format.length)) - 1;
}

/** The component called `name`, its position, and the index of its first point among all points. */
export function findComponent(
  header: PoseHeader,
  name: string,
): { component: PoseComponent; index: number; start: number } | undefined {
  let start = 0;
  for (const [index, component] of header.components.entries()) {
    if (component.name === name) return { component, index, start };
    start += component.points.length;
  }
  return undefined;
}

/** Index of a point among all points of a person (pose-format's `get_point_index`). */
export function pointIndex(header: PoseHeader, component: string, point: string): number {
  const found = findComponent(header, component);
  if (!found) {
    throw new SignweaveInputError(
      `the pose has no component ${component} (it has ${header.components.map((c) => c.name).join(', ')})`,
    );
  }
  const i = found.component.points.indexOf(point);
  if (i < 0) throw new SignweaveInputError(`component ${component} of the pose has no point ${point}`);
  return found.start + i;
}

/** A point's coordinates and confidence; `point` is an index from `pointIndex`. */
export function getPoint(pose: Pose, frame: number, person: number, point: number): PosePoint {
  const points = totalPoints(pose.header);
  for (const [what, value, size] of [
    ['frame', frame, pose.frames],
    ['person', person, pose.people],
    ['point', point, points],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value >= size) throw new RangeError(`${what} ${value} is not in 0..${size - 1}`);
  }
  const slot = (frame * pose.people + person) * points + point;
  const at = slot * pose.dims;
  return {
    x: pose.data[at],
    y: pose.data[at + 1],
    z: pose.dims >= 3 ? pose.data[at + 2] : undefined,
    confidence: pose.confidence[slot],
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

/** A cursor over the file's bytes whose failures name the file, the field and its byte offset. */
class PoseReader {
  offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.offset;
  }

  fail(message: string): never {
    throw new SignweaveInputError(`${this.source} is not a valid .pose file: ${message}`);
  }

  private take(size: number, what: string): number {
    if (size > this.left) {
      this.fail(`truncated: ${what} at byte ${this.offset} needs ${size} bytes, ${this.left} left`);
    }
    const at = this.offset;
    this.offset += size;
    return at;
  }

  u16(what: string): number {
    return this.view.getUint16(this.take(2, what), true);
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  f32(what: string): number {
    return this.view.getFloat32(this.take(4, what), true);
  }

  str(what: string): string {
    const length = this.u16(`the length of ${what}`);
    const at = this.take(length, what);
    try {
      return strictUtf8.decode(this.bytes.subarray(at, at + length));
    } catch {
      return this.fail(`${what} at byte ${at} is not valid UTF-8`);
    }
  }

  /** float32 values copied as raw bits, so NaN payloads survive (a Number round trip may canonicalise them). */
  floats(count: number, what: string): Float32Array {
    const at = this.take(count * 4, what);
    const out = new Float32Array(count);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = this.view.getUint32(at + 4 * i, true);
    return out;
  }
}

function readComponent(r: PoseReader, index: number): PoseComponent {
  const which = `component ${index}`;
  const name = r.str(`the name of ${which}`);
  const label = `${which} (${name})`;
  const format = r.str(`the format of ${label}`);
  const pointCount = r.u16(`the point count of ${label}`);
  const limbCount = r.u16(`the limb count of ${label}`);
  const colorCount = r.u16(`the colour count of ${label}`);
  const points: string[] = [];
  for (let i = 0; i < pointCount; i++) points.push(r.str(`point ${i} of ${label}`));
  const limbs: [number, number][] = [];
  for (let i = 0; i < limbCount; i++) {
    const at = r.offset;
    const limb: [number, number] = [r.u16(`limb ${i} of ${label}`), r.u16(`limb ${i} of ${label}`)];
    if (limb[0] >= pointCount || limb[1] >= pointCount) {
      r.fail(`limb ${i} of ${label} at byte ${at} joins points ${limb[0]} and ${limb[1]}, but it has ${plural(pointCount, 'point')}`);
    }
    limbs.push(limb);
  }
  const colors: [number, number, number][] = [];
  for (let i = 0; i < colorCount; i++) {
    const what = `colour ${i} of ${label}`;
    colors.push([r.u16(what), r.u16(what), r.u16(what)]);
  }
  return { name, format, points, limbs, colors };
}

function readHeader(r: PoseReader): PoseHeader {
  const stored = r.f32('the version');
  const rounded = Math.round(stored * 1000) / 1000;
  if (rounded !== 0.1 && rounded !== 0.2) {
    r.fail(
      rounded === 0
        ? 'version 0.0 (the per-frame layout of 2019) is not supported; signweave reads 0.1 and 0.2'
        : `unknown version ${stored} at byte 0; signweave reads 0.1 and 0.2`,
    );
  }
  const version = rounded as PoseVersion;
  const width = r.u16('the width');
  const height = r.u16('the height');
  const depth = r.u16('the depth');
  const count = r.u16('the component count');
  const components: PoseComponent[] = [];
  for (let i = 0; i < count; i++) components.push(readComponent(r, i));
  const header: PoseHeader = { version, width, height, depth, components };
  if (count === 0) r.fail('the header has no components');
  if (poseDims(header) < 1) r.fail('no component format has a coordinate besides the confidence');
  return header;
}

/** Parses a `.pose` file; `source` names it in error messages. */
export function readPose(bytes: Uint8Array, source = 'the .pose data'): Pose {
  const r = new PoseReader(bytes, source);
  const header = readHeader(r);
  const points = totalPoints(header);
  const dims = poseDims(header);
  let fps: number;
  let frames: number;
  let people: number;
  if (header.version === 0.1) {
    fps = r.u16('the fps');
    const storedFrames = r.u16('the frame count');
    people = r.u16('the person count');
    const frameBytes = people * points * (dims + 1) * 4;
    if (frameBytes === 0) {
      frames = storedFrames; // nothing is stored per frame, so the field is all there is
    } else {
      if (r.left % frameBytes !== 0) {
        r.fail(
          `the body after byte ${r.offset} holds ${r.left} bytes, not a whole number of ${frameBytes}-byte frames ` +
            `(${plural(people, 'person', 'people')} × ${plural(points, 'point')} × ${dims + 1} float32 values)`,
        );
      }
      frames = r.left / frameBytes;
    }
  } else {
    fps = r.f32('the fps');
    frames = r.u32('the frame count');
    people = r.u16('the person count');
  }
  const shape = `${plural(frames, 'frame')} × ${plural(people, 'person', 'people')} × ${plural(points, 'point')}`;
  const data = r.floats(frames * people * points * dims, `the data array (${shape} × ${dims} dims, float32)`);
  const confidence = r.floats(frames * people * points, `the confidence array (${shape}, float32)`);
  if (r.left > 0) r.fail(`${r.left} trailing bytes after the confidence array, at byte ${r.offset}`);
  return { header, fps, frames, people, dims, data, confidence };
}

export function readPoseFile(path: string): Pose {
  return readPose(readInputFile(path, '.pose file'), path);
}

const utf8 = new TextEncoder();

/** Checks that a value fits its field before anything is written. */
function checkInt(target: string, field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SignweaveInputError(`cannot write ${target}: ${field} is ${value}, not an integer in 0..${max}`);
  }
  return value;
}

function encodeString(target: string, field: string, s: string): Uint8Array {
  const bytes = utf8.encode(s);
  checkInt(target, `the UTF-8 length of ${field}`, bytes.length, 0xffff);
  return bytes;
}

/** Validates the pose for `version` and serialises it; `target` names the output in error messages. */
function encodePose(pose: Pose, version: PoseVersion, target: string): Uint8Array {
  const { header } = pose;
  const u16 = (field: string, value: number) => checkInt(target, field, value, 0xffff);
  const fail = (message: string): never => {
    throw new SignweaveInputError(`cannot write ${target}: ${message}`);
  };
  if (header.components.length === 0) fail('the header has no components');
  const dims = poseDims(header);
  if (dims < 1 || pose.dims !== dims) fail(`dims is ${pose.dims}, but the component formats give ${dims}`);
  for (const f of ['width', 'height', 'depth'] as const) u16(f, header[f]);
  u16('the component count', header.components.length);
  if (version === 0.1) u16('the fps (an integer in v0.1; write v0.2 for fractional rates)', pose.fps);
  else if (!(pose.fps >= 0) || !Number.isFinite(Math.fround(pose.fps))) fail(`the fps is ${pose.fps}`);
  checkInt(target, 'the frame count', pose.frames, version === 0.1 ? Number.MAX_SAFE_INTEGER : 0xffffffff);
  u16('the person count', pose.people);

  const components = header.components.map((c, i) => {
    const label = `component ${i} (${c.name})`;
    u16(`the point count of ${label}`, c.points.length);
    u16(`the limb count of ${label}`, c.limbs.length);
    u16(`the colour count of ${label}`, c.colors.length);
    c.limbs.forEach((limb, j) => {
      if (limb[0] >= c.points.length || limb[1] >= c.points.length) {
        fail(`limb ${j} of ${label} joins points ${limb[0]} and ${limb[1]}, but it has ${plural(c.points.length, 'point')}`);
      }
      limb.forEach((p) => u16(`limb ${j} of ${label}`, p));
    });
    c.colors.forEach((color, j) => color.forEach((v) => u16(`colour ${j} of ${label}`, v)));
    return {
      name: encodeString(target, `the name of ${label}`, c.name),
      format: encodeString(target, `the format of ${label}`, c.format),
      points: c.points.map((p, j) => encodeString(target, `point ${j} of ${label}`, p)),
      component: c,
    };
  });

  const points = totalPoints(header);
  const values = pose.frames * pose.people * points;
  const shape = `${plural(pose.frames, 'frame')} × ${plural(pose.people, 'person', 'people')} × ${plural(points, 'point')}`;
  if (pose.data.length !== values * dims) fail(`data has ${pose.data.length} values; ${shape} × ${dims} dims need ${values * dims}`);
  if (pose.confidence.length !== values) fail(`confidence has ${pose.confidence.length} values; ${shape} need ${values}`);

  let size = 4 + 6 + 2 + (version === 0.1 ? 6 : 10) + (pose.data.length + pose.confidence.length) * 4;
  for (const c of components) {
    size += 2 + c.name.length + 2 + c.format.length + 6;
    for (const p of c.points) size += 2 + p.length;
    size += c.component.limbs.length * 4 + c.component.colors.length * 6;
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const putU16 = (v: number) => {
    view.setUint16(at, v, true);
    at += 2;
  };
  const putStr = (bytes: Uint8Array) => {
    putU16(bytes.length);
    out.set(bytes, at);
    at += bytes.length;
  };
  // Raw bits, so NaN payloads read from a file are written back unchanged.
  const putFloats = (values: Float32Array) => {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < bits.length; i++, at += 4) view.setUint32(at, bits[i], true);
  };

  view.setFloat32(at, version, true);
  at += 4;
  putU16(header.width);
  putU16(header.height);
  putU16(header.depth);
  putU16(components.length);
  for (const c of components) {
    putStr(c.name);
    putStr(c.format);
    putU16(c.points.length);
    putU16(c.component.limbs.length);
    putU16(c.component.colors.length);
    c.points.forEach(putStr);
    for (const limb of c.component.limbs) limb.forEach(putU16);
    for (const color of c.component.colors) color.forEach(putU16);
  }
  if (version === 0.1) {
    putU16(pose.fps);
    putU16(pose.frames < 0xffff ? pose.frames : 0); // what pose-format's v0.1 writer stored; readers recount
  } else {
    view.setFloat32(at, pose.fps, true);
    view.setUint32(at + 4, pose.frames, true);
    at += 8;
  }
  putU16(pose.people);
  putFloats(pose.data);
  putFloats(pose.confidence);
  return out;
}

/** Serialises a pose as a `.pose` file of the given version (default 0.2). */
export function writePose(pose: Pose, options: WritePoseOptions = {}): Uint8Array {
  return encodePose(pose, options.version ?? 0.2, 'the pose');
}

/** Writes a `.pose` file atomically: readers see the old file or the whole new one. */
export function writePoseFile(path: string, pose: Pose, options: WritePoseOptions = {}): void {
  writeFileAtomic(path, encodePose(pose, options.version ?? 0.2, path));
}

/** One MediaPipe landmark as the Tasks API returns it: x and y normalised to the image, z on x's scale. */
export interface Landmark {
  x: number;
  y: number;
  z: number;
  visibility?: number;
}

/** One video frame's landmarks; a part that is absent or null was not detected in that frame. */
export type LandmarkFrame = Partial<Record<LandmarkPart, readonly Landmark[] | null>>;

export interface PoseFromLandmarksOptions {
  fps: number;
  /** The video's size in pixels: x and y are stored as pixels, as pose-format's holistic utility does. */
  width: number;
  height: number;
  depth?: number;
}

/** The v0.2 header of the MediaPipe layout (see pose-components.ts). */
export function mediapipePoseHeader(width: number, height: number, depth = 0): PoseHeader {
  return {
    version: 0.2,
    width,
    height,
    depth,
    components: MEDIAPIPE_COMPONENTS.map((c) => ({
      name: c.name,
      format: c.format,
      points: [...c.points],
      limbs: c.limbs.map(([a, b]): [number, number] => [a, b]),
      colors: c.colors.map(([r, g, b]): [number, number, number] => [r, g, b]),
    })),
  };
}

/**
 * Builds a one-person pose in the MediaPipe layout from per-frame landmarks. x and y are scaled to pixels, z is
 * kept as MediaPipe gives it; a part missing from a frame is stored as coordinates 0 and confidence 0. Values are
 * stored as given, NaN included. Which hand is left or right is the caller's decision.
 */
export function poseFromLandmarks(frames: readonly LandmarkFrame[], options: PoseFromLandmarksOptions): Pose {
  const { width, height } = options;
  const header = mediapipePoseHeader(width, height, options.depth);
  const points = totalPoints(header);
  const data = new Float32Array(frames.length * points * 3);
  const confidence = new Float32Array(frames.length * points);
  frames.forEach((frame, f) => {
    let slot = f * points;
    for (const def of MEDIAPIPE_COMPONENTS) {
      const marks = frame[def.part];
      if (marks) {
        if (marks.length !== def.points.length) {
          throw new SignweaveInputError(
            `frame ${f}: ${def.part} has ${marks.length} landmarks; ${def.name} needs ${def.points.length}`,
          );
        }
        marks.forEach((m, i) => {
          const at = (slot + i) * 3;
          data[at] = m.x * width;
          data[at + 1] = m.y * height;
          data[at + 2] = m.z;
          confidence[slot + i] = def.confidence === 'visibility' ? (m.visibility ?? 1) : 1;
        });
      }
      slot += def.points.length;
    }
  });
  return { header, fps: options.fps, frames: frames.length, people: 1, dims: 3, data, confidence };
}
