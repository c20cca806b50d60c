// The decoder stage's identity baseline (the oracle pseudo-gloss, lower-cased, as the English): its hypotheses, its
// metrics beside the decoder's in the report (JSON and text) and the ratio of the BLEU-4s. The runner's part is tested
// on stories260K in test/model-dependent/eval-decoder.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVALUATORS, IDENTITY_BASELINE } from '../../src/eval/evaluators.js';
import { corpusBleu } from '../../src/eval/metrics/bleu.js';
import { buildEvalReport, formatEvalSummary } from '../../src/eval/report.js';
import type { EvalRun, EvalSampleRow } from '../../src/eval/run.js';

const GLOSSES = ['YESTERDAY I STORE GO', 'YOUR NAME WHAT', 'COFFEE I LIKE NOT'];
const REFERENCES = ['Yesterday I went to the store.', 'What is your name?', 'I do not like coffee.'];
const DECODED = ['Yesterday I went to the store.', 'What is your name?', 'I like coffee.'];

function decoderRun(hypotheses: readonly string[], glosses: readonly string[]): EvalRun {
  const decoder = EVALUATORS.decoder;
  const rows: EvalSampleRow[] = hypotheses.map((h, i) => ({
    id: `s${i}`,
    line: i + 1,
    status: 'ok',
    message: null,
    input: glosses[i],
    hypothesis: h,
    reference: REFERENCES[i],
    scores: decoder.sentence(h, REFERENCES[i], 'en'),
    ms: 5,
  }));
  return {
    stage: 'decoder',
    dataset: { name: 'jsonl', split: 'test', manifest: { path: '/d/test.jsonl', sha256: 'f'.repeat(64) }, videos: null, samples: rows.map((r) => ({ id: r.id, line: r.line, text: r.reference as string, language: 'en', video: null })), problems: [] },
    identity: { stage: 'decoder', dataset: { name: 'jsonl', split: 'test', sha256: 'f'.repeat(64) }, config: null, decoder: null, references: null, signweave: '0' },
    rows,
    resumed: new Set(),
    metrics: decoder.corpus(hypotheses, REFERENCES, 'en'),
    baseline: { id: IDENTITY_BASELINE.id, description: IDENTITY_BASELINE.description, metrics: decoder.corpus(glosses.map(IDENTITY_BASELINE.hypothesis), REFERENCES, 'en') },
    provenance: { config: null, pipeline: null, decoder: null, references: null },
    samplesFile: { path: '/d/r.samples.jsonl', tornLine: null },
    seconds: 2,
  };
}

describe('the identity baseline of eval decoder', () => {
  it('is the oracle pseudo-gloss lower-cased, and only the decoder stage has it', () => {
    assert.equal(EVALUATORS.decoder.baseline, IDENTITY_BASELINE);
    assert.equal(IDENTITY_BASELINE.hypothesis('YESTERDAY I STORE GO THANK-YOU'), 'yesterday i store go thank-you');
    for (const stage of ['sign', 'fingerspell', 'lipread', 'router', 'fusion', 'pipeline'] as const) assert.equal(EVALUATORS[stage].baseline, undefined, stage);
  });

  it('the report has both rows with the same metrics and signatures, and the decoder BLEU-4 over the baseline BLEU-4', () => {
    const report = buildEvalReport(decoderRun(DECODED, GLOSSES));
    const baseline = report.baseline!;
    assert.equal(baseline.id, 'identity');
    assert.deepEqual(baseline.metrics.map((m) => m.id), report.metrics.map((m) => m.id));
    assert.deepEqual(baseline.metrics.map((m) => m.signature), report.metrics.map((m) => m.signature));
    const decoderBleu = corpusBleu(DECODED, [REFERENCES]).score;
    const identityBleu = corpusBleu(GLOSSES.map((g) => g.toLowerCase()), [REFERENCES]).score;
    assert.equal(report.metrics[0].score, decoderBleu);
    assert.equal(baseline.metrics[0].score, identityBleu);
    assert.ok(identityBleu > 0 && decoderBleu > identityBleu);
    assert.equal(baseline.bleu4Ratio, decoderBleu / identityBleu);

    const text = formatEvalSummary(report);
    const lines = text.split('\n');
    const at = lines.indexOf('identity baseline: the oracle pseudo-gloss itself, lower-cased, as the English');
    assert.ok(at > 0, text);
    assert.match(lines[at - 1 - 2 * 3], /^BLEU {8}\s*\d+\.\d\d {2}B1 /);
    assert.equal(lines[at - 1], '');
    assert.match(lines[at + 1], new RegExp(`^BLEU {8}\\s*${identityBleu.toFixed(2)} {2}B1 `));
    assert.equal(lines[at + 2].trim(), baseline.metrics[0].signature);
    assert.match(lines[at + 3], /^ROUGE-L /);
    assert.match(lines[at + 5], /^chrF2 /);
    assert.equal(lines[at + 7], `BLEU-4 ratio decoder / identity: ${(decoderBleu / identityBleu).toFixed(2)}×`);
  });

  it('a baseline that scores 0 BLEU-4 leaves the ratio undefined, and says so', () => {
    const report = buildEvalReport(decoderRun(DECODED, ['A', 'B', 'C']));
    assert.equal(report.baseline!.metrics[0].score, 0);
    assert.equal(report.baseline!.bleu4Ratio, null);
    assert.match(formatEvalSummary(report), /\nBLEU-4 ratio decoder \/ identity: undefined \(the baseline scores 0\)\n/);
  });

  it('a stage without a baseline has none in its report or summary', () => {
    const report = buildEvalReport({ ...decoderRun(DECODED, GLOSSES), stage: 'pipeline', baseline: null });
    assert.equal(report.baseline, null);
    assert.doesNotMatch(formatEvalSummary(report), /baseline|BLEU-4 ratio/);
  });
});
