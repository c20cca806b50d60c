import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FUSION_VARIANT_NAMES, type FusionVariant } from '../../src/bundles/fusion.js';
import { SignweaveInputError } from '../../src/errors.js';
import { PIPELINE_SCHEMA, applyPreset, resolvePipelineConfig, validatePipelineConfig, type PipelineConfig } from '../../src/pipeline/config.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { PRESET_NAMES, PRESETS, type PresetName } from '../../src/pipeline/presets.js';
import { repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A small valid config with relative paths (nothing needs to exist for validation). */
const BASE: PipelineConfig = {
  format: 'signweave-pipeline/1',
  landmarks: { face: { model: 'models/face_landmarker.task' } },
  backbone: { type: 'hf-folder', path: 'backbone', batch: 4, stride: 2 },
  cache: { enabled: true, dir: 'cache' },
  experts: {
    sign: { bundle: 'bundles/sign', decoder: { type: 'beam', beamWidth: 8, lexicon: 'glosses.txt' } },
    fingerspell: { bundle: 'bundles/fingerspell' },
    lipread: { bundle: 'bundles/lipread', decoder: { lm: { path: 'lm/phones.arpa', alpha: 0.3 } } },
  },
  router: { bundle: 'bundles/router' },
  fusion: { bundle: 'bundles/fusion', variants: { 'concat-mlp': 'bundles/fusion-concat', 'no-lip': '/abs/fusion-no-lip' } },
};

/** `BASE` with each JSON pointer set to its value (undefined deletes the field). */
function edited(changes: Record<string, unknown>, base: object = BASE): Record<string, unknown> {
  const copy = structuredClone(base) as Record<string, unknown>;
  for (const [pointer, value] of Object.entries(changes)) {
    const keys = pointer.split('/').slice(1);
    const last = keys.pop() as string;
    const parent = keys.reduce((o, k) => o[k] as Record<string, unknown>, copy);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return copy;
}

let fileCount = 0;
function configFile(data: unknown): string {
  const path = join(root, `config-${++fileCount}.json`);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

/** The error `resolvePipelineConfig` throws for a config written to a file; its message must match every pattern. */
function rejects(data: unknown, ...patterns: RegExp[]): string {
  const path = configFile(data);
  let message = '';
  assert.throws(
    () => resolvePipelineConfig(path),
    (err: Error) => {
      assert.ok(err instanceof SignweaveInputError, `${err.name}: ${err.message}`);
      message = err.message;
      assert.ok(message.startsWith(`pipeline config ${path}`), message);
      for (const p of patterns) assert.match(message, p);
      return true;
    },
  );
  return message;
}

describe('pipeline config: schema', () => {
  it('the published pipeline.schema.json is the schema the code validates with', () => {
    const path = join(repoRoot, 'src', 'pipeline', 'pipeline.schema.json');
    const expected = `${JSON.stringify(PIPELINE_SCHEMA, null, 2)}\n`;
    // SIGNWEAVE_WRITE_SCHEMA=1 regenerates the file after a change to config.ts.
    if (process.env.SIGNWEAVE_WRITE_SCHEMA === '1') writeFileSync(path, expected);
    assert.equal(readFileSync(path, 'utf8'), expected, 'src/pipeline/pipeline.schema.json is stale: run this test with SIGNWEAVE_WRITE_SCHEMA=1');
  });

  it('accepts a valid config', () => {
    assert.deepEqual(validatePipelineConfig(BASE), []);
  });

  it('reports a wrong value with its JSON pointer and the value, naming the file', () => {
    const message = rejects(edited({ '/backbone/batch': 0 }), /: \/backbone\/batch: must be >= 1 \(value: 0\)$/);
    assert.doesNotMatch(message, /\n/);
  });

  it('reports every problem at once', () => {
    const message = rejects(
      edited({ '/backbone/stride': 'two', '/experts/sign/decoder/type': 'viterbi', '/format': 'signweave-pipeline/2', '/video': { maxSide: 1, fps: 25 } }),
      /has 5 problems:\n/,
      /\n {2}\/format: must be "signweave-pipeline\/1" \(value: "signweave-pipeline\/2"\)/,
      /\n {2}\/video\/fps: is not a field here \(fields: maxSide\) \(value: 25\)/,
      /\n {2}\/video\/maxSide: must be >= 2 \(value: 1\)/,
      /\n {2}\/backbone\/stride: must be integer \(value: "two"\)/,
      /\n {2}\/experts\/sign\/decoder\/type: must be one of "beam", "greedy" \(value: "viterbi"\)/,
    );
    assert.equal(message.split('\n').length, 6);
  });

  it('missing fields: the pointer of the missing field', () => {
    rejects(edited({ '/experts/fingerspell': undefined }), /: \/experts\/fingerspell: is required but missing$/);
    rejects(edited({ '/backbone/path': undefined }), /: \/backbone\/path: is required but missing$/);
  });

  it('rules across fields say why', () => {
    rejects(edited({ '/router': null }), /: \/router: must be object \(fusion weighs the manual streams by the router's weights, so a config with fusion needs a router\) \(value: null\)$/);
    rejects(edited({ '/landmarks': undefined }), /: \/landmarks: is required but missing \(the lipreading expert reads mouth crops, which come from the face landmarks\)$/);
    rejects(edited({ '/backbone/preprocessing': 'pre.json' }), /: \/backbone\/preprocessing: must be left out \(a Hugging Face folder names its own tensors and preprocessing\) \(value: "pre\.json"\)$/);
    rejects(edited({ '/backbone/type': 'onnx' }), /: \/backbone\/preprocessing: is required but missing \(a bare ONNX file carries no preprocessing/);
    rejects(edited({ '/experts/sign/decoder/type': 'greedy' }), /: \/experts\/sign\/decoder\/lexicon: must be left out \(greedy decoding takes no lexicon, LM or hotwords/);
    rejects(edited({ '/landmarks/lips': { smoothing: true } }), /: \/landmarks\/lips\/smoothing: must be false, or one-euro settings .* \(value: true\)$/);
    rejects(edited({ '/fusion/variants/gated-typo': 'x' }), /: \/fusion\/variants\/gated-typo: is not a field here \(fields: gated, concat-mlp, /);
  });

  it('turning stages off with null is valid; the landmarks are then optional', () => {
    assert.deepEqual(validatePipelineConfig(edited({ '/experts/lipread': null, '/landmarks': undefined, '/fusion': null, '/router': null, '/experts/fingerspell': null })), []);
  });

  it('files that are not JSON, or not there, are input errors naming them', () => {
    rejects('{"format": ', /is not valid JSON/);
    assert.throws(() => resolvePipelineConfig(join(root, 'absent.json')), (err: Error) => err instanceof SignweaveInputError && /cannot read pipeline config .*absent\.json: no such file/.test(err.message));
  });
});

describe('pipeline config: paths', () => {
  it('relative paths are relative to the config file; absolute ones stay', () => {
    const dir = join(root, 'nested', 'config');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'pipeline.json');
    writeFileSync(path, JSON.stringify(BASE));
    const { config, path: file, sha256 } = resolvePipelineConfig(path);
    assert.equal(file, path);
    assert.match(sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(config.backbone.path, join(dir, 'backbone'));
    assert.equal(config.landmarks?.face.model, join(dir, 'models', 'face_landmarker.task'));
    assert.equal(config.cache?.dir, join(dir, 'cache'));
    assert.equal(config.experts.sign.bundle, join(dir, 'bundles', 'sign'));
    assert.equal(config.experts.sign.decoder?.lexicon, join(dir, 'glosses.txt'));
    assert.equal(config.experts.lipread?.decoder?.lm?.path, join(dir, 'lm', 'phones.arpa'));
    assert.equal(config.experts.lipread?.decoder?.lm?.alpha, 0.3);
    assert.equal(config.router?.bundle, join(dir, 'bundles', 'router'));
    assert.equal(config.fusion?.variants?.['concat-mlp'], join(dir, 'bundles', 'fusion-concat'));
    assert.equal(config.fusion?.variants?.['no-lip'], '/abs/fusion-no-lip');
  });

  it('a config object resolves against baseDir (default: the working folder)', () => {
    assert.equal(resolvePipelineConfig(BASE, { baseDir: '/data/demo' }).config.experts.sign.bundle, '/data/demo/bundles/sign');
    assert.equal(resolvePipelineConfig(BASE).config.backbone.path, join(process.cwd(), 'backbone'));
  });
});

describe('pipeline config: presets', () => {
  let demo: PipelineConfig;
  before(async () => {
    const written = await initDemoPipeline(join(root, 'demo'), { faceModel: '/models/face_landmarker.task' });
    demo = resolvePipelineConfig(written.config).config;
  });

  it('the demo config names a fusion bundle for every variant', () => {
    assert.deepEqual(Object.keys(demo.fusion?.variants ?? {}), FUSION_VARIANT_NAMES);
    assert.equal(demo.fusion?.variant, 'gated');
  });

  it('every preset turns the demo config into a valid config, as documented', () => {
    for (const name of PRESET_NAMES) {
      const config = PRESETS[name](demo);
      assert.deepEqual(validatePipelineConfig(config), [], name);
      assert.equal(config.preset, name);
      // Presets never touch what they do not ablate.
      assert.deepEqual(config.backbone, demo.backbone, name);
      assert.deepEqual(config.experts.sign, demo.experts.sign, name);
      assert.deepEqual(config.router, demo.router, name);
    }
    assert.equal(PRESETS['no-fusion'](demo).fusion, null);
    assert.equal(PRESETS['no-lipreading'](demo).experts.lipread, null);
    assert.equal(PRESETS['no-fingerspelling'](demo).experts.fingerspell, null);
    const variants: Partial<Record<PresetName, FusionVariant>> = {
      full: 'gated',
      'fusion-gated': 'gated',
      'no-lipreading': 'no-lip',
      'no-fingerspelling': 'no-fingerspell',
      'fusion-concat': 'concat-mlp',
      'fusion-cross-attention': 'cross-attention',
      'fusion-cmfa': 'cmfa',
      'lip-shift-0': 'lip-shift-0',
      'lip-shift-5': 'lip-shift-5',
      'lip-shift-10': 'lip-shift-10',
    };
    for (const [name, variant] of Object.entries(variants) as [PresetName, FusionVariant][]) {
      const config = PRESETS[name](demo);
      assert.equal(config.fusion?.variant, variant, name);
      assert.equal(config.fusion?.bundle, demo.fusion?.variants?.[variant], name);
    }
    assert.deepEqual(PRESETS['fusion-concat'](demo).experts, demo.experts);
  });

  it('presets are idempotent: applying one twice gives the same config', () => {
    for (const name of PRESET_NAMES) assert.deepEqual(PRESETS[name](PRESETS[name](demo)), PRESETS[name](demo), name);
  });

  it('the config\'s own preset applies when the pipeline is resolved; an option wins over it', () => {
    const path = configFile({ ...demo, preset: 'no-lipreading' });
    assert.equal(resolvePipelineConfig(path).config.experts.lipread, null);
    const resolved = resolvePipelineConfig(path, { preset: 'fusion-cmfa' });
    assert.equal(resolved.preset, 'fusion-cmfa');
    assert.equal(resolved.config.fusion?.variant, 'cmfa');
    assert.ok(resolved.config.experts.lipread);
  });

  it('a preset that needs what the base config lacks is an input error naming the field', () => {
    const withoutVariants = edited({ '/fusion/variants': undefined, '/fusion/variant': undefined }, demo) as unknown as PipelineConfig;
    assert.throws(
      () => applyPreset(withoutVariants, 'fusion-cmfa', 'pipeline config x.json'),
      (err: Error) => err instanceof SignweaveInputError && err.message === "pipeline config x.json: preset 'fusion-cmfa' runs the fusion variant 'cmfa': name its bundle in /fusion/variants/cmfa",
    );
    // Without a variant map, fusion.bundle is taken for the full model's fusion.
    assert.equal(applyPreset(withoutVariants, 'full', 'x').fusion?.bundle, demo.fusion?.bundle);
    const noLips = PRESETS['no-lipreading'](demo);
    assert.throws(
      () => applyPreset(noLips, 'full', 'pipeline config x.json'),
      (err: Error) => err instanceof SignweaveInputError && /^pipeline config x\.json: preset 'full' runs the lipread stage, but the base config turns it off \(\/experts\/lipread is null\)/.test(err.message),
    );
  });
});

describe('pipeline config: the English decoder', () => {
  const DECODER = {
    model: 'models/llm.gguf',
    gpu: 'cpu',
    threads: 1,
    contextSize: 256,
    maxTokens: 32,
    parallel: 2,
    prompt: { instruction: 'Translate the ASL gloss into English.', fewShot: 'prompts/shots.jsonl', format: 'completion' },
    sampling: { temperature: 0.7, topP: 0.9, topK: 40, seed: 3 },
    stop: ['\n\n', 'Gloss:'],
    lora: [{ path: 'lora/adapter.gguf', scale: 0.5 }, { path: '/abs/other.gguf' }],
  };
  const withDecoder = (changes: Record<string, unknown> = {}) => edited(changes, { ...BASE, decoder: DECODER });

  it('is optional: a full section, a bare model, null and no section are valid', () => {
    assert.deepEqual(validatePipelineConfig(withDecoder()), []);
    assert.deepEqual(validatePipelineConfig({ ...BASE, decoder: { model: 'llm.gguf' } }), []);
    assert.deepEqual(validatePipelineConfig({ ...BASE, decoder: null }), []);
    assert.deepEqual(validatePipelineConfig(BASE), []);
  });

  it('wrong values: the JSON pointer, the rule and the value', () => {
    rejects(withDecoder({ '/decoder/model': undefined }), /: \/decoder\/model: is required but missing$/);
    rejects(withDecoder({ '/decoder/model': '' }), /: \/decoder\/model: must NOT have fewer than 1 characters \(value: ""\)$/);
    rejects(withDecoder({ '/decoder/gpu': 'metal' }), /: \/decoder\/gpu: must be one of "auto", "cuda", "vulkan", "cpu" \(value: "metal"\)$/);
    rejects(withDecoder({ '/decoder/contextSize': 0 }), /: \/decoder\/contextSize: must be >= 1 \(value: 0\)$/);
    rejects(withDecoder({ '/decoder/maxTokens': 2.5 }), /: \/decoder\/maxTokens: must be integer \(value: 2\.5\)$/);
    rejects(withDecoder({ '/decoder/prompt/format': 'instruct' }), /: \/decoder\/prompt\/format: must be one of "auto", "completion", "chat" \(value: "instruct"\)$/);
    rejects(withDecoder({ '/decoder/sampling/temperature': -0.1 }), /: \/decoder\/sampling\/temperature: must be >= 0 \(value: -0\.1\)$/);
    rejects(withDecoder({ '/decoder/sampling/topP': 0 }), /: \/decoder\/sampling\/topP: must be > 0 \(value: 0\)$/);
    rejects(withDecoder({ '/decoder/sampling/topP': 1.5 }), /: \/decoder\/sampling\/topP: must be <= 1 \(value: 1\.5\)$/);
    rejects(withDecoder({ '/decoder/sampling/topK': 0 }), /: \/decoder\/sampling\/topK: must be >= 1 \(value: 0\)$/);
    rejects(withDecoder({ '/decoder/sampling/seed': 'x' }), /: \/decoder\/sampling\/seed: must be integer \(value: "x"\)$/);
    rejects(withDecoder({ '/decoder/sampling/seed': -1 }), /: \/decoder\/sampling\/seed: must be >= 0 \(value: -1\)$/);
    rejects(withDecoder({ '/decoder/stop': ['.', ''] }), /: \/decoder\/stop\/1: must NOT have fewer than 1 characters \(value: ""\)$/);
    rejects(withDecoder({ '/decoder/stop': '\n' }), /: \/decoder\/stop: must be array \(value: "\\n"\)$/);
    rejects(withDecoder({ '/decoder/lora': [{ scale: 1 }] }), /: \/decoder\/lora\/0\/path: is required but missing$/);
    rejects(withDecoder({ '/decoder/lora/0/scale': 'half' }), /: \/decoder\/lora\/0\/scale: must be number \(value: "half"\)$/);
    rejects(withDecoder({ '/decoder/temperature': 0.5 }), /: \/decoder\/temperature: is not a field here \(fields: model, gpu, threads, contextSize, maxTokens, parallel, prompt, sampling, stop, lora\) \(value: 0\.5\)$/);
    rejects(withDecoder({ '/decoder': 'llm.gguf' }), /: \/decoder: must be object or null \(value: "llm\.gguf"\)$/);
  });

  it('its files are relative to the config file; absolute ones stay', () => {
    const dir = join(root, 'decoder-paths');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'pipeline.json');
    writeFileSync(path, JSON.stringify(withDecoder()));
    const { decoder } = resolvePipelineConfig(path).config;
    assert.equal(decoder?.model, join(dir, 'models', 'llm.gguf'));
    assert.equal(decoder?.prompt?.fewShot, join(dir, 'prompts', 'shots.jsonl'));
    assert.deepEqual(decoder?.lora, [{ path: join(dir, 'lora', 'adapter.gguf'), scale: 0.5 }, { path: '/abs/other.gguf' }]);
    // Everything else is as written.
    assert.deepEqual({ ...decoder, model: DECODER.model, prompt: { ...decoder?.prompt, fewShot: DECODER.prompt.fewShot }, lora: DECODER.lora }, DECODER);
    writeFileSync(path, JSON.stringify({ ...BASE, decoder: null }));
    assert.equal(resolvePipelineConfig(path).config.decoder, null);
  });

  it('presets keep the decoder', async () => {
    const written = await initDemoPipeline(join(root, 'demo-decoder'), { faceModel: '/models/face_landmarker.task', decoder: { model: join(root, 'demo-decoder', 'llm.gguf'), threads: 1 } });
    const config = resolvePipelineConfig(written.config).config;
    assert.deepEqual(config.decoder, { model: join(root, 'demo-decoder', 'llm.gguf'), threads: 1 });
    // Written relative to the demo folder, like the bundles.
    assert.deepEqual(JSON.parse(readFileSync(written.config, 'utf8')).decoder, { model: 'llm.gguf', threads: 1 });
    for (const name of PRESET_NAMES) assert.deepEqual(PRESETS[name](config).decoder, config.decoder, name);
  });
});
