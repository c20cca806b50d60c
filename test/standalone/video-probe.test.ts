import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { probeVideo } from '../../src/video/index.js';
import { ffmpeg, HOW2SIGN_CLIP, POSE_CLIP, rotatedCopy, SIGNMT_120, SIGNMT_CLIP, tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

describe('probeVideo: the real clips', () => {
  it('How2Sign front view', async () => {
    const info = await probeVideo(HOW2SIGN_CLIP);
    assert.deepEqual(
      { ...info, path: undefined },
      {
        path: undefined,
        container: 'mov,mp4,m4a,3gp,3g2,mj2',
        streamIndex: 0,
        codec: 'h264',
        pixelFormat: 'yuv420p',
        codedWidth: 1280,
        codedHeight: 720,
        width: 1280,
        height: 720,
        rotation: 0,
        fps: 24,
        frameRate: { num: 24, den: 1 },
        frameCount: 102,
        duration: 4.25,
        // the first frame's pts is 504/12288 s: the container starts there, so frame times start at 0
        startTime: 0,
        containerStartTime: 0.041016,
        timeBase: { num: 1, den: 12288 },
        fileSize: 690145,
      },
    );
  });

  it('portrait clip at 359/12 fps, the 320×240 clip and its 120 fps re-encode', async () => {
    const pose = await probeVideo(POSE_CLIP);
    assert.deepEqual([pose.width, pose.height, pose.frameRate, pose.frameCount, pose.pixelFormat], [540, 720, { num: 359, den: 12 }, 58, 'yuvj420p']);
    assert.ok(Math.abs(pose.fps - 29.9167) < 1e-4);
    assert.ok(Math.abs(pose.duration - 1.938719) < 1e-6);
    const signmt = await probeVideo(SIGNMT_CLIP);
    assert.deepEqual([signmt.width, signmt.height, signmt.fps, signmt.frameCount, signmt.duration], [320, 240, 25, 107, 4.28]);
    const fast = await probeVideo(SIGNMT_120);
    assert.deepEqual([fast.width, fast.height, fast.fps, fast.frameCount], [320, 240, 120, 514]);
  });

  it('a rotated video reports the displayed size', async () => {
    const info = await probeVideo(rotatedCopy(SIGNMT_CLIP, join(tmp.dir, 'rotated.mp4')));
    assert.deepEqual([info.rotation, info.codedWidth, info.codedHeight, info.width, info.height], [90, 320, 240, 240, 320]);
  });
});

describe('probeVideo: errors name the file', () => {
  const rejects = (path: string, pattern: RegExp, options = {}) =>
    assert.rejects(probeVideo(path, options), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError, String(err));
      assert.match(err.message, pattern);
      return true;
    });

  it('missing file, directory, empty file', async () => {
    const missing = join(tmp.dir, 'nope.mp4');
    await rejects(missing, new RegExp(`cannot read video ${missing}: no such file`));
    await rejects(tmp.dir, /it is a directory/);
    const empty = join(tmp.dir, 'empty.mp4');
    writeFileSync(empty, '');
    await rejects(empty, /empty\.mp4 is not a video: the file is empty/);
  });

  it('a text file renamed .mp4, and a text file as it is', async () => {
    const text = join(tmp.dir, 'notes.mp4');
    writeFileSync(text, 'hello\nthis is not a video\n');
    await rejects(text, /notes\.mp4 is not a readable video: .*(moov atom not found|Invalid data)/);
    const plain = join(tmp.dir, 'notes.txt');
    copyFileSync(text, plain);
    await rejects(plain, /notes\.txt is not a (readable )?video/);
  });

  it('the first half of a clip whose index is at the end', async () => {
    const half = join(tmp.dir, 'half.mp4');
    const bytes = readFileSync(HOW2SIGN_CLIP);
    writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
    await rejects(half, /half\.mp4 is not a readable video: .*moov atom not found/);
  });

  it('audio only', async () => {
    const audio = join(tmp.dir, 'tone.m4a');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=0.5', audio]);
    await rejects(audio, /tone\.m4a has no video stream \(only audio\)/);
  });

  it('ffprobe not installed', async () => {
    await rejects(HOW2SIGN_CLIP, /ffprobe is not installed \(cannot run \/nonexistent\/ffprobe\): install ffmpeg, e\.g\. apt-get install ffmpeg/, {
      ffmpegPath: '/nonexistent/ffmpeg',
    });
  });

  it('an aborted probe rejects with the signal reason', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(probeVideo(HOW2SIGN_CLIP, { signal: controller.signal }), { name: 'AbortError' });
  });
});
