import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { FACE_POINT_COUNT, MEDIAPIPE_COMPONENTS } from '../../src/landmarks/pose-components.js';
import {
  findComponent,
  getPoint,
  mediapipePoseHeader,
  pointIndex,
  poseDims,
  poseFromLandmarks,
  readPose,
  readPoseFile,
  totalPoints,
  writePose,
  writePoseFile,
  type Landmark,
  type LandmarkFrame,
  type Pose,
  type PoseVersion,
} from '../../src/landmarks/pose-format.js';
import { readSharedJson, sharedPath } from '../helpers/shared.js';

const V01 = 'pose_format_v0.1';
const V02 = 'pose_format_v0.2';
const LIBRARY = '000017451997373907346-LIBRARY.pose';

const path = (dir: string, name: string) => sharedPath('data', 'pose', dir, name);
const load = (dir: string, name: string) => readPoseFile(path(dir, name));
const inputError = (pattern: RegExp) => (err: unknown): boolean => err instanceof SignweaveInputError && pattern.test(err.message);

const bitsOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Byte equality that reports where two files first differ instead of dumping both. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  assert.ok(i === n && actual.length === expected.length, `${what}: ${actual.length} vs ${expected.length} bytes, first difference at byte ${i}`);
}

/** Same header (version aside), shape, fps and bit-identical arrays. */
function assertSamePose(actual: Pose, expected: Pose): void {
  const { version: _a, ...headerA } = actual.header;
  const { version: _b, ...headerB } = expected.header;
  assert.deepEqual(headerA, headerB);
  for (const key of ['fps', 'frames', 'people', 'dims'] as const) assert.equal(actual[key], expected[key], key);
  assert.ok(bitsOf(actual.data).equals(bitsOf(expected.data)), 'data bits');
  assert.ok(bitsOf(actual.confidence).equals(bitsOf(expected.confidence)), 'confidence bits');
}

const names = (pose: Pose) => pose.header.components.map((c) => [c.name, c.format, c.points.length]);

describe('reading the staged files (facts from PROVENANCE.txt)', () => {
  it('mediapipe.pose: v0.1, reduced holistic, 178 points, 3 dims, 24 fps, 170 frames', () => {
    const pose = load(V01, 'mediapipe.pose');
    const { header } = pose;
    assert.deepEqual([header.version, header.width, header.height, header.depth], [0.1, 1250, 1250, 640]);
    assert.deepEqual(names(pose), [
      ['POSE_LANDMARKS', 'XYZC', 8],
      ['FACE_LANDMARKS', 'XYZC', 128],
      ['LEFT_HAND_LANDMARKS', 'XYZC', 21],
      ['RIGHT_HAND_LANDMARKS', 'XYZC', 21],
    ]);
    assert.deepEqual([totalPoints(header), pose.dims, pose.fps, pose.frames, pose.people], [178, 3, 24, 170, 1]);
    assert.equal(pose.data.length, 170 * 178 * 3);
    assert.equal(pose.confidence.length, 170 * 178);
    // Values read independently with NumPy from the staged file.
    const wrist = getPoint(pose, 100, 0, pointIndex(header, 'POSE_LANDMARKS', 'LEFT_WRIST'));
    assert.deepEqual(wrist, { x: 819.5692138671875, y: 1358.8133544921875, z: 624.75274658203125, confidence: 0.49977976083755493 });
  });

  it('mediapipe_hand_normalized.pose: one right hand, NaN where the hand is missing', () => {
    const pose = load(V01, 'mediapipe_hand_normalized.pose');
    assert.deepEqual(names(pose), [['RIGHT_HAND_LANDMARKS', 'XYZC', 21]]);
    assert.deepEqual([pose.header.version, pose.fps, pose.frames, pose.people, pose.dims], [0.1, 24, 170, 1, 3]);
    for (let p = 0; p < 21; p++) {
      const point = getPoint(pose, 0, 0, p);
      assert.ok(Number.isNaN(point.x) && Number.isNaN(point.y) && Number.isNaN(point.z), `point ${p}`);
      assert.equal(point.confidence, 0);
    }
    const tip = getPoint(pose, 8, 0, pointIndex(pose.header, 'RIGHT_HAND_LANDMARKS', 'INDEX_FINGER_TIP'));
    assert.deepEqual([tip.x, tip.y, tip.z], [-19.354520797729492, -60.54892349243164, 49.386009216308594]);
  });

  it('openpose_example.pose: v0.1 OpenPose, 137 points, 2 dims, 66 frames', () => {
    const pose = load(V01, 'openpose_example.pose');
    assert.deepEqual([pose.header.width, pose.header.height, pose.header.depth], [1000, 1000, 0]);
    assert.deepEqual(names(pose), [
      ['pose_keypoints_2d', 'XYC', 25],
      ['face_keypoints_2d', 'XYC', 70],
      ['hand_left_keypoints_2d', 'XYC', 21],
      ['hand_right_keypoints_2d', 'XYC', 21],
    ]);
    assert.deepEqual([totalPoints(pose.header), pose.dims, pose.fps, pose.frames, pose.people], [137, 2, 24, 66, 1]);
    const neck = getPoint(pose, 5, 0, pointIndex(pose.header, 'pose_keypoints_2d', 'Neck'));
    assert.deepEqual(neck, { x: 779.6222534179688, y: 600.62384033203125, z: undefined, confidence: 0.7113159894943237 });
  });

  it('the v0.2 holistic file: 576 points in 5 components, float fps 30.008, 37 frames', () => {
    const pose = load(V02, LIBRARY);
    const { header } = pose;
    assert.deepEqual([header.version, header.width, header.height, header.depth], [0.2, 640, 480, 0]);
    assert.deepEqual(names(pose), [
      ['POSE_LANDMARKS', 'XYZC', 33],
      ['FACE_LANDMARKS', 'XYZC', 468],
      ['LEFT_HAND_LANDMARKS', 'XYZC', 21],
      ['RIGHT_HAND_LANDMARKS', 'XYZC', 21],
      ['POSE_WORLD_LANDMARKS', 'XYZC', 33],
    ]);
    assert.deepEqual([totalPoints(header), poseDims(header), pose.frames, pose.people], [576, 3, 37, 1]);
    assert.equal(pose.fps, Math.fround(30.00811004638672));
    assert.equal(pose.fps.toFixed(3), '30.008');
    assert.deepEqual(getPoint(pose, 10, 0, 0), { x: 320.78411865234375, y: 198.46986389160156, z: -0.8219175338745117, confidence: 0.9999526739120483 });
    // pose-format's holistic writer: an undetected hand is zeros with confidence 0, a detected one confidence 1.
    const wrist = pointIndex(header, 'LEFT_HAND_LANDMARKS', 'WRIST');
    assert.deepEqual(getPoint(pose, 0, 0, wrist), { x: 0, y: 0, z: 0, confidence: 0 });
    assert.deepEqual(getPoint(pose, 5, 0, wrist), { x: 504.81317138671875, y: 509.08160400390625, z: 2.4004442877867405e-8, confidence: 1 });
  });

  it('component and point lookup', () => {
    const { header } = load(V02, LIBRARY);
    assert.deepEqual(
      Object.fromEntries(header.components.map((c) => [c.name, findComponent(header, c.name)?.start])),
      { POSE_LANDMARKS: 0, FACE_LANDMARKS: 33, LEFT_HAND_LANDMARKS: 501, RIGHT_HAND_LANDMARKS: 522, POSE_WORLD_LANDMARKS: 543 },
    );
    assert.equal(findComponent(header, 'RIGHT_HAND_LANDMARKS')?.index, 3);
    assert.equal(findComponent(header, 'HEAD'), undefined);
    assert.equal(pointIndex(header, 'RIGHT_HAND_LANDMARKS', 'PINKY_TIP'), 542);
    assert.throws(() => pointIndex(header, 'HEAD', 'NOSE'), inputError(/no component HEAD \(it has POSE_LANDMARKS, FACE_LANDMARKS/));
    assert.throws(() => pointIndex(header, 'POSE_LANDMARKS', 'TAIL'), inputError(/component POSE_LANDMARKS of the pose has no point TAIL/));
  });

  it('getPoint refuses out-of-range indices', () => {
    const pose = load(V01, 'openpose_example.pose');
    assert.throws(() => getPoint(pose, 66, 0, 0), /frame 66 is not in 0\.\.65/);
    assert.throws(() => getPoint(pose, 0, 1, 0), /person 1 is not in 0\.\.0/);
    assert.throws(() => getPoint(pose, 0, 0, 137), /point 137 is not in 0\.\.136/);
  });
});

describe('round trips', () => {
  const files: [string, string, PoseVersion][] = [
    [V01, 'mediapipe.pose', 0.1],
    [V01, 'mediapipe_hand_normalized.pose', 0.1],
    [V01, 'openpose_example.pose', 0.1],
    [V02, LIBRARY, 0.2],
  ];
  for (const [dir, name, version] of files) {
    it(`${name}: read → write v${version} is byte-identical`, () => {
      const original = readFileSync(path(dir, name));
      const pose = readPose(original, name);
      assertSameBytes(writePose(pose, { version }), original, name);
    });
  }

  it('NaN payloads survive: the hand file stores both 0x7fc00000 and 0xffc00000', () => {
    const pose = load(V01, 'mediapipe_hand_normalized.pose');
    const bits = new Uint32Array(pose.data.buffer);
    assert.ok(bits.includes(0x7fc00000) && bits.includes(0xffc00000));
  });

  for (const [, name] of files.slice(0, 3)) {
    it(`${name}: v0.1 → v0.2 → read gives the same header, data and confidence`, () => {
      const v01 = load(V01, name);
      const v02bytes = writePose(v01); // v0.2 is the default
      assert.equal(new DataView(v02bytes.buffer).getFloat32(0, true), Math.fround(0.2));
      const v02 = readPose(v02bytes);
      assert.equal(v02.header.version, 0.2);
      assertSamePose(v02, v01);
      assertSameBytes(writePose(v02, { version: 0.1 }), readFileSync(path(V01, name)), `${name} back to v0.1`);
    });
  }

  it('the v0.2 file → v0.1 → v0.2 needs an integer fps: refused for 30.008, exact for 30', () => {
    const pose = load(V02, LIBRARY);
    assert.throws(() => writePose(pose, { version: 0.1 }), inputError(/cannot write the pose: the fps \(an integer in v0\.1; write v0\.2 for fractional rates\) is 30\.008/));
    const back = readPose(writePose(readPose(writePose({ ...pose, fps: 30 }, { version: 0.1 }))));
    assertSamePose(back, { ...pose, fps: 30 });
  });

  it('v0.1 counts frames from the bytes: 70,000 frames (a frame field of 0) read back', () => {
    const header = { version: 0.1 as const, width: 1, height: 1, depth: 0, components: [{ name: 'P', format: 'XYC', points: ['A'], limbs: [], colors: [] }] };
    const frames = 70_000;
    const pose: Pose = { header, fps: 25, frames, people: 1, dims: 2, data: new Float32Array(frames * 2).map((_, i) => i), confidence: new Float32Array(frames).fill(0.5) };
    const bytes = writePose(pose, { version: 0.1 });
    const view = new DataView(bytes.buffer);
    const bodyStart = bytes.length - frames * 3 * 4 - 6;
    assert.deepEqual([view.getUint16(bodyStart, true), view.getUint16(bodyStart + 2, true)], [25, 0]);
    assertSamePose(readPose(bytes), pose);
  });
});

describe('poseFromLandmarks: the MediaPipe layout', () => {
  it('the component table matches pose-format holistic output (points, limbs, colours) and the names list', () => {
    const staged = load(V02, LIBRARY).header.components;
    const ours = mediapipePoseHeader(640, 480).components;
    assert.deepEqual(ours.map((c) => [c.name, c.points.length]), [
      ['POSE_LANDMARKS', 33],
      ['FACE_LANDMARKS', FACE_POINT_COUNT],
      ['LEFT_HAND_LANDMARKS', 21],
      ['RIGHT_HAND_LANDMARKS', 21],
    ]);
    for (const i of [0, 2, 3]) assert.deepEqual(ours[i], staged[i], ours[i].name);
    const face = ours[1];
    assert.deepEqual(face.points.slice(0, 468), staged[1].points);
    assert.deepEqual(face.points.slice(468), ['468', '469', '470', '471', '472', '473', '474', '475', '476', '477']);
    // The contours are edges of the face mesh whose tessellation pose-format stored; the irises use 468..477.
    const mesh = new Set(staged[1].limbs.flatMap(([a, b]) => [`${a}-${b}`, `${b}-${a}`]));
    const contours = face.limbs.filter(([a, b]) => a < 468 && b < 468);
    assert.equal(contours.length, 124);
    for (const [a, b] of contours) assert.ok(mesh.has(`${a}-${b}`), `face limb ${a}-${b}`);
    assert.equal(face.limbs.length - contours.length, 8);
    const json = readSharedJson<Record<string, string[]>>('data', 'pose', V02, 'mediapipe_components_and_points.json');
    for (const c of ours) assert.deepEqual(c.points.slice(0, json[c.name].length), json[c.name], c.name);
  });

  const landmarks = (n: number, seed: number, visibility?: number): Landmark[] =>
    Array.from({ length: n }, (_, i) => ({ x: (i + seed) / 1000, y: 1 - (i + seed) / 997, z: (5 - i) / 50, ...(visibility === undefined ? {} : { visibility }) }));

  it('scales x and y to pixels, keeps z, takes pose visibility, stores missing parts as 0 / confidence 0', () => {
    const frames: LandmarkFrame[] = [
      { pose: landmarks(33, 1, 0.75), face: landmarks(478, 2), leftHand: landmarks(21, 3), rightHand: null },
      {},
    ];
    const pose = poseFromLandmarks(frames, { fps: 29.97, width: 1280, height: 720 });
    assert.deepEqual([pose.frames, pose.people, pose.dims, totalPoints(pose.header), pose.header.version], [2, 1, 3, 553, 0.2]);
    const nose = getPoint(pose, 0, 0, pointIndex(pose.header, 'POSE_LANDMARKS', 'NOSE'));
    assert.deepEqual(nose, { x: Math.fround((1 / 1000) * 1280), y: Math.fround((1 - 1 / 997) * 720), z: Math.fround(0.1), confidence: 0.75 });
    const iris = getPoint(pose, 0, 0, pointIndex(pose.header, 'FACE_LANDMARKS', '477'));
    assert.deepEqual(iris, { x: Math.fround((479 / 1000) * 1280), y: Math.fround((1 - 479 / 997) * 720), z: Math.fround(-472 / 50), confidence: 1 });
    assert.equal(getPoint(pose, 0, 0, pointIndex(pose.header, 'LEFT_HAND_LANDMARKS', 'PINKY_TIP')).confidence, 1);
    assert.deepEqual(getPoint(pose, 0, 0, pointIndex(pose.header, 'RIGHT_HAND_LANDMARKS', 'WRIST')), { x: 0, y: 0, z: 0, confidence: 0 });
    for (let p = 0; p < 553; p++) assert.deepEqual(getPoint(pose, 1, 0, p), { x: 0, y: 0, z: 0, confidence: 0 });
  });

  it('write → read gives the same pose, NaN coordinates included (v0.2 and v0.1)', () => {
    const hand = landmarks(21, 4);
    hand[3] = { x: NaN, y: 0.5, z: NaN };
    const frames: LandmarkFrame[] = [{ pose: landmarks(33, 0, 0.9), rightHand: hand }, { face: landmarks(478, 1) }, {}];
    const pose = poseFromLandmarks(frames, { fps: 30, width: 640, height: 480, depth: 1000 });
    const back = readPose(writePose(pose));
    assertSamePose(back, pose);
    assert.equal(back.header.depth, 1000);
    const nan = getPoint(back, 0, 0, pointIndex(back.header, 'RIGHT_HAND_LANDMARKS', 'THUMB_IP'));
    assert.ok(Number.isNaN(nan.x) && Number.isNaN(nan.z) && nan.y === 240 && nan.confidence === 1);
    assertSamePose(readPose(writePose(pose, { version: 0.1 })), pose);
  });

  it('writePoseFile writes atomically and readPoseFile reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signweave-pose-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const pose = poseFromLandmarks([{ pose: landmarks(33, 0, 1) }], { fps: 25, width: 100, height: 100 });
    const file = join(dir, 'one.pose');
    writePoseFile(file, pose);
    assertSamePose(readPoseFile(file), pose);
    assert.deepEqual(readdirSync(dir), ['one.pose']);
    assert.throws(() => writePoseFile(file, { ...pose, fps: 25.5 }, { version: 0.1 }), inputError(new RegExp(`cannot write ${file}: the fps`)));
    assertSamePose(readPoseFile(file), pose);
    assert.deepEqual(readdirSync(dir), ['one.pose']);
    assert.throws(() => writePoseFile(join(dir, 'missing', 'x.pose'), pose), inputError(/its folder does not exist/));
    assert.throws(() => readPoseFile(join(dir, 'nope.pose')), inputError(/cannot read \.pose file .*nope\.pose: no such file/));
  });

  it('refuses a part with the wrong number of landmarks, naming the frame', () => {
    assert.throws(
      () => poseFromLandmarks([{}, { face: landmarks(468, 0) }], { fps: 25, width: 10, height: 10 }),
      inputError(/frame 1: face has 468 landmarks; FACE_LANDMARKS needs 478/),
    );
  });

  it('the table: one entry per part, limbs inside their component', () => {
    assert.deepEqual(MEDIAPIPE_COMPONENTS.map((c) => c.part), ['pose', 'face', 'leftHand', 'rightHand']);
    for (const c of MEDIAPIPE_COMPONENTS) {
      for (const [a, b] of c.limbs) assert.ok(a < c.points.length && b < c.points.length, `${c.name} ${a}-${b}`);
    }
  });
});

describe('damaged files', () => {
  const original = readFileSync(path(V02, LIBRARY));
  const openpose = readFileSync(path(V01, 'openpose_example.pose'));

  it('truncated anywhere: names the file, the field and its byte offset', () => {
    const cases: [number, RegExp][] = [
      [0, /truncated: the version at byte 0 needs 4 bytes, 0 left/],
      [3, /truncated: the version at byte 0 needs 4 bytes, 3 left/],
      [9, /truncated: the depth at byte 8 needs 2 bytes, 1 left/],
      [14, /truncated: the name of component 0 at byte 14 needs 14 bytes, 0 left/],
      [66, /truncated: point 2 of component 0 \(POSE_LANDMARKS\) at byte 64 needs 8 bytes, 2 left/],
      [14_804, /truncated: colour 0 of component 4 \(POSE_WORLD_LANDMARKS\) at byte 14803 needs 2 bytes, 1 left/],
      [14_805, /truncated: the fps at byte 14805 needs 4 bytes, 0 left/],
      [14_813, /truncated: the person count at byte 14813 needs 2 bytes, 0 left/],
      [20_000, /truncated: the data array \(37 frames × 1 person × 576 points × 3 dims, float32\) at byte 14815 needs 255744 bytes, 5185 left/],
      [original.length - 1, /truncated: the confidence array \(37 frames × 1 person × 576 points, float32\) at byte 270559 needs 85248 bytes, 85247 left/],
    ];
    for (const [length, pattern] of cases) {
      assert.throws(() => readPose(original.subarray(0, length), 'LIBRARY.pose'), inputError(new RegExp(`^LIBRARY\\.pose is not a valid \\.pose file: ${pattern.source}`)), `cut at ${length}`);
    }
    // Every cut inside the header fails cleanly with an input error.
    for (let length = 0; length < 14_815; length += 7) assert.throws(() => readPose(original.subarray(0, length)), SignweaveInputError);
  });

  it('v0.1 body that is not a whole number of frames (truncated or padded)', () => {
    assert.throws(
      () => readPose(openpose.subarray(0, openpose.length - 4), 'op.pose'),
      inputError(/^op\.pose is not a valid \.pose file: the body after byte 1925 holds 108500 bytes, not a whole number of 1644-byte frames \(1 person × 137 points × 3 float32 values\)/),
    );
    assert.throws(() => readPose(Buffer.concat([openpose, Buffer.alloc(2)]), 'op.pose'), inputError(/holds 108506 bytes, not a whole number/));
  });

  it('trailing bytes after a v0.2 body', () => {
    assert.throws(
      () => readPose(Buffer.concat([original, Buffer.from([1, 2, 3])]), 'x.pose'),
      inputError(/^x\.pose is not a valid \.pose file: 3 trailing bytes after the confidence array, at byte 355807$/),
    );
  });

  it('unknown versions and garbage', () => {
    const withVersion = (v: number) => {
      const copy = Buffer.from(original);
      copy.writeFloatLE(v, 0);
      return copy;
    };
    assert.throws(() => readPose(withVersion(0.3), 'v.pose'), inputError(/v\.pose is not a valid \.pose file: unknown version 0\.3\d* at byte 0; signweave reads 0\.1 and 0\.2/));
    assert.throws(() => readPose(withVersion(0), 'v.pose'), inputError(/version 0\.0 \(the per-frame layout of 2019\) is not supported/));
    assert.throws(() => readPose(Buffer.from('{"frames": [1, 2, 3]}\n'), 'pose.json'), inputError(/pose\.json is not a valid \.pose file: unknown version/));
    const noise = Buffer.alloc(4096);
    let s = 12345;
    for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    assert.throws(() => readPose(noise, 'noise.pose'), SignweaveInputError);
  });

  it('impossible sizes and references', () => {
    // v0.2 frame count 2^32 − 1: refused before anything is allocated.
    const huge = Buffer.from(original);
    huge.writeUInt32LE(0xffffffff, 14_809);
    assert.throws(() => readPose(huge, 'huge.pose'), inputError(/truncated: the data array \(4294967295 frames × 1 person × 576 points × 3 dims, float32\) at byte 14815 needs 29686813943040 bytes, 340992 left/));
    // A limb pointing past its component's points.
    const limb = Buffer.from(original);
    limb.writeUInt16LE(40, 12 + 2 + 14 + 2 + 4 + 6 + 33 * 2 + 'NOSE LEFT_EYE_INNER LEFT_EYE LEFT_EYE_OUTER RIGHT_EYE_INNER RIGHT_EYE RIGHT_EYE_OUTER LEFT_EAR RIGHT_EAR MOUTH_LEFT MOUTH_RIGHT LEFT_SHOULDER RIGHT_SHOULDER LEFT_ELBOW RIGHT_ELBOW LEFT_WRIST RIGHT_WRIST LEFT_PINKY RIGHT_PINKY LEFT_INDEX RIGHT_INDEX LEFT_THUMB RIGHT_THUMB LEFT_HIP RIGHT_HIP LEFT_KNEE RIGHT_KNEE LEFT_ANKLE RIGHT_ANKLE LEFT_HEEL RIGHT_HEEL LEFT_FOOT_INDEX RIGHT_FOOT_INDEX'.replaceAll(' ', '').length);
    assert.throws(() => readPose(limb, 'limb.pose'), inputError(/limb 0 of component 0 \(POSE_LANDMARKS\) at byte \d+ joins points 40 and 21, but it has 33 points/));
    // No components; a format with no coordinate.
    const header = (components: number, format: string) => {
      const parts = [Buffer.from([0xcd, 0xcc, 0x4c, 0x3e, 1, 0, 1, 0, 0, 0, components, 0])];
      if (components) parts.push(Buffer.from([1, 0, 0x41, format.length, 0, ...Buffer.from(format), 0, 0, 0, 0, 0, 0]));
      parts.push(Buffer.from([25, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      return Buffer.concat(parts);
    };
    assert.throws(() => readPose(header(0, '')), inputError(/the header has no components/));
    assert.throws(() => readPose(header(1, 'C')), inputError(/no component format has a coordinate besides the confidence/));
    assert.equal(readPose(header(1, 'XYC')).frames, 0);
    // Invalid UTF-8 in a name.
    const utf8 = Buffer.from(original);
    utf8[16] = 0xff;
    assert.throws(() => readPose(utf8, 'u.pose'), inputError(/the name of component 0 at byte 14 is not valid UTF-8/));
  });

  it('the writer refuses what the format cannot hold', () => {
    const pose = load(V01, 'openpose_example.pose');
    assert.throws(() => writePose({ ...pose, data: pose.data.subarray(1) }), inputError(/cannot write the pose: data has 18083 values; 66 frames × 1 person × 137 points × 2 dims need 18084/));
    assert.throws(() => writePose({ ...pose, confidence: new Float32Array(3) }), inputError(/confidence has 3 values/));
    assert.throws(() => writePose({ ...pose, dims: 3 }), inputError(/dims is 3, but the component formats give 2/));
    assert.throws(() => writePose({ ...pose, header: { ...pose.header, width: 70_000 } }), inputError(/width is 70000, not an integer in 0\.\.65535/));
    assert.throws(() => writePose({ ...pose, fps: NaN }), inputError(/the fps is NaN/));
    const badLimb = { ...pose.header, components: [{ ...pose.header.components[0], limbs: [[0, 25] as [number, number]] }, ...pose.header.components.slice(1)] };
    assert.throws(() => writePose({ ...pose, header: badLimb }), inputError(/limb 0 of component 0 \(pose_keypoints_2d\) joins points 0 and 25, but it has 25 points/));
    // Names are stored as UTF-8 byte lengths, so non-ASCII names read back intact.
    const renamed = { ...pose.header, components: [{ ...pose.header.components[0], name: 'Körper ✋' }, ...pose.header.components.slice(1)] };
    assert.equal(readPose(writePose({ ...pose, header: renamed })).header.components[0].name, 'Körper ✋');
  });
});
