import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignweaveInputError } from '../../src/errors.js';
import type { VideoFrame } from '../../src/types.js';
import { decodeVideo, decodeVideoSplit, parseImageProcessorConfig, type DecodeOptions } from '../../src/video/index.js';
import { dinov2PreprocessorConfig } from '../../src/backbone/index.js';
import { collect, ffmpeg, HOW2SIGN_CLIP, processExists, SIGNMT_120, SIGNMT_CLIP, syntheticVideo, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);
let folder: string;
let long: string;
before(() => {
  folder = join(tmp.dir, 'png');
  mkdirSync(folder);
  ffmpeg(['-i', SIGNMT_CLIP, '-t', '1', join(folder, '%04d.png')]);
  long = syntheticVideo(join(tmp.dir, 'long.mp4'), { size: '320x240', rate: 25, seconds: 6 });
});

const view = (frames: VideoFrame[]) => frames.map((f) => ({ index: f.index, time: f.time, size: `${f.width}x${f.height}` }));

/** Frames equal in everything: index, time, size and every byte. */
function assertSameFrames(actual: VideoFrame[], expected: VideoFrame[], what: string): void {
  assert.deepEqual(view(actual), view(expected), what);
  actual.forEach((f, i) => assert.ok(Buffer.compare(f.data, expected[i].data) === 0, `${what}: frame ${f.index} bytes`));
}

describe('decodeVideo: stride decodes only the frames used', () => {
  const cases: [string, DecodeOptions, number][] = [
    ['How2Sign [1, 3)', { start: 1, end: 3, maxSide: 320 }, 3],
    ['How2Sign from 0.99 (between frames)', { start: 0.99, end: 2.01, maxSide: 320 }, 2],
    ['120 fps resampled to 25', { fps: 25, end: 2, maxSide: 160 }, 4],
  ];
  for (const [name, options, stride] of cases) {
    it(`${name}, stride ${stride}: every ${stride}-th frame of the full decode, with its index and time`, async () => {
      const path = name.startsWith('120') ? SIGNMT_120 : HOW2SIGN_CLIP;
      const all = await collect(decodeVideo(path, options));
      const decoder = decodeVideo(path, { ...options, stride });
      const strided = await collect(decoder);
      assertSameFrames(strided, all.filter((f) => f.index % stride === 0), name);
      assert.ok(strided.length >= 2);
    });
  }

  it('a frame folder with a start between its ticks (ffmpeg lets one earlier frame through): counting starts at the same frame', async () => {
    const source = { frames: folder, fps: 24 };
    for (const start of [0.1, 0.25]) {
      const all = await collect(decodeVideo(source, { start, end: 0.9 }));
      assert.ok(all[0].time >= start, 'the stride-1 decode starts in range');
      for (const stride of [2, 3]) assertSameFrames(await collect(decodeVideo(source, { start, end: 0.9, stride })), all.filter((f) => f.index % stride === 0), `start ${start} stride ${stride}`);
    }
  });

  it('fewer bytes cross the pipe', async () => {
    const one = decodeVideo(HOW2SIGN_CLIP, { end: 2 });
    await collect(one);
    const four = decodeVideo(HOW2SIGN_CLIP, { end: 2, stride: 4 });
    await collect(four);
    assert.ok(four.bytesRead * 3 < one.bytesRead, `${four.bytesRead} vs ${one.bytesRead}`);
  });

  it('a bad stride names the file', () => {
    for (const stride of [0, 1.5, -2]) {
      assert.throws(() => decodeVideo(HOW2SIGN_CLIP, { stride }), (err: Error) => err instanceof SignweaveInputError && err.message === `${HOW2SIGN_CLIP}: stride must be a positive integer, got ${stride}`);
    }
  });
});

describe('decodeVideoSplit: one ffmpeg, several sizes', () => {
  const preprocess = parseImageProcessorConfig(dinov2PreprocessorConfig());

  it('each output equals its own decode (bytes, indices, times), read concurrently', async () => {
    for (const stride of [1, 3]) {
      const range = { start: 0.5, end: 2, stride };
      const [a, b] = decodeVideoSplit(HOW2SIGN_CLIP, range, [{ preprocess, queue: 8 }, { maxSide: 640 }]);
      const [fa, fb] = await Promise.all([collect(a), collect(b)]);
      assertSameFrames(fa, await collect(decodeVideo(HOW2SIGN_CLIP, { ...range, preprocess })), `preprocessed, stride ${stride}`);
      assertSameFrames(fb, await collect(decodeVideo(HOW2SIGN_CLIP, { ...range, maxSide: 640 })), `maxSide 640, stride ${stride}`);
      assert.equal(a.pid, b.pid, 'one ffmpeg');
    }
  });

  it('a slow output holds the fast one back: memory stays bounded by the queues', async () => {
    const [fast, slow] = decodeVideoSplit(long, {}, [{ maxSide: 160, queue: 4 }, { queue: 2 }]);
    const counts = [0, 0];
    let maxLead = 0;
    let pid = 0;
    const readFast = (async () => {
      for await (const f of fast) {
        counts[0]++;
        pid = fast.pid ?? pid;
        maxLead = Math.max(maxLead, counts[0] - counts[1]);
        assert.equal(f.index, counts[0] - 1);
      }
    })();
    const readSlow = (async () => {
      for await (const f of slow) {
        counts[1]++;
        assert.equal(f.index, counts[1] - 1);
        if (counts[1] % 10 === 0) await sleep(100);
      }
    })();
    await Promise.all([readFast, readSlow]);
    assert.deepEqual(counts, [150, 150]);
    // The slow output's queue (2) and the frame being filled, the fast one's queue (4), ffmpeg's frame in hand and the pipes.
    assert.ok(maxLead <= 10, `the fast output ran ${maxLead} frames ahead`);
    assert.equal(processExists(pid), false, 'ffmpeg was reaped');
  });

  it('one output stopping early stops ffmpeg, and the other fails instead of waiting', async () => {
    const [a, b] = decodeVideoSplit(long, {}, [{ maxSide: 160 }, {}]);
    let pid = 0;
    const breaker = (async () => {
      for await (const f of a) {
        pid = a.pid!;
        if (f.index === 5) break;
      }
    })();
    await assert.rejects(collect(b), /output 0 of the shared decode stopped/);
    await breaker;
    assert.equal(processExists(pid), false);
  });

  it('abort stops both outputs with the reason', async () => {
    const controller = new AbortController();
    const [a, b] = decodeVideoSplit(long, { signal: controller.signal }, [{ maxSide: 160 }, {}]);
    const reason = new Error('stop now');
    let pid = 0;
    const readA = (async () => {
      for await (const f of a) {
        pid = a.pid!;
        if (f.index === 3) controller.abort(reason);
      }
    })();
    const settled = await Promise.allSettled([readA, collect(b)]);
    for (const s of settled) assert.equal(s.status === 'rejected' && s.reason, reason);
    assert.ok(pid > 0);
    assert.equal(processExists(pid), false);
  });

  it('output options are checked, naming the file', () => {
    assert.throws(() => decodeVideoSplit(HOW2SIGN_CLIP, {}, [{}, { maxSide: 640, width: 100 }]), /: give either maxSide or width\/height, not both$/);
    assert.throws(() => decodeVideoSplit(HOW2SIGN_CLIP, {}, [{ queue: 0 }]), (err: Error) => err instanceof SignweaveInputError && err.message === `${HOW2SIGN_CLIP}: queue must be a positive integer, got 0`);
  });
});
