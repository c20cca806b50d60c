import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDecoder, type DecoderOptions } from '../../src/decoder/index.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { inputError } from '../helpers/assert.js';

// Options are checked before the runtime starts or any file is read, so these need no model.
describe('createDecoder: every option is checked, the error names it', () => {
  const model = '/nonexistent/model.gguf';
  const rejects = (options: Partial<DecoderOptions>, pattern: RegExp) =>
    assert.rejects(createDecoder({ model, ...options } as DecoderOptions), inputError(pattern));

  it('model', async () => {
    await assert.rejects(createDecoder({} as DecoderOptions), inputError(/^model: a GGUF file path is required$/));
    await rejects({ model: '' }, /^model: a GGUF file path is required$/);
  });

  it('threads, contextSize, maxTokens, parallel: positive integers', async () => {
    for (const name of ['threads', 'contextSize', 'maxTokens', 'parallel'] as const) {
      for (const bad of [0, -1, 1.5, Number.NaN, '4']) {
        // JSON.stringify writes NaN as null.
        await rejects({ [name]: bad }, new RegExp(`^${name} must be a positive integer, got ${JSON.stringify(bad).replace(/[.]/g, '\\.')}$`));
      }
    }
    await rejects({ maxTokens: 1024 }, /^maxTokens \(1024\) must be smaller than contextSize \(1024\)/);
    await rejects({ maxTokens: 100, contextSize: 64 }, /^maxTokens \(100\) must be smaller than contextSize \(64\)/);
  });

  it('sampling: temperature >= 0, topP in (0, 1], topK >= 1 integer, seed a 32-bit integer', async () => {
    await rejects({ sampling: { temperature: -0.1 } }, /^sampling\.temperature must be a number >= 0, got -0\.1$/);
    await rejects({ sampling: { temperature: Number.POSITIVE_INFINITY } }, /^sampling\.temperature must be a number >= 0/);
    await rejects({ sampling: { topP: 0 } }, /^sampling\.topP must be in \(0, 1\], got 0$/);
    await rejects({ sampling: { topP: 1.01 } }, /^sampling\.topP must be in \(0, 1\], got 1\.01$/);
    await rejects({ sampling: { topK: 0 } }, /^sampling\.topK must be a positive integer, got 0$/);
    await rejects({ sampling: { topK: 2.5 } }, /^sampling\.topK must be a positive integer, got 2\.5$/);
    await rejects({ sampling: { seed: -1 } }, /^sampling\.seed must be an integer in \[0, 4294967295\], got -1$/);
    await rejects({ sampling: { seed: 0.5 } }, /^sampling\.seed must be an integer/);
  });

  it('stop strings are non-empty; LoRA paths are given and scales finite', async () => {
    await rejects({ stop: ['###', ''] }, /^stop\[1\] must be a non-empty string, got ""$/);
    await rejects({ stop: 'x' as unknown as string[] }, /^stop must be an array of strings$/);
    await rejects({ lora: [{ path: '' }] }, /^lora\[0\]\.path must be a non-empty string$/);
    await rejects({ lora: [{ path: 'a.gguf' }, { path: 'b.gguf', scale: Number.NaN }] }, /^lora\[1\]\.scale must be a finite number, got null$/);
    await rejects({ lora: [{ path: 'a.gguf', scale: Number.POSITIVE_INFINITY }] }, /^lora\[0\]\.scale must be a finite number/);
  });

  it('gpu and prompt.format take their known values', async () => {
    await rejects({ gpu: 'metal' as 'auto' }, /^gpu must be one of auto, cuda, vulkan, cpu, got "metal"$/);
    await rejects({ prompt: { format: 'instruct' as 'chat' } }, /^prompt\.format must be one of auto, completion, chat, got "instruct"$/);
    await rejects({ prompt: { instruction: '' } }, /^prompt\.instruction must be a non-empty string/);
  });
});

describe('createDecoder: files are checked before llama.cpp sees them', () => {
  let dir: string;
  let runtime: LlamaRuntime;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-decoder-options-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
  });
  after(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing or non-GGUF model is an input error naming the path', async () => {
    const missing = join(dir, 'missing.gguf');
    await assert.rejects(createDecoder({ model: missing, runtime }), inputError(new RegExp(`^model file not found: ${missing}$`)));
    const junk = join(dir, 'junk.gguf');
    writeFileSync(junk, 'not a model');
    await assert.rejects(createDecoder({ model: junk, runtime }), inputError(/^not a GGUF model file: .*junk\.gguf/));
  });

  it('a missing few-shot file is an input error naming it', async () => {
    const missing = join(dir, 'pairs.jsonl');
    await assert.rejects(createDecoder({ model: join(dir, 'x.gguf'), runtime, prompt: { fewShot: missing } }), inputError(/cannot read .*pairs\.jsonl: no such file/));
  });

  it('a gpu other than the given runtime was started with is refused', async () => {
    await assert.rejects(createDecoder({ model: join(dir, 'x.gguf'), runtime, gpu: 'cuda' }), inputError(/^gpu: the given runtime was started with gpu false, not "cuda"$/));
  });
});
