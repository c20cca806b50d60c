import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demoFusionFolder, initDemoBundles } from '../../src/bundles/demo.js';
import { FUSION_VARIANT_NAMES, fusionStreams, fusionVariantConfig, fusionVariantOf, loadFusionBundle } from '../../src/bundles/fusion.js';
import { MANIFEST_FILE } from '../../src/bundles/loader.js';
import type { FusionConfig } from '../../src/fusion/config.js';
import type { Sequence } from '../../src/types.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-fusion-bundles-'));
after(() => rmSync(root, { recursive: true, force: true }));
const demo = join(root, 'demo');
initDemoBundles(demo, { seed: 2, featureDim: 16, maxFrames: 32, lipSize: 16, lipPatch: 8 });

function seq(rows: number, cols: number, seed: number, fps: number): Sequence {
  const r = mulberry32(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => 2 * r() - 1), shape: [rows, cols], fps };
}

/** The parts of a fusion bundle.json the tests edit. */
interface FusionManifestJson {
  architecture?: Record<string, unknown> & { inputs: Record<string, unknown> };
  input: { streams: Record<string, unknown>[] };
}

/** A copy of the demo's gated fusion bundle whose bundle.json `edit` changes (the ONNX file stays, so its sha256 holds). */
function editedBundle(name: string, edit: (m: FusionManifestJson) => void): string {
  const dir = join(root, name);
  cpSync(join(demo, demoFusionFolder('gated')), dir, { recursive: true });
  const path = join(dir, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as FusionManifestJson;
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest));
  return dir;
}

describe('fusion bundles', () => {
  it('the demo writes one per variant; each loads as that variant and reads the experts\' logits', async () => {
    for (const variant of FUSION_VARIANT_NAMES) {
      await using fusion = await loadFusionBundle(join(demo, demoFusionFolder(variant)), { session: { intraOpThreads: 1 } });
      assert.equal(fusion.variant, variant);
      assert.equal(fusion.bundle.manifest.kind, 'fusion');
      assert.equal(fusion.config.inputs.sign, 15);
      assert.equal(fusion.config.inputs.fingerspell, variant === 'no-fingerspell' ? null : 30);
      assert.equal(fusion.config.inputs.lips, variant === 'no-lip' ? null : 40);
      assert.equal(fusion.config.lipStride, variant === 'no-lip' ? null : 2);
      assert.deepEqual(fusion.vocab.slice(0, 2), ['<blank>', 'HELLO']);
      assert.equal(fusion.vocab.length, fusion.config.vocabSize);
      const T = 7;
      const router = { data: new Float32Array(3 * T).fill(1 / 3), shape: [T, 3] as [number, number], fps: 24 };
      const out = await fusion.run({ sign: seq(T, 15, 1, 24), fingerspell: seq(T, 30, 2, 24), lips: seq(4, 40, 3, 12), router });
      assert.deepEqual(out.logits.shape, [T, 15]);
      assert.equal(out.gateMean === null, !['gated', 'cmfa', 'no-fingerspell', 'lip-shift-0', 'lip-shift-5', 'lip-shift-10'].includes(variant), variant);
    }
  });

  it('streams and variants follow the fusion config', () => {
    const base: FusionConfig = { inputs: { sign: 10, fingerspell: 30, lips: 40 }, vocabSize: 10, d: 8, heads: 2, lipStride: 2 };
    assert.deepEqual(fusionStreams(base), [
      { name: 'sign', source: 'sign', dim: 10 },
      { name: 'fingerspell', source: 'fingerspell', dim: 30 },
      { name: 'router', source: 'router', dim: 3 },
      { name: 'lips', source: 'lipread', dim: 40 },
    ]);
    const noLip = fusionVariantConfig(base, 'no-lip');
    assert.deepEqual([noLip.lip, noLip.inputs.lips, noLip.lipStride], [false, null, null]);
    assert.deepEqual(fusionStreams(noLip).map((s) => s.name), ['sign', 'fingerspell', 'router']);
    for (const v of FUSION_VARIANT_NAMES) assert.equal(fusionVariantOf(fusionVariantConfig(base, v)), v);
    // Without lips, the fusion type has nothing to act on: still the no-lip variant.
    assert.equal(fusionVariantOf({ ...noLip, type: 'concat-mlp' }), 'no-lip');
    // Two ablations at once are none of the variants.
    assert.equal(fusionVariantOf({ ...base, type: 'cmfa', lipAlignment: { shift: 5 } }), null);
  });

  it('an architecture that disagrees with the streams or the vocabulary is an input error naming the field', async () => {
    const sign = editedBundle('arch-sign', (m) => (m.architecture!.inputs.sign = 16));
    await assert.rejects(
      loadFusionBundle(sign),
      inputError(/^bundle .*: input\.streams\[0\]\.dim: is 15, not 16 \(architecture\.inputs\.sign\)$/),
    );
    const vocab = editedBundle('arch-vocab', (m) => (m.architecture!.vocabSize = 14));
    await assert.rejects(loadFusionBundle(vocab), inputError(/output\.vocab: vocab\.txt has 15 labels but architecture\.vocabSize is 14/));
    const source = editedBundle('stream-source', (m) => (m.input.streams[0].source = 'features'));
    await assert.rejects(loadFusionBundle(source), inputError(/input\.streams\[0\]\.source: is "features" but the "sign" input reads the sign output/));
    const noLip = editedBundle('arch-lip', (m) => {
      m.architecture!.lip = false;
      m.architecture!.inputs.lips = null;
      m.architecture!.lipStride = null;
    });
    await assert.rejects(loadFusionBundle(noLip), inputError(/input\.streams\[3\]\.name: "lips" is not an input of this fusion graph, which reads "sign", "fingerspell", "router"/));
  });

  it('a missing or invalid architecture is refused', async () => {
    const missing = editedBundle('arch-missing', (m) => delete m.architecture);
    await assert.rejects(loadFusionBundle(missing), inputError(/\/architecture: is required but missing/));
    const heads = editedBundle('arch-heads', (m) => (m.architecture!.heads = 5));
    await assert.rejects(loadFusionBundle(heads), inputError(/: architecture: fusion config: fusion\.d = 64 is not divisible by fusion\.heads = 5/));
    const kind = join(demo, 'sign');
    await assert.rejects(loadFusionBundle(kind), inputError(/kind: is "sign" but a "fusion" bundle is needed here/));
  });
});
