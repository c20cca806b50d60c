// The translation stages on ../shared's stories260K (1 thread, CPU): the decoder stage on the oracle pseudo-gloss of a
// few How2Sign test sentences, in batches, resumed, and failing when the prompt does not fit; the pipeline stage on a
// short How2Sign clip with the untrained demo bundles (no-lipreading: no Chromium). A few seconds.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEvalDataset } from '../../src/eval/datasets.js';
import { EVALUATORS } from '../../src/eval/evaluators.js';
import { corpusBleu } from '../../src/eval/metrics/bleu.js';
import { scoreCorpus } from '../../src/eval/metrics/registry.js';
import { EvalReferences } from '../../src/eval/references.js';
import { runEval, type EvalProgress } from '../../src/eval/run.js';
import type { EvalDataset } from '../../src/eval/types.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { sha256File } from '../../src/util/hash.js';
import { sharedPath } from '../helpers/shared.js';

const MODEL = sharedPath('models', 'stories260K', 'stories260K.gguf');
/** stories260K's small vocabulary makes the default prompt ~470 tokens: the context is set, not left to the default. */
const DECODER = { model: MODEL, gpu: 'cpu', threads: 1, contextSize: 1024, maxTokens: 24 } as const;
const root = mkdtempSync(join(tmpdir(), 'signweave-eval-decoder-'));
after(() => rmSync(root, { recursive: true, force: true }));
const references = new EvalReferences();

describe('eval decoder: the oracle pseudo-gloss through stories260K', () => {
  let dataset: EvalDataset;
  before(async () => {
    dataset = await loadEvalDataset('how2sign', { data: sharedPath('data', 'how2sign', 'unisign_labels_jsonl'), split: 'test', limit: 6 });
  });

  it('English per sample against the reference translation: BLEU-1..4, ROUGE-L, chrF; then resumed', async () => {
    const samplesFile = join(root, 'decoder.samples.jsonl');
    const events: EvalProgress[] = [];
    const run = await runEval({ stage: 'decoder', dataset, decoder: { ...DECODER, parallel: 1 }, references, samplesFile, onProgress: (e) => events.push(e) });
    assert.equal(run.rows.length, 6);
    for (const [i, r] of run.rows.entries()) {
      const refs = await references.forSample(dataset.samples[i]);
      assert.equal(r.status, 'ok', r.message ?? '');
      assert.equal(r.input, refs.pseudogloss.join(' '));
      assert.equal(r.reference, dataset.samples[i].text);
      assert.ok(typeof r.hypothesis === 'string' && r.hypothesis.length > 0);
      assert.ok(r.scores && Object.keys(r.scores).join() === 'bleu,rouge,chrf');
    }
    const hyps = run.rows.map((r) => r.hypothesis as string);
    const refs = run.rows.map((r) => r.reference as string);
    assert.deepEqual(run.metrics.map((m) => m.id), ['bleu', 'rouge', 'chrf']);
    assert.equal(run.metrics[0].result.score, corpusBleu(hyps, [refs]).score);
    assert.deepEqual(run.metrics[0].result.cumulative, corpusBleu(hyps, [refs]).cumulative);
    assert.equal(run.metrics[2].result.score, scoreCorpus(['chrf'], hyps, [refs])[0].result.score);
    assert.match(run.metrics[0].result.signature, /^nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|/);
    // In the same run, the identity baseline: the oracle pseudo-gloss, lower-cased, with the same metrics.
    assert.equal(run.baseline?.id, 'identity');
    assert.deepEqual(run.baseline?.metrics, EVALUATORS.decoder.corpus(run.rows.map((r) => (r.input as string).toLowerCase()), refs, 'en'));
    // Rows reach the file batch by batch (4 × parallel): the first four before any of the last two is generated.
    const seen = events.map((e) => (e.type === 'row' ? `row ${e.row.id}` : e.type === 'progress' ? `done ${e.done}/${e.total}` : e.type));
    assert.equal(seen.filter((e) => e.startsWith('row')).length, 6);
    assert.ok(seen.lastIndexOf(`row ${dataset.samples[3].id}`) < seen.indexOf('done 5/6'), seen.join(', '));
    assert.deepEqual(seen.filter((e) => e.startsWith('done')), ['done 1/6', 'done 2/6', 'done 3/6', 'done 4/6', 'done 5/6', 'done 6/6']);
    assert.equal(run.provenance.decoder?.model.sha256, await sha256File(MODEL));
    assert.equal(run.provenance.decoder?.runtime.gpu, false);
    assert.equal(run.provenance.pipeline, null);

    // Resumed: nothing is loaded or generated; the same scores and provenance.
    const again = await runEval({ stage: 'decoder', dataset, decoder: { ...DECODER, parallel: 2 }, references, samplesFile });
    assert.equal(again.resumed.size, 6);
    assert.deepEqual(again.metrics, run.metrics);
    assert.deepEqual(again.baseline, run.baseline);
    assert.deepEqual(again.provenance.decoder, run.provenance.decoder);
    // Another generation budget is another evaluation.
    await assert.rejects(runEval({ stage: 'decoder', dataset, decoder: { ...DECODER, maxTokens: 8 }, references, samplesFile }), /decoder\.maxTokens: 24 in the file, 8 now/);
  });

  it('a prompt that does not fit is a failed sample, counted as an empty line', async () => {
    const run = await runEval({ stage: 'decoder', dataset, decoder: { model: MODEL, gpu: 'cpu', threads: 1, contextSize: 256 }, references, samplesFile: join(root, 'small.samples.jsonl') });
    assert.ok(run.rows.every((r) => r.status === 'failed' && /^prompt-too-long: /.test(r.message ?? '')));
    assert.deepEqual(run.rows[0].scores, { bleu: 0, rouge: 0, chrf: 0 });
    assert.equal(run.metrics[0].result.score, 0);
    // The baseline needs no decoding: the failed samples' glosses are scored all the same.
    const glosses = await Promise.all(dataset.samples.map(async (s) => (await references.forSample(s)).pseudogloss.join(' ').toLowerCase()));
    assert.deepEqual(run.baseline?.metrics, EVALUATORS.decoder.corpus(glosses, dataset.samples.map((s) => s.text), 'en'));
    assert.ok(run.baseline!.metrics[2].result.score > 0);
  });
});

describe('eval pipeline: the whole pipeline to English', () => {
  it('a clip: the fused pseudo-gloss is the decoder input, the English is scored, decoder provenance kept', async () => {
    const { config } = await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task'), decoder: DECODER });
    const manifest = join(root, 'clip.jsonl');
    const video = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
    writeFileSync(manifest, `${JSON.stringify({ id: 'okay', video, end: 0.5, text: 'Okay.' })}\n`);
    const dataset = await loadEvalDataset('jsonl', { data: manifest });
    const samplesFile = join(root, 'pipeline.samples.jsonl');
    const run = await runEval({ stage: 'pipeline', dataset, config, preset: 'no-lipreading', threads: 1, references, samplesFile });
    const [r] = run.rows;
    assert.equal(r.status, 'ok', r.message ?? '');
    assert.ok(typeof r.input === 'string' && r.input.length > 0);
    assert.ok(typeof r.hypothesis === 'string' && r.hypothesis.length > 0);
    assert.equal(r.reference, 'Okay.');
    assert.deepEqual(run.metrics.map((m) => m.id), ['bleu', 'rouge', 'chrf']);
    assert.equal(run.provenance.pipeline?.untrained, true);
    assert.deepEqual(Object.keys(run.provenance.pipeline?.bundles ?? {}), ['sign', 'fingerspell', 'router', 'fusion']);
    assert.equal(run.provenance.decoder?.maxTokens, DECODER.maxTokens);
    assert.deepEqual(run.provenance.decoder, run.provenance.pipeline?.decoder);
    assert.equal(run.baseline, null);
    const header = JSON.parse(readFileSync(samplesFile, 'utf8').split('\n')[0]) as { identity: { decoder: { model: string } } };
    assert.equal(header.identity.decoder.model, await sha256File(MODEL));
  });

  it('lipread: MediaPipe lip crops into the lipreading expert, phonemes scored with PER', async () => {
    const { config } = await initDemoPipeline(join(root, 'demo-lips'), { faceModel: sharedPath('models', 'mediapipe', 'face_landmarker.task') });
    const manifest = join(root, 'lips.jsonl');
    const video = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
    writeFileSync(manifest, `${JSON.stringify({ id: 'okay', video, end: 0.5, text: 'Okay.' })}\n`);
    const dataset = await loadEvalDataset('jsonl', { data: manifest });
    const run = await runEval({ stage: 'lipread', dataset, config, threads: 1, references, samplesFile: join(root, 'lips.samples.jsonl') });
    const [r] = run.rows;
    assert.equal(r.status, 'ok', r.message ?? '');
    assert.equal(r.reference, 'ow k ey');
    assert.match(String(r.hypothesis), /^[a-z]+( [a-z]+)*$/);
    assert.deepEqual(run.metrics.map((m) => m.id), ['per']);
    assert.match(run.metrics[0].result.signature, /^metric:per\|/);
    assert.deepEqual(Object.keys(run.provenance.pipeline?.bundles ?? {}), ['sign', 'lipread']);
    assert.ok(run.provenance.pipeline?.landmarks?.models.face, 'the face model is in the provenance');
  });
});
