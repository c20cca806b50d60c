// `signweave models init-demo` and the input errors of `signweave translate`; the model-dependent pipeline test runs
// translate on a real clip.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI with SIGNWEAVE_SHARED pointing at an empty folder, as on a machine without ../shared. */
function withoutShared(args: string[]) {
  const saved = process.env.SIGNWEAVE_SHARED;
  process.env.SIGNWEAVE_SHARED = root;
  try {
    return runCli(args);
  } finally {
    if (saved === undefined) delete process.env.SIGNWEAVE_SHARED;
    else process.env.SIGNWEAVE_SHARED = saved;
  }
}

describe('signweave models init-demo', () => {
  it('without ../shared it needs --face-model', () => {
    const run = withoutShared(['models', 'init-demo', join(root, 'none')]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^signweave: no face landmark model: give --face-model <face_landmarker\.task> \(download: https:\/\/storage\.googleapis\.com\/.*face_landmarker\.task\)\n$/);
  });

  it('writes the bundles, the backbone and pipeline.json (--json lists them)', () => {
    const dir = join(root, 'demo');
    const run = withoutShared(['models', 'init-demo', dir, '--face-model', '/models/face.task', '--seed', '5', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.config, join(dir, 'pipeline.json'));
    assert.deepEqual(report.backbone, { type: 'hf-folder', path: join(dir, 'backbone'), dim: 384, written: true });
    assert.equal(report.bundles.length, 13);
    assert.ok(report.bundles.every((b: { weights: string }) => b.weights === 'random'));
    const config = JSON.parse(readFileSync(report.config, 'utf8'));
    assert.equal(config.format, 'signweave-pipeline/1');
    assert.deepEqual(config.landmarks, { face: { model: '/models/face.task' } });
    assert.deepEqual(config.backbone, { type: 'hf-folder', path: 'backbone', batch: 4, stride: 1 });
    assert.equal(config.experts.sign.bundle, join('bundles', 'sign'));
    assert.equal(config.fusion.variants['lip-shift-5'], join('bundles', 'fusion-lip-shift-5'));
  });
});

describe('signweave translate: input errors', () => {
  it('an invalid config: its file, the JSON pointer and the value, exit 2', () => {
    const path = join(root, 'bad.json');
    writeFileSync(path, JSON.stringify({ format: 'signweave-pipeline/1', backbone: { type: 'hf-folder', path: 'b', stride: 0 }, experts: { sign: { bundle: 's' }, fingerspell: null, lipread: null }, router: null, fusion: null }));
    const run = runCli(['translate', 'video.mp4', '--config', path]);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `signweave: pipeline config ${path}: /backbone/stride: must be >= 1 (value: 0)\n`);
  });

  it('an unknown preset is refused by the command line', () => {
    const run = runCli(['translate', 'video.mp4', '--config', 'x.json', '--preset', 'no-router']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /argument 'no-router' is invalid\. Allowed choices are full, no-lipreading, /);
  });
});
