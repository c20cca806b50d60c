/**
 * Contracts shared between stages (see ../shared/design/ARCHITECTURE.md, "Contracts").
 * Every stage reads these from the stage before; nothing here imports a stage.
 */

/** A dense time series: row-major `[T, D]` with the rate its rows were sampled at. Stages never mutate it. */
export interface Sequence {
  data: Float32Array;
  shape: [number, number];
  fps: number;
}

/** One decoded token with its time span in seconds (so streams of different frame rates line up) and confidence. */
export interface TimedToken {
  token: string;
  start: number;
  end: number;
  score: number;
}

/** The output of every CTC-decoded stream. */
export interface TokenStream {
  tokens: TimedToken[];
  logits?: Sequence;
}

/** One decoded video frame: packed RGB24, row-major (`width * height * 3` bytes). */
export interface VideoFrame {
  /** 0-based index in the decoded stream (after any time range and frame-rate resampling). */
  index: number;
  /** Presentation time in seconds from the start of the video file (not of the requested range). */
  time: number;
  width: number;
  height: number;
  data: Uint8Array;
}
