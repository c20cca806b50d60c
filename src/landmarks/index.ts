/** Landmarks (SignBind-LLM §3.3 inputs): MediaPipe in headless Chromium, lip crops for lipreading, .pose files. */
export * from './types.js';
export { LandmarkExtractor, OFFICIAL_MODELS, DEFAULT_CHROMIUM, type LandmarkTask, type LandmarkTaskOption, type LandmarkExtractorOptions, type LandmarkExtractorInfo, type RunOptions as LandmarkRunOptions } from './extractor.js';
export { LipCropper, extractLipCrops, writeLipsVideo, OUTER_LIP_INDICES, type LipCropOptions, type LipsVideoOptions, type LipsVideoSummary } from './lips.js';
export {
  readPose, readPoseFile, writePose, writePoseFile, poseFromLandmarks, mediapipePoseHeader, findComponent, pointIndex, getPoint,
  type Pose, type PoseHeader, type PoseComponent, type PoseVersion, type LandmarkFrame,
} from './pose-format.js';
