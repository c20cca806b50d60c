/**
 * LoRA adapters (llama.cpp's GGUF adapter format: `general.type` "adapter", `adapter.type` "lora", tensors
 * `<base tensor>.lora_a` / `.lora_b`) checked before llama.cpp sees them, so a wrong file is an input error naming it
 * instead of a bare load failure.
 */
import { readGgufFileInfo, type LlamaModel } from 'node-llama-cpp';
import { SignweaveInputError } from '../errors.js';
import { checkGgufFile, fileSha256, type RuntimeModel } from '../llm/runtime.js';

export interface CheckedLoraAdapter {
  /** Absolute path. */
  path: string;
  sha256: string;
  scale: number;
}

// node-llama-cpp keeps an adapter loaded per model and path until the model is disposed, so a file rewritten in
// place would silently keep its old weights: remember which bytes each path had when first used with a model.
const adapterVersions = new WeakMap<LlamaModel, Map<string, string>>();

/**
 * Checks adapter `index` of the `lora` option for `model`: an existing GGUF file whose metadata says it is a LoRA
 * adapter for the model's architecture, and not rewritten since llama.cpp loaded it into this model.
 */
export async function checkLoraAdapter(adapter: { path: string; scale: number }, index: number, model: RuntimeModel): Promise<CheckedLoraAdapter> {
  const where = `lora[${index}]`;
  let path: string;
  try {
    ({ path } = await checkGgufFile(adapter.path));
  } catch (err) {
    if (err instanceof SignweaveInputError) throw new SignweaveInputError(`${where}: LoRA adapter: ${err.message}`);
    throw err;
  }
  let metadata: Record<string, Record<string, unknown> | undefined>;
  try {
    const info = await readGgufFileInfo(path, { readTensorInfo: false, logWarnings: false, sourceType: 'filesystem' });
    metadata = info.metadata as unknown as typeof metadata;
  } catch (err) {
    throw new SignweaveInputError(`${where}: cannot read the GGUF metadata of ${path}: ${(err as Error).message}`);
  }
  const generalType = metadata.general?.type;
  const adapterType = metadata.adapter?.type;
  if (generalType !== 'adapter' || adapterType !== 'lora') {
    throw new SignweaveInputError(
      `${where}: ${path} is not a LoRA adapter: its GGUF metadata has general.type ${JSON.stringify(generalType ?? null)} ` +
        `and adapter.type ${JSON.stringify(adapterType ?? null)}, expected "adapter" and "lora"`,
    );
  }
  const architecture = metadata.general?.architecture;
  const modelArchitecture = model.model.fileInfo.metadata.general?.architecture;
  if (architecture !== modelArchitecture) {
    throw new SignweaveInputError(
      `${where}: ${path} is a LoRA adapter for architecture ${JSON.stringify(architecture ?? null)}, ` +
        `but the model ${model.path} is ${JSON.stringify(modelArchitecture ?? null)}`,
    );
  }
  const sha256 = await fileSha256(path);
  const loaded = adapterVersions.get(model.model)?.get(path);
  if (loaded !== undefined && loaded !== sha256) {
    throw new SignweaveInputError(
      `${where}: ${path} changed since llama.cpp loaded it into ${model.path}, which keeps the old weights until the ` +
        'model is disposed: write the new adapter to another path, or dispose the runtime first',
    );
  }
  return { path, sha256, scale: adapter.scale };
}

/** Records the adapters llama.cpp has now loaded into `model` (call once a context with them exists). */
export function recordLoadedAdapters(model: RuntimeModel, adapters: readonly CheckedLoraAdapter[]): void {
  let versions = adapterVersions.get(model.model);
  if (!versions) adapterVersions.set(model.model, (versions = new Map()));
  for (const a of adapters) versions.set(a.path, a.sha256);
}
