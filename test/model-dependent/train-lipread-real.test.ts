// Model-dependent (slow: headless Chromium + MediaPipe's face model from ../shared/models/mediapipe).
// The lipreading expert's whole training chain on real video, every step through the CLI: Stage-1 phoneme targets of
// two How2Sign sentences, their mouth crops from MediaPipe face landmarks (`landmarks --lips-out`), and
// `train lipread` on the two, whose bundle must verify and whose loss must fall.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-lipread-real-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The two shortest How2Sign clips (17 and 15 frames) and their sentences (../shared/data/how2sign/PROVENANCE.txt). */
const CLIPS: Record<string, string> = { '_15CDIexNDM_9-5-rgb_front': 'Okay.', '_5keJZsmTh0_0-5-rgb_front': 'All right.' };

describe('train lipread on real lip crops', () => {
  it('pseudogloss → landmarks --lips-out → train lipread writes a trained bundle that verifies, with a falling loss', () => {
    const data = join(dir, 'data');
    mkdirSync(join(data, 'lips'), { recursive: true });
    const labels = join(dir, 'labels.jsonl');
    writeFileSync(labels, Object.entries(CLIPS).map(([id, text]) => `${JSON.stringify({ name: `${id}.mp4`, gloss: '', text, video_path: `${id}.mp4` })}\n`).join(''));
    const targets = runCli(['pseudogloss', '--dataset', 'how2sign-jsonl', '--input', labels, '--out', join(data, 'targets.jsonl'), '--no-progress']);
    assert.equal(targets.status, 0, targets.stderr);

    for (const id of Object.keys(CLIPS)) {
      const run = runCli([
        'landmarks', sharedPath('data', 'how2sign', 'clips_rgb_front', `${id}.mp4`), '--out', join(dir, `${id}.pose`),
        '--lips-out', join(data, 'lips', `${id}.mp4`), '--lip-size', '32', '--face-model', sharedPath('models', 'mediapipe', 'face_landmarker.task'), '--no-progress',
      ]);
      assert.equal(run.status, 0, run.stderr);
    }

    const config = join(dir, 'train.json');
    writeFileSync(config, JSON.stringify({ format: 'signweave-train/1', epochs: 25, batchSize: 2, optimizer: { lr: 3e-3 }, schedule: { warmupSteps: 5 } }));
    const out = join(dir, 'bundle');
    const train = runCli(['train', 'lipread', '--data', data, '--out', out, '--config', config, '--no-progress', '--json']);
    assert.equal(train.status, 0, train.stderr);
    const result = JSON.parse(train.stdout);
    assert.equal(result.steps, 25);
    assert.equal(result.bundle.weights, 'trained');
    assert.equal(result.bundle.architecture.maskRatio, 0.5);
    assert.equal(result.details.frames, 32, 'every frame of both clips');
    assert.equal(result.details.facelessFrames, 0, 'MediaPipe finds the face in every frame');

    const steps = readFileSync(join(out, 'training', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((e) => e.type === 'step');
    console.log(`# lipread loss ${steps[0].loss} → ${steps.at(-1).loss}`);
    assert.ok(steps.at(-1).loss < 0.6 * steps[0].loss, `loss ${steps[0].loss} → ${steps.at(-1).loss}`);

    const verify = runCli(['models', 'verify', out, '--json']);
    assert.equal(verify.status, 0, verify.stderr);
  });
});
