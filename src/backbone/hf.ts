/**
 * A Hugging Face model folder (`config.json`, `preprocessor_config.json`, `onnx/model.onnx`; `pixel_values` →
 * `last_hidden_state`) run by @huggingface/transformers: `AutoModel.from_pretrained` picks the model class from
 * `config.model_type` (e.g. Dinov2Model, ViTModel), resolves the fp32 ONNX file and owns the inference session.
 *
 * transformers.js creates that session with the `onnxruntime-node` it requires itself, not through OnnxSession. Both
 * must be the same copy (two native runtimes in one process can crash): `load` checks that signweave and
 * transformers.js resolve `onnxruntime-node` to the same file, and that the runtime transformers.js reports is the
 * version OnnxSession loaded.
 *
 * Preprocessing comes from the folder's `preprocessor_config.json` through src/video (ffmpeg resizes and crops while
 * decoding, TypeScript rescales and normalises), not through transformers.js's image processor: its resize is a sharp
 * affine transform without Pillow's antialiasing, which on a 720p frame shrunk to 256 px differs from Pillow — what
 * the Python processors and so the model's training used — by 2.2 levels on average and up to ~96 levels (of 255) at
 * edges, where src/video stays within 6. Geometry, rescaling and normalisation agree (tested), so the two differ in
 * resampling only.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { PreTrainedModel } from '@huggingface/transformers';
import { SignweaveInputError } from '../errors.js';
import { ONNX_RUNTIME_VERSION } from '../graph/session.js';
import { formatShape } from '../graph/tensor.js';
import { readJsonFile } from '../util/text-files.js';
import { loadImageProcessorConfig } from '../video/preprocess.js';
import { BaseBackbone, checkImageInput, fixedImageSize } from './base.js';
import { inspectOnnx } from './hash.js';
import type { BackboneInfo } from './types.js';

/** The tensor names transformers.js feeds and reads for vision encoders. */
export const HF_INPUT_NAME = 'pixel_values';
export const HF_OUTPUT_NAME = 'last_hidden_state';
/** Where transformers.js looks for the fp32 graph of a single-session model. */
export const HF_MODEL_FILE = join('onnx', 'model.onnx');

export interface HfBackboneOptions {
  /** ONNX Runtime threads inside one op (default: all cores). */
  threads?: number;
}

/** The file both signweave and transformers.js load `onnxruntime-node` from; throws when they would load two copies. */
export function sharedOnnxRuntimePath(): string {
  const require = createRequire(import.meta.url);
  const ours = require.resolve('onnxruntime-node');
  const theirs = createRequire(require.resolve('@huggingface/transformers')).resolve('onnxruntime-node');
  if (ours !== theirs) {
    throw new Error(
      `two copies of onnxruntime-node would load in one process (${ours} for signweave, ${theirs} for @huggingface/transformers): depend on the exact onnxruntime-node version @huggingface/transformers pins`,
    );
  }
  return ours;
}

function readModelConfig(dir: string): { modelType: string; hiddenSize?: number } {
  const path = join(dir, 'config.json');
  const config = readJsonFile(path, 'model config').data as { model_type?: unknown; hidden_size?: unknown } | null;
  if (typeof config?.model_type !== 'string' || config.model_type === '') {
    throw new SignweaveInputError(`model config ${path}: field "model_type" is missing (transformers.js picks the model class from it, e.g. "dinov2" or "vit")`);
  }
  return { modelType: config.model_type, hiddenSize: typeof config.hidden_size === 'number' ? config.hidden_size : undefined };
}

export class HfBackbone extends BaseBackbone {
  private constructor(
    info: BackboneInfo,
    /** The transformers.js model (its class shows which code path runs it, e.g. `Dinov2Model`). */
    readonly model: PreTrainedModel,
    private readonly Tensor: typeof import('@huggingface/transformers').Tensor,
  ) {
    super(info);
  }

  static async load(folder: string, options: HfBackboneOptions = {}): Promise<HfBackbone> {
    // transformers.js reads a bare relative name ("models/x") as a Hub model id, so it always gets an absolute path.
    const dir = resolve(folder);
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new SignweaveInputError(`cannot read Hugging Face model folder ${folder}: no such folder`);
    }
    if (!isDir) throw new SignweaveInputError(`${folder} is not a folder: a Hugging Face backbone is a folder with config.json, preprocessor_config.json and ${HF_MODEL_FILE}`);

    const { modelType, hiddenSize } = readModelConfig(dir);
    const preprocessorPath = join(dir, 'preprocessor_config.json');
    const preprocessing = loadImageProcessorConfig(preprocessorPath);
    const imageSize = fixedImageSize(preprocessing, `image processor config ${preprocessorPath}`);
    const modelPath = join(dir, HF_MODEL_FILE);
    const { info: file, sha256 } = await inspectOnnx(modelPath);
    const input = file.inputs.find((s) => s.name === HF_INPUT_NAME);
    const output = file.outputs.find((s) => s.name === HF_OUTPUT_NAME);
    if (!input) throw new SignweaveInputError(`${modelPath}: no input named '${HF_INPUT_NAME}' (transformers.js feeds it); the model takes ${file.inputs.map((s) => `'${s.name}'`).join(', ')}`);
    if (!output) throw new SignweaveInputError(`${modelPath}: no output named '${HF_OUTPUT_NAME}' (transformers.js returns it); the model gives ${file.outputs.map((s) => `'${s.name}'`).join(', ')}`);
    checkImageInput(modelPath, input.name, input.shape, imageSize);
    if (output.shape.length !== 3) throw new SignweaveInputError(`${modelPath}: output '${HF_OUTPUT_NAME}' has shape ${formatShape(output.shape)}; [N, tokens, D] expected`);
    const d = output.shape[2];
    const dim = typeof d === 'number' ? d : hiddenSize;
    if (dim === undefined) throw new SignweaveInputError(`${join(dir, 'config.json')}: field "hidden_size" is missing and ${modelPath} leaves the feature size symbolic`);

    const ortPath = sharedOnnxRuntimePath();
    const transformers = await import('@huggingface/transformers');
    const loadedVersion = transformers.env.backends.onnx.versions?.node;
    if (loadedVersion !== ONNX_RUNTIME_VERSION) {
      throw new Error(`@huggingface/transformers runs onnxruntime-node ${loadedVersion} but signweave loaded ${ONNX_RUNTIME_VERSION} from ${ortPath}`);
    }
    // Never the Hub: local_files_only covers this load, the env flag any load inside transformers.js not given the option.
    transformers.env.allowRemoteModels = false;
    let model: PreTrainedModel;
    try {
      model = await transformers.AutoModel.from_pretrained(dir, {
        local_files_only: true,
        dtype: 'fp32',
        device: 'cpu',
        session_options: { intraOpNumThreads: options.threads ?? availableParallelism(), interOpNumThreads: 1, graphOptimizationLevel: 'all' },
      });
    } catch (err) {
      throw new SignweaveInputError(`${folder}: @huggingface/transformers could not load the model (model_type "${modelType}"): ${(err as Error).message}`);
    }
    if (model.constructor === transformers.PreTrainedModel) {
      await model.dispose();
      throw new SignweaveInputError(
        `${join(dir, 'config.json')}: field "model_type" is "${modelType}", which transformers.js ${transformers.env.version} has no model class for; use a vision encoder type such as "dinov2" or "vit"`,
      );
    }
    const runtime = `transformers.js ${transformers.env.version} ${model.constructor.name} on onnxruntime-node ${loadedVersion}`;
    return new HfBackbone(
      { kind: 'hf', source: folder, sha256, inputName: HF_INPUT_NAME, outputName: HF_OUTPUT_NAME, dim, imageSize, preprocessing, runtime },
      model,
      transformers.Tensor,
    );
  }

  protected async run(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const { width, height } = this.info.imageSize;
    let outputs: Record<string, { data: unknown; dims: number[] } | undefined>;
    try {
      outputs = await this.model({ [HF_INPUT_NAME]: new this.Tensor('float32', pixels, [n, 3, height, width]) });
    } catch (err) {
      throw new SignweaveInputError(`${this.info.source}: the model could not run on a [${n}, 3, ${height}, ${width}] batch: ${(err as Error).message}`);
    }
    const out = outputs[HF_OUTPUT_NAME];
    if (!out || !(out.data instanceof Float32Array)) throw new SignweaveInputError(`${this.info.source}: transformers.js returned no float32 '${HF_OUTPUT_NAME}'`);
    return { data: out.data, dims: out.dims };
  }

  protected async release(): Promise<void> {
    await this.model.dispose();
  }
}
