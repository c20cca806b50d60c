import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readSharedJson } from '../helpers/shared.js';

interface CorpusCase {
  hyps: string[];
  refs: string[][];
  kwargs: Record<string, unknown>;
  computed_2_6_0: { score: number };
}

const vectors = readSharedJson<{ bleu: { corpus_bleu_cases: CorpusCase[] } }>('data', 'metrics_reference_vectors', 'sacrebleu_vectors.json');
const dir = mkdtempSync(join(tmpdir(), 'signweave-score-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: string[], eol = '\n'): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => l + eol).join(''));
  return path;
}

// The sacrebleu README example: three hypotheses, two reference streams, default BLEU 48.530827.
const example = vectors.bleu.corpus_bleu_cases.find((c) => Object.keys(c.kwargs).length === 0 && c.computed_2_6_0.score > 0)!;
const hyp = write('hyp.txt', example.hyps);
const ref1 = write('ref1.txt', example.refs[0], '\r\n');
const ref2 = write('ref2.txt', example.refs[1]);

describe('signweave score', () => {
  it('prints BLEU with two reference files exactly as sacrebleu, with its signature', () => {
    const run = runCli(['score', '--hyp', hyp, '--ref', ref1, ref2, '--metrics', 'bleu']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^BLEU\s+48\.53\s+B1 /m);
    assert.match(run.stdout, /nrefs:2\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:signweave-/);
  });

  it('--json carries scores, components, settings and input sha256s', () => {
    const run = runCli(['score', '--hyp', hyp, '--ref', ref1, '--ref', ref2, '--metrics', 'bleu,chrf,rouge,ter', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.tool.name, 'signweave');
    assert.equal(report.inputs.refs.length, 2);
    assert.match(report.inputs.hyp.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      report.metrics.map((m: { id: string }) => m.id),
      ['bleu', 'chrf', 'rouge', 'ter'],
    );
    const bleu = report.metrics[0];
    assert.ok(Math.abs(bleu.score - example.computed_2_6_0.score) < 1e-9);
    assert.deepEqual(bleu.counts, [14, 7, 5, 3]);
    assert.equal(bleu.cumulative.length, 4);
    for (const m of report.metrics) assert.match(m.signature, /version:signweave-\d/);
  });

  it('--tokenize and --lowercase reach BLEU and its signature', () => {
    const run = runCli(['score', '--hyp', hyp, '--ref', ref1, ref2, '--metrics', 'bleu', '--tokenize', 'intl', '--lowercase', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const [bleu] = JSON.parse(run.stdout).metrics;
    assert.match(bleu.signature, /case:lc\|eff:no\|tok:intl\|/);
  });

  it('reads hypotheses from standard input with --hyp -', () => {
    const run = runCli(['score', '--hyp', '-', '--ref', ref1, ref2, '--metrics', 'bleu', '--json'], { input: example.hyps.join('\n') });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Math.abs(JSON.parse(run.stdout).metrics[0].score - example.computed_2_6_0.score) < 1e-9);
  });

  it('rejects mismatched line counts, naming both files', () => {
    const short = write('short.txt', example.refs[0].slice(0, 2));
    const run = runCli(['score', '--hyp', hyp, '--ref', short]);
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /short\.txt has 2 lines but .*hyp\.txt has 3/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('rejects a missing file, invalid UTF-8, unknown metrics and unknown options', () => {
    const missing = runCli(['score', '--hyp', join(dir, 'nope.txt'), '--ref', ref1]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\.txt: no such file/);

    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.from([0x6f, 0x6b, 0x0a, 0x61, 0xff, 0x0a, 0x62, 0x0a]));
    const utf8 = runCli(['score', '--hyp', bad, '--ref', ref1]);
    assert.equal(utf8.status, 2);
    assert.match(utf8.stderr, /bad\.txt is not valid UTF-8 \(at line 2\)/);

    const metric = runCli(['score', '--hyp', hyp, '--ref', ref1, '--metrics', 'bleu,blue']);
    assert.notEqual(metric.status, 0);
    assert.match(metric.stderr, /unknown metric "blue"/);

    const option = runCli(['score', '--hyp', hyp, '--ref', ref1, '--frobnicate']);
    assert.notEqual(option.status, 0);
    assert.match(option.stderr, /unknown option '--frobnicate'/);
  });

  it('refuses several references for single-reference metrics', () => {
    const run = runCli(['score', '--hyp', hyp, '--ref', ref1, ref2, '--metrics', 'wer']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /"wer" takes exactly one reference/);
  });

  it('scores WER, letter accuracy and PER on one reference', () => {
    const refs = write('fs-ref.txt', ['political capital', 'anna']);
    const hyps = write('fs-hyp.txt', ['politcal capitol', 'ana']);
    const run = runCli(['score', '--hyp', hyps, '--ref', refs, '--metrics', 'wer,letter,per', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const [wer, letter, per] = JSON.parse(run.stdout).metrics;
    assert.equal(wer.score, 100); // every word is misspelt: 3 substitutions over 3 reference words
    assert.equal(letter.referenceChars, 21);
    assert.ok(letter.score < 100 && letter.score > 70);
    assert.equal(per.name, 'PER');
  });
});
