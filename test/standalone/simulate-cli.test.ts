import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { greedyDecode } from '../../src/ctc/greedy.js';
import { readSimulatedDataset, STREAMS } from '../../src/simulate/index.js';
import type { CliRun } from '../helpers/cli.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);
const labels = sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.test.jsonl');

/** Runs `simulateCommand` in a child process, reporting input errors as src/cli/main.ts does. */
function simulate(args: readonly string[]): CliRun {
  const module = (path: string) => JSON.stringify(pathToFileURL(join(repoRoot, path)).href);
  const script = [
    `import { simulateCommand } from ${module('src/cli/commands/simulate.ts')};`,
    `import { SignweaveInputError } from ${module('src/errors.ts')};`,
    `try { await simulateCommand.parseAsync(process.argv.slice(1), { from: 'user' }); }`,
    `catch (err) { if (!(err instanceof SignweaveInputError)) throw err; process.stderr.write('signweave: ' + err.message + '\\n'); process.exitCode = err.exitCode; }`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('signweave simulate', () => {
  it('simulates How2Sign sentences into a dataset that reads back as typed sequences', () => {
    const out = join(tmp.dir, 'sim');
    const r = simulate(['--dataset', 'how2sign', '--data', labels, '--out', out, '--limit', '6', '--seed', '3', '--no-progress', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.sentences, 6);
    assert.equal(summary.seed, 3);
    assert.equal(summary.streams.lip.configured.substitution, 0.3);
    assert.match(summary.settingsHash, /^[0-9a-f]{64}$/);

    const dataset = readSimulatedDataset(out);
    assert.equal(dataset.header.settings.seed, 3);
    assert.equal(dataset.header.settingsHash, summary.settingsHash);
    assert.equal(dataset.header.source.dataset, 'how2sign-jsonl');
    assert.equal(dataset.sentences.length, 6);
    assert.deepEqual(readdirSync(join(out, 'arrays')).length, 18);
    assert.equal(dataset.vocab.letters.length, 30);
    assert.equal(dataset.vocab.phonemes.length, 40);
    assert.equal(summary.frames.total, dataset.sentences.reduce((n, s) => n + s.frames, 0));
    for (const s of dataset.sentences) {
      assert.deepEqual(s.target.map((id) => dataset.vocab.gloss[id]).length, s.target.length);
      assert.equal(s.router.length, s.frames);
      assert.equal(s.face.length, s.lipFrames);
      for (const stream of STREAMS) {
        const labelsOf = stream === 'sign' ? dataset.vocab.gloss : stream === 'fingerspell' ? dataset.vocab.letters : dataset.vocab.phonemes;
        const decoded = greedyDecode({ data: s[stream].data, T: s[stream].shape[0], V: s[stream].shape[1] }, { labels: labelsOf });
        assert.deepEqual(decoded.labels, s.truth.streams[stream].emitted);
      }
    }
    // The same seed gives the same dataset.
    const again = join(tmp.dir, 'sim-again');
    assert.equal(simulate(['--dataset', 'how2sign', '--data', labels, '--out', again, '--limit', '6', '--seed', '3', '--no-progress']).status, 0);
    assert.deepEqual(readFileSync(join(again, 'manifest.jsonl')), readFileSync(join(out, 'manifest.jsonl')));
    assert.deepEqual(readFileSync(join(again, 'arrays', '00004.lip.npy')), readFileSync(join(out, 'arrays', '00004.lip.npy')));
  });

  it('reads targets written by `signweave pseudogloss`, takes a settings file and prints realised vs configured rates', () => {
    const targets = join(tmp.dir, 'targets.jsonl');
    const record = (id: string, text: string, pseudogloss: string[], phonemes: string[][], fingerspell: { text: string; chars: string[] }[]) =>
      JSON.stringify({ id, text, pseudogloss, phonemes: phonemes.map((p, i) => ({ word: pseudogloss[i], phonemes: p, source: 'cmudict' })), fingerspell, provenance: { gloss: { glosser: 'rules', version: '1' } } });
    writeFileSync(
      targets,
      [
        record('a', 'Tomorrow Anna will visit NASA.', ['TOMORROW', 'ANNA', 'VISIT', 'NASA'], [['t', 'ah', 'm', 'aa', 'r', 'ow'], ['ae', 'n', 'ah'], ['v', 'ih', 'z', 'ih', 't'], ['n', 'ae', 's', 'ah']], [
          { text: 'Anna', chars: [...'anna'] },
          { text: 'NASA', chars: [...'nasa'] },
        ]),
        record('b', 'I like coffee.', ['I', 'LIKE', 'COFFEE'], [['ay'], ['l', 'ay', 'k'], ['k', 'aa', 'f', 'iy']], []),
      ].join('\n') + '\n',
    );
    const settings = join(tmp.dir, 'sim.json');
    writeFileSync(settings, JSON.stringify({ lip: { stride: 4 }, sign: { deletion: 0 } }));
    const out = join(tmp.dir, 'from-targets');
    const r = simulate(['--targets', targets, '--out', out, '--settings', settings, '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^2 sentences → /);
    assert.match(r.stdout, /^sign +5 tokens +sub +[\d.]+% \(set +15\.0%\) +del +0\.0% \(set +0\.0%\)/m);
    assert.match(r.stdout, /^fingerspell +8 tokens/m);
    const dataset = readSimulatedDataset(out);
    assert.equal(dataset.header.settings.lip.stride, 4);
    const first = dataset.sentences[0];
    assert.equal(first.lipFrames, Math.ceil(first.frames / 4));
    assert.deepEqual(first.truth.streams.fingerspell.reference, [...'annanasa']);
    assert.deepEqual(first.truth.streams.sign.reference, ['TOMORROW', 'VISIT']);
    assert.deepEqual(first.target.map((id) => dataset.vocab.gloss[id]), ['TOMORROW', 'ANNA', 'VISIT', 'NASA']);
  });

  it('reports bad input with the file, line and field, and leaves no dataset behind', () => {
    const bad = join(tmp.dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ id: 'x', text: 'hi', pseudogloss: ['HI'], phonemes: [{ phonemes: ['hx'] }], fingerspell: [], provenance: { gloss: { glosser: 'rules' } } })}\n`);
    const out = join(tmp.dir, 'never');
    const r = simulate(['--targets', bad, '--out', out, '--no-progress']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `signweave: ${bad}:1: field "phonemes/0/phonemes" holds "hx", not an ARPAbet phoneme\n`);
    assert.ok(!existsSync(out));

    const settings = join(tmp.dir, 'bad-sim.json');
    writeFileSync(settings, JSON.stringify({ lip: { mouthing: 2 } }));
    const s = simulate(['--dataset', 'how2sign', '--data', labels, '--out', out, '--limit', '1', '--settings', settings]);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /^signweave: .*bad-sim\.json: \/lip\/mouthing: must be a number in \[0, 1\] \(value: 2\)\n$/);

    const full = join(tmp.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'x');
    const f = simulate(['--dataset', 'how2sign', '--data', labels, '--out', full, '--limit', '1', '--no-progress']);
    assert.equal(f.status, 2);
    assert.match(f.stderr, /already exists and is not empty/);
    assert.deepEqual(readdirSync(full), ['keep.txt']);
    assert.deepEqual(readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp')), []);

    const neither = simulate(['--out', out]);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /give either --dataset <name> --data <file> or --targets <targets\.jsonl>/);
  });
});
