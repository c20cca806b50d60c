// The decoder on a model in signweave's trained format (signweave.decoder.* keys, src/llm/trained-format.ts): the real
// stories260K GGUF rewritten with those keys (<sep> = token 3), run on 1 thread on the CPU. The tokens the decoder
// feeds llama.cpp are checked against a direct node-llama-cpp run on `[bos] tokenize(gloss) [sep]`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Token } from 'node-llama-cpp';
import { createDecoder, noShippedDecoderMessage, SHIPPED_DECODER_FILE, shippedDecoderPath, signweavePackageRoot, type Decoder, type DecoderOptions } from '../../src/decoder/index.js';
import type { EvalReport } from '../../src/eval/report.js';
import type { GlossTranslationResult } from '../../src/pipeline/result.js';
import { writeGguf, type GgufMetadataEntry, type GgufTensor } from '../../src/llm/gguf.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { TRAINED_DECODER_FORMAT, TRAINED_GGUF_KEYS } from '../../src/llm/trained-format.js';
import { inputError } from '../helpers/assert.js';
import { readF32Tensors, readMetadataEntries } from '../helpers/lora.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

const basePath = sharedPath('models', 'stories260K', 'stories260K.gguf');
const SEP = 3;
const MAX_TOKENS = 24;
const GLOSS = 'YESTERDAY MY SISTER CAR BUY';

describe('decoder on a trained-format GGUF (stories260K with signweave.decoder.* keys)', () => {
  let runtime: LlamaRuntime;
  let dir: string;
  let metadata: GgufMetadataEntry[];
  let tensors: GgufTensor[];
  const open: Decoder[] = [];

  /** stories260K with `changes` applied to its metadata (a null value drops the key), written to `<dir>/<name>.gguf`. */
  const variant = (name: string, changes: Record<string, GgufMetadataEntry | null>): string => {
    const kept = metadata.filter((e) => !(e.key in changes));
    const added = Object.values(changes).filter((e): e is GgufMetadataEntry => e !== null);
    const path = join(dir, `${name}.gguf`);
    writeGguf(path, { metadata: [...kept, ...added], tensors });
    return path;
  };
  const TRAINED_KEYS: Record<string, GgufMetadataEntry> = {
    [TRAINED_GGUF_KEYS.format]: { key: TRAINED_GGUF_KEYS.format, type: 'string', value: TRAINED_DECODER_FORMAT },
    [TRAINED_GGUF_KEYS.sepTokenId]: { key: TRAINED_GGUF_KEYS.sepTokenId, type: 'uint32', value: SEP },
    // As `signweave train decoder` writes it: the decoder puts the BOS token in the prompt itself.
    'tokenizer.ggml.add_bos_token': { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: false },
  };
  let trainedPath: string;

  const make = async (model: string, options: Partial<DecoderOptions> = {}): Promise<Decoder> => {
    const d = await createDecoder({ model, runtime, gpu: 'cpu', threads: 1, contextSize: 256, maxTokens: MAX_TOKENS, ...options });
    open.push(d);
    return d;
  };

  /** Greedy generation straight on a node-llama-cpp sequence: the tokens after `prompt`, up to an EOG token or `max`. */
  const direct = async (model: string, prompt: Token[], max = MAX_TOKENS): Promise<Token[]> => {
    const loaded = await runtime.loadModel(model);
    const context = await loaded.model.createContext({ contextSize: 256, threads: 1 });
    try {
      const generated: Token[] = [];
      for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
        if (loaded.model.isEogToken(token)) break;
        generated.push(token);
        if (generated.length === max) break;
      }
      return generated;
    } finally {
      await context.dispose();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-trained-decoder-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    metadata = await readMetadataEntries(basePath);
    tensors = await readF32Tensors(basePath);
    trainedPath = variant('trained', TRAINED_KEYS);
  });
  after(async () => {
    for (const d of open) await d.dispose();
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('feeds llama.cpp [bos] tokenize(gloss) [sep] and nothing else: the same greedy tokens as a direct run', async () => {
    const decoder = await make(trainedPath);
    const { model } = await runtime.loadModel(trainedPath);
    const prompt = [1, ...model.tokenize(GLOSS, false), SEP] as Token[];
    assert.deepEqual(decoder.tokenizePrompt(`  ${GLOSS.replaceAll(' ', '\n')} `), { tokens: prompt, count: prompt.length, stopTriggers: [] });
    const expected = await direct(trainedPath, prompt);
    assert.equal(expected.length, MAX_TOKENS);
    const out = await decoder.translate(GLOSS);
    assert.equal(out.raw, model.detokenize(expected));
    assert.equal(out.promptTokens, prompt.length);
    assert.equal(out.generatedTokens, MAX_TOKENS);
    assert.equal(out.stop, 'max-tokens');
    assert.equal(out.failure, null);
    // The whole answer, neither cut at its first sentence nor at a newline: whitespace collapsed, nothing else.
    assert.equal(out.text, out.raw.replace(/\s+/g, ' ').trim());
    assert.match(out.raw, /[.!?]["']? \S/, 'the greedy answer holds a sentence end followed by more text');
  });

  it('a control token spelt in the gloss stays text', async () => {
    const decoder = await make(trainedPath);
    const { model } = await runtime.loadModel(trainedPath);
    const { tokens } = decoder.tokenizePrompt('A <s> B <sep>');
    assert.deepEqual(tokens, [1, ...model.tokenize('A <s> B <sep>', false), SEP]);
    assert.equal(tokens.filter((t) => t === 1 || t === SEP).length, 2);
  });

  it('a model that wants llama.cpp to prepend the BOS token gets the same sequence', async () => {
    const prepending = variant('trained-bos', { ...TRAINED_KEYS, 'tokenizer.ggml.add_bos_token': null });
    const decoder = await make(prepending);
    const { tokens, count } = decoder.tokenizePrompt(GLOSS);
    assert.equal(tokens[0] === 1, false);
    assert.equal(count, tokens.length + 1);
    const a = await decoder.translate(GLOSS);
    const b = await (await make(trainedPath)).translate(GLOSS);
    assert.equal(a.raw, b.raw);
    assert.equal(a.promptTokens, b.promptTokens);
  });

  it('stops at EOS: the answer is what came before it', async () => {
    const { model } = await runtime.loadModel(trainedPath);
    const prompt = [1, ...model.tokenize(GLOSS, false), SEP] as Token[];
    const generated = await direct(trainedPath, prompt);
    // A generated token that did not occur before becomes the EOS token of a copy of the model.
    const at = generated.findIndex((t, i) => i >= 3 && !generated.slice(0, i).includes(t));
    assert.ok(at > 0);
    const eosPath = variant('trained-eos', {
      ...TRAINED_KEYS,
      'tokenizer.ggml.eos_token_id': { key: 'tokenizer.ggml.eos_token_id', type: 'uint32', value: generated[at] },
    });
    const out = await (await make(eosPath)).translate(GLOSS);
    assert.equal(out.stop, 'eos');
    assert.equal(out.raw, model.detokenize(generated.slice(0, at)));
    assert.equal(out.text, out.raw.replace(/\s+/g, ' ').trim());
  });

  it('streaming, translateMany in parallel and sampling behave as for other models', async () => {
    const decoder = await make(trainedPath, { parallel: 2 });
    const glosses = [GLOSS, 'YOUR NAME WHAT', 'DOG CAT LIKE NOT'];
    const pieces: string[] = [];
    const single = await decoder.translate(glosses[1], { onToken: (p) => pieces.push(p) });
    assert.equal(pieces.join(''), single.raw);
    const many = await decoder.translateMany(glosses);
    assert.deepEqual(
      many.map((o) => o.raw),
      await Promise.all(glosses.map(async (g) => (await decoder.translate(g)).raw)),
    );
    const empty = await decoder.translate('  ');
    assert.equal(empty.failure, 'empty-input');
    const sampling = { temperature: 1, seed: 7 };
    const s1 = await (await make(trainedPath, { sampling })).translate(GLOSS);
    const s2 = await (await make(trainedPath, { sampling })).translate(GLOSS);
    assert.equal(s1.raw, s2.raw);
    assert.notEqual(s1.raw, many[0].raw);
  });

  it('provenance names the trained format as the prompt', async () => {
    const decoder = await make(trainedPath);
    assert.equal(decoder.provenance.promptVersion, TRAINED_DECODER_FORMAT);
    assert.equal(decoder.provenance.format, 'completion');
    assert.equal(decoder.provenance.model.path, trainedPath);
  });

  it('its context defaults to the length it was trained with; an explicit contextSize wins', async () => {
    const short = variant('short-context', { ...TRAINED_KEYS, 'llama.context_length': { key: 'llama.context_length', type: 'uint32', value: 64 } });
    const byDefault = await make(short, { contextSize: undefined });
    assert.equal(byDefault.provenance.contextSize, 64);
    // A prompt that fits llama.cpp's padded context but not the trained length is refused.
    const long = await byDefault.translate('WORD '.repeat(12).trim());
    assert.equal(long.failure, 'prompt-too-long');
    assert.match(long.message!, /of the context's 64$/);
    assert.equal((await make(short, { contextSize: 256 })).provenance.contextSize, 256);
    await assert.rejects(make(short, { contextSize: undefined, maxTokens: 64 }), inputError(/maxTokens \(64\) must be smaller than the 64-token context .*short-context\.gguf was trained with/));
  });

  it('a custom prompt or the chat format for a trained model is an input error', async () => {
    await assert.rejects(make(trainedPath, { prompt: { instruction: 'Translate.' } }), inputError(/trained by signweave \(signweave-gloss2en\/1\)/, /takes no prompt\.instruction$/));
    await assert.rejects(make(trainedPath, { prompt: { fewShot: [{ gloss: 'A', english: 'A.' }] } }), inputError(/takes no prompt\.fewShot$/));
    await assert.rejects(make(trainedPath, { prompt: { format: 'chat' } }), inputError(/takes no prompt\.format 'chat'$/));
    await make(trainedPath, { prompt: { format: 'completion' } });
  });

  it('a GGUF claiming the format with a bad or missing <sep> id, or another format version, is an input error naming file and key', async () => {
    const sep = (name: string, entry: GgufMetadataEntry | null) => variant(name, { ...TRAINED_KEYS, [TRAINED_GGUF_KEYS.sepTokenId]: entry });
    const key = TRAINED_GGUF_KEYS.sepTokenId;
    const cases: [string, RegExp][] = [
      [sep('no-sep', null), /got none$/],
      [sep('sep-range', { key, type: 'uint32', value: 512 }), /among its 512 tokens, got 512$/],
      [sep('sep-string', { key, type: 'string', value: '3' }), /got "3"$/],
      [sep('sep-bos', { key, type: 'uint32', value: 1 }), /is 1, the BOS token/],
    ];
    for (const [path, message] of cases) {
      await assert.rejects(make(path), inputError(new RegExp(`^${path.replaceAll('.', '\\.')}: `), /signweave\.decoder\.sep_token_id/, message));
    }
    const v2 = variant('format-v2', { ...TRAINED_KEYS, [TRAINED_GGUF_KEYS.format]: { key: TRAINED_GGUF_KEYS.format, type: 'string', value: 'signweave-gloss2en/2' } });
    await assert.rejects(make(v2), inputError(/format-v2\.gguf: signweave\.decoder\.format is "signweave-gloss2en\/2", but this signweave prompts only "signweave-gloss2en\/1"/));
  });
});

describe('the shipped decoder (models/signweave-decoder/decoder.gguf)', () => {
  const shipped = shippedDecoderPath();
  const absent = shipped === null && `${join(repoRoot, SHIPPED_DECODER_FILE)} is not in this checkout (test/standalone/pipeline-cli.test.ts and cli-eval.test.ts check the errors without it)`;

  it('is looked for in the package folder, wherever that is', async () => {
    assert.equal(signweavePackageRoot(), repoRoot);
    const root = mkdtempSync(join(tmpdir(), 'signweave-package-'));
    try {
      assert.equal(shippedDecoderPath(root), null);
      assert.equal(
        noShippedDecoderMessage('--model <gguf>', root),
        `this signweave install has no shipped decoder (${join(root, 'models', 'signweave-decoder', 'decoder.gguf')} does not exist): give --model <gguf>`,
      );
      const path = join(root, 'models', 'signweave-decoder', 'decoder.gguf');
      mkdirSync(join(root, 'models', 'signweave-decoder'), { recursive: true });
      writeGguf(path, { metadata: [{ key: 'general.architecture', type: 'string', value: 'llama' }], tensors: [] });
      assert.equal(shippedDecoderPath(root), path);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('translate --gloss with neither --model nor --config decodes with it, prompted in its trained format', { skip: absent }, () => {
    // Nothing from ../shared: the shared folder is pointed at a place that does not exist.
    const run = runCli(['translate', '--gloss', 'HAVE DIFFERENT HERE', '--gpu', 'cpu', '--threads', '1', '--json', '--no-progress'], { env: { SIGNWEAVE_SHARED: join(tmpdir(), 'signweave-no-shared-here') } });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as GlossTranslationResult;
    assert.equal(result.provenance.decoder.model.path, shipped);
    assert.equal(result.provenance.decoder.promptVersion, TRAINED_DECODER_FORMAT);
    assert.ok(typeof result.english.text === 'string' && result.english.text.length > 0);
  });

  it('eval decoder without --model or --config evaluates it, with the identity baseline', { skip: absent }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'signweave-shipped-eval-'));
    try {
      const labels = sharedPath('data', 'how2sign', 'unisign_labels_jsonl');
      const run = runCli(['eval', 'decoder', '--dataset', 'how2sign', '--data', labels, '--limit', '3', '--gpu', 'cpu', '--threads', '1', '--out', join(dir, 'r.json'), '--json', '--no-progress']);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout) as EvalReport;
      assert.equal(report.provenance.decoder?.model.path, shipped);
      assert.equal(report.counts.evaluated, 3);
      assert.equal(report.baseline?.id, 'identity');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
