import type { VideoFrame } from '../types.js';
import type { ImageProcessorConfig } from '../video/preprocess.js';

/** What a loaded backbone is and how it must be fed; enough to key a feature cache and to decode frames for it. */
export interface BackboneInfo {
  /** `hf`: a Hugging Face model folder run by @huggingface/transformers; `onnx`: a bare ONNX file run by OnnxSession. */
  kind: 'hf' | 'onnx';
  /** The folder or file it was loaded from. */
  source: string;
  /**
   * sha256 of the ONNX graph file; for a graph with external weight files, sha256 over the graph's hash and each
   * weight file's name and hash (weights live there, so they must count).
   */
  sha256: string;
  inputName: string;
  outputName: string;
  /** Feature size D of the CLS vector each frame gives. */
  dim: number;
  /** Size every frame is brought to before it enters the network. */
  imageSize: { width: number; height: number };
  /** The resize, crop, rescale and normalisation applied to frames (decode with `{ preprocess: info.preprocessing }`). */
  preprocessing: ImageProcessorConfig;
  /** What runs the network, e.g. `transformers.js 4.3.1 Dinov2Model on onnxruntime-node 1.30.0`. */
  runtime: string;
}

/**
 * A per-frame image encoder: frames in, one CLS feature vector per frame out (`[N, D]`, row-major). Disposable.
 *
 * `embed` takes decoded frames or an already preprocessed `[N, 3, H, W]` float32 batch. Frames exactly at
 * `info.imageSize` are taken as already resized and cropped (as `decodeVideo(path, { preprocess })` delivers them) and
 * are only rescaled and normalised; frames of any other size go through the whole preprocessing in TypeScript.
 */
export interface Backbone {
  readonly info: BackboneInfo;
  embed(input: readonly VideoFrame[] | Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
