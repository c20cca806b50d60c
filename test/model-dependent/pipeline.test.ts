// The whole pipeline on a real How2Sign clip (17 frames), MediaPipe's face model in headless Chromium and the English
// decoder (the one shipped with signweave, models/signweave-decoder) included: `signweave models init-demo` writes the
// untrained demo, then `signweave translate` and `createPipeline` run it, with every preset. About 50 s on 2 cores (each pipeline starts its own Chromium).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatTranslation } from '../../src/cli/commands/translate.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { PRESET_NAMES } from '../../src/pipeline/presets.js';
import type { PipelineResult } from '../../src/pipeline/result.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
/** 17 frames at 24 fps. */
const CLIP_END = 17 / 24;
const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-'));
after(() => rmSync(root, { recursive: true, force: true }));
const demo = join(root, 'demo');
const config = join(demo, 'pipeline.json');

/** Chromium processes this test process started (the extractor's browser is a direct child). */
function ourChromium(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === process.pid && state !== 'Z' && stat.includes('(chromium)');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const bundleSha = (folder: string): string => (JSON.parse(readFileSync(join(demo, 'bundles', folder, 'bundle.json'), 'utf8')) as { onnx: { sha256: string } }).onnx.sha256;

function checkTimes(r: PipelineResult): void {
  const streams = [r.streams.sign, r.streams.fingerspell, r.streams.lipread].filter((s) => s !== undefined);
  for (const tokens of [...streams.map((s) => s.stream.tokens), r.fused.tokens]) {
    for (const t of tokens) assert.ok(t.start >= 0 && t.end <= CLIP_END + 1e-9 && t.start < t.end, JSON.stringify(t));
  }
}

describe('signweave models init-demo + translate on a How2Sign clip', () => {
  before(() => {
    const run = runCli(['models', 'init-demo', demo, '--seed', '7']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^wrote 13 untrained demo bundles under /);
    assert.match(run.stdout, /\nconfig {6}.*pipeline\.json\n/);
    assert.match(run.stdout, /\ndecoder {5}.*models\/signweave-decoder\/decoder\.gguf \(the decoder shipped with signweave\)\n/);
  });

  it('translate prints the four rows and the English, the timings, and first of all that the outputs are meaningless', () => {
    const run = runCli(['translate', CLIP, '--config', config, '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.match(lines[0], /^UNTRAINED MODELS: demo-sign, demo-fingerspell, demo-lipread, demo-router, demo-fusion have no trained weights, so the outputs below are meaningless\.$/);
    assert.match(run.stdout, /\nvideo {11}.*_15CDIexNDM_9-5-rgb_front\.mp4 {2}0\.000–0\.708 s, 17 frames at 24 fps\n/);
    for (const row of ['Continuous Sign', 'Fingerspelling ', 'Lip Reading    ', 'Fused          ', 'English        ']) {
      assert.match(run.stdout, new RegExp(`\\n${row} \\S`), row);
    }
    assert.match(run.stdout, /\ntimings \(ms\) {4}load \d+ · backbone \d+ · landmarks \d+ · sign \d+ · fingerspell \d+ · lipread \d+ · router \d+ · fusion \d+ · decoder \d+ · total \d+/);
    // Nothing but llama.cpp's warnings about the model file.
    assert.equal(run.stderr.replace(/^\[llama\.cpp \w+\] .*\n/gm, ''), '');
  });

  it('--json: the whole result parses, every bundle with its sha256, untrained, token times inside the clip', () => {
    const run = runCli(['translate', CLIP, '--config', config, '--json', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as PipelineResult;
    assert.deepEqual(Object.keys(r.streams), ['sign', 'fingerspell', 'lipread']);
    assert.equal(r.fused.source, 'fusion');
    assert.equal(r.video.frames, 17);
    checkTimes(r);
    const { bundles } = r.provenance;
    assert.deepEqual(
      Object.entries(bundles).map(([stage, b]) => [stage, b.name, b.sha256, b.weights]),
      [
        ['sign', 'demo-sign', bundleSha('sign'), 'random'],
        ['fingerspell', 'demo-fingerspell', bundleSha('fingerspell'), 'random'],
        ['lipread', 'demo-lipread', bundleSha('lipread'), 'random'],
        ['router', 'demo-router', bundleSha('router'), 'random'],
        ['fusion', 'demo-fusion', bundleSha('fusion'), 'random'],
      ],
    );
    assert.equal(r.provenance.untrained, true);
    assert.match(r.provenance.backbone.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.provenance.landmarks?.tasksVision, '1.1.0');
    assert.match(r.provenance.landmarks?.models.face?.sha256 ?? '', /^[0-9a-f]{64}$/);
    // The first run stored the features; this one read them back.
    assert.equal(r.provenance.features.cache, 'hit');
    assert.equal(r.fusion?.gate?.length, 17);
    assert.equal(r.streams.lipread?.logits.shape[0], 9);
    assert.equal(r.english?.pseudoGloss, r.fused.text);
    assert.match(r.provenance.decoder?.model.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('createPipeline runs every preset; disposing leaves no Chromium behind', async () => {
    const seen: Record<string, number[]> = {};
    for (const preset of PRESET_NAMES) {
      const chromium: number[] = [];
      {
        await using pipeline = await createPipeline(config, { preset });
        const r = await pipeline.run(CLIP, { onProgress: (e) => e.stage === 'landmarks' && chromium.push(...ourChromium()) });
        checkTimes(r);
        assert.equal(r.provenance.config.preset, preset);
        assert.equal(r.provenance.untrained, true);
        const lips = preset !== 'no-lipreading';
        assert.equal(r.streams.lipread !== undefined, lips, preset);
        assert.equal(r.streams.fingerspell !== undefined, preset !== 'no-fingerspelling', preset);
        assert.equal(r.fused.source, preset === 'no-fusion' ? 'sign' : 'fusion', preset);
        if (lips) {
          // The signer's face is found in every frame.
          assert.deepEqual(r.streams.lipread?.missingFrames, [], preset);
          assert.ok(chromium.length > 0, `${preset}: Chromium ran`);
        } else {
          assert.equal(chromium.length, 0, preset);
        }
        seen[preset] = [r.fusion?.logits.data[0] ?? NaN];
        const table = formatTranslation(r);
        if (preset === 'no-fusion') assert.ok(table.includes(`\nFused           ${r.streams.sign.text}  (no fusion: the sign stream)\n`), table);
        if (preset === 'no-lipreading') assert.match(table, /\nLip Reading {5}\(off: preset no-lipreading\)\n/);
      }
      assert.deepEqual(ourChromium(), [], `${preset}: Chromium outlived the pipeline`);
    }
    // Each fusion variant is a different network; full and fusion-gated are the same one.
    assert.deepEqual(seen.full, seen['fusion-gated']);
    const variants = ['full', 'fusion-concat', 'fusion-cross-attention', 'fusion-cmfa', 'lip-shift-0', 'lip-shift-5', 'lip-shift-10', 'no-lipreading', 'no-fingerspelling'];
    assert.equal(new Set(variants.map((p) => seen[p][0])).size, variants.length);
  });
});
