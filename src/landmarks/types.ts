/**
 * Landmark types shared by the extractor (MediaPipe in headless Chromium), the lip cropper and the .pose writer.
 * Coordinates follow MediaPipe's Tasks API: x and y normalised to the frame's width and height, z on x's scale.
 */

export interface Landmark {
  x: number;
  y: number;
  z: number;
  /** Pose only: how likely the point is visible (not occluded). */
  visibility?: number;
  /** Pose only: how likely the point is inside the frame. */
  presence?: number;
}

/** Which hand MediaPipe says it is. On How2Sign (a camera facing the signer, not mirrored) it is the signer's own hand. */
export type Handedness = 'Left' | 'Right';

export interface HandLandmarks {
  handedness: Handedness;
  /** Handedness classifier score in [0, 1]. */
  score: number;
  /** 21 points. */
  landmarks: Landmark[];
}

/** A box in frame pixels (top-left corner and size). */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Milliseconds spent on one frame. */
export interface LandmarkTimings {
  /** Page: turning the raw pixels into images MediaPipe accepts. */
  image: number;
  /** Page: face search and landmarks (all crops tried). */
  face: number;
  hands: number;
  pose: number;
  /** Node: from sending the frame to receiving its result, including the wait behind other frames in flight. */
  roundTrip: number;
}

/** The landmarks of one video frame. A task that was not requested reads as "nothing detected". */
export interface FrameLandmarks {
  /** The VideoFrame's index and time (seconds). */
  index: number;
  time: number;
  width: number;
  height: number;
  /** 478 points (FaceLandmarker with irises), or null when no face was found. */
  face: Landmark[] | null;
  /** The face crop the landmarks were found in, in frame pixels; null when no face was found. */
  faceRegion: PixelBox | null;
  /** Up to two hands. */
  hands: HandLandmarks[];
  /** 33 points (BlazePose), or null when no person was found. */
  pose: Landmark[] | null;
  timings: LandmarkTimings;
}

export const FACE_LANDMARK_COUNT = 478;
export const HAND_LANDMARK_COUNT = 21;
export const POSE_LANDMARK_COUNT = 33;

/** A square box in frame pixels: top-left corner and side (sub-pixel, so smoothing does not quantise). */
export interface LipBox {
  x: number;
  y: number;
  size: number;
}

/** One frame's mouth crop for the lipreading expert. */
export interface LipCrop {
  index: number;
  time: number;
  /** false when the frame has no face: then box and data are null (a crop is never invented). */
  face: boolean;
  box: LipBox | null;
  /** size × size × channels bytes, row-major (RGB, or luma when grayscale). */
  data: Uint8Array | null;
  size: number;
  channels: 1 | 3;
}
