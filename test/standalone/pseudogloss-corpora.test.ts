import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCorpus, resolveDataset } from '../../pseudogloss/corpora.js';
import { sharedPath } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'signweave-corpora-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('corpus readers', () => {
  it('How2Sign realigned CSV: TAB-separated with CSV quoting and CRLF, times in seconds', () => {
    const corpus = readCorpus(sharedPath('data', 'how2sign', 'csv_original_tsv', 'how2sign_realigned_test.csv'), 'how2sign');
    assert.equal(corpus.sentences.length, 2357);
    assert.deepEqual(corpus.problems, []);
    const [first] = corpus.sentences;
    assert.deepEqual(first, {
      id: '-fZc293MpJk_0-1-rgb_front',
      line: 2,
      text: 'Hi!',
      language: 'en',
      video: '-fZc293MpJk-1-rgb_front',
      start: 0.26,
      end: 6.79,
    });
    // a quoted field holding a double quote stays one sentence
    const quoted = corpus.sentences.find((s) => s.id === '-g0iPSnQt6w_5-1-rgb_front')!;
    assert.equal(quoted.text, 'You can\'t get into the middle of the dive and just decide, "You know what?');
    assert.match(corpus.sha256, /^[0-9a-f]{64}$/);
  });

  it('Uni-Sign JSONL for How2Sign: ids without .mp4, mojibake apostrophes repaired', () => {
    const path = sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.test.jsonl');
    assert.equal(resolveDataset('how2sign', path), 'how2sign-jsonl');
    const corpus = readCorpus(path, 'how2sign-jsonl');
    assert.equal(corpus.sentences.length, 2349);
    const campfire = corpus.sentences.find((s) => s.id === 'G2T2WCuU39Y_1-10-rgb_front')!;
    assert.match(campfire.text, /^So if you're going to have a campfire while you're camping/);
    assert.ok(corpus.sentences.every((s) => !/[\u0080-\u009f]|â/.test(s.text)), 'no mojibake left');
  });

  it('PHOENIX-2014T: German translation with its reference glosses', () => {
    const corpus = readCorpus(sharedPath('data', 'phoenix2014t', 'corpus_csv', 'PHOENIX-2014-T.dev.corpus.csv'), 'phoenix2014t');
    assert.equal(corpus.sentences.length, 519);
    const [first] = corpus.sentences;
    assert.equal(first.language, 'de');
    assert.equal(first.id, '11August_2010_Wednesday_tagesschau-2');
    assert.deepEqual(first.gloss, ['DRUCK', 'TIEF', 'KOMMEN']);
    assert.equal(first.text, 'tiefer luftdruck bestimmt in den nächsten tagen unser wetter');
  });

  it('PHOENIX-2014T with CRLF and the official video column reads the same sentences', () => {
    const crlf = readCorpus(sharedPath('data', 'phoenix2014t', 'corpus_csv_original_videocol_crlf', 'PHOENIX-2014-T.test.corpus.csv'), 'phoenix2014t');
    const lf = readCorpus(sharedPath('data', 'phoenix2014t', 'corpus_csv', 'PHOENIX-2014-T.test.corpus.csv'), 'phoenix2014t');
    assert.equal(crlf.sentences.length, 642);
    assert.deepEqual(
      crlf.sentences.map((s) => [s.id, s.text, s.gloss]),
      lf.sentences.map((s) => [s.id, s.text, s.gloss]),
    );
  });

  it('CSL-Daily (Chinese, gloss lists), OpenASL and ChicagoFSWild labels', () => {
    const csl = readCorpus(sharedPath('data', 'csl_daily', 'unisign_labels_jsonl', 'labels.dev.jsonl'), 'csl-daily');
    assert.equal(csl.sentences.length, 1077);
    assert.equal(csl.sentences[0].language, 'zh');
    assert.deepEqual(csl.sentences[0].gloss, ['他', '今天', '年龄', '4']);

    const openasl = readCorpus(sharedPath('data', 'openasl', 'unisign_labels_jsonl', 'labels.dev.jsonl'), 'openasl');
    assert.equal(openasl.sentences.length, 967);
    assert.equal(openasl.sentences[0].text, 'Are you all bored being stuck at home?');

    const fs = readCorpus(sharedPath('data', 'chicago_fswild', 'mictranet_merged_test', 'ChicagoFSWild_and_Plus_test_merged.csv'), 'chicagofswild');
    assert.equal(fs.sentences.length, 2583);
    assert.deepEqual(fs.sentences[0], { id: 'aslized/ben_jarashow_1745', line: 1, text: 'yll', language: 'en', frames: 9 });
  });

  it('reports bad lines with their numbers and skips them; --strict stops at the first', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(
      path,
      [
        '{"name": "a.mp4", "text": "Hello there."}',
        '{"name": "b.mp4", "text": ',
        '{"name": "c.mp4"}',
        '',
        '{"name": "a.mp4", "text": "Again."}',
        '{"name": "d.mp4", "text": "It\u2019s fine."}',
      ].join('\n'),
    );
    const corpus = readCorpus(path, 'openasl');
    assert.deepEqual(
      corpus.sentences.map((s) => [s.id, s.line, s.text]),
      [
        ['a', 1, 'Hello there.'],
        ['d', 6, "It's fine."],
      ],
    );
    assert.deepEqual(
      corpus.problems.map((p) => p.line),
      [2, 3, 5],
    );
    assert.match(corpus.problems[0].message, /invalid JSON/);
    assert.match(corpus.problems[1].message, /field "text" is missing/);
    assert.match(corpus.problems[2].message, /duplicate id "a" \(first on line 1\)/);
    assert.throws(() => readCorpus(path, 'openasl', { strict: true }), new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
  });

  it('How2Sign CSV rows with a bad time range or a broken quote are reported', () => {
    const path = join(dir, 'h2s.csv');
    const header = 'VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE';
    writeFileSync(path, [header, 'v\tv-1\tv_0\tv_0-1\t1.0\t2.5\tFine.', 'v\tv-1\tv_1\tv_1-1\t3.0\t2.0\tBackwards.', 'v\tv-1\tv_2\tv_2-1\t4\t5\tShort'].join('\r\n') + '\r\n');
    const corpus = readCorpus(path, 'how2sign');
    assert.deepEqual(
      corpus.sentences.map((s) => s.id),
      ['v_0-1', 'v_2-1'],
    );
    assert.equal(corpus.problems.length, 1);
    assert.equal(corpus.problems[0].line, 3);
    assert.match(corpus.problems[0].message, /bad time range/);
  });

  it('plain text: one sentence per line, blank lines skipped, unknown datasets refused', () => {
    const path = join(dir, 'plain.txt');
    writeFileSync(path, 'First one.\r\n\r\n  Second   one.  \n');
    assert.deepEqual(
      readCorpus(path, 'text').sentences.map((s) => [s.id, s.text]),
      [
        ['line-1', 'First one.'],
        ['line-3', 'Second one.'],
      ],
    );
    assert.throws(() => resolveDataset('how2sing', path), /unknown dataset "how2sing"/);
    assert.throws(() => readCorpus(join(dir, 'missing.txt'), 'text'), /cannot read text file .*missing\.txt: no such file/);
  });
});
