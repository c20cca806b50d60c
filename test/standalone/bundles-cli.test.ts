import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initDemoBundles } from '../../src/bundles/demo.js';
import { FUSION_VARIANT_NAMES } from '../../src/bundles/fusion.js';
import { runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-models-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

const demo = join(root, 'demo');
const written = initDemoBundles(demo, { seed: 1, featureDim: 16, maxFrames: 32, lipSize: 16, lipPatch: 8 });

describe('signweave models verify', () => {
  it('initDemoBundles writes one random, untrained bundle per kind, and one fusion bundle per fusion variant', () => {
    assert.deepEqual(
      written.map((w) => [w.manifest.kind, w.manifest.weights, w.manifest.provenance.seed]),
      [
        ['sign', 'random', 1],
        ['fingerspell', 'random', 2],
        ['lipread', 'random', 3],
        ['router', 'random', 4],
        ...FUSION_VARIANT_NAMES.map((_, i) => ['fusion', 'random', 5 + i]),
      ],
    );
    for (const w of written) assert.match(w.manifest.provenance.notes ?? '', /untrained.*meaningless/);
  });

  it('a folder of bundles: a table, exit 0', () => {
    const run = runCli(['models', 'verify', demo]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^bundle\s+kind\s+name\s+weights\s+vocab\s+sha256\s+status$/);
    assert.equal(lines.length, 14);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    const fusion = (folder: string) => [folder, 'fusion', `demo-${folder}`, 'random', '15', 'ok'];
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6]]),
      [
        ['fingerspell', 'fingerspell', 'demo-fingerspell', 'random', '30', 'ok'],
        ...['fusion', 'fusion-cmfa', 'fusion-concat-mlp', 'fusion-cross-attention', 'fusion-lip-shift-0', 'fusion-lip-shift-10', 'fusion-lip-shift-5', 'fusion-no-fingerspell', 'fusion-no-lip'].map(fusion),
        ['lipread', 'lipread', 'demo-lipread', 'random', '40', 'ok'],
        ['router', 'router', 'demo-router', 'random', '3', 'ok'],
        ['sign', 'sign', 'demo-sign', 'random', '15', 'ok'],
      ],
    );
    for (const r of rows) assert.match(r[5], /^[0-9a-f]{12}$/);
  });

  it('--json, and a broken bundle: its problems listed, exit 2', () => {
    appendFileSync(join(demo, 'sign', 'vocab.txt'), 'EXTRA\n');
    const table = runCli(['models', 'verify', demo]);
    assert.equal(table.status, 2);
    assert.match(table.stdout, /\nsign\s+sign\s+demo-sign\s+random\s+16\s+[0-9a-f]{12}\s+FAIL\n/);
    assert.match(table.stdout, /\nproblems:\n {2}sign: output\.vocab: vocab\.txt has 16 labels, but model\.onnx output 'logits' \[T, 15\] has 15 at dimension 1\n/);
    assert.equal(table.stderr, 'signweave: 1 of 13 bundles failed verification\n');

    const json = runCli(['models', 'verify', join(demo, 'sign'), '--json']);
    assert.equal(json.status, 2);
    const report = JSON.parse(json.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.bundles.length, 1);
    assert.deepEqual(
      report.bundles[0].problems.map((p: { field: string }) => p.field),
      ['output.vocab'],
    );
  });

  it('a path that is neither a bundle nor a folder of bundles is an input error', () => {
    const run = runCli(['models', 'verify', join(root, 'nothing-here')]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^signweave: cannot verify .*nothing-here: no such file or folder\n$/);
  });
});
