import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignweaveInputError } from '../../src/errors.js';
import { buildFusionModel, resolveFusionConfig, type FusionConfig } from '../../src/fusion/index.js';

const BASE: FusionConfig = { inputs: { sign: 6, fingerspell: 5, lips: 4 }, vocabSize: 9, d: 8 };

function refused(config: unknown, pattern: RegExp): void {
  assert.throws(
    () => resolveFusionConfig(config as FusionConfig),
    (err: unknown) => err instanceof SignweaveInputError && pattern.test(err.message),
    `expected ${pattern}`,
  );
}

describe('fusion config', () => {
  it('fills the defaults: the paper gated fusion with 2 post-norm layers', () => {
    const c = resolveFusionConfig(BASE);
    assert.deepEqual(c, {
      type: 'gated',
      inputs: { sign: 6, fingerspell: 5, lips: 4 },
      vocabSize: 9,
      d: 8,
      softmaxInputs: false,
      lip: true,
      fingerspell: true,
      lipAlignment: 'learned',
      upsample: 'linear',
      lipStride: null,
      heads: 4,
      layers: 2,
      ff: 32,
      norm: 'post',
      activation: 'relu',
      positional: 'learned',
      maxLen: 2048,
      mlpHidden: 16,
    });
    // A resolved config is a valid config and resolves to itself (bundles store it).
    assert.deepEqual(resolveFusionConfig(c), c);
    assert.deepEqual(resolveFusionConfig(resolveFusionConfig({ ...BASE, lip: false, fingerspell: false, inputs: { sign: 6 } })).inputs, { sign: 6, fingerspell: null, lips: null });
  });

  it('d must divide into heads wherever attention is used', () => {
    refused({ ...BASE, d: 10, heads: 4 }, /fusion\.d = 10 is not divisible by fusion\.heads = 4 \(the 2 encoder layers split d into heads\)/);
    refused({ ...BASE, d: 10, heads: 4, layers: 0, type: 'cross-attention' }, /not divisible .*the cross-attention fusion/);
    refused({ ...BASE, d: 10, heads: 4, layers: 0, type: 'cmfa' }, /the cmfa fusion/);
    // No attention anywhere: any d.
    assert.equal(resolveFusionConfig({ ...BASE, d: 10, heads: 4, layers: 0 }).d, 10);
    assert.equal(resolveFusionConfig({ ...BASE, d: 10, heads: 4, layers: 0, type: 'concat-mlp' }).d, 10);
    assert.throws(() => buildFusionModel({ ...BASE, d: 6, heads: 4 }), /fusion config: fusion\.d = 6 is not divisible/);
  });

  it('names the field and the value of every other mistake', () => {
    refused(null, /expected an object/);
    refused({ ...BASE, type: 'gate' }, /fusion\.type must be one of 'gated', 'concat-mlp', 'cross-attention', 'cmfa', got 'gate'/);
    refused({ ...BASE, layer: 2 }, /unknown field fusion\.layer \(known: /);
    refused({ ...BASE, inputs: undefined }, /fusion\.inputs must be an object/);
    refused({ ...BASE, inputs: { sign: 6, fingerspell: 5, lips: 4, face: 3 } }, /unknown stream fusion\.inputs\.face/);
    refused({ ...BASE, inputs: { sign: 6, fingerspell: 5 } }, /fusion\.inputs\.lips \(the lip expert's output width\) is required/);
    refused({ ...BASE, inputs: { sign: 6, lips: 4 } }, /fusion\.inputs\.fingerspell \(the fingerspelling expert's output width\) is required/);
    refused({ ...BASE, lip: false }, /fusion\.inputs\.lips is given but fusion\.lip is false/);
    refused({ ...BASE, fingerspell: false }, /fusion\.inputs\.fingerspell is given but fusion\.fingerspell is false/);
    refused({ ...BASE, inputs: { sign: 0, fingerspell: 5, lips: 4 } }, /fusion\.inputs\.sign must be an integer ≥ 1, got 0/);
    refused({ ...BASE, vocabSize: 1 }, /fusion\.vocabSize must be an integer ≥ 2, got 1/);
    refused({ ...BASE, d: 8.5 }, /fusion\.d must be an integer ≥ 1, got 8\.5/);
    refused({ ...BASE, layers: -1 }, /fusion\.layers must be an integer ≥ 0/);
    refused({ ...BASE, lip: 'no' }, /fusion\.lip must be true or false, got 'no'/);
    refused({ ...BASE, upsample: 'cubic' }, /fusion\.upsample must be one of 'linear', 'nearest', got 'cubic'/);
    refused({ ...BASE, lipAlignment: 'shift' }, /fusion\.lipAlignment must be 'learned' or \{ shift: k \}, got 'shift'/);
    refused({ ...BASE, lipAlignment: { shift: 2.5 } }, /fusion\.lipAlignment\.shift must be an integer number of frames, got 2\.5/);
    refused({ ...BASE, lip: false, inputs: { sign: 6, fingerspell: 5 }, lipAlignment: { shift: 5 } }, /lipAlignment\.shift needs the lip stream, but fusion\.lip is false/);
    refused({ ...BASE, lipStride: 0 }, /fusion\.lipStride must be an integer ≥ 1, got 0/);
    refused({ ...BASE, activation: 'tanh' }, /fusion\.activation must be one of 'relu', 'gelu'/);
    refused({ ...BASE, maxLen: 0 }, /fusion\.maxLen must be an integer ≥ 1/);
  });
});
