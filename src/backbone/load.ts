import { statSync } from 'node:fs';
import { SignweaveInputError } from '../errors.js';
import type { ImageProcessorConfig } from '../video/preprocess.js';
import { HfBackbone } from './hf.js';
import { OnnxBackbone } from './onnx.js';
import type { Backbone } from './types.js';

export interface LoadBackboneOptions {
  /** ONNX Runtime threads inside one op (default: all cores). */
  threads?: number;
  /** Bare ONNX only: the image input (default: the graph's only input). */
  inputName?: string;
  /** Bare ONNX only: the feature output (default: the graph's only output). */
  outputName?: string;
  /** Bare ONNX only, required there: a parsed image-processor config or the path of a `preprocessor_config.json`. */
  preprocessing?: ImageProcessorConfig | string;
}

/** A folder is a Hugging Face model folder run by transformers.js; a file is a bare ONNX model run by OnnxSession. */
export async function loadBackbone(source: string, options: LoadBackboneOptions = {}): Promise<Backbone> {
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    throw new SignweaveInputError(`cannot read backbone ${source}: no such file or folder`);
  }
  const { threads, inputName, outputName, preprocessing } = options;
  if (isDir) {
    const extra = Object.entries({ inputName, outputName, preprocessing }).filter(([, v]) => v !== undefined);
    if (extra.length > 0) {
      throw new SignweaveInputError(`${source} is a Hugging Face model folder, which names its own tensors and preprocessing: drop ${extra.map(([k]) => k).join(', ')}`);
    }
    return HfBackbone.load(source, { threads });
  }
  if (preprocessing === undefined) {
    throw new SignweaveInputError(`${source} is a bare ONNX model: give its preprocessing (a preprocessor_config.json), which the file does not carry`);
  }
  return OnnxBackbone.load(source, { threads, inputName, outputName, preprocessing });
}
