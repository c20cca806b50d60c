// The pseudo-gloss → English decoder on the real stories260K GGUF (1 thread, CPU). It checks the mechanics — prompt,
// greedy determinism, streaming, batching, stops, failures, abort, provenance, chat format — not translation quality:
// the model only knows children's stories. A short custom prompt keeps most tests fast.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createDecoder,
  DEFAULT_DECODER_FEW_SHOT,
  type Decoder,
  type DecoderOptions,
  type DecoderOutput,
} from '../../src/decoder/index.js';
import { writeGguf } from '../../src/llm/gguf.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { sha256File } from '../../src/util/hash.js';
import { inputError } from '../helpers/assert.js';
import { readF32Tensors, readMetadataEntries } from '../helpers/lora.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

const modelPath = sharedPath('models', 'stories260K', 'stories260K.gguf');
const PROMPT = { instruction: 'Translate ASL gloss to English.', fewShot: [{ gloss: 'DOG RUN', english: 'The dog runs.' }] };
const GLOSSES = ['YESTERDAY I STORE GO', 'YOUR NAME WHAT', 'DOG CAT LIKE NOT', 'HOUSE BIG', 'MY MOTHER COOK FISH'];
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe('decoder on stories260K', () => {
  let runtime: LlamaRuntime;
  let decoder: Decoder;
  let dir: string;
  const open: Decoder[] = [];
  const make = async (options: Partial<DecoderOptions> = {}): Promise<Decoder> => {
    const d = await createDecoder({ model: modelPath, runtime, gpu: 'cpu', threads: 1, contextSize: 256, prompt: PROMPT, ...options });
    open.push(d);
    return d;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-decoder-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    decoder = await make();
  });
  after(async () => {
    for (const d of open) await d.dispose();
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const comparable = (o: DecoderOutput) => ({ ...o, firstTokenMs: null, totalMs: 0 });

  it('greedy decoding is deterministic: the same output twice, and from a second decoder', async () => {
    const first = await decoder.translate(GLOSSES[0]);
    assert.equal(first.failure, null);
    assert.equal(typeof first.text, 'string');
    assert.ok(first.text!.length > 0);
    assert.equal(first.gloss, GLOSSES[0]);
    assert.ok(first.promptTokens > 20 && first.generatedTokens > 0);
    assert.ok(first.firstTokenMs !== null && first.firstTokenMs > 0 && first.firstTokenMs <= first.totalMs);
    assert.deepEqual(comparable(await decoder.translate(GLOSSES[0])), comparable(first));
    const other = await make();
    assert.deepEqual(comparable(await other.translate(`  ${GLOSSES[0].replaceAll(' ', '\n ')} `)), comparable(first));
  });

  it('stops once one sentence is complete, keeping the raw text; the text is its first sentence', async () => {
    const out = await decoder.translate(GLOSSES[1]);
    assert.equal(out.stop, 'sentence-end');
    assert.ok(out.raw.startsWith(out.text!), `${out.raw} / ${out.text}`);
    assert.match(out.text!, /[.!?]$/);
    assert.ok(out.raw.length > out.text!.length);
    assert.ok(out.generatedTokens < 64);
  });

  it('streamed pieces join to the raw completion', async () => {
    const pieces: string[] = [];
    const out = await decoder.translate(GLOSSES[2], { onToken: (p) => pieces.push(p) });
    assert.ok(pieces.length > 3);
    assert.ok(pieces.every((p) => p.length > 0));
    assert.equal(pieces.join(''), out.raw);
  });

  it('translateMany with parallel 1 and 2 equals translating one by one, in input order', async () => {
    const glosses = [...GLOSSES, '  ', GLOSSES[0]];
    const oneByOne: DecoderOutput[] = [];
    for (const g of glosses) oneByOne.push(await decoder.translate(g));
    for (const parallel of [1, 2]) {
      const d = parallel === 1 ? decoder : await make({ parallel });
      const progress: { done: number; total: number; failed: number }[] = [];
      const many = await d.translateMany(glosses, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(many.map(comparable), oneByOne.map(comparable), `parallel ${parallel}`);
      assert.deepEqual(
        progress.map((p) => p.done),
        glosses.map((_, i) => i + 1),
      );
      assert.deepEqual(progress.at(-1), { done: glosses.length, total: glosses.length, failed: 1 });
    }
    assert.deepEqual(await decoder.translateMany([]), []);
  });

  it('maxTokens stops generation', async () => {
    const d = await make({ maxTokens: 3 });
    const out = await d.translate(GLOSSES[0]);
    assert.equal(out.stop, 'max-tokens');
    assert.equal(out.generatedTokens, 3);
    assert.equal(d.provenance.maxTokens, 3);
  });

  it('an extra stop string ends generation before it, also one that starts with a space', async () => {
    const full = await decoder.translate(GLOSSES[3]);
    const word = ` ${full.raw.trim().split(' ')[2]}`;
    const pieces: string[] = [];
    const d = await make({ stop: ['never generated', word] });
    const out = await d.translate(GLOSSES[3], { onToken: (p) => pieces.push(p) });
    assert.equal(out.stop, 'stop-string');
    assert.equal(out.raw, full.raw.slice(0, full.raw.indexOf(word)));
    assert.equal(pieces.join(''), out.raw);
    assert.equal(out.text, out.raw);
  });

  it('an empty pseudo-gloss is a failure without running the model', async () => {
    let streamed = false;
    const out = await decoder.translate(' \n\t ', { onToken: () => (streamed = true) });
    assert.deepEqual(comparable(out), {
      gloss: '',
      text: null,
      failure: 'empty-input',
      message: 'the pseudo-gloss is empty; the model was not run',
      raw: '',
      stop: 'not-run',
      promptTokens: 0,
      generatedTokens: 0,
      firstTokenMs: null,
      totalMs: 0,
    });
    assert.equal(streamed, false);
  });

  it('a prompt that does not fit the context minus maxTokens is refused with the token counts', async () => {
    const d = await make({ maxTokens: 200 });
    const out = await d.translate(GLOSSES[0]);
    assert.equal(out.failure, 'prompt-too-long');
    assert.equal(out.stop, 'not-run');
    assert.equal(out.text, null);
    assert.equal(out.generatedTokens, 0);
    assert.ok(out.promptTokens > 56);
    assert.equal(out.message, `the prompt is ${out.promptTokens} tokens; with maxTokens 200 it needs ${out.promptTokens + 200} of the context's 256`);
    // The default prompt alone is longer than 256 tokens of this model's tiny vocabulary.
    const long = await (await make({ prompt: {}, maxTokens: 8 })).translate('HELLO');
    assert.equal(long.failure, 'prompt-too-long');
  });

  it('an abort rejects with the signal reason and generates nothing more', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const pieces: string[] = [];
    await assert.rejects(
      decoder.translate(GLOSSES[4], {
        signal: controller.signal,
        onToken: (p) => {
          pieces.push(p);
          if (pieces.length === 2) controller.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.equal(pieces.length, 2);
    await assert.rejects(decoder.translate(GLOSSES[4], { signal: AbortSignal.abort() }), { name: 'AbortError' });

    const many = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      decoder.translateMany(GLOSSES, {
        signal: many.signal,
        onProgress: (p) => {
          seen.push(p.done);
          if (p.done === 2) many.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.deepEqual(seen, [1, 2]);
    // The decoder still works after aborts.
    assert.equal((await decoder.translate(GLOSSES[0])).failure, null);
  });

  it('sampling with a seed repeats itself', async () => {
    const d = await make({ sampling: { temperature: 1.2, topK: 50, topP: 0.9, seed: 42 } });
    const a = await d.translate(GLOSSES[0]);
    const b = await d.translate(GLOSSES[0]);
    assert.equal(a.raw, b.raw);
    assert.deepEqual(d.provenance.sampling, { temperature: 1.2, topK: 50, topP: 0.9, seed: 42 });
  });

  it('provenance says which model, prompt, settings and runtime made the outputs', async () => {
    const p = decoder.provenance;
    assert.deepEqual(p.model, { path: modelPath, sha256: await sha256File(modelPath), name: 'llama' });
    assert.deepEqual(p.lora, []);
    assert.match(p.promptVersion, /^gloss2en-v1\+[0-9a-f]{16}$/);
    assert.equal(p.format, 'completion');
    assert.deepEqual(p.sampling, { temperature: 0, topP: 0.95, topK: 40, seed: 0 });
    assert.equal(p.maxTokens, 64);
    assert.equal(p.contextSize, 256);
    assert.deepEqual(p.runtime, runtime.info);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')) as { version: string };
    assert.equal(p.nodeLlamaCpp, pkg.version);
    const defaults = await make({ prompt: undefined, contextSize: 1024 });
    assert.equal(defaults.provenance.promptVersion, 'gloss2en-v1');
    assert.equal(defaults.provenance.contextSize, 1024);
  });

  it("the completion prompt is the documented layout, and a gloss such as '<s>' stays text", async () => {
    const model = (await runtime.loadModel(modelPath)).model;
    const { tokens, count, stopTriggers } = decoder.tokenizePrompt('I <s> GO');
    assert.equal(count, tokens.length + 1);
    assert.equal(model.detokenize(tokens), 'Translate ASL gloss to English.\n\nGloss: DOG RUN\nEnglish: The dog runs.\n\nGloss: I <s> GO\nEnglish:');
    assert.ok(!tokens.includes(model.tokens.bos!));
    assert.deepEqual(stopTriggers, ['\n']);
  });

  it("'chat' on a model without a chat template is an input error", async () => {
    await assert.rejects(make({ prompt: { ...PROMPT, format: 'chat' } }), inputError(/^prompt\.format 'chat' needs a chat template, and .*stories260K\.gguf has none/));
  });

  it('a GGUF rewritten by writeGguf with a chat template: the same completions, and chat turns when asked', async () => {
    const chatModel = join(dir, 'stories260K-chatml.gguf');
    writeGguf(chatModel, {
      metadata: [...(await readMetadataEntries(modelPath)), { key: 'tokenizer.chat_template', type: 'string', value: CHATML }],
      tensors: await readF32Tensors(modelPath),
    });
    // The writer round-trips the real model: forced plain completion gives exactly the original's outputs.
    const completion = await make({ model: chatModel, prompt: { ...PROMPT, format: 'completion' } });
    for (const g of GLOSSES.slice(0, 2)) assert.equal((await completion.translate(g)).raw, (await decoder.translate(g)).raw);

    const chat = await make({ model: chatModel, contextSize: 512, prompt: { format: 'auto', instruction: PROMPT.instruction, fewShot: DEFAULT_DECODER_FEW_SHOT.slice(0, 1) } });
    assert.equal(chat.provenance.format, 'chat');
    const model = (await runtime.loadModel(chatModel)).model;
    const { tokens } = chat.tokenizePrompt('YOU HUNGRY');
    const shot = DEFAULT_DECODER_FEW_SHOT[0];
    // This tiny vocabulary has no <|im_start|> / <|im_end|> tokens: they are text, tokenised with a space before.
    assert.equal(
      model.detokenize(tokens, true).replaceAll(' <|im_end|>', '<|im_end|>'),
      `<|im_start|>system\n${PROMPT.instruction}<|im_end|>\n<|im_start|>user\n${shot.gloss}<|im_end|>\n` +
        `<|im_start|>assistant\n${shot.english}<|im_end|>\n<|im_start|>user\nYOU HUNGRY<|im_end|>\n<|im_start|>assistant\n`,
    );
    const out = await chat.translate('YOU HUNGRY');
    assert.equal(out.gloss, 'YOU HUNGRY');
    assert.ok(['eos', 'sentence-end', 'max-tokens'].includes(out.stop), out.stop);
    assert.deepEqual(comparable(await chat.translate('YOU HUNGRY')), comparable(out));
  });

  it('dispose releases the decoder only: the shared model stays loaded', async () => {
    const d = await make();
    await d.dispose();
    await d.dispose();
    await assert.rejects(d.translate(GLOSSES[0]), /translate\(\) after dispose\(\)/);
    const model = await runtime.loadModel(modelPath);
    assert.equal(model.disposed, false);
    assert.equal((await decoder.translate(GLOSSES[0])).failure, null);
  });
});
