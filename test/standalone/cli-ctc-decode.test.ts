import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readSharedJson, sharedPath } from '../helpers/shared.js';

interface CtcVectors {
  pyctcdecode: { libri: { labels: string[]; logits_file: string; expected_text: string } };
  parlance_ctcdecode: { vocab: string[]; blank_id: number; probs_seq1: number[][]; expected: Record<string, string> };
}

const vectors = readSharedJson<CtcVectors>('data', 'metrics_reference_vectors', 'ctc_decoder_vectors.json');
const libri = vectors.pyctcdecode.libri;
const libriLogits = sharedPath('data', 'metrics_reference_vectors', libri.logits_file);
const dir = mkdtempSync(join(tmpdir(), 'signweave-ctc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const labelsJson = join(dir, 'labels.json');
writeFileSync(labelsJson, JSON.stringify([...libri.labels, '']));

/** A NumPy v1.0 .npy file of a float32 [T, V] matrix, written the way numpy.save lays it out. */
function writeNpy(path: string, rows: number[][]): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${rows[0].length}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(new Float32Array(rows.flat()).buffer);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

describe('signweave ctc-decode', () => {
  it('beam-decodes the LibriSpeech logits (JSON) to the pyctcdecode transcript', () => {
    const run = runCli(['ctc-decode', '--logits', libriLogits, '--labels', labelsJson, '--blank', 'last', '--input', 'logits']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.split('\t')[2].trim(), libri.expected_text);
  });

  it('reads .npy and reports token times in seconds with --fps', () => {
    const npy = join(dir, 'libri.npy');
    writeNpy(npy, JSON.parse(readFileSync(libriLogits, 'utf8')));
    const run = runCli(['ctc-decode', '--logits', npy, '--labels', labelsJson, '--blank', '28', '--input', 'logits', '--fps', '50', '--json', '--nbest', '2']);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.input.frames, 371);
    assert.equal(report.hypotheses.length, 2);
    const [best] = report.hypotheses;
    assert.equal(best.text, libri.expected_text);
    assert.ok(best.score >= report.hypotheses[1].score);
    const stream = best.tokenStream.tokens;
    assert.equal(stream.length, best.tokens.length);
    assert.equal(stream[0].start, best.spans[0].startFrame / 50);
    assert.ok(stream.every((t: { start: number; end: number }) => t.end > t.start && t.end <= 371 / 50));
  });

  it('greedy-decodes probabilities (parlance/ctcdecode matrix)', () => {
    const p = vectors.parlance_ctcdecode;
    const probs = join(dir, 'probs.json');
    const vocab = join(dir, 'vocab.txt');
    writeFileSync(probs, JSON.stringify({ logits: p.probs_seq1 }));
    writeFileSync(vocab, p.vocab.join('\n') + '\n');
    const run = runCli(['ctc-decode', '--logits', probs, '--labels', vocab, '--blank', String(p.blank_id), '--input', 'probs', '--decoder', 'greedy']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.split('\t')[2].replace(/\n$/, ''), p.expected['greedy_seq1 (declared in test, not asserted)']);
  });

  it('refuses unnormalised log-probabilities, naming the frame', () => {
    const run = runCli(['ctc-decode', '--logits', libriLogits, '--labels', labelsJson, '--blank', 'last']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /frame \d+ is not a log-probability distribution/);
  });

  it('reports a vocabulary/matrix mismatch, a truncated .npy and a bad blank clearly', () => {
    const short = join(dir, 'short.json');
    writeFileSync(short, JSON.stringify(libri.labels.slice(0, 10)));
    const mismatch = runCli(['ctc-decode', '--logits', libriLogits, '--labels', short, '--input', 'logits']);
    assert.equal(mismatch.status, 2);
    assert.match(mismatch.stderr, /vocabulary has 10 labels but the matrix has V = 29 columns/);

    const npy = join(dir, 'cut.npy');
    writeNpy(npy, [
      [0, -1],
      [-1, 0],
    ]);
    writeFileSync(npy, readFileSync(npy).subarray(0, -3));
    const truncated = runCli(['ctc-decode', '--logits', npy, '--labels', labelsJson]);
    assert.equal(truncated.status, 2);
    assert.match(truncated.stderr, /cut\.npy: holds 13 data bytes, expected 16 .*truncated/);

    const blank = runCli(['ctc-decode', '--logits', libriLogits, '--labels', labelsJson, '--blank', '29', '--input', 'logits']);
    assert.equal(blank.status, 2);
    assert.match(blank.stderr, /blank index 29 is out of range/);
  });
});
