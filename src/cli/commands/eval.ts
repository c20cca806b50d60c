import { basename, dirname, join } from 'node:path';
import { Argument, Command, Option } from '@commander-js/extra-typings';
import { noShippedDecoderMessage, shippedDecoderPath } from '../../decoder/shipped.js';
import type { DecoderStageConfig } from '../../pipeline/config.js';
import { PRESET_NAMES } from '../../pipeline/presets.js';
import { SignweaveInputError } from '../../errors.js';
import { EVAL_DATASETS, EVAL_STAGES } from '../../eval/types.js';
import type { EvalProgress } from '../../eval/run.js';
import { positiveInt, positiveNumber } from '../args.js';
import { interruptSignal, InterruptedError } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

/** `<out>.samples.jsonl` beside the report: `report.json` → `report.samples.jsonl`. */
function defaultSamplesFile(out: string): string {
  return join(dirname(out), `${basename(out).replace(/\.json$/i, '')}.samples.jsonl`);
}

/** One bar over the samples this run evaluates, from the runner's progress events. */
function samplesProgress(enabled: boolean, stage: string): { onProgress: (e: EvalProgress) => void; stop: () => void } {
  let bar: Progress | undefined;
  return {
    onProgress(e) {
      if (e.type === 'start') bar = createProgress(`eval ${stage}`, e.toRun, enabled && e.toRun > 0);
      else if (e.type === 'progress') bar?.update(e.done, e.failed > 0 ? `${e.failed} failed` : '');
    },
    stop: () => bar?.stop(),
  };
}

const stageHelp = `
Stages (what runs, and what it is scored against):
  sign          the sign expert alone: WER against the Stage-1 pseudo-gloss (the corpus gloss for PHOENIX-2014T, CSL-Daily)
  fingerspell   the fingerspelling expert: letter accuracy and CER on samples with fingerspelled letters
  lipread       the lipreading expert: PER and phoneme accuracy against the pseudo-gloss's phonemes
  router        the router: routing accuracy per labelled segment, or per sample by its class
  fusion        everything but the decoder: WER of the fused pseudo-gloss against the Stage-1 pseudo-gloss
  decoder       no video: the oracle pseudo-gloss through the decoder: BLEU-1..4 (sacrebleu; tokenizer 13a, char
                for Chinese), ROUGE-L (COCO), chrF2; in the same run the identity baseline (the pseudo-gloss itself,
                lower-cased, as the English) with the same metrics, and the ratio of the BLEU-4s. The decoder is
                --config's, --model, or else the one shipped with signweave
  pipeline      everything, the decoder included: the same translation metrics on the English

Samples whose video is missing are counted and skipped (--strict stops instead); samples without a reference for the
stage (e.g. no fingerspelling) are counted and not scored; a sample that fails (no output) is scored as an empty
hypothesis. Every sample's row is appended to the samples file as soon as it is done; the same command run again
resumes from it when the stage, dataset file, config, decoder settings and signweave version are the same
(--restart starts over). The report lists every sample worst first.
`;

export const evalCommand = new Command('eval')
  .description('Evaluate one stage (an expert, the router, fusion, the decoder or the whole pipeline) on a dataset.')
  .addArgument(new Argument('<stage>', 'what to evaluate').choices(EVAL_STAGES))
  .addOption(new Option('--dataset <name>', 'the dataset format').choices(EVAL_DATASETS).makeOptionMandatory())
  .requiredOption('--data <path>', "the annotation file, or the dataset's folder (the split's file is found in it)")
  .option('--videos <dir>', "where the videos are (default: the annotation file's folder)")
  .option('--fps <n>', "frame-folder datasets: the rate of their images (default PHOENIX-2014T 25, CSL-Daily 30, ChicagoFSWild 30)", positiveNumber)
  .option('--split <name>', "the split to evaluate (default: test, or what the annotation file's name says)")
  .option('--limit <n>', 'only the first n samples', positiveInt)
  .option('--config <json>', 'pipeline config (video stages run only the parts the stage scores; the decoder stage uses its decoder section)')
  .addOption(new Option('--preset <name>', "applied to the config (instead of its own 'preset')").choices(PRESET_NAMES))
  .option('--model <gguf>', 'the decoder stage without a config: the GGUF model of the decoder (default: the decoder shipped with signweave)')
  .addOption(new Option('--gpu <backend>', 'the decoder stage without a config: the llama.cpp backend').choices(['auto', 'cuda', 'vulkan', 'cpu'] as const))
  .option('--parallel <n>', 'the decoder stage without a config: sequences the decoder generates at once (default 1)', positiveInt)
  .option('--context-size <n>', "the decoder stage without a config: the decoder's context window in tokens (default 1024)", positiveInt)
  .option('--threads <n>', 'ONNX Runtime threads per session (video stages); the decoder stage without a config: llama.cpp threads', positiveInt)
  .option('--out <file>', 'the report (JSON); the samples file is <out>.samples.jsonl beside it (default: eval-<stage>-<dataset>-<split>.json)')
  .option('--strict', 'stop at the first unreadable manifest line, sample without its video or failed sample, instead of counting it', false)
  .option('--restart', 'discard the samples file of an earlier run instead of resuming it', false)
  .option('--json', 'print the report (JSON) instead of the summary', false)
  .option('--no-progress', 'no progress bar')
  .addHelpText('after', stageHelp)
  .action(async (stage, options) => {
    if (options.model !== undefined && stage !== 'decoder') throw new SignweaveInputError(`--model is for the decoder stage; the ${stage} stage takes its models from --config`);
    if (options.model !== undefined && options.config !== undefined) throw new SignweaveInputError('give either --config (its decoder section) or --model, not both');
    if (stage !== 'decoder' && options.config === undefined) throw new SignweaveInputError(`the ${stage} stage needs --config <pipeline.json> (\`signweave models init-demo <dir>\` writes one)`);
    if (options.config !== undefined && (options.gpu !== undefined || options.parallel !== undefined || options.contextSize !== undefined)) {
      throw new SignweaveInputError('--gpu, --parallel and --context-size go with --model or the shipped decoder (a config sets its own decoder)');
    }
    // The decoder stage without a config: --model, or the decoder shipped with signweave.
    const model = stage === 'decoder' && options.config === undefined ? (options.model ?? shippedDecoderPath()) : undefined;
    if (model === null) throw new SignweaveInputError(`the decoder stage needs a decoder, and ${noShippedDecoderMessage('--model <gguf>, or --config with a decoder section')}`);
    if (options.preset !== undefined && options.config === undefined) throw new SignweaveInputError('--preset needs --config');

    const signal = interruptSignal();
    // Loaded here, not at start-up: datasets, references, the pipeline and node-llama-cpp would slow every command.
    const { loadEvalDataset, EvalReferences, runEval, buildEvalReport, writeEvalReport, formatEvalSummary } = await import('../../eval/index.js');
    const dataset = await loadEvalDataset(options.dataset, { data: options.data, videos: options.videos, split: options.split, limit: options.limit, strict: options.strict, fps: options.fps });
    for (const p of dataset.problems) process.stderr.write(`signweave: ${dataset.manifest.path}:${p.line}: ${p.message} (skipped)\n`);

    const out = options.out ?? `eval-${stage}-${dataset.name}-${dataset.split}.json`;
    const samplesFile = defaultSamplesFile(out);
    const { gpu, threads, parallel, contextSize } = options;
    const decoder: DecoderStageConfig | undefined = model === undefined ? undefined : { model, gpu, threads, parallel, contextSize };
    const progress = samplesProgress(options.progress, stage);
    let run;
    try {
      // The bar stops before anything else is printed.
      run = await runEval({
        stage,
        dataset,
        config: options.config,
        preset: options.preset,
        decoder,
        threads: model === undefined ? threads : undefined,
        references: new EvalReferences(),
        samplesFile,
        restart: options.restart,
        strict: options.strict,
        signal,
        onProgress: progress.onProgress,
      }).finally(() => progress.stop());
    } catch (err) {
      if (err instanceof InterruptedError) process.stderr.write(`signweave: the samples done so far are in ${samplesFile}: run the same command again to resume\n`);
      throw err;
    }
    const report = buildEvalReport(run);
    writeEvalReport(out, report);
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEvalSummary(report)}report       ${out}\n`);
  });
