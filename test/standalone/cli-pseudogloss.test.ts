import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseVocabFile } from '../../src/vocab.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-pg-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('signweave phonemes / fingerspell', () => {
  it('phonemes of exactly the words given', () => {
    const run = runCli(['phonemes', 'GO', 'MEASURE', 'IT']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'g ow m eh zh er ih t\n');
  });

  it('phonemes --json says which words came from the G2P model', () => {
    const run = runCli(['phonemes', 'the', 'zorblatt', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const { words } = JSON.parse(run.stdout);
    assert.deepEqual(words[0], { word: 'the', phonemes: ['dh', 'ah'], source: 'cmudict' });
    assert.equal(words[1].source, 'g2p');
    assert.ok(words[1].phonemes.length >= 5);
  });

  it('fingerspell prints the character sequence of exactly that text', () => {
    const run = runCli(['fingerspell', 'political', 'capital']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'p o l i t i c a l   c a p i t a l\n');
  });

  it('bad words and characters are clear errors', () => {
    const phon = runCli(['phonemes', 'hello', '日本']);
    assert.equal(phon.status, 2);
    assert.match(phon.stderr, /word 1/);
    const fs = runCli(['fingerspell', 'a+b']);
    assert.equal(fs.status, 2);
    assert.match(fs.stderr, /"\+"/);
  });
});

describe('signweave pseudogloss', () => {
  it('one sentence: the three targets and how they were made', () => {
    const run = runCli(['pseudogloss', 'Tomorrow Anna will visit NASA.']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^pseudo-gloss {2}TOMORROW ANNA VISIT NASA$/m);
    assert.match(run.stdout, /^phonemes {6}t ah m aa r ow \| /m);
    assert.match(run.stdout, /"Anna" \(proper-noun\) → a n n a/);
    assert.match(run.stdout, /"NASA" \(acronym\) → n a s a/);
    assert.match(run.stdout, /^made by {7}rules 1~wink-nlp/m);
  });

  it('one sentence --json with the POS-filter glosser', () => {
    const run = runCli(['pseudogloss', 'The children were playing football.', '--glosser', 'rules-pos', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const record = JSON.parse(run.stdout);
    assert.deepEqual(record.pseudogloss, ['child', 'play', 'football']);
    assert.equal(record.provenance.gloss.glosser, 'rules-pos');
    assert.equal(record.phonemes.length, 3);
  });

  it('a corpus: targets JSONL, vocabularies and stats; bad lines reported with their numbers', () => {
    const input = join(dir, 'labels.jsonl');
    const lines = readFileSync(sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.test.jsonl'), 'utf8').split('\n').slice(0, 40);
    lines.splice(5, 0, '{"name": "broken.mp4", "text": ');
    writeFileSync(input, lines.join('\n'));
    const out = join(dir, 'targets.jsonl');
    const run = runCli(['pseudogloss', '--dataset', 'how2sign', '--input', input, '--out', out, '--json', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /labels\.jsonl:6: invalid JSON:.*\(skipped\)/);

    const report = JSON.parse(run.stdout);
    assert.equal(report.sentences, 40);
    assert.equal(report.input.skippedLines.length, 1);
    assert.equal(report.vocabulary.phonemes, 40);
    assert.equal(report.vocabulary.letters, 30);
    assert.ok(report.averages.glossTokens > 3 && report.averages.glossTokens < report.averages.textWords);
    assert.deepEqual(JSON.parse(readFileSync(report.files.stats, 'utf8')).sentences, 40);

    const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(records.length, 40);
    for (const r of records) {
      assert.ok(r.id && r.text && Array.isArray(r.pseudogloss));
      assert.equal(r.phonemes.length, r.pseudogloss.length);
      assert.equal(r.provenance.gloss.glosser, 'rules');
      assert.equal(r.provenance.source.sha256, report.input.sha256);
    }
    const glossVocab = parseVocabFile(readFileSync(report.files.glossVocab, 'utf8'), report.files.glossVocab);
    assert.equal(glossVocab[0], '<blank>');
    assert.equal(glossVocab.length, report.vocabulary.gloss);
    const every = new Set(records.flatMap((r) => r.pseudogloss));
    assert.deepEqual(new Set(glossVocab.slice(1)), every);
    assert.deepEqual(parseVocabFile(readFileSync(report.files.letterVocab, 'utf8'), 'letters').slice(27, 28), [' ']);
  });

  it('--strict fails on the bad line and leaves no output file behind', () => {
    const input = join(dir, 'strict.jsonl');
    writeFileSync(input, '{"name": "a.mp4", "text": "Hello."}\n{"name": "b.mp4"}\n');
    const outDir = mkdtempSync(join(dir, 'strict-'));
    const run = runCli(['pseudogloss', '--dataset', 'openasl', '--input', input, '--out', join(outDir, 't.jsonl'), '--strict', '--no-progress']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /strict\.jsonl:2: field "text" is missing or empty/);
    assert.deepEqual(readdirSync(outDir), []);
  });

  it('Ctrl-C stops a corpus run with exit code 130 and leaves no file behind', async () => {
    const outDir = mkdtempSync(join(dir, 'interrupt-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'pseudogloss', '--dataset', 'how2sign',
      '--input', sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl'), '--out', join(outDir, 't.jsonl'), '--no-progress'], { cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = once(child, 'exit');
    // interrupt once the run is writing (its temp file exists), i.e. mid-corpus
    while (readdirSync(outDir).length === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /signweave: interrupted/);
    assert.deepEqual(readdirSync(outDir), []);
  });

  it('PHOENIX-2014T (German): the corpus glosses pass through, no English targets', () => {
    const out = join(dir, 'phoenix.jsonl');
    const run = runCli([
      'pseudogloss',
      '--dataset',
      'phoenix2014t',
      '--input',
      sharedPath('data', 'phoenix2014t', 'corpus_csv', 'PHOENIX-2014-T.dev.corpus.csv'),
      '--out',
      out,
      '--limit',
      '5',
      '--no-progress',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const [first] = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(first.pseudogloss, ['DRUCK', 'TIEF', 'KOMMEN']);
    assert.equal(first.provenance.gloss.glosser, 'corpus-gloss');
    assert.deepEqual(first.phonemes, []);
  });

  it('usage errors: sentence and --input together, --input without --out, missing output folder, llm without a model', () => {
    const both = runCli(['pseudogloss', 'Hi.', '--input', 'x.txt']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /either one sentence or --input/);
    const noOut = runCli(['pseudogloss', '--dataset', 'text', '--input', 'x.txt']);
    assert.match(noOut.stderr, /--input needs --out/);
    const input = join(dir, 'plain.txt');
    writeFileSync(input, 'Hello there.\n');
    const missing = join(dir, 'no-such-folder', 't.jsonl');
    const noDir = runCli(['pseudogloss', '--dataset', 'text', '--input', input, '--out', missing, '--no-progress']);
    assert.equal(noDir.status, 2);
    assert.match(noDir.stderr, /cannot write .*t\.jsonl: its folder does not exist/);
    assert.ok(!existsSync(missing));
    const llm = runCli(['pseudogloss', 'Hi.', '--glosser', 'llm']);
    assert.equal(llm.status, 2);
    assert.match(llm.stderr, /needs a GGUF model/);
  });
});
