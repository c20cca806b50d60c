// `signweave translate` with the English decoder: --gloss (with --model and with --config), --stream, --json, and the
// exit code 1 of a run without English, on ../shared's stories260K (1 thread, CPU) and the untrained demo bundles.
// The video run uses the no-lipreading preset (no Chromium) on 12 frames of a How2Sign clip. The library test
// (pipeline-decoder) checks the result's fields in-process.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GlossTranslationResult } from '../../src/pipeline/result.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const MODEL = sharedPath('models', 'stories260K', 'stories260K.gguf');
const SHA256 = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
const GLOSS = 'GAIN BALANCE TOE';
/** stories260K's small vocabulary makes the default prompt ~470 tokens: the context is set, not left to the default. */
const LLM = ['--model', MODEL, '--gpu', 'cpu', '--threads', '1', '--context-size', '1024'];
const root = mkdtempSync(join(tmpdir(), 'signweave-cli-translate-'));
after(() => rmSync(root, { recursive: true, force: true }));
const demo = join(root, 'demo');
const config = join(demo, 'pipeline.json');
/** The demo config with a context too small for the prompt. */
const tight = join(demo, 'tight.json');

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** stderr without llama.cpp's own log lines (warnings about the model file). */
const ownStderr = (stderr: string): string => stderr.replace(/^\[llama\.cpp \w+\] .*\n/gm, '');

/** The --gloss layout of `english` (a sentence, or why there is none). */
const glossLayout = (english: string) =>
  new RegExp(
    `^Pseudo-gloss {4}${GLOSS}\\nEnglish {9}${english}\\n\\ndecoder {9}\\S.*? \\(sha256 ${SHA256.slice(0, 12)}\\) · completion prompt gloss2en-v1\\S* · \\d+ prompt \\+ \\d+ generated tokens, stop: [a-z-]+\\ntimings \\(ms\\) {4}load \\d+ · decoder \\d+ · total \\d+\\n$`,
  );

describe('signweave translate with the English decoder (stories260K)', () => {
  let english: GlossTranslationResult['english'];

  before(() => {
    const run = runCli(['models', 'init-demo', demo, '--seed', '3', '--decoder-model', MODEL]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(ownStderr(run.stderr), '');
    assert.ok(run.stdout.includes(`\ndecoder     ${MODEL}\n`), run.stdout);
    // stories260K on 1 CPU thread with room for its ~470-token prompt, as LLM sets it on the command line.
    const written = JSON.parse(readFileSync(config, 'utf8'));
    const decoder = { model: MODEL, gpu: 'cpu', threads: 1, contextSize: 1024 };
    writeFileSync(config, JSON.stringify({ ...written, decoder }));
    writeFileSync(tight, JSON.stringify({ ...written, decoder: { ...decoder, contextSize: 256 } }));
  });

  it('--gloss --model --json: the English of the pseudo-gloss, with the model and settings that made it', () => {
    const run = runCli(['translate', '--gloss', GLOSS, ...LLM, '--json', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(ownStderr(run.stderr), '');
    const r = JSON.parse(run.stdout) as GlossTranslationResult;
    english = r.english;
    assert.equal(english.pseudoGloss, GLOSS);
    assert.equal(english.gloss, GLOSS);
    assert.equal(english.failure, null);
    assert.ok(typeof english.text === 'string' && english.text.length > 0, JSON.stringify(english));
    assert.ok(english.promptTokens > 0 && english.generatedTokens > 0);
    const d = r.provenance.decoder;
    assert.equal(d.model.path, MODEL);
    assert.equal(d.model.sha256, SHA256);
    assert.equal(d.format, 'completion');
    assert.equal(d.sampling.temperature, 0);
    assert.equal(d.runtime.gpu, false);
    assert.equal(r.provenance.config, null);
    assert.ok(r.timings.load > 0 && r.timings.decoder > 0 && r.timings.total >= r.timings.load + r.timings.decoder - 1);
  });

  it('--gloss --config: the config\'s decoder gives the same English (greedy decoding is deterministic)', () => {
    const run = runCli(['translate', '--gloss', GLOSS, '--config', config, '--json', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(ownStderr(run.stderr), '');
    const r = JSON.parse(run.stdout) as GlossTranslationResult;
    assert.deepEqual({ ...r.english, firstTokenMs: 0, totalMs: 0 }, { ...english, firstTokenMs: 0, totalMs: 0 });
    assert.equal(r.provenance.config?.path, config);
    assert.equal(r.provenance.config?.sha256, createHash('sha256').update(readFileSync(config)).digest('hex'));
    assert.equal(r.provenance.decoder.model.sha256, SHA256);
  });

  it('--gloss --stream: the raw English as it is generated, then the layout', () => {
    const run = runCli(['translate', '--gloss', GLOSS, ...LLM, '--stream', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(ownStderr(run.stderr), '');
    assert.ok(run.stdout.startsWith(`${english.raw}\nPseudo-gloss    ${GLOSS}\n`), run.stdout);
    assert.match(run.stdout.slice(english.raw.length + 1), glossLayout(escape(english.text!)));
  });

  it('no English (a context too small for the prompt): everything printed, then why on stderr, exit 1', () => {
    const run = runCli(['translate', '--gloss', GLOSS, '--config', tight, '--no-progress']);
    assert.equal(run.status, 1, run.stderr);
    const reason = /^signweave: no English: (.+)\n$/.exec(ownStderr(run.stderr))?.[1];
    assert.ok(reason, run.stderr);
    assert.match(reason, /^the prompt is \d+ tokens; .* of the context's 256$/);
    assert.match(run.stdout, glossLayout(`\\(no English: ${escape(reason)}\\)`));
  });

  it('a video --stream: the English first, then the layout with the English row after Fused and the decoder timed', () => {
    const run = runCli(['translate', CLIP, '--config', config, '--preset', 'no-lipreading', '--end', '0.5', '--threads', '1', '--stream', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(ownStderr(run.stderr), '');
    const [streamed, untrained] = run.stdout.split('\n');
    assert.ok(streamed.trim().length > 0, run.stdout);
    assert.match(untrained, /^UNTRAINED MODELS: /);
    const english = /\nFused {11}\S.*\nEnglish {9}(\S.*)\n/.exec(run.stdout)?.[1];
    assert.ok(english && !english.startsWith('(no English'), run.stdout);
    assert.match(run.stdout, /\ndecoder {9}\S.*? \(sha256 [0-9a-f]{12}\) · completion prompt gloss2en-v1\S* · \d+ prompt \+ [1-9]\d* generated tokens/);
    assert.match(run.stdout, /\ntimings \(ms\) {4}load \d+ · .* · fusion \d+ · decoder \d+ · total \d+/);
  });
});
