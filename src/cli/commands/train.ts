import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command, Option } from '@commander-js/extra-typings';
import { SignweaveInputError } from '../../errors.js';
import { TRAIN_FORMAT, resolveTrainConfig, type ResolvedTrainConfig } from '../../train/config.js';
import type { TrainingSet } from '../../train/data.js';
import { TRAIN_KINDS, type TrainKind } from '../../train/kinds.js';
import type { FusionSample, TrainingTask } from '../../train/tasks.js';
import type { TrainResult } from '../../train/trainer.js';
import { integerIn, positiveInt } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

/** Sign and fingerspelling heads take sequences up to this long unless the data has longer ones. */
const DEFAULT_MAX_FRAMES = 1024;

interface Prepared {
  task: TrainingTask;
  set: TrainingSet;
  /** What the data was, for the summary. */
  about: string;
}

/**
 * `--data` for sign / fingerspell: `targets.jsonl` (from `signweave pseudogloss --out`), its vocab files and the
 * backbone feature cache in `features/` (or `--features`).
 */
async function featureHeadData(kind: 'sign' | 'fingerspell', data: string, features: string | undefined, dropout: boolean): Promise<Prepared> {
  // Loaded here, not at start-up: the training modules bring ONNX Runtime, which would slow every command.
  const [{ TrainingSet }, { TRAIN_TASKS }] = await Promise.all([import('../../train/data.js'), import('../../train/tasks.js')]);
  const targets = join(data, 'targets.jsonl');
  if (!existsSync(targets)) throw new SignweaveInputError(`--data ${data}: no targets.jsonl in it (write one with \`signweave pseudogloss --out ${targets}\`)`);
  const cacheDir = features ?? join(data, 'features');
  const set = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: kind === 'sign' ? 'gloss' : 'letters' });
  for (const s of set.skipped) process.stderr.write(`signweave: ${s.where ?? s.id}: ${s.reason} (skipped)\n`);
  const vocab = set.vocab!;
  const longest = Math.max(...set.items.map((i) => i.input.shape[0]));
  const architecture = { dim: set.dim, vocabSize: vocab.length, maxLen: Math.max(DEFAULT_MAX_FRAMES, longest) };
  const task = kind === 'sign' ? TRAIN_TASKS.sign({ architecture, vocab, dropout }) : TRAIN_TASKS.fingerspell({ architecture, vocab, dropout });
  return { task, set, about: `${set.size} sequences from ${targets} and ${cacheDir}${set.skipped.length ? ` (${set.skipped.length} skipped)` : ''}` };
}

/** `--data` for fusion: a dataset written by `signweave simulate`; the router stream is its frame labels one-hot. */
async function fusionData(data: string, dropout: boolean): Promise<Prepared> {
  const [{ readSimulatedDataset }, { TrainingSet }, { TRAIN_TASKS, fusionItems, fusionSampleOf }] = await Promise.all([
    import('../../simulate/dataset.js'),
    import('../../train/data.js'),
    import('../../train/tasks.js'),
  ]);
  const dataset = readSimulatedDataset(data);
  const samples: FusionSample[] = dataset.sentences.map(fusionSampleOf);
  const { gloss, letters, phonemes } = dataset.vocab;
  const longest = Math.max(...samples.map((s) => s.sign.shape[0]));
  const architecture = {
    type: 'gated' as const,
    inputs: { sign: gloss.length, fingerspell: letters.length, lips: phonemes.length },
    vocabSize: gloss.length,
    d: 64,
    heads: 4,
    layers: 2,
    // Post-norm stayed on the all-blank plateau in the simulated ablation runs (docs/ablations.md).
    norm: 'pre' as const,
    softmaxInputs: true,
    lipStride: dataset.header.settings.lip.stride,
    maxLen: Math.max(DEFAULT_MAX_FRAMES, longest),
  };
  const task = TRAIN_TASKS.fusion({ architecture, vocab: gloss, samples, dropout });
  return { task, set: TrainingSet.fromArrays(fusionItems(samples), { vocabSize: gloss.length }), about: `${samples.length} simulated sentences from ${data}` };
}

function prepare(kind: TrainKind, data: string, features: string | undefined, dropout: boolean): Promise<Prepared> {
  switch (kind) {
    case 'sign':
    case 'fingerspell':
      return featureHeadData(kind, data, features, dropout);
    case 'fusion':
      return fusionData(data, dropout);
    case 'lipread':
    case 'router':
      throw new SignweaveInputError(
        `signweave train ${kind}: no on-disk training data format exists yet for ${kind === 'lipread' ? 'lip crops with phoneme targets' : 'features with per-frame sign / fingerspell / rest labels'}; train it from code with TRAIN_TASKS.${kind} and train()`,
      );
  }
}

function summary(kind: TrainKind, result: TrainResult, out: string, about: string, plot: boolean): string {
  const rows = [
    `trained ${kind} bundle → ${out}`,
    `data          ${about}`,
    `steps         ${result.steps} of ${result.totalSteps}${Number.isFinite(result.msPerStep) ? `, ${result.msPerStep.toFixed(1)} ms/step` : ''}`,
    `final loss    ${result.finalLoss.toFixed(4)}`,
  ];
  if (result.evalLoss !== undefined) rows.push(`eval loss     ${result.evalLoss.toFixed(4)}${result.evalAccuracy !== undefined ? `, accuracy ${(100 * result.evalAccuracy).toFixed(1)} %` : ''}`);
  rows.push(`log           ${result.log}`);
  if (plot && result.plot) rows.push(`plot          ${result.plot}`);
  return `${rows.join('\n')}\n`;
}

/** A fresh `train` command (commander keeps parsed values on the command, so tests make one per run). */
export function createTrainCommand() {
  return new Command('train')
    .description('Train a light module (sign or fingerspelling CTC head, fusion) on cached features or simulated expert outputs, and write its bundle.')
    .addArgument(new Argument('<kind>', 'what to train').choices(TRAIN_KINDS))
    .requiredOption('--data <dir>', 'sign/fingerspell: folder with targets.jsonl, its vocab files and features/ (the feature cache); fusion: a `signweave simulate` dataset')
    .requiredOption('--out <dir>', 'bundle folder to write (training files go to <out>/training)')
    .option('--features <dir>', 'feature cache folder (default <data>/features)')
    .option('--config <file>', `training config JSON (${TRAIN_FORMAT}; defaults for what it leaves out)`)
    .option('--epochs <n>', 'epochs (overrides the config)', positiveInt)
    .option('--seed <n>', 'seed (overrides the config)', integerIn(0, 2 ** 32 - 1))
    .option('--resume', 'continue from the newest checkpoint in <out>/training/checkpoints', false)
    .addOption(new Option('--plot', 'print the path of the loss plot (<out>/training/loss.svg, always written)').default(false))
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the result as JSON', false)
    .action(async (kind, options) => {
      const resolved: ResolvedTrainConfig = resolveTrainConfig(options.config ?? { format: TRAIN_FORMAT });
      const { task, set, about } = await prepare(kind, options.data, options.features, resolved.config.dropout > 0);
      const signal = interruptSignal();
      let progress: Progress | undefined;
      const { train } = await import('../../train/trainer.js');
      const result = await train({
        task,
        set,
        config: resolved,
        out: options.out,
        seed: options.seed,
        epochs: options.epochs,
        resume: options.resume,
        signal,
        onProgress: (e) => {
          if (e.type === 'start') {
            progress = createProgress(`train ${kind}`, e.totalSteps, options.progress);
            progress.update(e.startStep);
          } else if (e.type === 'step') progress?.update(e.step, `loss ${e.loss.toFixed(4)}`);
        },
      });
      progress?.stop();
      if (result.interrupted) {
        process.stderr.write(`signweave: stopped after step ${result.steps}; resume with --resume (checkpoint ${result.checkpoint ?? 'none'})\n`);
        throw signal.reason;
      }
      if (options.json) {
        const { weights: _, bundle, ...rest } = result;
        process.stdout.write(`${JSON.stringify({ kind, out: options.out, config: resolved.path, configSha256: resolved.sha256, data: about, ...rest, bundle }, null, 2)}\n`);
      } else {
        process.stdout.write(summary(kind, result, options.out, about, options.plot));
      }
    });
}

export const trainCommand = createTrainCommand();
