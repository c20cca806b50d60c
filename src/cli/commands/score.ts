import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import {
  DEFAULT_METRIC_IDS,
  METRIC_IDS,
  describeMetric,
  isMetricId,
  scoreCorpus,
  type MetricId,
  type ScoredMetric,
} from '../../eval/metrics/registry.js';
import { BLEU_TOKENIZER_NAMES } from '../../eval/metrics/tokenizers.js';
import { SignweaveInputError } from '../../errors.js';
import { readLines, type TextLines } from '../../util/text-files.js';
import { SIGNWEAVE_VERSION } from '../../version.js';

function parseMetricList(value: string): MetricId[] {
  const ids = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (ids.length === 0) throw new InvalidArgumentError('name at least one metric.');
  for (const id of ids) {
    if (!isMetricId(id)) throw new InvalidArgumentError(`unknown metric "${id}"; known: ${METRIC_IDS.join(', ')}.`);
  }
  return [...new Set(ids as MetricId[])];
}

const metricHelp = METRIC_IDS.map((id) => `  ${id.padEnd(12)}${describeMetric(id).summary}`).join('\n');

export const scoreCommand = new Command('score')
  .description('Score hypotheses against references, one sentence per line (UTF-8), with exact SLT metrics.')
  .requiredOption('--hyp <file>', 'hypotheses, one per line ("-" for standard input)')
  .requiredOption('--ref <files...>', 'reference file(s), one per line, aligned with --hyp; repeat for several references')
  .addOption(
    new Option('--metrics <list>', `comma-separated metrics (default ${DEFAULT_METRIC_IDS.join(',')})`).argParser(parseMetricList),
  )
  .addOption(new Option('--tokenize <name>', 'BLEU tokenizer').choices(BLEU_TOKENIZER_NAMES).default('13a' as const))
  .option('--lowercase', 'case-fold before scoring (BLEU, chrF, ROUGE-L, WER, CER)', false)
  .option('--json', 'print one JSON object (scores, signatures, components, input sha256s)', false)
  .addHelpText('after', `\nMetrics:\n${metricHelp}\n`)
  .action((options) => {
    const hyp = readLines(options.hyp);
    const refs = options.ref.map((path) => readLines(path));
    for (const ref of refs) {
      if (ref.lines.length !== hyp.lines.length) {
        throw new SignweaveInputError(`${ref.path} has ${ref.lines.length} lines but ${hyp.path} has ${hyp.lines.length}; line i of each must be the same sentence`);
      }
    }
    const metrics = options.metrics ?? [...DEFAULT_METRIC_IDS];
    const settings = { tokenize: options.tokenize, lowercase: options.lowercase };
    const scored = scoreCorpus(
      metrics,
      hyp.lines,
      refs.map((r) => r.lines),
      settings,
    );
    process.stdout.write(options.json ? `${JSON.stringify(scoreReport(hyp, refs, settings, scored), null, 2)}\n` : formatTable(scored));
  });

function describeInput(input: TextLines): { path: string; sha256: string; lines: number } {
  return { path: input.path, sha256: input.sha256, lines: input.lines.length };
}

function scoreReport(hyp: TextLines, refs: TextLines[], settings: object, scored: ScoredMetric[]) {
  return {
    tool: { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'score' },
    inputs: { hyp: describeInput(hyp), refs: refs.map(describeInput) },
    settings,
    metrics: scored.map(({ id, result }) => ({ id, ...result })),
  };
}

function formatTable(scored: ScoredMetric[]): string {
  // Variants of one metric (bleu and bleu-slt both print "BLEU") are told apart by their registry id.
  const nameCounts = new Map<string, number>();
  for (const s of scored) nameCounts.set(s.result.name, (nameCounts.get(s.result.name) ?? 0) + 1);
  const label = (s: ScoredMetric) => (nameCounts.get(s.result.name)! > 1 ? `${s.result.name} (${s.id})` : s.result.name);
  const nameWidth = Math.max(...scored.map((s) => label(s).length));
  const scoreWidth = Math.max(...scored.map((s) => s.result.score.toFixed(2).length));
  const indent = ' '.repeat(nameWidth + scoreWidth + 4);
  return scored
    .map((s) => {
      const { result, details } = s;
      const head = `${label(s).padEnd(nameWidth)}  ${result.score.toFixed(2).padStart(scoreWidth)}  ${details}`;
      return `${head}\n${indent}${result.signature}\n`;
    })
    .join('');
}
