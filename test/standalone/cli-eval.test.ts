// `signweave eval`: its input errors (exit 2, naming the option, file or sample), and a sign-stage run on the demo
// bundles (no MediaPipe) with --json, resumed, and refused when the samples file belongs to another evaluation.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shippedDecoderPath } from '../../src/decoder/shipped.js';
import type { EvalReport } from '../../src/eval/report.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const root = mkdtempSync(join(tmpdir(), 'signweave-cli-eval-'));
after(() => rmSync(root, { recursive: true, force: true }));
const manifest = join(root, 'clips.jsonl');
writeFileSync(
  manifest,
  [
    { id: 'okay', video: sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4'), text: 'Okay.' },
    { id: 'gone', video: 'gone.mp4', text: 'Hello.' },
  ]
    .map((l) => `${JSON.stringify(l)}\n`)
    .join(''),
);

describe('signweave eval: input errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['a video stage without a config', ['eval', 'sign', '--dataset', 'jsonl', '--data', manifest], /^signweave: the sign stage needs --config <pipeline\.json> \(`signweave models init-demo <dir>` writes one\)\n$/],
    ['--model with a video stage', ['eval', 'fusion', '--dataset', 'jsonl', '--data', manifest, '--model', 'm.gguf'], /^signweave: --model is for the decoder stage; the fusion stage takes its models from --config\n$/],
  ];
  // With the shipped decoder in the repository, the decoder stage runs it instead (test/model-dependent/decoder-trained-format.test.ts).
  if (shippedDecoderPath() === null) {
    cases.push([
      'the decoder stage without a model, in an install without the shipped decoder',
      ['eval', 'decoder', '--dataset', 'jsonl', '--data', manifest],
      new RegExp(`^signweave: the decoder stage needs a decoder, and this signweave install has no shipped decoder \\(${escapeRegExp(join(repoRoot, 'models', 'signweave-decoder', 'decoder.gguf'))} does not exist\\): give --model <gguf>, or --config with a decoder section\n$`),
    ]);
  }
  for (const [what, args, message] of cases) {
    it(what, () => {
      const run = runCli(args);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }

  it('an unknown stage is refused by the command line', () => {
    const run = runCli(['eval', 'gloss', '--dataset', 'jsonl', '--data', manifest]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /value 'gloss' is invalid for argument 'stage'\. Allowed choices are sign, fingerspell, lipread, router, fusion, decoder, pipeline\./);
  });
});

describe('signweave eval sign on the demo bundles', () => {
  let config: string;
  before(async () => {
    config = (await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task') })).config;
  });

  it('--json prints the report it writes; a rerun resumes; another preset is refused with exit 2', () => {
    const out = join(root, 'sign.json');
    const args = ['eval', 'sign', '--dataset', 'jsonl', '--data', manifest, '--config', config, '--threads', '1', '--out', out, '--no-progress'];
    const run = runCli([...args, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    const report = JSON.parse(run.stdout) as EvalReport;
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), report);
    assert.equal(report.stage, 'sign');
    assert.deepEqual(report.counts, { samples: 2, evaluated: 1, failed: 0, missingVideos: 1, noReference: 0, resumed: 0 });
    assert.equal(report.metrics[0].id, 'wer');
    assert.equal(report.untrained, true);
    assert.deepEqual(report.samples.map((r) => [r.id, r.status, r.reference]), [['okay', 'ok', 'OKAY'], ['gone', 'missing-video', null]]);
    assert.equal(report.samplesFile.path, join(root, 'sign.samples.jsonl'));
    assert.ok(existsSync(report.samplesFile.path));

    const again = runCli(args);
    assert.equal(again.status, 0, again.stderr);
    const lines = again.stdout.split('\n');
    assert.match(lines[0], /^UNTRAINED MODELS: demo-sign has no trained weights, so these scores are meaningless\.$/);
    assert.match(again.stdout, /\nsamples {2}2: 1 evaluated \(0 failed, 1 resumed\), 1 without video, 0 without a reference\n/);
    assert.match(again.stdout, new RegExp(`\\nWER +${report.metrics[0].score.toFixed(2)} `));
    assert.match(again.stdout, /\nreport {7}.*sign\.json\n$/);

    const other = runCli([...args, '--preset', 'no-fusion']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /^signweave: .*sign\.samples\.jsonl holds the samples of another evaluation \(config\.preset: null in the file, "no-fusion" now\): use --restart to discard them, or another --out\n$/);
  });
});
