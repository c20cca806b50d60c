// `signweave models init-demo` and the input errors of `signweave translate`; the model-dependent pipeline and
// cli-translate tests run translate on a real clip and stories260K.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { shippedDecoderPath } from '../../src/decoder/shipped.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs the CLI with SIGNWEAVE_SHARED pointing at an empty folder, as on a machine without ../shared. */
function withoutShared(args: string[]) {
  const saved = process.env.SIGNWEAVE_SHARED;
  process.env.SIGNWEAVE_SHARED = root;
  try {
    return runCli(args);
  } finally {
    if (saved === undefined) delete process.env.SIGNWEAVE_SHARED;
    else process.env.SIGNWEAVE_SHARED = saved;
  }
}

describe('signweave models init-demo', () => {
  it('without ../shared it needs --face-model', () => {
    const run = withoutShared(['models', 'init-demo', join(root, 'none')]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^signweave: no face landmark model: give --face-model <face_landmarker\.task> \(download: https:\/\/storage\.googleapis\.com\/.*face_landmarker\.task\)\n$/);
  });

  it('writes the bundles, the backbone and pipeline.json (--json lists them)', () => {
    const dir = join(root, 'demo');
    const run = withoutShared(['models', 'init-demo', dir, '--face-model', '/models/face.task', '--seed', '5', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.config, join(dir, 'pipeline.json'));
    assert.deepEqual(report.backbone, { type: 'hf-folder', path: join(dir, 'backbone'), dim: 384, written: true });
    assert.equal(report.bundles.length, 13);
    assert.ok(report.bundles.every((b: { weights: string }) => b.weights === 'random'));
    const config = JSON.parse(readFileSync(report.config, 'utf8'));
    assert.equal(config.format, 'signweave-pipeline/1');
    assert.deepEqual(config.landmarks, { face: { model: '/models/face.task' } });
    assert.deepEqual(config.backbone, { type: 'hf-folder', path: 'backbone', batch: 4, stride: 1 });
    assert.equal(config.experts.sign.bundle, join('bundles', 'sign'));
    assert.equal(config.fusion.variants['lip-shift-5'], join('bundles', 'fusion-lip-shift-5'));
    // Nothing from ../shared: the decoder is the one shipped with signweave (models/), or none in a checkout without it.
    const shipped = shippedDecoderPath();
    assert.deepEqual(report.decoder, shipped === null ? null : { model: shipped });
    assert.deepEqual(config.decoder, shipped === null ? undefined : { model: shipped });
  });

  it('--decoder-model writes the decoder section (relative inside the folder); --no-decoder leaves it out', () => {
    const dir = join(root, 'demo-decoder');
    const run = withoutShared(['models', 'init-demo', dir, '--face-model', '/models/face.task', '--decoder-model', join(dir, 'llm.gguf')]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`\\ndecoder {5}${join(dir, 'llm.gguf').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')).decoder, { model: 'llm.gguf' });
    const none = runCli(['models', 'init-demo', join(root, 'demo-none'), '--face-model', '/models/face.task', '--no-decoder']);
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /\ndecoder {5}\(none: translate stops at the fused pseudo-gloss\)\n/);
    assert.equal(JSON.parse(readFileSync(join(root, 'demo-none', 'pipeline.json'), 'utf8')).decoder, undefined);
    const both = runCli(['models', 'init-demo', join(root, 'demo-both'), '--decoder-model', 'x.gguf', '--no-decoder']);
    assert.equal(both.status, 2);
    assert.equal(both.stderr, 'signweave: --decoder-model and --no-decoder contradict each other: give one\n');
  });
});

describe('signweave translate: input errors', () => {
  it('an invalid config: its file, the JSON pointer and the value, exit 2', () => {
    const path = join(root, 'bad.json');
    writeFileSync(path, JSON.stringify({ format: 'signweave-pipeline/1', backbone: { type: 'hf-folder', path: 'b', stride: 0 }, experts: { sign: { bundle: 's' }, fingerspell: null, lipread: null }, router: null, fusion: null }));
    const run = runCli(['translate', 'video.mp4', '--config', path]);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `signweave: pipeline config ${path}: /backbone/stride: must be >= 1 (value: 0)\n`);
  });

  it('what goes with a video and what goes with --gloss', () => {
    const cases: [string[], number, string | RegExp][] = [
      [[], 2, 'give a video to translate, or --gloss <pseudo-gloss> to run the decoder alone'],
      [['video.mp4'], 2, 'give the pipeline config: --config <file> (`signweave models init-demo <dir>` writes one)'],
      [['video.mp4', '--config', 'x.json', '--model', 'm.gguf'], 2, '--model, --gpu, --context-size and --max-tokens go with --gloss: for a video, the config sets its decoder in /decoder'],
      [['video.mp4', '--gloss', 'GAIN BALANCE'], 2, '--gloss runs the decoder alone on the pseudo-gloss: give no video (got video.mp4)'],
      [['--gloss', 'GAIN', '--config', 'x.json', '--model', 'm.gguf'], 2, '--gloss takes the decoder from --config (its decoder section) or from --model <gguf>, not both'],
      [['--gloss', 'GAIN', '--config', 'x.json', '--threads', '2'], 2, '--gpu, --threads, --context-size and --max-tokens go with --model: a config sets them in its /decoder section'],
      [['--gloss', 'GAIN', '--model', 'm.gguf', '--context-size', '0'], 1, /option '--context-size <tokens>' argument '0' is invalid\. must be a positive integer\./],
      [['--gloss', 'GAIN', '--model', 'm.gguf', '--start', '1'], 1, /option '--start <s>' cannot be used with option '--gloss <pseudo-gloss>'/],
      [['video.mp4', '--config', 'x.json', '--stream', '--json'], 1, /option '--stream' cannot be used with option '--json'/],
      [['--gloss', 'GAIN', '--model', 'm.gguf', '--gpu', 'metal'], 1, /argument 'metal' is invalid\. Allowed choices are auto, cuda, vulkan, cpu\./],
    ];
    // With the shipped decoder in the repository, --gloss alone runs it instead (test/model-dependent/decoder-trained-format.test.ts).
    if (shippedDecoderPath() === null) {
      const missing = join(repoRoot, 'models', 'signweave-decoder', 'decoder.gguf');
      cases.push([['--gloss', 'GAIN BALANCE'], 2, `--gloss needs a decoder, and this signweave install has no shipped decoder (${missing} does not exist): give --model <gguf>, or --config <file> with a decoder section`]);
    }
    for (const [args, status, stderr] of cases) {
      const run = runCli(['translate', ...args, '--no-progress']);
      assert.equal(run.status, status, `${args.join(' ')}: ${run.stderr}`);
      if (typeof stderr === 'string') assert.equal(run.stderr, `signweave: ${stderr}\n`, args.join(' '));
      else assert.match(run.stderr, stderr, args.join(' '));
      assert.equal(run.stdout, '', args.join(' '));
    }
  });

  it('--help documents every option', () => {
    const run = runCli(['translate', '--help']);
    assert.equal(run.status, 0);
    for (const option of ['--config', '--preset', '--start', '--end', '--threads', '--gloss', '--model', '--gpu', '--context-size', '--max-tokens', '--json', '--stream', '--no-progress']) {
      assert.match(run.stdout, new RegExp(`\\n  ${option}[ ,<]`), option);
    }
    assert.match(run.stdout, /signweave: no English: <why>/);
  });

  it('a config without a decoder section: --gloss and --stream say so', () => {
    // The demo written above with --no-decoder has no decoder section.
    const config = join(root, 'demo-none', 'pipeline.json');
    const gloss = runCli(['translate', '--gloss', 'GAIN', '--config', config]);
    assert.equal(gloss.status, 2);
    assert.equal(gloss.stderr, `signweave: pipeline config ${config}: /decoder: the config has no decoder section, so there is no English to make\n`);
    const stream = runCli(['translate', 'video.mp4', '--config', config, '--stream']);
    assert.equal(stream.status, 2);
    assert.equal(stream.stderr, `signweave: --stream streams the English, but pipeline config ${config} has no decoder section\n`);
  });

  it('an unknown preset is refused by the command line', () => {
    const run = runCli(['translate', 'video.mp4', '--config', 'x.json', '--preset', 'no-router']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /argument 'no-router' is invalid\. Allowed choices are full, no-lipreading, /);
  });
});
