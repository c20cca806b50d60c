import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { checkGgufFile, fileSha256, getLlamaRuntime, LlamaRuntime } from '../../src/llm/runtime.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

describe('llm runtime: file checks and hashing (no model)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-llm-runtime-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is an input error naming the path', async () => {
    const path = join(dir, 'absent.gguf');
    await assert.rejects(checkGgufFile(path), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, /model file not found/);
      assert.ok(err.message.includes(path));
      return true;
    });
  });

  it('a file without the GGUF magic is refused, naming the path and what it starts with', async () => {
    const junk = join(dir, 'junk.gguf');
    writeFileSync(junk, 'PK\x03\x04 this is a zip, not a model');
    await assert.rejects(checkGgufFile(junk), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, /not a GGUF model file/);
      assert.ok(err.message.includes(junk));
      assert.ok(err.message.includes('"PK'));
      return true;
    });
    const empty = join(dir, 'empty.gguf');
    writeFileSync(empty, '');
    await assert.rejects(checkGgufFile(empty), /not a GGUF model file: .*empty\.gguf/);
  });

  it('a directory is refused', async () => {
    const sub = join(dir, 'model.gguf');
    mkdirSync(sub);
    await assert.rejects(checkGgufFile(sub), (err: Error) => err instanceof SignweaveInputError && /is not a file/.test(err.message));
  });

  it('fileSha256 streams the sha256 and caches it per path, mtime and size', async () => {
    const path = join(dir, 'hashed.bin');
    writeFileSync(path, 'GGUF first version');
    // A whole-second mtime, so that putting it back below restores it exactly.
    const mtime = new Date(Math.floor(statSync(path).mtimeMs / 1000) * 1000);
    utimesSync(path, mtime, mtime);
    const first = await fileSha256(path);
    assert.equal(first, sha256('GGUF first version'));

    // Same size, mtime put back: the cache answers, so the hash is the old file's.
    writeFileSync(path, 'GGUF other version');
    utimesSync(path, mtime, mtime);
    assert.equal(await fileSha256(path), first);

    // A new mtime is a new file version: hashed again.
    const later = new Date(mtime.getTime() + 5000);
    utimesSync(path, later, later);
    assert.equal(await fileSha256(path), sha256('GGUF other version'));

    // So is a new size.
    writeFileSync(path, 'GGUF a longer third version');
    utimesSync(path, later, later);
    assert.equal(await fileSha256(path), sha256('GGUF a longer third version'));
  });

  it('a large file is hashed correctly (streamed in chunks)', async () => {
    const path = join(dir, 'large.bin');
    const data = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    writeFileSync(path, data);
    assert.equal(await fileSha256(path), sha256(data));
  });
});

describe('llm runtime: the shared node-llama-cpp instance (no model)', () => {
  let dir: string;
  let runtime: LlamaRuntime;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-llm-runtime-'));
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
  });
  after(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is one instance per process, on the CPU as asked, from the prebuilt binaries', async () => {
    assert.equal(await getLlamaRuntime(), runtime);
    assert.equal(await getLlamaRuntime({ gpu: false }), runtime);
    assert.equal(runtime.info.requestedGpu, false);
    assert.equal(runtime.info.gpu, false);
    assert.equal(runtime.info.fallback, null);
    assert.equal(runtime.info.buildType, 'prebuilt');
  });

  it('refuses to switch backend while running', async () => {
    await assert.rejects(getLlamaRuntime({ gpu: 'vulkan' }), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, /already runs with gpu false/);
      return true;
    });
  });

  it('loadModel: missing file, non-GGUF file and a GGUF header over garbage are input errors naming the path', async () => {
    const missing = join(dir, 'missing.gguf');
    await assert.rejects(runtime.loadModel(missing), (err: Error) => err instanceof SignweaveInputError && err.message.includes(missing));

    const junk = join(dir, 'junk.gguf');
    writeFileSync(junk, 'not a model at all');
    await assert.rejects(runtime.loadModel(junk), (err: Error) => err instanceof SignweaveInputError && /not a GGUF/.test(err.message));

    // The magic is right, the rest is not: llama.cpp's refusal is reported as a load failure with the path.
    const broken = join(dir, 'broken.gguf');
    writeFileSync(broken, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(64, 0xff)]));
    await assert.rejects(runtime.loadModel(broken), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, /cannot load GGUF model/);
      assert.ok(err.message.includes(broken));
      return true;
    });
  });

  it('after dispose, the next call starts a fresh runtime', async () => {
    await runtime.dispose();
    const next = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    assert.notEqual(next, runtime);
    assert.equal(runtime.disposed, true);
    assert.equal(next.disposed, false);
    runtime = next;
  });

  it('an explicit GPU backend that cannot start falls back to the CPU and says why', async () => {
    const notes: string[] = [];
    await runtime.dispose();
    const probe = await LlamaRuntime.start({ gpu: 'vulkan', logLevel: 'error', logger: (_level, message) => notes.push(message) });
    try {
      if (probe.info.gpu === 'vulkan') {
        assert.equal(probe.info.fallback, null);
      } else {
        assert.equal(probe.info.gpu, false);
        assert.match(probe.info.fallback ?? '', /gpu 'vulkan' is unavailable/);
        assert.ok(notes.some((n) => n.includes("gpu 'vulkan' is unavailable")));
      }
    } finally {
      await probe.dispose();
    }
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
  });
});
