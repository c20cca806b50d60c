// Model-dependent (slow: headless Chromium + the MediaPipe models from ../shared/models/mediapipe).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readPoseFile } from '../../src/landmarks/pose-format.js';
import { probeVideo } from '../../src/video/index.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-landmarks-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const clip = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
const models = (name: string) => sharedPath('models', 'mediapipe', name);

describe('signweave landmarks', () => {
  it('writes a .pose file with every frame, a lip-crop video, and a JSON summary', async () => {
    const out = join(dir, 'clip.pose');
    const lips = join(dir, 'lips.mp4');
    const run = runCli([
      'landmarks', clip, '--out', out, '--hands', '--lips-out', lips, '--lip-size', '64', '--no-progress', '--json',
      '--face-model', models('face_landmarker.task'), '--hand-model', models('hand_landmarker_rebuilt.task'),
    ]);
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.frames, 17);
    assert.ok(summary.detectionRate.face > 0.9, `face detected on ${summary.detectionRate.face}`);
    assert.equal(typeof summary.detectionRate.anyHand, 'number');
    assert.match(summary.extractor.models.face.sha256, /^[0-9a-f]{64}$/);

    const pose = readPoseFile(out);
    assert.equal(pose.frames, 17);
    assert.equal(pose.fps, 24);
    assert.deepEqual(pose.header.components.map((c) => [c.name, c.points.length]), [
      ['POSE_LANDMARKS', 33], ['FACE_LANDMARKS', 478], ['LEFT_HAND_LANDMARKS', 21], ['RIGHT_HAND_LANDMARKS', 21],
    ]);
    const lipInfo = await probeVideo(lips);
    assert.equal(lipInfo.width, 64);
    assert.equal(lipInfo.frameCount, 17);
    assert.deepEqual(readdirSync(dir).sort(), ['clip.pose', 'lips.mp4']);
  });

  it('a missing model file is a clear error and writes nothing', () => {
    const out = join(dir, 'none.pose');
    const run = runCli(['landmarks', clip, '--out', out, '--face', '--face-model', join(dir, 'nope.task'), '--no-progress']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /nope\.task/);
    assert.ok(!readdirSync(dir).includes('none.pose'));
  });
});
