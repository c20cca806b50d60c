import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeVideo } from '../../src/video/index.js';
import { bytesWritten, collect, HOW2SIGN_CLIP, processExists, syntheticVideo, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

/** 10 s of 320×240 at 25 fps: 250 frames, 57.6 MB of RGB24 that ffmpeg could write in a fraction of a second. */
let long: string;
const FRAME = 320 * 240 * 3;
before(() => {
  long = syntheticVideo(join(tmp.dir, 'long.mp4'), { size: '320x240', rate: 25, seconds: 10 });
});

describe('VideoDecoder: back-pressure', () => {
  it('a slow consumer: the decoder and ffmpeg stay within a couple of frames of it', async () => {
    const decoder = decodeVideo(long);
    const { width, height } = await decoder.open();
    assert.equal(width * height * 3, FRAME);
    const pid = decoder.pid!;
    let consumed = 0;
    let maxAhead = 0;
    let maxWrittenAhead = 0;
    for await (const frame of decoder) {
      consumed++;
      assert.equal(frame.index, consumed - 1);
      if (consumed === 40) break;
      // Time for an unbounded ffmpeg to run far ahead: ~150 frames per sleep on this machine.
      await sleep(consumed % 10 === 0 ? 300 : 5);
      maxAhead = Math.max(maxAhead, decoder.bytesRead - consumed * FRAME);
      const written = bytesWritten(pid);
      if (written !== undefined) maxWrittenAhead = Math.max(maxWrittenAhead, written - consumed * FRAME);
    }
    // Read from the pipe but not yet consumed: at most the one ready frame and the one being filled.
    assert.ok(maxAhead <= 2 * FRAME, `decoder held ${maxAhead} bytes beyond the consumer`);
    // ffmpeg itself (stdout and its log on stderr): those two frames, the pipe and stream buffers (≤ 64 KiB each),
    // and the frame it is blocked writing. /proc/PID/io is Linux-only; elsewhere only the first bound is checked.
    if (process.platform === 'linux') {
      assert.ok(maxWrittenAhead > 0 && maxWrittenAhead <= 3 * FRAME + 512 * 1024, `ffmpeg wrote ${maxWrittenAhead} bytes beyond the consumer`);
    }
    assert.equal(processExists(pid), false, 'ffmpeg was reaped');
  });
});

describe('VideoDecoder: stopping reaps ffmpeg', () => {
  it('breaking out of for await', async () => {
    const decoder = decodeVideo(long);
    let pid = 0;
    for await (const frame of decoder) {
      pid = decoder.pid!;
      if (frame.index === 3) break;
    }
    assert.ok(pid > 0);
    assert.equal(processExists(pid), false);
  });

  it('an exception thrown in the loop body', async () => {
    const decoder = decodeVideo(long);
    await assert.rejects(
      (async () => {
        for await (const frame of decoder) if (frame.index === 2) throw new Error('consumer failed');
      })(),
      /consumer failed/,
    );
    assert.equal(processExists(decoder.pid!), false);
  });

  it('abort mid-stream: iteration ends with an AbortError, ffmpeg is gone', async () => {
    const controller = new AbortController();
    const decoder = decodeVideo(long, { signal: controller.signal });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const frame of decoder) {
          seen.push(frame.index);
          if (frame.index === 5) controller.abort();
        }
      })(),
      { name: 'AbortError' },
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.equal(processExists(decoder.pid!), false);
  });

  it('abort while waiting for a frame, and abort with a reason of its own', async () => {
    const controller = new AbortController();
    const decoder = decodeVideo(long, { signal: controller.signal });
    await decoder.open();
    const pid = decoder.pid!;
    // Fire while next() waits: ffmpeg has not delivered a frame yet.
    setImmediate(() => controller.abort(new Error('user cancelled')));
    await assert.rejects(
      (async () => {
        for await (const frame of decoder) void frame;
      })(),
      /user cancelled/,
    );
    assert.equal(processExists(pid), false);
  });

  it('a signal already aborted: nothing is started', async () => {
    const decoder = decodeVideo(long, { signal: AbortSignal.abort() });
    await assert.rejects(
      (async () => {
        for await (const frame of decoder) void frame;
      })(),
      { name: 'AbortError' },
    );
    assert.equal(decoder.pid, undefined);
  });

  it('dispose() of a decoder opened but never iterated, and iterating twice', async () => {
    const decoder = decodeVideo(HOW2SIGN_CLIP);
    await decoder.open();
    const pid = decoder.pid!;
    assert.equal(processExists(pid), true);
    await decoder.dispose();
    assert.equal(processExists(pid), false);
    await decoder.dispose();

    const once = decodeVideo(long, { end: 0.2 });
    assert.equal((await collect(once)).length, 5);
    await assert.rejects(collect(once), /can be iterated only once/);
  });
});
