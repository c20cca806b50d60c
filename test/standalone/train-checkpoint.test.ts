import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  configHash,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  saveCheckpoint,
  writeCheckpoint,
  type CheckpointState,
} from '../../src/train/checkpoint.js';
import { mulberry32 } from '../../src/util/random.js';
import { SIGNWEAVE_VERSION } from '../../src/version.js';
import { inputError } from '../helpers/assert.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

const random = mulberry32(42);
const values = (n: number) => Float32Array.from({ length: n }, () => (random() - 0.5) * 10 ** Math.floor(random() * 8 - 4));

/** Values whose bits a float64 round trip or a text format would change: -0, NaN payloads, ±Infinity, subnormals. */
function awkward(): Float32Array {
  const a = new Float32Array(7);
  const bits = new Uint32Array(a.buffer);
  bits.set([0x80000000, 0x7fc00001, 0xffa00abc, 0x7f800000, 0xff800000, 0x00000001, 0x3f800001]);
  return a;
}

const config = { model: { dim: 16, layers: 2 }, optimizer: { lr: 0.001, betas: [0.9, 0.999] }, seed: 3 };

function state(step = 120): CheckpointState {
  return {
    parameters: { 'enc.w': { data: values(16 * 24), shape: [16, 24] }, 'enc.b': { data: values(24), shape: [24] }, odd: { data: awkward(), shape: [7] } },
    optimizer: { step, moments: { 'm/enc.w': values(16 * 24), 'v/enc.w': values(16 * 24), 'm/odd': awkward() } },
    rng: { gumbel: [0xdeadbeef, 7], shuffle: [4294967295] },
    position: { epoch: 2, step: 5 },
    config,
    extra: { bestEvalLoss: 1.25, data: 'abc' },
  };
}

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

describe('checkpoints', () => {
  it('round-trips parameters, moments, RNG states, position and config bit for bit', () => {
    const path = join(tmp.dir, 'one.ckpt');
    const s = state();
    writeCheckpoint(path, s);
    const back = readCheckpoint(path, { config: { seed: 3, optimizer: { betas: [0.9, 0.999], lr: 0.001 }, model: { layers: 2, dim: 16 } } });
    assert.deepEqual(Object.keys(back.parameters), Object.keys(s.parameters));
    for (const [name, t] of Object.entries(s.parameters)) {
      assert.deepEqual(bits(back.parameters[name].data), bits(t.data), name);
      assert.deepEqual(back.parameters[name].shape, t.shape);
    }
    for (const [name, m] of Object.entries(s.optimizer.moments)) assert.deepEqual(bits(back.optimizer.moments[name]), bits(m), name);
    assert.equal(back.optimizer.step, 120);
    assert.deepEqual(back.rng, s.rng);
    assert.deepEqual(back.position, s.position);
    assert.deepEqual(back.config, config);
    assert.deepEqual(back.extra, s.extra);
    assert.equal(back.configHash, configHash(config));
    assert.equal(back.signweaveVersion, SIGNWEAVE_VERSION);
    assert.ok(!Number.isNaN(Date.parse(back.created)));
    // The layout the header comment documents: magic, header length, JSON, 64-byte aligned blobs.
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'SWCKPT1\n');
    const header = JSON.parse(bytes.subarray(12, 12 + bytes.readUInt32LE(8)).toString('utf8')) as { tensors: { name: string; offset: number; bytes: number }[] };
    const start = Math.ceil((12 + bytes.readUInt32LE(8)) / 64) * 64;
    const w = header.tensors.find((t) => t.name === 'enc.w')!;
    assert.equal(w.offset % 64, 0);
    assert.equal(bytes.readFloatLE(start + w.offset + 4 * 5), s.parameters['enc.w'].data[5]);
  });

  it('hashes configs by value, not by key order', () => {
    assert.equal(configHash({ a: 1, b: { c: 2, d: 3 } }), configHash({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
  });

  it('refuses another config, naming the fields that differ', () => {
    const path = join(tmp.dir, 'config.ckpt');
    writeCheckpoint(path, state());
    const other = { ...config, optimizer: { ...config.optimizer, lr: 0.01 }, warmup: 10 };
    assert.throws(
      () => readCheckpoint(path, { config: other }),
      inputError(/config\.ckpt was written for another config \(hash [0-9a-f]{12}…, now [0-9a-f]{12}…\)/, /optimizer\.lr: 0\.001 in the checkpoint, 0\.01 now/, /warmup: \(none\) in the checkpoint, 10 now/),
    );
  });

  it('refuses parameters whose names or shapes differ from the model', () => {
    const path = join(tmp.dir, 'model.ckpt');
    writeCheckpoint(path, state());
    const model = { 'enc.w': [16, 24], 'enc.b': [24], odd: [7] };
    assert.doesNotThrow(() => readCheckpoint(path, { parameters: model }));
    assert.throws(() => readCheckpoint(path, { parameters: { ...model, 'enc.w': [24, 16] } }), inputError(/does not fit the model: enc\.w has shape \[16, 24\], the model \[24, 16\]/));
    const { odd: _odd, ...fewer } = model;
    assert.throws(() => readCheckpoint(path, { parameters: { ...fewer, 'dec.w': [3] } }), inputError(/dec\.w is missing; odd is not in the model/));
  });

  it('refuses damaged files: no magic, truncated, corrupted blob', () => {
    const path = join(tmp.dir, 'damaged.ckpt');
    writeCheckpoint(path, state());
    const good = readFileSync(path);
    writeFileSync(path, Buffer.from('hello world, not a checkpoint'));
    assert.throws(() => readCheckpoint(path), inputError(/damaged\.ckpt: not a signweave checkpoint/));
    writeFileSync(path, good.subarray(0, good.length - 10));
    assert.throws(() => readCheckpoint(path), inputError(/truncated: moment m\/odd ends at byte/));
    writeFileSync(path, good.subarray(0, 40));
    assert.throws(() => readCheckpoint(path), inputError(/truncated: the header needs/));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] ^= 1;
    writeFileSync(path, flipped);
    assert.throws(() => readCheckpoint(path), inputError(/moment m\/odd is corrupted/));
    assert.throws(() => readCheckpoint(join(tmp.dir, 'none.ckpt')), inputError(/cannot read checkpoint .*none\.ckpt: no such file/));
  });

  it('keeps the newest N checkpoints of a folder and leaves no temporary files', () => {
    const dir = join(tmp.dir, 'run');
    assert.deepEqual(listCheckpoints(dir), []);
    assert.equal(latestCheckpoint(dir), undefined);
    for (const step of [10, 20, 30, 40, 50]) saveCheckpoint(dir, state(step), { keep: 3 });
    writeFileSync(join(dir, 'notes.txt'), 'not a checkpoint');
    assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [30, 40, 50]);
    assert.deepEqual(readdirSync(dir).sort(), ['notes.txt', 'step-000000030.ckpt', 'step-000000040.ckpt', 'step-000000050.ckpt']);
    assert.equal(readCheckpoint(latestCheckpoint(dir)!).optimizer.step, 50);
    // A run restarted from an earlier step keeps the checkpoint it just wrote.
    const restarted = saveCheckpoint(dir, state(35), { keep: 2 });
    assert.ok(listCheckpoints(dir).some((c) => c.path === restarted));
    assert.throws(() => saveCheckpoint(dir, state(60), { keep: 0 }), inputError(/keep must be a positive number/));
  });
});
