// `signweave eval decoder` end to end on three How2Sign test sentences with ../shared's stories260K (1 thread, CPU):
// the progress bar on stderr, the report on stdout with --json and in --out, the samples file beside it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EvalReport } from '../../src/eval/report.js';
import { sha256File } from '../../src/util/hash.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const MODEL = sharedPath('models', 'stories260K', 'stories260K.gguf');
const LABELS = sharedPath('data', 'how2sign', 'unisign_labels_jsonl');
const root = mkdtempSync(join(tmpdir(), 'signweave-cli-eval-md-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('signweave eval decoder --model', () => {
  it('--json: the report it writes, with scores, signatures, the decoder and every sample', async () => {
    const out = join(root, 'decoder.json');
    const run = runCli(['eval', 'decoder', '--dataset', 'how2sign', '--data', LABELS, '--limit', '3', '--model', MODEL, '--gpu', 'cpu', '--threads', '1', '--context-size', '1024', '--out', out, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /eval decoder \[[█░]+\] 100% \| 3\/3 \| /);
    const report = JSON.parse(run.stdout) as EvalReport;
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), report);
    assert.equal(report.stage, 'decoder');
    assert.deepEqual([report.dataset.name, report.dataset.split, report.dataset.manifest.path], ['how2sign', 'test', join(LABELS, 'labels.test.jsonl')]);
    assert.deepEqual(report.counts, { samples: 3, evaluated: 3, failed: 0, missingVideos: 0, noReference: 0, resumed: 0 });
    assert.deepEqual(report.metrics.map((m) => [m.id, m.name]), [['bleu', 'BLEU'], ['rouge', 'ROUGE-L'], ['chrf', 'chrF2']]);
    assert.equal((report.metrics[0].cumulative as number[]).length, 4);
    assert.equal(report.untrained, false);
    assert.equal(report.provenance.decoder?.model.sha256, await sha256File(MODEL));
    assert.equal(report.provenance.decoder?.contextSize, 1024);
    assert.equal(report.samples.length, 3);
    assert.ok(report.samples.every((s) => s.status === 'ok' && typeof s.hypothesis === 'string' && s.input !== null));
    const bleus = report.samples.map((s) => s.scores!.bleu);
    assert.deepEqual(bleus, [...bleus].sort((a, b) => a - b));
    assert.equal(readFileSync(join(root, 'decoder.samples.jsonl'), 'utf8').trimEnd().split('\n').length, 1 + 1 + 3);
    // The identity baseline beside the decoder: the same metrics and signatures, and the ratio of the BLEU-4s.
    const baseline = report.baseline!;
    assert.equal(baseline.id, 'identity');
    assert.deepEqual(baseline.metrics.map((m) => [m.id, m.signature]), report.metrics.map((m) => [m.id, m.signature]));
    assert.equal(baseline.bleu4Ratio, baseline.metrics[0].score === 0 ? null : report.metrics[0].score / baseline.metrics[0].score);

    // The summary of the same evaluation (resumed: nothing runs) shows both rows.
    const text = runCli(['eval', 'decoder', '--dataset', 'how2sign', '--data', LABELS, '--limit', '3', '--model', MODEL, '--gpu', 'cpu', '--threads', '1', '--context-size', '1024', '--out', out, '--no-progress']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /\nBLEU +\d+\.\d\d {2}B1 [^\n]+\n +nrefs:1[^\n]+\n(?:.+\n)+\nidentity baseline: the oracle pseudo-gloss itself, lower-cased, as the English\nBLEU +\d+\.\d\d {2}B1 /);
    assert.match(text.stdout, /\nBLEU-4 ratio decoder \/ identity: (?:\d+\.\d\d×|undefined \(the baseline scores 0\))\n/);
  });
});
