/**
 * `signweave train decoder` end to end through the real CLI: 40 (pseudo-gloss, English) pairs, a tiny LLaMA, the GGUF
 * and its provenance, the tokenizer file, --resume (refused and accepted), and errors naming the bad input. Runs that
 * end in an input error run in process (createTrainCommand), which saves a process start each.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { LlamaTokenizer } from '../../src/llm/tokenizer.js';
import { TRAINED_DECODER_FORMAT, TRAINED_GGUF_KEYS } from '../../src/llm/trained-format.js';
import { createTrainCommand } from '../../src/cli/commands/train.js';
import { readTrainingLog } from '../../src/train/log.js';
import { sha256File } from '../../src/util/hash.js';
import { inputError } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

/** Subject-object-verb glosses and their English, half as `signweave pseudogloss` records, half as plain pairs. */
function pairLines(): string[] {
  const subjects = [
    ['I', 'I', false],
    ['YOU', 'You', false],
    ['HE', 'He', true],
    ['SHE', 'She', true],
    ['WE', 'We', false],
  ] as const;
  const verbs = [
    ['GO', 'go to', 'goes to'],
    ['LIKE', 'like', 'likes'],
    ['SEE', 'see', 'sees'],
    ['WANT', 'want', 'wants'],
  ] as const;
  const objects = [
    ['STORE', 'the store'],
    ['SCHOOL', 'school'],
  ] as const;
  const lines: string[] = [];
  for (const [s, subject, third] of subjects) {
    for (const [v, verb, verbs3] of verbs) {
      for (const [o, object] of objects) {
        const english = `${subject} ${third ? verbs3 : verb} ${object}.`;
        const gloss = [o, s, v];
        const i = lines.length;
        lines.push(
          JSON.stringify(
            i % 2 === 0
              ? { id: `s${i}`, text: english, language: 'en', pseudogloss: gloss, provenance: { gloss: { glosser: 'rules', version: '3' }, phonemes: 'x', fingerspell: 'x' } }
              : { gloss: gloss.join(' '), english },
          ),
        );
      }
    }
  }
  return lines;
}

describe('signweave train decoder', () => {
  const lines = pairLines();
  const pairs = join(tmp.dir, 'pairs.jsonl');
  writeFileSync(pairs, `${lines.join('\n')}\n`);
  const config = join(tmp.dir, 'decoder.json');
  writeFileSync(
    config,
    JSON.stringify({
      format: 'signweave-train/1',
      epochs: 6,
      batchSize: 8,
      bucket: 2,
      evalEvery: 5,
      earlyStopping: { patience: 4 },
      optimizer: { lr: 0.01 },
      schedule: { warmupSteps: 3 },
      decoder: { architecture: { dim: 16, layers: 1, heads: 2, kvHeads: 1, ffnDim: 32, maxLen: 64 }, tokenizer: { vocabSize: 320 } },
    }),
  );
  const out = join(tmp.dir, 'model');
  const options = ['--config', config, '--threads', '1', '--no-progress'];
  const train = (...args: string[]) => runCli(['train', 'decoder', ...options, ...args]);
  const refused = (args: string[], ...patterns: RegExp[]) => assert.rejects(createTrainCommand().parseAsync(['decoder', ...options, ...args], { from: 'user' }), inputError(...patterns));
  const base = ['--pairs', pairs, '--out', out, '--dev-fraction', '0.1', '--seed', '1'];

  it('trains on 40 pairs and writes decoder.gguf with its tokenizer and provenance; --resume needs the same run', async () => {
    assert.equal(lines.length, 40);
    const run = train(...base, '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    const gguf = join(out, 'decoder.gguf');
    assert.equal(result.kind, 'decoder');
    assert.deepEqual([result.bundle.kind, result.bundle.file, result.bundle.tensorType], ['decoder', 'decoder.gguf', 'f32']);
    assert.equal(result.bundle.sha256, await sha256File(gguf));
    assert.equal(result.details.dev.pairs + result.details.pairs.pairs, 40);
    assert.ok(result.details.dev.pairs >= 1);
    assert.deepEqual(result.details.glossers, [{ glosser: 'rules', version: '3', pairs: 20 }]);
    assert.ok(result.bestStep >= 5 && result.bestLoss > 0 && result.positionsPerSecond > 0);
    const steps = readTrainingLog(result.log).lines.flatMap((l) => (l.type === 'step' ? [l] : []));
    assert.equal(steps.length, result.steps);
    assert.ok(result.finalLoss < steps[0].loss, `loss ${steps[0].loss} → ${result.finalLoss}`);

    const tokenizerPath = join(out, 'training', 'tokenizer.json');
    const tokenizer = LlamaTokenizer.read(tokenizerPath);
    assert.equal(result.details.tokenizer.sha256, tokenizer.sha256());
    const { metadata } = await readGgufFileInfo(gguf);
    const meta = metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(meta.general.architecture, 'llama');
    assert.equal((meta.tokenizer.ggml as { tokens: string[] }).tokens.length, tokenizer.size);
    const signweave = (meta.signweave as { decoder: Record<string, unknown> }).decoder;
    assert.equal(signweave.format, TRAINED_DECODER_FORMAT);
    assert.equal(TRAINED_GGUF_KEYS.provenance, 'signweave.decoder.provenance');
    const provenance = JSON.parse(signweave.provenance as string);
    assert.equal(provenance.pairs.sha256, await sha256File(pairs));
    assert.deepEqual(provenance.dev.split, { fraction: 0.1, seed: 1 });
    assert.equal(provenance.tokenizer.sha256, tokenizer.sha256());
    assert.match(provenance.source, new RegExp(`train decoder: .* ${result.steps} steps, .*weights of the best eval loss .* at step ${result.bestStep}`));

    // A new run into the folder is refused before anything is written over the tokenizer.
    const tokenizerBytes = readFileSync(tokenizerPath);
    await refused(base, /checkpoints holds checkpoints of an earlier run/);
    assert.ok(readFileSync(tokenizerPath).equals(tokenizerBytes));
    await refused([...base, '--resume', '--epochs', '7'], /written for another config.*epochs/);
    // The same settings resume (nothing left to do) and write the same GGUF.
    const resumed = train(...base, '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(
      resumed.stdout,
      new RegExp(
        `^trained decoder → .*decoder\\.gguf\\ndata {10}${result.details.pairs.pairs} pairs from .*pairs\\.jsonl, ${result.details.dev.pairs} dev pairs held out \\(seed 1\\)\\nsteps {9}${result.steps} of 30`,
      ),
    );
    assert.match(resumed.stdout, new RegExp(`\\nbest eval {5}loss ${result.bestLoss.toFixed(4)} at step ${result.bestStep}\\nmodel {9}\\d+ parameters, f32, sha256 ${result.bundle.sha256}, [\\d.]+ MiB\\ntokenizer .*tokenizer\\.json, ${tokenizer.size} pieces\\nglossers {6}rules 3: \\d+\\n`));
    assert.equal(await sha256File(gguf), result.bundle.sha256);
  });

  it('takes dev pairs from --dev and the first pairs with --limit', () => {
    const dev = join(tmp.dir, 'dev.jsonl');
    writeFileSync(dev, `${JSON.stringify({ gloss: 'HOME I GO', english: 'I go home.' })}\n`);
    const run = train('--pairs', pairs, '--dev', dev, '--limit', '12', '--epochs', '1', '--out', join(tmp.dir, 'limited'), '--json');
    assert.equal(run.status, 0, run.stderr);
    const { details, steps } = JSON.parse(run.stdout);
    assert.deepEqual([details.pairs.pairs, details.pairs.limit, details.dev.pairs, details.dev.path, steps], [12, 12, 1, dev, 2]);
  });

  it('names the file, line and field of bad input, and options that do not fit', async () => {
    await refused(['--pairs', pairs, '--out', join(tmp.dir, 'fresh'), '--resume'], /^nothing to resume: no tokenizer at .*fresh\/training\/tokenizer\.json$/);
    const bad = join(tmp.dir, 'bad.jsonl');
    writeFileSync(bad, `${lines[0]}\n${lines[1]}\n{"gloss": "A"}\n`);
    await refused(['--pairs', bad, '--out', join(tmp.dir, 'bad')], new RegExp(`^${bad}:3: field "english" must be a string$`));
    await refused(['--pairs', pairs, '--dev', bad, '--out', join(tmp.dir, 'bad')], new RegExp(`^${bad}:3: field "english" must be a string$`));
    await refused(['--pairs', pairs, '--dev', bad, '--dev-fraction', '0.1', '--out', join(tmp.dir, 'both')], /^give --dev <jsonl> or --dev-fraction, not both$/);
    await refused(['--data', tmp.dir, '--out', join(tmp.dir, 'data')], /^signweave train decoder reads --pairs \(and --dev\), not --data, --features or --lips$/);
    await refused(['--out', join(tmp.dir, 'data')], /^signweave train decoder needs --pairs <jsonl>/);
    await assert.rejects(
      createTrainCommand().parseAsync(['sign', '--pairs', pairs, '--out', join(tmp.dir, 'sign')], { from: 'user' }),
      inputError(/^--pairs is an option of signweave train decoder, not of sign$/),
    );
  });
});
