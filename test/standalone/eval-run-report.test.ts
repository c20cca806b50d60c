// The parts of an evaluation that are pure functions: the configs each stage runs, routing accuracy, the translation
// metrics' settings, the ranking of rows and the report built from a run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVALUATORS, ROUTING_SIGNATURES, stageConfig } from '../../src/eval/evaluators.js';
import { corpusBleu } from '../../src/eval/metrics/bleu.js';
import { buildEvalReport, formatEvalSummary, rankRows } from '../../src/eval/report.js';
import type { EvalRun, EvalSampleRow } from '../../src/eval/run.js';
import type { EvalSample, SampleReferences } from '../../src/eval/types.js';
import { resolvePipelineConfig, type PipelineConfig } from '../../src/pipeline/config.js';
import { inputError } from '../helpers/assert.js';

const FULL: PipelineConfig = {
  format: 'signweave-pipeline/1',
  landmarks: { face: { model: '/m/face.task' } },
  backbone: { type: 'hf-folder', path: '/m/backbone' },
  experts: { sign: { bundle: '/b/sign' }, fingerspell: { bundle: '/b/fs' }, lipread: { bundle: '/b/lips' } },
  router: { bundle: '/b/router' },
  fusion: { bundle: '/b/fusion', variants: { 'no-fingerspell': '/b/fusion-no-fs', 'no-lip': '/b/fusion-no-lip' } },
  decoder: { model: '/m/llama.gguf', threads: 1 },
};

describe('the config each stage runs', () => {
  const resolved = resolvePipelineConfig(FULL);
  const parts = (c: PipelineConfig) => [!!c.experts.fingerspell, !!c.experts.lipread, !!c.router, !!c.fusion, !!c.decoder];

  it('turns off everything the stage does not score', () => {
    assert.deepEqual(parts(stageConfig(EVALUATORS.sign, resolved)), [false, false, false, false, false]);
    assert.deepEqual(parts(stageConfig(EVALUATORS.fingerspell, resolved)), [true, false, false, false, false]);
    assert.deepEqual(parts(stageConfig(EVALUATORS.lipread, resolved)), [false, true, false, false, false]);
    assert.deepEqual(parts(stageConfig(EVALUATORS.router, resolved)), [false, false, true, false, false]);
    assert.deepEqual(parts(stageConfig(EVALUATORS.fusion, resolved)), [true, true, true, true, false]);
    assert.deepEqual(parts(stageConfig(EVALUATORS.pipeline, resolved)), [true, true, true, true, true]);
    assert.deepEqual(stageConfig(EVALUATORS.sign, resolved).experts.sign, FULL.experts.sign);
  });

  it('a part the stage scores but the config turns off is an error naming the config, its preset and the pointer', () => {
    const noFs = resolvePipelineConfig(FULL, { preset: 'no-fingerspelling' });
    assert.throws(
      () => stageConfig(EVALUATORS.fingerspell, noFs),
      inputError(/^the pipeline config object \(preset 'no-fingerspelling'\): \/experts\/fingerspell: is null, but `signweave eval fingerspell` scores the fingerspelling expert$/),
    );
    const { decoder: _decoder, ...withoutDecoder } = FULL;
    assert.throws(
      () => stageConfig(EVALUATORS.pipeline, resolvePipelineConfig(withoutDecoder)),
      inputError(/^the pipeline config object: \/decoder: is missing, but `signweave eval pipeline` scores the English decoder \(a `decoder` section\)$/),
    );
    assert.throws(() => stageConfig(EVALUATORS.fusion, resolvePipelineConfig(FULL, { preset: 'no-fusion' })), inputError(/: \/fusion: is null, but `signweave eval fusion` scores fusion$/));
  });
});

describe('routing accuracy', () => {
  const { router } = EVALUATORS;
  const refs = (r: Partial<SampleReferences>): SampleReferences => ({ pseudogloss: [], phonemes: [], letters: '', routing: null, sampleClass: 'sign', english: '', ...r }) as SampleReferences;
  const seg = (label: string, start: number, end: number) => ({ label, start, end });

  it('per labelled segment: the class overlapping it longest', () => {
    const routing = [{ label: 'sign', start: 0, end: 1 }, { label: 'fingerspell', start: 1, end: 2 }, { label: 'sign', start: 5, end: 6 }] as const;
    const reference = router.reference(refs({ routing: [...routing] }));
    assert.deepEqual(reference, { segments: routing });
    // 0–1: sign 0.6 s vs fingerspell 0.4 s → sign (right); 1–2: rest 0.5 = fingerspell 0.5 → the tie goes to fingerspell (right);
    // 5–6: nothing overlaps it → wrong.
    const decisions = [seg('sign', 0, 0.6), seg('fingerspell', 0.6, 1.5), seg('rest', 1.5, 2)];
    assert.deepEqual(router.sentence(decisions, reference, 'en'), { accuracy: (100 * 2) / 3, correct: 2, total: 3 });
    assert.equal(router.sentence([seg('rest', 0, 2)], reference, 'en').correct, 0);
  });

  it('per sample by class: fingerspell needs every segment, sign none, mixed at least one', () => {
    const score = (sampleClass: SampleReferences['sampleClass'], labels: string[]) =>
      router.sentence(
        labels.map((l, i) => seg(l, i, i + 1)),
        router.reference(refs({ sampleClass }))!,
        'en',
      ).correct;
    assert.deepEqual([score('fingerspell', ['fingerspell', 'fingerspell']), score('fingerspell', ['fingerspell', 'rest']), score('fingerspell', [])], [1, 0, 0]);
    assert.deepEqual([score('sign', ['sign', 'rest']), score('sign', ['sign', 'fingerspell']), score('sign', [])], [1, 0, 0]);
    assert.deepEqual([score('mixed', ['sign', 'fingerspell']), score('mixed', ['fingerspell']), score('mixed', ['sign'])], [1, 1, 0]);
  });

  it('corpus: one metric per unit present, with its signature', () => {
    const labelled = router.reference(refs({ routing: [{ label: 'sign', start: 0, end: 1 }] }))!;
    const byClass = router.reference(refs({ sampleClass: 'mixed' }))!;
    const metrics = router.corpus([[seg('sign', 0, 1)], [seg('sign', 0, 1)], []], [labelled, byClass, byClass], 'en');
    assert.deepEqual(
      metrics.map((m) => [m.id, m.result.score, m.result.signature, m.details]),
      [
        ['routing-segment', 100, ROUTING_SIGNATURES.segment, '1 of 1 segments routed right'],
        ['routing-sample', 0, ROUTING_SIGNATURES.sample, '0 of 2 samples routed right'],
      ],
    );
  });
});

describe('translation metrics', () => {
  const { decoder } = EVALUATORS;
  const hyps = ['the cat sat on the mat', 'a dog'];
  const refs = ['the cat is on the mat', 'a big dog'];

  it('BLEU (13a, cumulative BLEU-1..4), ROUGE-L and chrF, each with its signature', () => {
    const metrics = decoder.corpus(hyps, refs, 'en');
    assert.deepEqual(metrics.map((m) => m.id), ['bleu', 'rouge', 'chrf']);
    const bleu = corpusBleu(hyps, [refs]);
    assert.equal(metrics[0].result.score, bleu.score);
    assert.deepEqual(metrics[0].result.cumulative, bleu.cumulative);
    assert.match(metrics[0].result.signature, /\|tok:13a\|/);
    assert.match(metrics[1].result.signature, /^nrefs:1\|variant:coco\|.*tok:space/);
  });

  it('Chinese is scored on characters', () => {
    const metrics = decoder.corpus(['我们明天去学校'], ['我们明天去上学'], 'zh');
    assert.match(metrics[0].result.signature, /\|tok:char\|/);
    assert.match(metrics[1].result.signature, /\|tok:char\|/);
    assert.ok((metrics[1].result.score as number) > 50);
    assert.ok(decoder.sentence('我们明天去学校', '我们明天去上学', 'zh').bleu > 0);
  });

  it('a failure of the decoder is a failed outcome with its message; its sentence scores are those of an empty line', () => {
    assert.ok(decoder.input === 'pseudogloss');
    const outcome = decoder.hypothesis(
      { gloss: 'X', text: null, failure: 'prompt-too-long', message: 'the prompt has 600 tokens', raw: '', stop: 'not-run', promptTokens: 600, generatedTokens: 0, firstTokenMs: null, totalMs: 1 },
      'X',
    );
    assert.deepEqual(outcome, { failure: 'prompt-too-long: the prompt has 600 tokens', input: 'X' });
    assert.deepEqual(decoder.sentence(decoder.empty as string, 'a dog', 'en'), { bleu: 0, rouge: 0, chrf: 0 });
  });
});

const sample = (id: string, line: number): EvalSample => ({ id, line, text: id, language: 'en', video: null });
const row = (id: string, line: number, status: EvalSampleRow['status'], scores: Record<string, number> | null): EvalSampleRow => ({
  id,
  line,
  status,
  message: status === 'failed' ? 'broken' : null,
  input: null,
  hypothesis: status === 'ok' ? `hyp ${id}` : null,
  reference: scores ? `ref ${id}` : null,
  scores,
  ms: scores ? 10 : null,
});

describe('the report', () => {
  it('ranks rows worst first: by the stage score, failed before ok at a tie, then the unscored in manifest order', () => {
    const rows = [
      row('a', 1, 'ok', { wer: 50 }),
      row('b', 2, 'missing-video', null),
      row('c', 3, 'ok', { wer: 120 }),
      row('d', 4, 'no-reference', null),
      row('e', 5, 'failed', { wer: 100 }),
      row('f', 6, 'ok', { wer: 100 }),
      row('g', 7, 'missing-video', null),
    ];
    assert.deepEqual(rankRows('sign', rows).map((r) => r.id), ['c', 'e', 'f', 'a', 'b', 'g', 'd']);
    // Translation: lowest sentence BLEU first, chrF breaks ties.
    const t = [row('x', 1, 'ok', { bleu: 10, chrf: 50 }), row('y', 2, 'ok', { bleu: 0, chrf: 30 }), row('z', 3, 'ok', { bleu: 0, chrf: 20 })];
    assert.deepEqual(rankRows('pipeline', t).map((r) => r.id), ['z', 'y', 'x']);
  });

  it('has the tool, dataset, counts, metrics with signatures, a loud warning for untrained weights, and the rows', () => {
    const rows = [row('a', 1, 'ok', { wer: 50 }), row('b', 2, 'missing-video', null), row('c', 3, 'failed', { wer: 100 }), row('d', 4, 'ok', { wer: 0 })];
    const run: EvalRun = {
      stage: 'sign',
      dataset: { name: 'jsonl', split: 'test', manifest: { path: '/d/test.jsonl', sha256: 'f'.repeat(64) }, videos: '/d', samples: rows.map((r) => sample(r.id, r.line)), problems: [{ line: 9, message: 'bad' }] },
      identity: { stage: 'sign', dataset: { name: 'jsonl', split: 'test', sha256: 'f'.repeat(64) }, config: null, decoder: null, references: null, signweave: '0' },
      rows,
      resumed: new Set(['a']),
      metrics: [{ id: 'wer', result: { name: 'WER', score: 50, signature: 'metric:wer|x', hits: 1 }, details: 'N=2' }],
      baseline: null,
      provenance: { config: null, pipeline: { untrainedBundles: ['demo-sign'] } as never, decoder: null, references: null },
      samplesFile: { path: '/d/r.samples.jsonl', tornLine: null },
      seconds: 1.5,
    };
    const report = buildEvalReport(run);
    assert.deepEqual(report.tool, { name: 'signweave', version: report.tool.version, command: 'eval' });
    assert.deepEqual(report.dataset, { name: 'jsonl', split: 'test', manifest: run.dataset.manifest, videos: '/d', problems: [{ line: 9, message: 'bad' }] });
    assert.deepEqual(report.counts, { samples: 4, evaluated: 3, failed: 1, missingVideos: 1, noReference: 0, resumed: 1 });
    assert.deepEqual(report.metrics, [{ id: 'wer', name: 'WER', score: 50, signature: 'metric:wer|x', hits: 1, details: 'N=2' }]);
    assert.equal(report.untrained, true);
    assert.equal(report.warning, 'UNTRAINED MODELS: demo-sign has no trained weights, so these scores are meaningless.');
    assert.deepEqual(report.samples.map((r) => [r.id, r.resumed]), [['c', false], ['a', true], ['d', false], ['b', false]]);

    const text = formatEvalSummary(report, { worst: 2 });
    const lines = text.split('\n');
    assert.equal(lines[0], report.warning);
    assert.equal(lines[1], 'eval sign on jsonl test (/d/test.jsonl)');
    assert.match(text, /\nsamples {2}4: 3 evaluated \(1 failed, 1 resumed\), 1 without video, 0 without a reference; 1 manifest lines skipped\n/);
    assert.match(text, /\nWER +50\.00 {2}N=2\n +metric:wer\|x\n/);
    assert.match(text, /\n {2}c {2}100\.00 {2}FAILED: broken \| ref "ref c"\n {2}a {3}50\.00 {2}hyp "hyp a" \| ref "ref a"\n\n/);
  });
});
