import { Command, Option } from '@commander-js/extra-typings';
import { DATASET_NAMES } from '../../../pseudogloss/corpora.js';
import { SignweaveInputError } from '../../errors.js';
import { STREAMS, SimulatedDatasetWriter, SimulationStats, Simulator, resolveSimulationSettings, settingsHash, type SimulationSummary } from '../../simulate/index.js';
import { corpusTargets, targetsFile, type SentenceSource } from '../../simulate/sources.js';
import { readInputFile } from '../../util/text-files.js';
import { SIGNWEAVE_VERSION } from '../../version.js';
import { integerIn } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress } from '../progress.js';

const tool = { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'simulate' };

function readSettingsFile(path: string): unknown {
  try {
    return JSON.parse(readInputFile(path, 'settings file').toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new SignweaveInputError(`${path}: invalid JSON: ${err.message}`);
    throw err;
  }
}

function formatSummary(s: SimulationSummary, out: string, seconds: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);
  const rows = STREAMS.map((stream) => {
    const r = s.streams[stream];
    const rates = (['substitution', 'deletion', 'insertion'] as const).map((k) => `${k.slice(0, 3)} ${pct(r.realised[k])} (set ${pct(r.configured[k])})`).join('  ');
    return `${stream.padEnd(12)}${String(r.reference).padStart(7)} tokens  ${rates}  lost ${r.lost}`;
  });
  return [
    `${s.sentences} sentences → ${out} (${seconds.toFixed(1)} s)`,
    `frames      ${s.frames.total} (mean ${s.frames.mean.toFixed(1)} per sentence), lip frames ${s.lipFrames}, fingerspelled frames ${s.fingerspelledFrames}`,
    `spans       ${s.unmatchedSpans} fingerspelled spans without a gloss word (not simulated)`,
    `realised errors per reference token (configured in parentheses):`,
    ...rows,
  ].join('\n');
}

export const simulateCommand = new Command('simulate')
  .description('Simulated expert outputs (sign, fingerspelling, lip posteriors, router labels) from real sentences, for studying fusion.')
  .addOption(new Option('--dataset <name>', 'corpus format of --data').choices(['how2sign', ...DATASET_NAMES.filter((d) => d !== 'how2sign')]))
  .option('--data <file>', 'corpus file (e.g. How2Sign labels .jsonl or realigned .csv), glossed with the rule glosser')
  .option('--targets <file>', 'targets JSONL written by `signweave pseudogloss --out` (instead of --dataset/--data)')
  .requiredOption('--out <dir>', 'dataset folder to create (must not exist or be empty)')
  .option('--limit <n>', 'only the first n sentences', integerIn(1, Number.MAX_SAFE_INTEGER))
  .option('--seed <n>', 'random seed (overrides the settings file)', integerIn(0, 2 ** 32 - 1))
  .option('--settings <file>', 'JSON with the generative-model settings to change (docs/simulate.md)')
  .option('--no-progress', 'no progress bar')
  .option('--json', 'print the summary as JSON', false)
  .action(async (options) => {
    if ((options.targets === undefined) === (options.data === undefined)) throw new SignweaveInputError('give either --dataset <name> --data <file> or --targets <targets.jsonl>');
    if (options.data !== undefined && !options.dataset) throw new SignweaveInputError('--data needs --dataset (the corpus format)');
    const overrides = options.settings ? readSettingsFile(options.settings) : {};
    const settings = resolveSimulationSettings(options.seed === undefined ? overrides : { ...(overrides as object), seed: options.seed }, options.settings ?? 'settings');

    const source: SentenceSource = options.targets ? targetsFile(options.targets, options.limit) : await corpusTargets(options.dataset!, options.data!, options.limit);
    for (const p of source.problems) process.stderr.write(`signweave: ${options.data}:${p.line}: ${p.message} (skipped)\n`);
    if (source.sentences.length === 0) throw new SignweaveInputError(`${options.targets ?? options.data} holds no readable sentences`);

    const vocab = source.vocab;
    const simulator = new Simulator(settings, vocab);
    const stats = new SimulationStats(settings);
    const writer = new SimulatedDatasetWriter(options.out, { tool, settings, source: source.provenance }, vocab);
    const progress = createProgress('simulate', source.sentences.length, options.progress);
    const signal = interruptSignal();
    const started = performance.now();
    try {
      for (const [i, sentence] of source.sentences.entries()) {
        signal.throwIfAborted();
        const simulated = simulator.simulate(sentence);
        stats.add(simulated);
        await writer.add(simulated);
        progress.update(i + 1);
      }
      await writer.commit(stats.summary());
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = stats.summary();
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ tool, out: options.out, settingsHash: settingsHash(settings), seed: settings.seed, source: source.provenance, seconds, ...summary }, null, 2)}\n`
        : `${formatSummary(summary, options.out, seconds)}\n`,
    );
  });
