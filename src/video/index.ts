/** Video input (files, or folders of numbered frames): probing, decoding to RGB24 frames with bounded memory, and HF-style preprocessing into model inputs. */
export { checkVideoFile, listFrameFolder, probeVideo, sourcePath, type FrameFolder, type Rational, type ToolOptions, type VideoInfo, type VideoSource } from './probe.js';
export { decodeVideo, decodeVideoSplit, VideoDecoder, type DecodeOptions, type DecodeRangeOptions, type DecodeTarget, type FrameSizeOptions, type SplitOutput } from './decode.js';
export {
  cropFrame,
  ffmpegPreprocessFilter,
  frameToTensor,
  loadImageProcessorConfig,
  parseImageProcessorConfig,
  preprocessFrame,
  preprocessGeometry,
  resizeAndCrop,
  resizeFrame,
  RESAMPLE_FILTERS,
  type ImageProcessorConfig,
  type ImageTensor,
  type PreprocessGeometry,
} from './preprocess.js';
