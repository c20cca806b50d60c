// The resumable runner on the `sign` stage (no MediaPipe): the demo's untrained bundles over the first second of three
// How2Sign clips, listed in a jsonl manifest with two entries whose videos do not exist. Rows, counts, metrics and
// provenance; resuming, a torn last line, another identity, strict, and Ctrl-C (an aborted signal).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEvalDataset } from '../../src/eval/datasets.js';
import { scoreCorpus } from '../../src/eval/metrics/registry.js';
import { EvalReferences } from '../../src/eval/references.js';
import { runEval, type EvalProgress, type RunEvalOptions } from '../../src/eval/run.js';
import type { EvalDataset } from '../../src/eval/types.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';

const clip = (name: string) => sharedPath('data', 'how2sign', 'clips_rgb_front', name);
const root = mkdtempSync(join(tmpdir(), 'signweave-eval-run-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MANIFEST = [
  { id: 'okay', video: clip('_15CDIexNDM_9-5-rgb_front.mp4'), text: 'Okay.' },
  { id: 'gone-1', video: 'videos/gone-1.mp4', text: 'Hello there.' },
  { id: 'all-right', video: clip('_5keJZsmTh0_0-5-rgb_front.mp4'), text: 'All right.' },
  { id: 'mascara', video: clip('_0fO5ETSwyg_0-5-rgb_front.mp4'), start: 0, end: 1, text: 'You have used waterproof mascara, now how do you remove it?' },
  { id: 'gone-2', video: 'videos/gone-2.mp4', text: 'See you tomorrow.' },
];
const PRESENT = ['okay', 'all-right', 'mascara'];

function writeManifest(name: string, lines: object[]): string {
  const path = join(root, name);
  writeFileSync(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return path;
}

const readRecords = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; id?: string; identity?: { stage: string } });

describe('runEval on the sign stage', () => {
  let config: string;
  let dataset: EvalDataset;
  const references = new EvalReferences();
  const base = (samplesFile: string): RunEvalOptions => ({ stage: 'sign', dataset, config, references, samplesFile, threads: 1 });

  before(async () => {
    config = (await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task') })).config;
    dataset = await loadEvalDataset('jsonl', { data: writeManifest('test.jsonl', MANIFEST) });
  });

  it('scores the samples with video, counts the others, and keeps every row in the samples file', async () => {
    const samplesFile = join(root, 'first.samples.jsonl');
    const events: EvalProgress[] = [];
    const run = await runEval({ ...base(samplesFile), onProgress: (e) => events.push(e) });

    assert.deepEqual(
      run.rows.map((r) => [r.id, r.status]),
      [['okay', 'ok'], ['gone-1', 'missing-video'], ['all-right', 'ok'], ['mascara', 'ok'], ['gone-2', 'missing-video']],
    );
    assert.equal(run.rows[1].message, join(root, 'videos', 'gone-1.mp4'));
    assert.deepEqual(events[0], { type: 'start', samples: 5, toRun: 3, resumed: 0, missingVideos: 2, noReference: 0 });
    const progress = events.filter((e) => e.type === 'progress');
    assert.deepEqual(progress.map((e) => [e.done, e.total]), [[1, 3], [2, 3], [3, 3]]);
    assert.equal(progress.at(-1)?.etaMs, 0);
    assert.ok(events.some((e) => e.type === 'pipeline' && e.id === 'mascara' && e.event.stage === 'backbone'));

    // Each row: the sign stream against the Stage-1 pseudo-gloss, with its sentence WER.
    const scored = run.rows.filter((r) => r.status === 'ok');
    for (const r of scored) {
      const sample = dataset.samples.find((s) => s.id === r.id)!;
      assert.equal(r.reference, (await references.forSample(sample)).pseudogloss.join(' '));
      assert.equal(typeof r.hypothesis, 'string');
      assert.equal(r.scores?.wer, scoreCorpus(['wer'], [r.hypothesis as string], [[r.reference as string]])[0].result.score);
      assert.ok(r.ms !== null && r.ms > 0);
    }
    assert.equal(scored.find((r) => r.id === 'okay')?.reference, 'OKAY');
    const [wer] = run.metrics;
    const corpus = scoreCorpus(['wer'], scored.map((r) => r.hypothesis as string), [scored.map((r) => r.reference as string)])[0];
    assert.equal(wer.id, 'wer');
    assert.equal(wer.result.score, corpus.result.score);
    assert.match(wer.result.signature, /^metric:wer\|.*\|version:signweave-/);

    // Only what is scored ran: the sign expert alone (untrained).
    assert.deepEqual(Object.keys(run.provenance.pipeline?.bundles ?? {}), ['sign']);
    assert.equal(run.provenance.pipeline?.untrained, true);
    assert.equal(run.provenance.pipeline?.config.path, config);
    assert.equal(run.provenance.config?.path, config);
    assert.equal(run.identity.config?.sha256, run.provenance.config?.sha256);
    assert.equal(run.samplesFile.tornLine, null);

    const records = readRecords(samplesFile);
    assert.equal(records[0].type, 'header');
    assert.equal(records[0].identity?.stage, 'sign');
    assert.deepEqual(records.filter((r) => r.type === 'sample').map((r) => r.id), PRESENT);
    assert.equal(records.filter((r) => r.type === 'provenance').length, 1);
  });

  it('a second run with the same identity resumes: nothing runs, the same scores', async () => {
    const samplesFile = join(root, 'resume.samples.jsonl');
    const first = await runEval(base(samplesFile));
    const events: EvalProgress[] = [];
    const again = await runEval({ ...base(samplesFile), onProgress: (e) => events.push(e) });
    assert.deepEqual(events, [{ type: 'start', samples: 5, toRun: 0, resumed: 3, missingVideos: 2, noReference: 0 }]);
    assert.deepEqual([...again.resumed], PRESENT);
    assert.deepEqual(again.rows, first.rows);
    assert.deepEqual(again.metrics, first.metrics);
    // The provenance of a run that ran nothing comes from the samples file.
    assert.deepEqual(again.provenance.pipeline, first.provenance.pipeline);
    assert.equal(readRecords(samplesFile).length, 1 + 1 + 3);
  });

  it('a torn last line (a crash mid-write) is dropped and reported, and its sample runs again', async () => {
    const samplesFile = join(root, 'torn.samples.jsonl');
    await runEval(base(samplesFile));
    const size = readFileSync(samplesFile).length;
    truncateSync(samplesFile, size - 20);
    const events: EvalProgress[] = [];
    const run = await runEval({ ...base(samplesFile), onProgress: (e) => events.push(e) });
    assert.match(run.samplesFile.tornLine ?? '', /^\{"type":"sample","id":"mascara",/);
    assert.deepEqual(events[0], { type: 'start', samples: 5, toRun: 1, resumed: 2, missingVideos: 2, noReference: 0 });
    assert.deepEqual([...run.resumed], ['okay', 'all-right']);
    // The file is whole again: every line parses, each sample once.
    assert.deepEqual(readRecords(samplesFile).filter((r) => r.type === 'sample').map((r) => r.id), PRESENT);
  });

  it('another identity is refused, naming what differs; restart starts over', async () => {
    const samplesFile = join(root, 'identity.samples.jsonl');
    await runEval(base(samplesFile));
    await assert.rejects(
      runEval({ ...base(samplesFile), preset: 'no-fusion' }),
      inputError(new RegExp(`^${samplesFile} holds the samples of another evaluation \\(config\\.preset: null in the file, "no-fusion" now\\): use --restart to discard them, or another --out$`)),
    );
    const events: EvalProgress[] = [];
    const run = await runEval({ ...base(samplesFile), preset: 'no-fusion', restart: true, onProgress: (e) => events.push(e) });
    assert.equal(run.resumed.size, 0);
    assert.equal(events.filter((e) => e.type === 'row').length, 3);
    assert.equal(run.provenance.pipeline?.config.preset, 'no-fusion');
    assert.equal(readRecords(samplesFile).filter((r) => r.type === 'sample').length, 3);
  });

  it('strict: a sample without video stops the run before anything runs or is written', async () => {
    const samplesFile = join(root, 'strict.samples.jsonl');
    await assert.rejects(
      runEval({ ...base(samplesFile), strict: true }),
      inputError(new RegExp(`^sample gone-1 \\(${join(root, 'test.jsonl')}:2\\) has no video: ${join(root, 'videos', 'gone-1.mp4')} not found`)),
    );
    assert.equal(existsSync(samplesFile), false);
  });

  it('an aborted run (Ctrl-C) rejects with the reason, keeps the rows written, and the next run resumes', async () => {
    const samplesFile = join(root, 'abort.samples.jsonl');
    const controller = new AbortController();
    const reason = new Error('interrupted');
    await assert.rejects(
      runEval({ ...base(samplesFile), signal: controller.signal, onProgress: (e) => e.type === 'row' && controller.abort(reason) }),
      (err) => err === reason,
    );
    assert.deepEqual(readRecords(samplesFile).filter((r) => r.type === 'sample').map((r) => r.id), ['okay']);
    const run = await runEval(base(samplesFile));
    assert.deepEqual([...run.resumed], ['okay']);
    assert.equal(run.rows.filter((r) => r.status === 'ok').length, 3);
  });

  it('fingerspell, router and fusion: each runs its part and scores it against its reference', async () => {
    const labelled = await loadEvalDataset('jsonl', {
      data: writeManifest('labelled.jsonl', [
        { ...MANIFEST[0], id: 'spelled', text: 'NASA', letters: 'nasa', routing: [{ label: 'fingerspell', start: 0, end: 0.4 }, { label: 'sign', start: 0.4, end: 0.7 }] },
        { ...MANIFEST[2], id: 'plain' },
        { ...MANIFEST[3], id: 'anna', text: 'Anna visited NASA yesterday.' },
      ]),
    });
    const run = (stage: RunEvalOptions['stage'], preset?: RunEvalOptions['preset']) =>
      runEval({ ...base(join(root, `${stage}.samples.jsonl`)), stage, preset, dataset: labelled });

    const fs = await run('fingerspell');
    assert.deepEqual(fs.rows.map((r) => [r.id, r.status, r.reference]), [['spelled', 'ok', 'nasa'], ['plain', 'no-reference', null], ['anna', 'ok', 'anna nasa']]);
    assert.equal(fs.rows[1].message, 'no fingerspelled letters');
    assert.deepEqual(fs.metrics.map((m) => m.id), ['letter', 'cer']);
    assert.deepEqual(Object.keys(fs.provenance.pipeline?.bundles ?? {}), ['sign', 'fingerspell']);

    const router = await run('router');
    assert.deepEqual(router.rows.map((r) => r.reference), [
      { segments: [{ label: 'fingerspell', start: 0, end: 0.4 }, { label: 'sign', start: 0.4, end: 0.7 }] },
      { sampleClass: 'sign' },
      { sampleClass: 'mixed' },
    ]);
    for (const r of router.rows) assert.ok(Array.isArray(r.hypothesis) && r.hypothesis.length > 0);
    assert.deepEqual(router.metrics.map((m) => [m.id, m.result.total]), [['routing-segment', 2], ['routing-sample', 2]]);
    assert.deepEqual(Object.keys(router.provenance.pipeline?.bundles ?? {}), ['sign', 'router']);

    const fusion = await run('fusion', 'no-lipreading');
    assert.deepEqual(fusion.rows.map((r) => r.reference), ['NASA', 'ALL RIGHT', 'YESTERDAY ANNA VISIT NASA']);
    assert.deepEqual(fusion.metrics.map((m) => m.id), ['wer']);
    assert.deepEqual(Object.keys(fusion.provenance.pipeline?.bundles ?? {}), ['sign', 'fingerspell', 'router', 'fusion']);
    assert.equal(fusion.provenance.pipeline?.bundles.fusion?.name, 'demo-fusion-no-lip');
  });

  it('nothing to score: the error says why (no video anywhere) and where to look', async () => {
    const gone = await loadEvalDataset('jsonl', { data: writeManifest('gone.jsonl', MANIFEST.filter((l) => l.id.startsWith('gone'))) });
    await assert.rejects(
      runEval({ ...base(join(root, 'gone.samples.jsonl')), dataset: gone }),
      inputError(/^no sample of .*gone\.jsonl can be scored for the sign stage: 2 without their video \(e\.g\. sample gone-1: .*gone-1\.mp4 not found; give the videos folder with --videos\)$/),
    );
  });
});
