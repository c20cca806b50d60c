/**
 * The detection page that runs inside headless Chromium (served by src/landmarks/browser.ts), and its frame worker.
 * Both are browser JavaScript kept as text: Node never executes them, and tsconfig has no DOM types to check them
 * against. They speak the protocol in src/landmarks/protocol.ts and are exercised end to end by
 * test/model-dependent/landmarks.test.ts.
 *
 * The worker fetches Node's messages and widens frames to RGBA on its own thread, so the next frame is ready while
 * the page's thread is still detecting the last one; the page wraps the RGBA pixels it is handed (no copy) as the
 * whole-frame ImageData.
 *
 * Why the face is searched for in crops: FaceLandmarker's detector is BlazeFace short-range (128×128 input), which
 * misses a face that is small in the frame — on How2Sign's 1280×720 clips it found no face in any frame, and the
 * same frames cropped around the signer's head were found every time. So the face landmarker runs in IMAGE mode on
 * square crops: around the face of the previous frame (tracking), else the whole frame, the head of the pose
 * landmarks when pose runs, and a few tiles of the upper middle of the frame. IMAGE mode keeps each crop independent,
 * so moving the crop cannot confuse MediaPipe's own tracker. Hands and pose see the whole frame in VIDEO mode.
 */

export const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>signweave landmarks</title>
<script type="module" src="page.js"></script>
`;

export const PAGE_SCRIPT = String.raw`
import { FaceLandmarker, FilesetResolver, HandLandmarker, PoseLandmarker } from './tasks-vision/vision_bundle.mjs';

// Crop side relative to the previous face's landmark box, and to the box of the pose's head points 0–10.
const TRACK_SCALE = 2;
const POSE_HEAD_SCALE = 3;
// Crops tried per frame before the face counts as absent (each miss costs one 128×128 detector pass).
const MAX_FACE_TRIES = 7;
const MIN_CROP = 32;

const socketUrl = new URL('ws' + location.search, location.href);
socketUrl.protocol = 'ws:';
const socket = new WebSocket(socketUrl);
socket.binaryType = 'arraybuffer';

let fileset = null;
const models = {};
let faceLandmarker = null; // IMAGE mode: keeps no state, so every stream shares it
const stills = {}; // IMAGE-mode hands and pose for independent frames (stream 0), made on first use
const streams = new Map(); // stream id → { last timestamp, face track, VIDEO-mode hands and pose }

// One message at a time, in arrival order: replies keep the order of the frames, and a stream's landmarkers exist
// before its first frame is detected. The socket brings only the init message, before any frame.
let chain = Promise.resolve();
const enqueue = (work) => {
  chain = chain.then(work).catch((err) => console.error('signweave page:', err));
};
socket.onmessage = (event) => enqueue(() => init(JSON.parse(event.data)));

const frames = new Worker('frames.js' + location.search);
frames.onmessage = (event) => {
  const msg = event.data;
  if (msg.failure) console.error('signweave page: frame poll:', msg.failure);
  else enqueue(() => handleBinary(msg));
};
frames.onerror = (event) => console.error('signweave page: frame worker:', event.message);

const message = (err) => String((err && err.message) || err);
const sendJson = (value) => socket.send(JSON.stringify(value));

async function init(msg) {
  try {
    fileset = await FilesetResolver.forVisionTasks(new URL('tasks-vision/wasm', location.href).href);
    for (const [task, url] of Object.entries(msg.models)) {
      const response = await fetch(url);
      if (!response.ok) throw new Error('cannot fetch the ' + task + ' model: HTTP ' + response.status);
      models[task] = new Uint8Array(await response.arrayBuffer());
    }
    if (models.face) faceLandmarker = await create('face', 'IMAGE');
    sendJson({ op: 'ready' });
  } catch (err) {
    sendJson({ op: 'failed', message: message(err) });
  }
}

function create(task, runningMode) {
  const baseOptions = { modelAssetBuffer: models[task], delegate: 'CPU' };
  if (task === 'face') {
    return FaceLandmarker.createFromOptions(fileset, {
      baseOptions, runningMode, numFaces: 1, outputFaceBlendshapes: false, outputFacialTransformationMatrixes: false,
    });
  }
  if (task === 'hands') return HandLandmarker.createFromOptions(fileset, { baseOptions, runningMode, numHands: 2 });
  return PoseLandmarker.createFromOptions(fileset, { baseOptions, runningMode, numPoses: 1, outputSegmentationMasks: false });
}

/** A message from the worker: the header, and for a frame its RGBA pixels or why it has none. */
async function handleBinary({ head, rgba, error }) {
  const dv = new DataView(head);
  if (dv.getUint32(0, true) === 2) {
    closeStream(dv.getUint32(4, true));
    return;
  }
  const job = dv.getUint32(4, true);
  try {
    if (error) throw new Error(error);
    socket.send(await detect(dv, rgba));
  } catch (err) {
    sendJson({ op: 'error', job, message: message(err) });
  }
}

function closeStream(id) {
  const state = streams.get(id);
  if (!state) return;
  state.hands?.close();
  state.pose?.close();
  streams.delete(id);
}

async function landmarkers(id, dv) {
  if (id === 0) {
    if (models.hands) stills.hands ??= await create('hands', 'IMAGE');
    if (models.pose) stills.pose ??= await create('pose', 'IMAGE');
    return { state: null, hands: stills.hands, pose: stills.pose };
  }
  let state = streams.get(id);
  if (!state) {
    state = {
      last: -Infinity,
      track: dv.getUint32(32, true) === 1 ? readBox(dv, 40) : null,
      hands: models.hands ? await create('hands', 'VIDEO') : null,
      pose: models.pose ? await create('pose', 'VIDEO') : null,
    };
    streams.set(id, state);
  }
  return { state, hands: state.hands, pose: state.pose };
}

async function detect(dv, px) {
  const job = dv.getUint32(4, true);
  const stream = dv.getUint32(8, true);
  const W = dv.getUint32(12, true);
  const H = dv.getUint32(16, true);
  const timeMs = dv.getFloat64(24, true);
  const { state, hands: handTask, pose: poseTask } = await landmarkers(stream, dv);
  // VIDEO mode needs strictly increasing timestamps per landmarker, whatever times the frames carry.
  let ts = 0;
  if (state) ts = state.last = Math.max(state.last + 1, Math.round(timeMs));

  let t = performance.now();
  let full = null;
  const fullImage = () => (full ??= new ImageData(px, W, H));
  if (handTask || poseTask) fullImage();
  const imageMs = performance.now() - t;

  t = performance.now();
  let pose = null;
  if (poseTask) pose = (state ? poseTask.detectForVideo(full, ts) : poseTask.detect(full)).landmarks[0] ?? null;
  const poseMs = performance.now() - t;

  t = performance.now();
  const found = faceLandmarker ? findFace(px, W, H, state ? state.track : null, pose, fullImage) : null;
  if (state) state.track = found ? found.track : null;
  const faceMs = performance.now() - t;

  t = performance.now();
  let hands = [];
  if (handTask) {
    const r = state ? handTask.detectForVideo(full, ts) : handTask.detect(full);
    hands = r.landmarks.map((landmarks, i) => ({ landmarks, category: r.handedness[i][0] }));
  }
  const handsMs = performance.now() - t;

  return pack(job, found, hands, pose, [imageMs, faceMs, handsMs, poseMs]);
}

function findFace(px, W, H, track, pose, fullImage) {
  const whole = { x: 0, y: 0, width: W, height: H };
  const tries = [];
  if (track) tries.push(square(track, TRACK_SCALE));
  tries.push(whole);
  if (pose) tries.push(square(boundingBox(pose.slice(0, 11), W, H), POSE_HEAD_SCALE));
  tries.push(...searchTiles(W, H));
  for (const roi of tries.slice(0, MAX_FACE_TRIES)) {
    const image = roi === whole ? fullImage() : toImageData(px, W, H, roi);
    const marks = faceLandmarker.detect(image).faceLandmarks[0];
    if (!marks) continue;
    const face = marks.map((p) => ({
      x: (roi.x + p.x * roi.width) / W,
      y: (roi.y + p.y * roi.height) / H,
      z: (p.z * roi.width) / W,
    }));
    return { face, region: roi, track: boundingBox(face, W, H) };
  }
  return null;
}

/** A whole-pixel square of side scale × the box's longer side, centred on the box (it may reach past the frame). */
function square(box, scale) {
  const side = Math.max(MIN_CROP, Math.round(Math.max(box.width, box.height) * scale));
  return {
    x: Math.round(box.x + box.width / 2 - side / 2),
    y: Math.round(box.y + box.height / 2 - side / 2),
    width: side,
    height: side,
  };
}

/** The square of the frame's shorter side in the middle, then half-size tiles nearest the upper middle. */
function searchTiles(W, H) {
  const side = Math.min(W, H);
  const tiles = [{ x: Math.round((W - side) / 2), y: Math.round((H - side) / 2), width: side, height: side }];
  const half = Math.round(side / 2);
  const steps = (extent) => {
    const out = [];
    for (let v = 0; v < extent - half; v += half) out.push(v);
    out.push(extent - half);
    return out;
  };
  const small = [];
  for (const y of steps(H)) for (const x of steps(W)) small.push({ x, y, width: half, height: half });
  const distance = (t) => Math.hypot(t.x + half / 2 - W / 2, t.y + half / 2 - H / 3);
  small.sort((a, b) => distance(a) - distance(b));
  return tiles.concat(small);
}

function boundingBox(points, W, H) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x * W);
    y0 = Math.min(y0, p.y * H);
    x1 = Math.max(x1, p.x * W);
    y1 = Math.max(y1, p.y * H);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** ImageData of a whole-pixel box of an RGBA frame; parts past the frame's edges are opaque black. */
function toImageData(px, W, H, box) {
  const out = new Uint8ClampedArray(box.width * box.height * 4);
  new Uint32Array(out.buffer).fill(0xff000000);
  const x0 = Math.max(0, box.x), x1 = Math.min(W, box.x + box.width);
  const y0 = Math.max(0, box.y), y1 = Math.min(H, box.y + box.height);
  for (let y = y0; y < y1; y++) {
    const s = (y * W + x0) * 4;
    out.set(px.subarray(s, s + (x1 - x0) * 4), ((y - box.y) * box.width + (x0 - box.x)) * 4);
  }
  return new ImageData(out, box.width, box.height);
}

function readBox(dv, at) {
  return { x: dv.getFloat64(at, true), y: dv.getFloat64(at + 8, true), width: dv.getFloat64(at + 16, true), height: dv.getFloat64(at + 24, true) };
}

function writeBox(dv, at, box) {
  dv.setFloat64(at, box.x, true);
  dv.setFloat64(at + 8, box.y, true);
  dv.setFloat64(at + 16, box.width, true);
  dv.setFloat64(at + 24, box.height, true);
}

function pack(job, found, hands, pose, ms) {
  const face = found ? found.face : null;
  const floats = (face ? face.length * 3 : 0) + hands.length * (2 + 21 * 3) + (pose ? pose.length * 5 : 0);
  const buffer = new ArrayBuffer(104 + floats * 4);
  const dv = new DataView(buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, job, true);
  dv.setUint32(8, face ? face.length : 0, true);
  dv.setUint32(12, hands.length, true);
  dv.setUint32(16, pose ? pose.length : 0, true);
  dv.setUint32(20, found ? 1 : 0, true);
  ms.forEach((v, i) => dv.setFloat32(24 + i * 4, v, true));
  if (found) {
    writeBox(dv, 40, found.region);
    writeBox(dv, 72, found.track);
  }
  let at = 104;
  const put = (v) => {
    dv.setFloat32(at, v, true);
    at += 4;
  };
  const points = (list, withVisibility) => {
    for (const p of list) {
      put(p.x);
      put(p.y);
      put(p.z);
      if (withVisibility) {
        put(p.visibility ?? 0);
        put(p.presence ?? 0);
      }
    }
  };
  if (face) points(face, false);
  for (const hand of hands) {
    put(hand.category.categoryName === 'Right' ? 1 : 0);
    put(hand.category.score);
    points(hand.landmarks, false);
  }
  if (pose) points(pose, true);
  return buffer;
}
`;

/**
 * The frame worker: polls Node for its messages one HTTP response at a time (browser.ts answers a poll as soon as a
 * message is queued) and passes them to the page in order, a frame's RGB pixels widened to RGBA.
 */
export const WORKER_SCRIPT = String.raw`
const HEADER_BYTES = 72;
const url = new URL('frames' + location.search, location.href);

(async () => {
  for (;;) {
    let response;
    try {
      response = await fetch(url, { cache: 'no-store' });
      // 204: the poll was idle too long and is simply asked again.
      if (response.status === 204) continue;
      if (!response.ok) {
        // The session is over (or the page is confused): nothing more will come.
        postMessage({ failure: 'HTTP ' + response.status });
        return;
      }
      forward(await response.arrayBuffer());
    } catch (err) {
      postMessage({ failure: String((err && err.message) || err) });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
})();

function forward(buffer) {
  const dv = new DataView(buffer);
  if (dv.getUint32(0, true) !== 1) {
    postMessage({ head: buffer }, [buffer]);
    return;
  }
  const W = dv.getUint32(12, true);
  const H = dv.getUint32(16, true);
  const C = dv.getUint32(20, true);
  const head = buffer.slice(0, HEADER_BYTES);
  const bytes = buffer.byteLength - HEADER_BYTES;
  if (bytes !== W * H * C || (C !== 3 && C !== 4)) {
    postMessage({ head, error: 'frame has ' + bytes + ' bytes, not ' + W + '×' + H + '×' + C }, [head]);
    return;
  }
  const rgba = C === 4 ? new Uint8ClampedArray(buffer, HEADER_BYTES) : widen(new Uint8Array(buffer, HEADER_BYTES), W * H);
  postMessage({ head, rgba }, [head, rgba.buffer]);
}

/** RGB → opaque RGBA, a pixel per 32-bit store (little-endian: R is the low byte). */
function widen(rgb, pixels) {
  const out = new Uint8ClampedArray(pixels * 4);
  const words = new Uint32Array(out.buffer);
  for (let i = 0, s = 0; i < pixels; i++, s += 3) words[i] = 0xff000000 | (rgb[s + 2] << 16) | (rgb[s + 1] << 8) | rgb[s];
  return out;
}
`;
