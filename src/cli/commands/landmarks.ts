import { Command } from '@commander-js/extra-typings';
import { SignweaveInputError } from '../../errors.js';
import { LandmarkExtractor } from '../../landmarks/extractor.js';
import { extractLipCrops, writeLipsVideo } from '../../landmarks/lips.js';
import { poseFromLandmarks, writePoseFile, type LandmarkFrame } from '../../landmarks/pose-format.js';
import type { FrameLandmarks, LipCrop } from '../../landmarks/types.js';
import { decodeVideo, probeVideo } from '../../video/index.js';
import { SIGNWEAVE_VERSION } from '../../version.js';
import { positiveInt, positiveNumber } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress } from '../progress.js';

/**
 * MediaPipe labels handedness as if the image were mirrored (a selfie camera); sign-language video is not mirrored,
 * so the hand MediaPipe calls "Right" is the signer's left hand — the one pose-format's LEFT_HAND_LANDMARKS holds.
 */
function toPoseFrame(result: FrameLandmarks): LandmarkFrame {
  const hand = (label: 'Left' | 'Right') => result.hands.find((h) => h.handedness === label)?.landmarks ?? null;
  return { pose: result.pose, face: result.face, leftHand: hand('Right'), rightHand: hand('Left') };
}

interface Tally {
  frames: number;
  face: number;
  anyHand: number;
  twoHands: number;
  pose: number;
  ms: { face: number; hands: number; pose: number };
}

function tally(t: Tally, r: FrameLandmarks): void {
  t.frames++;
  if (r.face) t.face++;
  if (r.hands.length > 0) t.anyHand++;
  if (r.hands.length > 1) t.twoHands++;
  if (r.pose) t.pose++;
  t.ms.face += r.timings.face;
  t.ms.hands += r.timings.hands;
  t.ms.pose += r.timings.pose;
}

export const landmarksCommand = new Command('landmarks')
  .description('MediaPipe face / hand / pose landmarks of a video (headless Chromium), saved as a .pose file; optional lip-crop video.')
  .argument('<video>', 'any video ffmpeg reads')
  .requiredOption('--out <file.pose>', 'landmarks in pose-format (v0.2, MediaPipe holistic layout)')
  .option('--face', 'FaceLandmarker (478 points); implied by --lips-out')
  .option('--hands', 'HandLandmarker (2 × 21 points)')
  .option('--pose', 'PoseLandmarker (33 points)')
  .option('--lips-out <lips.mp4>', 'also write the smoothed mouth crops as a video (frames without a face are black)')
  .option('--lip-size <px>', 'side of the lip crops', positiveInt, 96)
  .option('--model-dir <dir>', 'folder holding the official .task files (default $SIGNWEAVE_MEDIAPIPE_MODELS)')
  .option('--face-model <file>', 'face_landmarker.task')
  .option('--hand-model <file>', 'hand_landmarker.task')
  .option('--pose-model <file>', 'pose_landmarker_full.task')
  .option('--chromium <path>', 'Chromium executable (default $SIGNWEAVE_CHROMIUM or /usr/lib/chromium/chromium)')
  .option('--start <s>', 'start of the range in seconds', (v) => Number(v))
  .option('--end <s>', 'end of the range in seconds', positiveNumber)
  .option('--max-side <px>', 'downscale frames so the longer side is at most this (MediaPipe works on small frames)', positiveInt, 640)
  .option('--no-progress', 'no progress bar')
  .option('--json', 'print the summary as JSON', false)
  .action(async (video, options) => {
    const face = Boolean(options.face || options.lipsOut);
    if (!face && !options.hands && !options.pose) throw new SignweaveInputError('choose at least one of --face, --hands, --pose (or --lips-out)');
    const task = (on: boolean | undefined, modelPath: string | undefined) => (on ? (modelPath ? { modelPath } : true) : false);
    const signal = interruptSignal();
    const info = await probeVideo(video, { signal });
    const extractor = await LandmarkExtractor.create({
      face: task(face, options.faceModel),
      hands: task(options.hands, options.handModel),
      pose: task(options.pose, options.poseModel),
      modelDir: options.modelDir,
      chromiumPath: options.chromium,
      signal,
    });
    const frames = decodeVideo(video, { start: options.start, end: options.end, maxSide: options.maxSide, info, signal });
    const target = await frames.open();
    const expected = Math.max(1, Math.round(((options.end ?? info.duration) - (options.start ?? 0)) * info.fps));
    const progress = createProgress('landmarks', expected, options.progress);
    const counts: Tally = { frames: 0, face: 0, anyHand: 0, twoHands: 0, pose: 0, ms: { face: 0, hands: 0, pose: 0 } };
    const poseFrames: LandmarkFrame[] = [];
    const record = (r: FrameLandmarks) => {
      tally(counts, r);
      poseFrames.push(toPoseFrame(r));
      progress.update(counts.frames);
    };
    const started = performance.now();
    let lips: Awaited<ReturnType<typeof writeLipsVideo>> | null = null;
    try {
      if (options.lipsOut) {
        const crops = async function* (): AsyncGenerator<LipCrop> {
          for await (const { landmarks, crop } of extractLipCrops(extractor, frames, { size: options.lipSize, signal })) {
            record(landmarks);
            yield crop;
          }
        };
        lips = await writeLipsVideo(crops(), options.lipsOut, info.fps, { signal });
      } else {
        for await (const r of extractor.run(frames, { signal })) record(r);
      }
    } finally {
      progress.stop();
      await frames.dispose();
      await extractor.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    if (counts.frames === 0) throw new SignweaveInputError(`${video}: no frames decoded in the requested range`);
    writePoseFile(options.out, poseFromLandmarks(poseFrames, { fps: info.fps, width: target.width, height: target.height }));

    const rate = (n: number) => n / counts.frames;
    const summary = {
      tool: { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'landmarks' },
      video: { path: video, width: info.width, height: info.height, fps: info.fps, processedAs: [target.width, target.height] },
      extractor: extractor.info,
      frames: counts.frames,
      detectionRate: {
        ...(face ? { face: rate(counts.face) } : {}),
        ...(options.hands ? { anyHand: rate(counts.anyHand), twoHands: rate(counts.twoHands) } : {}),
        ...(options.pose ? { pose: rate(counts.pose) } : {}),
      },
      msPerFrame: {
        endToEnd: (1000 * seconds) / counts.frames,
        face: counts.ms.face / counts.frames,
        hands: counts.ms.hands / counts.frames,
        pose: counts.ms.pose / counts.frames,
      },
      out: options.out,
      ...(lips ? { lips } : {}),
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const lines = [
      `${counts.frames} frames (${target.width}×${target.height}) → ${options.out}`,
      `detected     ${Object.entries(summary.detectionRate).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`,
      `ms/frame     ${summary.msPerFrame.endToEnd.toFixed(1)} end to end (face ${summary.msPerFrame.face.toFixed(1)}, hands ${summary.msPerFrame.hands.toFixed(1)}, pose ${summary.msPerFrame.pose.toFixed(1)} in the browser)`,
      `extractor    tasks-vision ${extractor.info.tasksVision}, ${extractor.info.chromium}`,
    ];
    if (lips) lines.push(`lips         ${lips.path}: ${lips.frames} crops of ${lips.size}px, ${lips.missing.length} without a face (black)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  });
