import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildVit, decodeNpyFloat32, writeHfVitFolder } from '../../src/backbone/index.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { CliRun } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';
import { syntheticVideo, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

/** Runs `featuresCommand` in a child process, reporting input errors as src/cli/main.ts does. */
function features(args: readonly string[]): CliRun {
  const module = (path: string) => JSON.stringify(pathToFileURL(join(repoRoot, path)).href);
  const script = [
    `import { featuresCommand } from ${module('src/cli/commands/features.ts')};`,
    `import { SignweaveInputError } from ${module('src/errors.ts')};`,
    `try { await featuresCommand.parseAsync(process.argv.slice(1), { from: 'user' }); }`,
    `catch (err) { if (!(err instanceof SignweaveInputError)) throw err; process.stderr.write('signweave: ' + err.message + '\\n'); process.exitCode = err.exitCode; }`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('signweave features', () => {
  const vit = { imageSize: 14, patchSize: 7, dim: 8, depth: 1, heads: 2, seed: 4 };
  const hf = join(tmp.dir, 'hf');
  const bare = join(tmp.dir, 'vit.onnx');
  const cacheDir = join(tmp.dir, 'cache');
  let video: string;
  before(() => {
    video = syntheticVideo(join(tmp.dir, 'clip.mp4'), { size: '160x120', rate: 25, seconds: 1 });
    const model = buildVit(vit);
    writeHfVitFolder(hf, model, vit);
    model.save(bare);
  });

  it('extracts, writes the .npy, stores the cache entry, and hits it the second time', () => {
    const out = join(tmp.dir, 'features.npy');
    const args = [video, '--backbone', hf, '--stride', '3', '--out', out, '--cache-dir', cacheDir, '--no-progress', '--threads', '1'];
    const first = features(args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^features {2}9 × 8 at 8\.333 fps \(1 frame in 3 of 25 fps\), frames 0–24, 0\.000–0\.960 s$/m);
    assert.match(first.stdout, /^backbone {2}hf .*hf \(transformers\.js 4\.3\.1 Dinov2Model on onnxruntime-node 1\.30\.0\), 14×14 input, sha256 [0-9a-f]{16}…$/m);
    assert.match(first.stdout, /^cache {5}stored .*cache\/[0-9a-f]{64}\.npy$/m);
    const npy = decodeNpyFloat32(readFileSync(out));
    assert.deepEqual(npy.shape, [9, 8]);
    const second = features(args);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^cache {5}hit /m);
    assert.deepEqual(decodeNpyFloat32(readFileSync(out)).data, npy.data);
  });

  it('--json gives shape, fps, frame indices and times, the backbone and the cache outcome', () => {
    const r = features([video, '--backbone', bare, '--start', '0.2', '--end', '0.4', '--no-cache', '--json', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual([report.tool.command, report.shape, report.fps, report.frameIndices, report.cache, report.out], ['features', [5, 8], 25, [0, 1, 2, 3, 4], { status: 'off' }, null]);
    assert.deepEqual(
      report.times.map((t: number) => +t.toFixed(3)),
      [0.2, 0.24, 0.28, 0.32, 0.36],
    );
    // A bare ONNX without --preprocessor gets DINOv2's preprocessing at the graph's input size.
    assert.deepEqual(report.backbone.preprocessing, {
      resample: 3,
      resize: { shortestEdge: 16 },
      centerCrop: { height: 14, width: 14 },
      rescaleFactor: 1 / 255,
      normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    });
    assert.equal(report.backbone.kind, 'onnx');
  });

  it('cache list and clear take their own --cache-dir', () => {
    const list = features(['cache', 'list', '--cache-dir', cacheDir]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${cacheDir}: 1 entries, `));
    assert.match(list.stdout, /^[0-9a-f]{12} {2}\S+ +\d+\.\d KiB {2}9×8 @ 8\.333 fps {2}.*clip\.mp4$/m);
    const json = JSON.parse(features(['cache', 'list', '--cache-dir', cacheDir, '--json']).stdout);
    assert.equal(json.entries.length, 1);
    const kept = features(['cache', 'clear', '--cache-dir', cacheDir, '--older-than', '1d']);
    assert.match(kept.stdout, /^removed 0 entries/);
    const cleared = features(['cache', 'clear', '--cache-dir', cacheDir]);
    assert.match(cleared.stdout, new RegExp(`^removed 1 entries \\(\\d+\\.\\d KiB\\) from ${cacheDir}$`, 'm'));
    assert.deepEqual(readdirSync(cacheDir), []);
  });

  it('input errors name what is wrong', () => {
    const noBackbone = features([video]);
    assert.equal(noBackbone.status, 2);
    assert.match(noBackbone.stderr, /signweave: give the backbone: --backbone/);
    const missing = features([join(tmp.dir, 'nope.mp4'), '--backbone', bare, '--no-progress']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /signweave: cannot read video .*nope\.mp4: no such file/);
    const noFolder = features([video, '--backbone', bare, '--out', join(tmp.dir, 'no', 'f.npy')]);
    assert.equal(noFolder.status, 2);
    assert.match(noFolder.stderr, /signweave: cannot write .*no\/f\.npy: its folder does not exist/);
    const g = new GraphBuilder();
    g.output(g.reduceMean(g.input('image', 'float32', ['N', 3, 'H', 'W']), [2, 3], false), 'embedding');
    const free = join(tmp.dir, 'free-size.onnx');
    g.build().save(free);
    const noSize = features([video, '--backbone', free]);
    assert.equal(noSize.status, 2);
    assert.match(noSize.stderr, /free-size\.onnx: the image input has no fixed square size to derive DINOv2 preprocessing from: give --preprocessor/);
    const badStride = features([video, '--backbone', bare, '--stride', '0']);
    assert.equal(badStride.status, 1);
    assert.match(badStride.stderr, /--stride <n>' argument '0' is invalid\. must be a positive integer/);
    const badAge = features(['cache', 'clear', '--older-than', 'yesterday']);
    assert.equal(badAge.status, 1);
    assert.match(badAge.stderr, /must be an age such as 30d/);
  });
});
