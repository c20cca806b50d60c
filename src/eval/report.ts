/**
 * The report of an evaluation: one JSON document (written atomically) with what was evaluated, the counts, the
 * corpus metrics with their signatures, the provenance of every model and reference, and the per-sample rows worst
 * first; and the human summary `signweave eval` prints.
 */
import { writeFileAtomic } from '../util/atomic-write.js';
import type { MetricScore } from './metrics/types.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { EVALUATORS, type EvalMetric } from './evaluators.js';
import type { EvalRun, EvalSampleRow, EvalSampleStatus } from './run.js';
import type { DatasetProblem, EvalDatasetName, EvalStage } from './types.js';

export interface EvalReportRow extends EvalSampleRow {
  /** Read back from the samples file rather than run now. */
  resumed: boolean;
}

export interface EvalReport {
  tool: { name: 'signweave'; version: string; command: 'eval' };
  stage: EvalStage;
  /** What the stage's scores measure. */
  summary: string;
  dataset: {
    name: EvalDatasetName;
    split: string;
    manifest: { path: string; sha256: string };
    videos: string | null;
    /** Manifest lines that could not be read (skipped). */
    problems: DatasetProblem[];
  };
  counts: {
    samples: number;
    /** Samples in the metrics: `ok` and `failed` (a failed one as an empty hypothesis). */
    evaluated: number;
    failed: number;
    missingVideos: number;
    noReference: number;
    /** Evaluated samples read back from the samples file. */
    resumed: number;
  };
  /** Corpus-level: each metric's id, name, score, signature, components and a one-line summary of them. */
  metrics: ReportMetric[];
  /**
   * The stage's baseline over the same samples with the same metrics (the decoder stage's identity baseline), and the
   * stage's BLEU-4 divided by the baseline's (null when the baseline scores 0); null for stages without one.
   */
  baseline: { id: string; description: string; metrics: ReportMetric[]; bleu4Ratio: number | null } | null;
  /** True when any model that ran has untrained weights: then the scores are meaningless. */
  untrained: boolean;
  /** Said loudly when `untrained`. */
  warning: string | null;
  provenance: EvalRun['provenance'];
  samplesFile: { path: string; tornLine: string | null };
  seconds: number;
  /** Every sample, worst first (see `rankRows`). */
  samples: EvalReportRow[];
}

export type ReportMetric = { id: string; details: string } & MetricScore & Record<string, unknown>;

const reportMetrics = (metrics: readonly EvalMetric[]): ReportMetric[] => metrics.map(({ id, result, details }) => ({ id, ...result, details }));

/** BLEU-4 of `metrics` over BLEU-4 of `baseline`, or null when either has no BLEU or the baseline's is 0. */
function bleu4Ratio(metrics: readonly EvalMetric[], baseline: readonly EvalMetric[]): number | null {
  const bleu = (ms: readonly EvalMetric[]) => ms.find((m) => m.id === 'bleu')?.result.score;
  const [score, base] = [bleu(metrics), bleu(baseline)];
  return score === undefined || base === undefined || base === 0 ? null : score / base;
}

const STATUS_ORDER: Record<EvalSampleStatus, number> = { failed: 0, ok: 1, 'missing-video': 2, 'no-reference': 3 };

/**
 * Rows worst first: scored rows (`ok`, `failed`) by the stage's ranking score (then its tie-break), worst first;
 * at equal scores failed before ok, then manifest order; then the unscored rows (missing video, no reference) in
 * manifest order.
 */
export function rankRows<T extends EvalSampleRow>(stage: EvalStage, rows: readonly T[]): T[] {
  const { score, tiebreak, higherIsBetter } = EVALUATORS[stage].rank;
  const sign = higherIsBetter ? 1 : -1;
  const scored = (r: EvalSampleRow) => r.status === 'ok' || r.status === 'failed';
  const by = (key: string | undefined, a: EvalSampleRow, b: EvalSampleRow) => (key === undefined ? 0 : sign * ((a.scores![key] ?? 0) - (b.scores![key] ?? 0)));
  return [...rows].sort((a, b) => {
    const sa = scored(a);
    const sb = scored(b);
    if (sa !== sb) return sa ? -1 : 1;
    if (sa) {
      const d = by(score, a, b) || by(tiebreak, a, b);
      if (d !== 0) return d;
    }
    return STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.line - b.line;
  });
}

/** The report of a run: counts from its rows, metrics as the registry's JSON, the rows worst first. */
export function buildEvalReport(run: EvalRun): EvalReport {
  const { dataset, rows, provenance } = run;
  const count = (status: EvalSampleStatus) => rows.filter((r) => r.status === status).length;
  const untrainedBundles = provenance.pipeline?.untrainedBundles ?? [];
  return {
    tool: { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'eval' },
    stage: run.stage,
    summary: EVALUATORS[run.stage].summary,
    dataset: { name: dataset.name, split: dataset.split, manifest: dataset.manifest, videos: dataset.videos, problems: dataset.problems },
    counts: {
      samples: rows.length,
      evaluated: count('ok') + count('failed'),
      failed: count('failed'),
      missingVideos: count('missing-video'),
      noReference: count('no-reference'),
      resumed: run.resumed.size,
    },
    metrics: reportMetrics(run.metrics),
    baseline: run.baseline && { id: run.baseline.id, description: run.baseline.description, metrics: reportMetrics(run.baseline.metrics), bleu4Ratio: bleu4Ratio(run.metrics, run.baseline.metrics) },
    untrained: untrainedBundles.length > 0,
    warning:
      untrainedBundles.length > 0 ? `UNTRAINED MODELS: ${untrainedBundles.join(', ')} ${untrainedBundles.length === 1 ? 'has' : 'have'} no trained weights, so these scores are meaningless.` : null,
    provenance,
    samplesFile: run.samplesFile,
    seconds: run.seconds,
    samples: rankRows(
      run.stage,
      rows.map((r) => ({ ...r, resumed: run.resumed.has(r.id) })),
    ),
  };
}

export function writeEvalReport(path: string, report: EvalReport): void {
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** A hypothesis or reference in a line: text quoted, router segments as `label start–end`. */
function brief(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((s: { label: string; start: number; end: number }) => `${s.label} ${s.start.toFixed(2)}–${s.end.toFixed(2)}`).join(', ') || '(none)';
  if (value !== null && typeof value === 'object') {
    if ('segments' in value) return brief(value.segments);
    if ('sampleClass' in value) return `a ${String(value.sampleClass)} sample`;
  }
  return '—';
}

/** The summary `signweave eval` prints: the warning, what ran, the counts, each metric with its signature, the worst samples. */
export function formatEvalSummary(report: EvalReport, options: { worst?: number } = {}): string {
  const lines: string[] = [];
  if (report.warning) lines.push(report.warning);
  const { dataset: d, counts: c } = report;
  lines.push(
    `eval ${report.stage} on ${d.name} ${d.split} (${d.manifest.path})`,
    `  ${report.summary}`,
    `samples  ${c.samples}: ${c.evaluated} evaluated (${c.failed} failed, ${c.resumed} resumed), ${c.missingVideos} without video, ${c.noReference} without a reference${d.problems.length > 0 ? `; ${d.problems.length} manifest lines skipped` : ''}`,
    '',
  );
  const { baseline } = report;
  const width = Math.max(10, ...[...report.metrics, ...(baseline?.metrics ?? [])].map((m) => m.name.length));
  const metricLines = (metrics: readonly ReportMetric[]) =>
    metrics.flatMap((m) => [`${m.name.padEnd(width)}  ${m.score.toFixed(2).padStart(6)}  ${m.details}`, `${' '.repeat(width + 10)}${m.signature}`]);
  lines.push(...metricLines(report.metrics));
  if (baseline) {
    lines.push('', `${baseline.id} baseline: ${baseline.description}`, ...metricLines(baseline.metrics));
    const ratio = baseline.bleu4Ratio === null ? 'undefined (the baseline scores 0)' : `${baseline.bleu4Ratio.toFixed(2)}×`;
    lines.push(`BLEU-4 ratio ${report.stage} / ${baseline.id}: ${ratio}`);
  }
  const { score, higherIsBetter } = EVALUATORS[report.stage].rank;
  const worst = report.samples.filter((r) => r.scores !== null).slice(0, options.worst ?? 5);
  if (worst.length > 0) {
    lines.push('', `worst samples (by sentence ${score}, ${higherIsBetter ? 'lowest' : 'highest'} first)`);
    const idWidth = Math.max(...worst.map((r) => r.id.length));
    for (const r of worst) {
      const what = r.status === 'failed' ? `FAILED: ${r.message}` : `hyp ${brief(r.hypothesis)}`;
      lines.push(`  ${r.id.padEnd(idWidth)}  ${r.scores![score].toFixed(2).padStart(6)}  ${what} | ref ${brief(r.reference)}`);
    }
  }
  lines.push('', `samples file ${report.samplesFile.path}${report.samplesFile.tornLine !== null ? ' (a torn last line from an interrupted write was dropped)' : ''} · ${report.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
