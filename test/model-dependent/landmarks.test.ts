// Slow: real MediaPipe models in headless Chromium (/usr/lib/chromium/chromium, or $SIGNWEAVE_CHROMIUM) on a real
// How2Sign clip, about 30 s on 2 cores. Checks detection on a signer, ordering, determinism, crash recovery, abort
// and that no Chromium process outlives its extractor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { LandmarkExtractor, type LandmarkExtractorOptions } from '../../src/landmarks/extractor.js';
import { extractLipCrops, writeLipsVideo } from '../../src/landmarks/lips.js';
import type { FrameLandmarks, LipCrop } from '../../src/landmarks/types.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo } from '../../src/video/index.js';
import { sharedPath } from '../helpers/shared.js';

const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_0fO5ETSwyg_0-5-rgb_front.mp4');
const model = (file: string) => ({ modelPath: sharedPath('models', 'mediapipe', file) });
const FACE = model('face_landmarker.task');
const HANDS = model('hand_landmarker_rebuilt.task');
const POSE = model('pose_landmarker_full.task');

/** Ids of the live processes in a process group (Chromium's helpers share its main process's group). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(name));
  }
  return pids;
}

/** Chromium main processes this test process started (each leads its own process group). */
function ourChromiumGroups(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === process.pid && stat.includes('(chromium)');
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The landmarks without the timings (which differ from run to run). */
function stripTimings(r: FrameLandmarks): Omit<FrameLandmarks, 'timings'> {
  const { timings: _timings, ...rest } = r;
  return rest;
}

describe('LandmarkExtractor on a How2Sign clip (face, hands, pose)', () => {
  let extractor: LandmarkExtractor;
  let results: FrameLandmarks[];
  const firstFrames: VideoFrame[] = [];
  const progress: number[] = [];

  before(async () => {
    extractor = await LandmarkExtractor.create({ face: FACE, hands: HANDS, pose: POSE });
    async function* keepFirst(): AsyncGenerator<VideoFrame> {
      for await (const frame of decodeVideo(clip)) {
        if (frame.index < 3) firstFrames.push(frame);
        yield frame;
      }
    }
    results = await collect(extractor.run(keepFirst(), { onProgress: (done) => progress.push(done) }));
  });

  after(async () => {
    const pid = extractor.browserPid!;
    assert.ok(groupMembers(pid).length > 0, 'Chromium runs before dispose');
    await extractor.dispose();
    assert.deepEqual(groupMembers(pid), [], 'no Chromium process is left after dispose');
    assert.equal(extractor.browserPid, null);
    await assert.rejects(extractor.detect(firstFrames[0]), /disposed/);
  });

  it('names what made the landmarks', () => {
    const { info } = extractor;
    assert.equal(info.tasksVision, '1.1.0');
    assert.match(info.chromium, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(extractor.tasks, ['face', 'hands', 'pose']);
    // sha256s from ../shared/models/mediapipe/PROVENANCE.txt
    assert.equal(info.models.face?.sha256, '64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff');
    assert.equal(info.models.pose?.sha256, '5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1');
  });

  it('returns every frame once, in order, with increasing times, reporting progress', () => {
    assert.equal(results.length, 102);
    assert.deepEqual(
      results.map((r) => r.index),
      results.map((_, i) => i),
    );
    for (let i = 1; i < results.length; i++) assert.ok(results[i].time > results[i - 1].time, `time of frame ${i}`);
    assert.deepEqual(progress, results.map((_, i) => i + 1));
    for (const r of results) assert.deepEqual([r.width, r.height], [1280, 720]);
  });

  it('finds the signer’s face on more than 90 % of the frames: 478 points inside the frame', () => {
    const withFace = results.filter((r) => r.face);
    assert.ok(withFace.length / results.length > 0.9, `face on ${withFace.length}/${results.length} frames`);
    for (const r of withFace) {
      assert.equal(r.face!.length, 478);
      for (const p of r.face!) {
        assert.ok(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1 && Number.isFinite(p.z), `frame ${r.index}: ${JSON.stringify(p)}`);
      }
      // The face is in the upper middle of How2Sign's frame, and its crop contains it.
      const region = r.faceRegion!;
      const nose = r.face![1];
      assert.ok(nose.x * 1280 > region.x && nose.x * 1280 < region.x + region.width);
      assert.ok(nose.y > 0.1 && nose.y < 0.5, `frame ${r.index}: nose at y ${nose.y}`);
    }
  });

  it('finds hands, with handedness matching the side of the pose’s wrist', () => {
    const withHands = results.filter((r) => r.hands.length > 0);
    assert.ok(withHands.length >= 20, `hands on ${withHands.length} frames`);
    let agree = 0;
    let compared = 0;
    for (const r of withHands) {
      assert.ok(r.hands.length <= 2);
      for (const hand of r.hands) {
        assert.ok(hand.handedness === 'Left' || hand.handedness === 'Right');
        assert.ok(hand.score > 0 && hand.score <= 1);
        assert.equal(hand.landmarks.length, 21);
        for (const p of hand.landmarks) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y) && Number.isFinite(p.z));
        if (!r.pose) continue;
        // Pose points 15 and 16 are the signer's left and right wrists.
        const wrist = hand.landmarks[0];
        const dist = (i: number) => Math.hypot(r.pose![i].x - wrist.x, r.pose![i].y - wrist.y);
        const nearest = dist(15) < dist(16) ? 'Left' : 'Right';
        compared++;
        if (nearest === hand.handedness) agree++;
      }
    }
    assert.ok(agree / compared > 0.9, `handedness agrees with the pose on ${agree}/${compared} hands`);
  });

  it('finds the pose: 33 points with visibility and presence', () => {
    const withPose = results.filter((r) => r.pose);
    assert.ok(withPose.length / results.length > 0.9, `pose on ${withPose.length} frames`);
    for (const r of withPose) {
      assert.equal(r.pose!.length, 33);
      for (const p of r.pose!) assert.ok(p.visibility! >= 0 && p.visibility! <= 1 && p.presence! >= 0 && p.presence! <= 1);
    }
  });

  it('gives identical results for the same frame twice (detect) and for the same frames twice (run)', async () => {
    const a = await extractor.detect(firstFrames[0]);
    const b = await extractor.detect(firstFrames[0]);
    assert.ok(a.face && a.pose);
    assert.deepEqual(stripTimings(a), stripTimings(b));
    const first = await collect(extractor.run(firstFrames));
    const second = await collect(extractor.run(firstFrames));
    assert.deepEqual(first.map(stripTimings), second.map(stripTimings));
    // A fresh run over the same frames repeats the long run's start exactly.
    assert.deepEqual(first.map(stripTimings), results.slice(0, firstFrames.length).map(stripTimings));
  });

  it('refuses a frame whose pixel count does not match its size, naming the frame', async () => {
    const frame = { ...firstFrames[0], index: 7, data: firstFrames[0].data.subarray(1) };
    await assert.rejects(extractor.detect(frame), (err: Error) => err instanceof SignweaveInputError && /frame 7:/.test(err.message));
  });
});

describe('LandmarkExtractor recovery, abort and disposal', () => {
  let frames: VideoFrame[];
  const options: LandmarkExtractorOptions = { face: FACE, pose: POSE };
  let extractor: LandmarkExtractor;

  before(async () => {
    [frames, extractor] = await Promise.all([
      collect(decodeVideo(clip, { width: 640, height: 360, end: 1 })),
      LandmarkExtractor.create(options),
    ]);
    assert.equal(frames.length, 24);
  });

  after(async () => {
    const pid = extractor.browserPid!;
    await extractor.dispose();
    assert.deepEqual(groupMembers(pid), []);
  });

  it('restarts Chromium killed mid-run and completes every frame, resuming the face tracker exactly', async () => {
    const reference = await collect(extractor.run(frames));
    const firstPid = extractor.browserPid!;
    const restartsBefore = extractor.restarts;
    const results: FrameLandmarks[] = [];
    for await (const r of extractor.run(frames)) {
      results.push(r);
      if (r.index === 6) process.kill(firstPid, 'SIGKILL');
    }
    assert.equal(extractor.restarts, restartsBefore + 1);
    assert.deepEqual(
      results.map((r) => r.index),
      frames.map((f) => f.index),
    );
    assert.ok(results.every((r) => r.pose?.length === 33));
    // Face landmarks come from still crops placed by the tracker, whose state Node hands to the new page.
    assert.deepEqual(
      results.map((r) => r.face),
      reference.map((r) => r.face),
    );
    assert.notEqual(extractor.browserPid, firstPid);
    await waitFor(() => groupMembers(firstPid).length === 0, 'the killed Chromium’s helpers to exit');
  });

  it('stops a run when its signal aborts, and stays usable', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const r of extractor.run(frames, { signal: controller.signal })) {
          seen.push(r.index);
          if (r.index === 2) controller.abort(new Error('stop here'));
        }
      })(),
      /stop here/,
    );
    assert.deepEqual(seen, [0, 1, 2]);
    const again = await extractor.detect(frames[3]);
    assert.ok(again.face);
  });

  it('crops the lips of every frame and writes them as an H.264 video', async () => {
    const crops: LipCrop[] = [];
    for await (const { crop } of extractLipCrops(extractor, frames, { size: 96 })) crops.push(crop);
    assert.equal(crops.length, frames.length);
    assert.ok(crops.every((c) => c.face && c.data!.length === 96 * 96 * 3));
    const dir = mkdtempSync(join(tmpdir(), 'signweave-lips-'));
    try {
      const summary = await writeLipsVideo(crops, join(dir, 'lips.mp4'), 24);
      assert.deepEqual([summary.frames, summary.missing], [frames.length, []]);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries',
        'stream=codec_name,pix_fmt,width,height,nb_read_frames', '-of', 'csv=p=0', summary.path], { encoding: 'utf8' });
      assert.equal(probe.stdout.trim(), `h264,96,96,yuv420p,${frames.length}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a frame that keeps killing Chromium after maxRestarts restarts', async () => {
    await using fragile = await LandmarkExtractor.create({ face: FACE, maxRestarts: 1 });
    const pending = fragile.detect(frames[0]);
    // Kill each browser as soon as it is up, until the frame gives up.
    const killer = setInterval(() => {
      const pid = fragile.browserPid;
      if (pid) process.kill(pid, 'SIGKILL');
    }, 5);
    try {
      await assert.rejects(pending, /Chromium died 2 times while frame 0 was being processed/);
    } finally {
      clearInterval(killer);
    }
  });

  it('disposes itself when the signal given to create aborts, during start-up or later', async () => {
    const early = new AbortController();
    const starting = LandmarkExtractor.create({ face: FACE, signal: early.signal });
    await waitFor(() => ourChromiumGroups().length > 1, 'Chromium to start');
    const groups = ourChromiumGroups().filter((pid) => pid !== extractor.browserPid);
    early.abort(new Error('cancelled'));
    await assert.rejects(starting, /cancelled/);
    for (const pid of groups) assert.deepEqual(groupMembers(pid), []);

    const late = new AbortController();
    const aborted = await LandmarkExtractor.create({ face: FACE, signal: late.signal });
    const pid = aborted.browserPid!;
    late.abort();
    await waitFor(() => aborted.disposed && groupMembers(pid).length === 0, 'disposal');
  });
});

describe('LandmarkExtractor input errors (before any browser starts)', () => {
  const inputError = (pattern: RegExp) => (err: Error) => err instanceof SignweaveInputError && pattern.test(err.message);

  it('names a missing model file and where the official one is', async () => {
    await assert.rejects(
      LandmarkExtractor.create({ face: { modelPath: '/nonexistent/face_landmarker.task' } }),
      inputError(/face model \/nonexistent\/face_landmarker\.task: no such file .*storage\.googleapis\.com\/mediapipe-models\/face_landmarker/),
    );
  });

  it('refuses a file that is not a .task bundle', async () => {
    await assert.rejects(
      LandmarkExtractor.create({ pose: { modelPath: sharedPath('models', 'mediapipe', 'PROVENANCE.txt') } }),
      inputError(/pose model .*PROVENANCE\.txt is not a MediaPipe \.task bundle/),
    );
  });

  it('says how to give a model folder for a task given as true', async () => {
    const saved = process.env.SIGNWEAVE_MEDIAPIPE_MODELS;
    delete process.env.SIGNWEAVE_MEDIAPIPE_MODELS;
    try {
      await assert.rejects(LandmarkExtractor.create({ hands: true }), inputError(/hands: .*SIGNWEAVE_MEDIAPIPE_MODELS .*hand_landmarker\.task/));
    } finally {
      if (saved !== undefined) process.env.SIGNWEAVE_MEDIAPIPE_MODELS = saved;
    }
    await assert.rejects(
      LandmarkExtractor.create({ face: true, modelDir: '/nonexistent' }),
      inputError(/\/nonexistent\/face_landmarker\.task: no such file/),
    );
  });

  it('names a missing Chromium, from the option or from SIGNWEAVE_CHROMIUM', async () => {
    await assert.rejects(
      LandmarkExtractor.create({ face: FACE, chromiumPath: '/nonexistent/chromium' }),
      inputError(/Chromium not found at \/nonexistent\/chromium .*SIGNWEAVE_CHROMIUM/),
    );
    const saved = process.env.SIGNWEAVE_CHROMIUM;
    process.env.SIGNWEAVE_CHROMIUM = '/nonexistent/from-env';
    try {
      await assert.rejects(LandmarkExtractor.create({ face: FACE }), inputError(/\/nonexistent\/from-env/));
    } finally {
      if (saved === undefined) delete process.env.SIGNWEAVE_CHROMIUM;
      else process.env.SIGNWEAVE_CHROMIUM = saved;
    }
  });

  it('needs at least one task', async () => {
    await assert.rejects(LandmarkExtractor.create({}), inputError(/no landmark task requested/));
  });
});
