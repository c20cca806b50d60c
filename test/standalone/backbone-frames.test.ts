import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildVit,
  decodeNpyFloat32,
  extractFeatures,
  FEATURE_CACHE_FORMAT,
  FeatureCache,
  featureCacheKey,
  listCache,
  loadBackbone,
  writeHfVitFolder,
  type Backbone,
  type FeatureSequence,
} from '../../src/backbone/index.js';
import { featuresCommand } from '../../src/cli/commands/features.js';
import { sha256File } from '../../src/util/hash.js';
import type { FrameFolder } from '../../src/video/index.js';
import { inputError, maxDiff } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { ffmpeg, tempDir } from '../helpers/video.js';
import { counted } from '../helpers/backbone.js';

/** How2Sign "Okay.": 1280×720, 24 fps, 17 frames. */
const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');

const tmp = tempDir();
after(tmp.remove);

/** A copy of a frame folder under `name`. */
function copyFolder(from: string, name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(from, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}

/** The rows and where they came from, without the source and cache records. */
const rowsOf = (f: FeatureSequence) => {
  const { data, shape, fps, frameIndices, times } = f;
  return { data, shape, fps, frameIndices, times };
};

describe('backbone features of frame folders', () => {
  const vit = { imageSize: 14, patchSize: 7, dim: 8, depth: 1, heads: 2, seed: 6 };
  const hf = join(tmp.dir, 'hf');
  const png = join(tmp.dir, 'png');
  let folder: FrameFolder;
  let backbone: Backbone;
  let clip: FeatureSequence;

  before(async () => {
    // Frames extracted by a separate ffmpeg run, numbered from 0001 as ffmpeg's image2 muxer writes them.
    mkdirSync(png);
    ffmpeg(['-i', CLIP, join(png, '%04d.png')]);
    folder = { frames: png, fps: 24 };
    writeHfVitFolder(hf, buildVit(vit), vit);
    backbone = await loadBackbone(hf, { threads: 1 });
    // The default batch (4), as the CLI runs it, so that its output is exactly this.
    clip = await extractFeatures(CLIP, backbone);
  });
  after(() => backbone.dispose());

  it('a PNG folder gives exactly the clip’s features, and the source records the folder and its rate', async () => {
    const frames = await extractFeatures(folder, backbone);
    assert.deepEqual(frames.shape, [17, 8]);
    assert.deepEqual(rowsOf(frames), rowsOf(clip));
    assert.deepEqual(frames.source, { video: { frames: png, fps: 24 }, start: undefined, end: undefined, stride: 1 });
    assert.deepEqual(frames.cache, { status: 'off' });

    const range = { start: 0.25, end: 0.5, stride: 2 };
    const part = await extractFeatures(folder, backbone, range);
    assert.deepEqual(part.frameIndices, [0, 2, 4]);
    assert.deepEqual(rowsOf(part), rowsOf(await extractFeatures(CLIP, backbone, range)));
    // Rows 6, 8 and 10 of the whole folder, at the same times.
    assert.deepEqual(
      part.times,
      [6, 8, 10].map((k) => frames.times[k]),
    );
    // Other batches round differently.
    assert.ok(maxDiff(part.data, frames.data.slice(6 * 8, 11 * 8).filter((_, i) => Math.floor(i / 8) % 2 === 0)) < 1e-5);
  });

  it('caches a folder: stored, then hit without the backbone; a copy elsewhere hits by content', async () => {
    const cache = new FeatureCache({ dir: join(tmp.dir, 'cache') });
    const first = counted(backbone);
    const stored = await extractFeatures(folder, first, { cache });
    assert.ok(stored.cache.status === 'stored' && first.calls === 5);
    const sidecar = JSON.parse(readFileSync(cache.paths(stored.cache.key).sidecar, 'utf8'));
    assert.deepEqual(sidecar.video, { frames: resolve(png), fps: 24 });
    assert.deepEqual(Object.keys(sidecar.parts.video).sort(), ['fps', 'framesSha256']);

    const copy = counted(backbone);
    const hit = await extractFeatures({ frames: copyFolder(png, 'copy'), fps: 24 }, copy, { cache });
    assert.equal(copy.calls, 0);
    assert.ok(hit.cache.status === 'hit' && hit.cache.key === stored.cache.key);
    assert.deepEqual(rowsOf(hit), rowsOf(stored));
    assert.deepEqual(
      listCache(cache.dir).map((e) => e.video),
      [{ frames: resolve(png), fps: 24 }],
    );
  });

  it('content key: one sha256 over name\\0sha256(bytes) lines and the fps; an image’s bytes, a name or the fps change it', async () => {
    const cache = new FeatureCache({ dir: join(tmp.dir, 'unused') });
    const dir = copyFolder(png, 'content');
    const key = async (fps = 24) => featureCacheKey(await cache.keyParts({ frames: dir, fps }, { stride: 1 }, backbone.info));
    const parts = await cache.keyParts({ frames: dir, fps: 24 }, { stride: 1 }, backbone.info);
    const lines = readdirSync(dir)
      .sort()
      .map((name) => `${name}\0${createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')}\n`);
    assert.deepEqual(parts.video, { framesSha256: createHash('sha256').update(lines.join('')).digest('hex'), fps: 24 });
    assert.equal(parts.format, FEATURE_CACHE_FORMAT);

    const base = await key();
    const variants = [await key(25)];
    copyFileSync(join(png, '0006.png'), join(dir, '0005.png'));
    variants.push(await key());
    copyFileSync(join(png, '0005.png'), join(dir, '0005.png'));
    assert.equal(await key(), base, 'restoring the bytes restores the key');
    renameSync(join(dir, '0017.png'), join(dir, '0018.png'));
    variants.push(await key());
    assert.equal(new Set([base, ...variants]).size, 4);
  });

  it('file-stat key: the real path and each image’s name, size and mtime, and the fps', async () => {
    const cache = new FeatureCache({ dir: join(tmp.dir, 'unused'), videoIdentity: 'file-stat' });
    const dir = copyFolder(png, 'stat');
    const key = async (frames = dir, fps = 24) => featureCacheKey(await cache.keyParts({ frames, fps }, { stride: 1 }, backbone.info));
    const parts = await cache.keyParts({ frames: dir, fps: 24 }, { stride: 1 }, backbone.info);
    assert.ok('imagesStatSha256' in parts.video && parts.video.frames === dir && parts.video.fps === 24);

    const base = await key();
    const link = join(tmp.dir, 'stat-link');
    symlinkSync(dir, link);
    assert.equal(await key(link), base, 'a link to the folder is the same folder');
    const variants = [await key(dir, 25), await key(copyFolder(dir, 'stat-copy'))];
    utimesSync(join(dir, '0009.png'), new Date(), new Date(Date.now() - 3600e3));
    variants.push(await key());
    renameSync(join(dir, '0017.png'), join(dir, '0018.png'));
    variants.push(await key());
    copyFileSync(join(png, '0001.png'), join(dir, '0002.png'));
    variants.push(await key());
    assert.equal(new Set([base, ...variants]).size, 6);
  });

  it('file keys are unchanged: the sha256 of the bytes, or the path, size and mtime', async () => {
    const parts = await new FeatureCache().keyParts(CLIP, { stride: 1 }, backbone.info);
    assert.deepEqual([parts.format, parts.video], ['signweave-features-1', { sha256: await sha256File(CLIP) }]);
    const stat = await new FeatureCache({ videoIdentity: 'file-stat' }).keyParts(CLIP, { stride: 1 }, backbone.info);
    assert.deepEqual(Object.keys(stat.video).sort(), ['mtimeMs', 'path', 'size']);
  });

  it('input errors name the folder', async () => {
    for (const videoIdentity of ['content', 'file-stat'] as const) {
      const cache = new FeatureCache({ dir: join(tmp.dir, 'unused'), videoIdentity });
      for (const fps of [0, -24, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(extractFeatures({ frames: png, fps }, backbone, { cache }), inputError(new RegExp(`^frame folder ${png}: fps must be a positive number, got ${fps}$`)));
      }
      const empty = join(tmp.dir, `empty-${videoIdentity}`);
      mkdirSync(empty);
      await assert.rejects(extractFeatures({ frames: empty, fps: 24 }, backbone, { cache }), inputError(/^frame folder .*empty-[a-z-]+ is empty$/));
      await assert.rejects(extractFeatures({ frames: join(tmp.dir, 'nope'), fps: 24 }, backbone, { cache }), inputError(/^cannot read frame folder .*nope: no such folder$/));
    }
    await assert.rejects(extractFeatures({ frames: png, fps: 0 }, backbone), inputError(/fps must be a positive number, got 0/));
  });

  it('signweave features <folder> --fps: the clip’s features, stored then hit, listed with the rate', () => {
    // The default cache folder (under $XDG_CACHE_HOME), so that `cache list` finds it without options.
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(tmp.dir, 'xdg');
    try {
      const run = (out: string, ...more: string[]) => {
        const r = runCli(['features', png, '--fps', '24', '--backbone', hf, '--out', out, '--no-progress', '--threads', '1', ...more]);
        assert.equal(r.status, 0, r.stderr);
        return { stdout: r.stdout, npy: decodeNpyFloat32(readFileSync(out)) };
      };
      const first = run(join(tmp.dir, 'first.npy'));
      assert.match(first.stdout, /^features {2}17 × 8 at 24 fps \(every frame of 24 fps\), frames 0–16, 0\.000–0\.667 s$/m);
      assert.match(first.stdout, /^cache {5}stored .*xdg\/signweave\/features\/[0-9a-f]{64}\.npy$/m);
      assert.deepEqual(first.npy, { data: clip.data, shape: clip.shape });
      const second = run(join(tmp.dir, 'second.npy'), '--json');
      const report = JSON.parse(second.stdout);
      assert.deepEqual([report.cache.status, report.source.video, report.shape], ['hit', { frames: png, fps: 24 }, [17, 8]]);
      assert.deepEqual(second.npy, first.npy);
      const list = runCli(['features', 'cache', 'list']);
      assert.match(list.stdout, /^\S*xdg\/signweave\/features: 1 entries, /);
      assert.ok(list.stdout.includes(` 17×8 @ 24 fps  ${resolve(png)} (frames at 24 fps)\n`), list.stdout);
      // Through the real entry point, an option after `cache list` is the list's own, not `features`'.
      const empty = join(tmp.dir, 'empty-cache');
      assert.match(runCli(['features', 'cache', 'list', '--cache-dir', empty]).stdout, new RegExp(`^${empty}: 0 entries`));
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('signweave features: a folder needs --fps, a file refuses it', async () => {
    await assert.rejects(featuresCommand.parseAsync([png, '--backbone', hf], { from: 'user' }), inputError(/^.*png is a folder: give the frame rate of its numbered images with --fps \(e\.g\. --fps 25 for PHOENIX-2014T\)$/));
    await assert.rejects(featuresCommand.parseAsync([CLIP, '--backbone', hf, '--fps', '24'], { from: 'user' }), inputError(/^--fps is the frame rate of a frame folder, but .*rgb_front\.mp4 is not a folder/));
  });
});
