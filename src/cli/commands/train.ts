import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command, Option } from '@commander-js/extra-typings';
import { SignweaveInputError } from '../../errors.js';
import { TRAIN_FORMAT, resolveTrainConfig, trainingFusionConfig, type ResolvedTrainConfig, type TrainConfig } from '../../train/config.js';
import type { TrainingSet } from '../../train/data.js';
import { TRAIN_KINDS, type TrainKind } from '../../train/kinds.js';
import type { FusionSample, TrainingTask } from '../../train/tasks.js';
import type { LlamaTokenizer } from '../../llm/tokenizer.js';
import type { TextPair } from '../../train/llama.js';
import type { TrainProgress, TrainResult } from '../../train/trainer.js';
import { integerIn, positiveInt, positiveNumber } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

/** Sign and fingerspelling heads take sequences up to this long unless the data has longer ones. */
const DEFAULT_MAX_FRAMES = 1024;
/** The kinds that read the backbone feature cache (`--features`). */
const FEATURE_KINDS: readonly TrainKind[] = ['sign', 'fingerspell', 'router'];
/** The share of the pairs `train decoder` holds out when no --dev file is given. */
const DEFAULT_DEV_FRACTION = 0.02;

interface Prepared {
  task: TrainingTask;
  set: TrainingSet;
  evalSet?: TrainingSet;
  /** What the eval set is when it is not held-out data, for the summary. */
  evalOn?: string;
  /** What the data was, for the summary. */
  about: string;
  /** Called once the trainer has accepted the output folder (a new run, or the checkpoint to resume). */
  onStart?: (resumed: boolean) => void;
  /** More summary rows and JSON fields. */
  rows?: string[];
  details?: Record<string, unknown>;
}

interface DataOptions {
  data?: string;
  features?: string;
  lips?: string;
  pairs?: string;
  dev?: string;
  devFraction?: number;
  limit?: number;
  resume: boolean;
  progress: boolean;
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
  reportSkipped(set.skipped);
  const vocab = set.vocab!;
  const longest = Math.max(...set.items.map((i) => i.input.shape[0]));
  const architecture = { dim: set.dim, vocabSize: vocab.length, maxLen: Math.max(DEFAULT_MAX_FRAMES, longest) };
  const task = kind === 'sign' ? TRAIN_TASKS.sign({ architecture, vocab, dropout }) : TRAIN_TASKS.fingerspell({ architecture, vocab, dropout });
  return { task, set, about: `${set.size} sequences from ${targets} and ${cacheDir}${set.skipped.length ? ` (${set.skipped.length} skipped)` : ''}` };
}

/**
 * `--data` for the router: `segments.jsonl` (labelled sign / fingerspell / rest segments per record) and the feature
 * cache in `features/` (or `--features`). The trainer evaluates on the training data itself, so the summary has the
 * router's segment accuracy (argmax, no Gumbel noise).
 */
async function routerData(config: TrainConfig, data: string, features: string | undefined): Promise<Prepared> {
  const [{ routerTrainingSet, frameClassCounts }, { TRAIN_TASKS }] = await Promise.all([import('../../train/router-data.js'), import('../../train/tasks.js')]);
  const segments = join(data, 'segments.jsonl');
  if (!existsSync(segments)) throw new SignweaveInputError(`--data ${data}: no segments.jsonl in it (labelled segments per video; see docs/training-data.md)`);
  const cacheDir = features ?? join(data, 'features');
  const set = routerTrainingSet({ cacheDir, segments });
  reportSkipped(set.skipped);
  const architecture = { dim: set.dim, ...config.router.architecture };
  const counts = frameClassCounts(set);
  const frames = Object.values(counts).reduce((a, b) => a + b, 0);
  const shares = Object.entries(counts).map(([c, n]) => `${c} ${((100 * n) / frames).toFixed(0)} %`).join(', ');
  const { window, hop, hidden, activation } = architecture;
  return {
    task: TRAIN_TASKS.router({ architecture }),
    set,
    evalSet: set,
    evalOn: 'segments of the training data, argmax',
    about: `${set.size} sequences (${frames} frames: ${shares}) from ${segments} and ${cacheDir}${set.skipped.length ? ` (${set.skipped.length} skipped)` : ''}`,
    rows: [`router        MLP ${[set.dim, ...hidden, Object.keys(counts).length].join('→')} (${activation}), window ${window} hop ${hop} frames`],
    details: { segments, features: cacheDir, frames: counts },
  };
}

/**
 * `--data` for lipreading: `targets.jsonl` (Stage-1 records with phonemes) and one lip-crop video per record in
 * `lips/` (or `--lips`), named by the record's id.
 */
async function lipreadData(config: TrainConfig, data: string, lipsOption: string | undefined, showProgress: boolean, signal: AbortSignal): Promise<Prepared> {
  const [{ lipreadTrainingSet }, { TRAIN_TASKS }] = await Promise.all([import('../../train/lipread-data.js'), import('../../train/tasks.js')]);
  const targets = join(data, 'targets.jsonl');
  if (!existsSync(targets)) throw new SignweaveInputError(`--data ${data}: no targets.jsonl in it (write one with \`signweave pseudogloss --out ${targets}\`)`);
  const lips = lipsOption ?? join(data, 'lips');
  if (!existsSync(lips)) {
    const where = lipsOption !== undefined ? `--lips ${lipsOption}: no such folder` : `--data ${data}: no lips/ folder in it`;
    throw new SignweaveInputError(`${where} (one lip-crop video per record, <id>.mp4: \`signweave landmarks <video> --lips-out ${join(lips, '<id>.mp4')}\`)`);
  }
  const { architecture, maskRatio } = config.lipread;
  let progress: Progress | undefined;
  const onProgress = (done: number, total: number): void => {
    progress ??= createProgress('lip videos', total, showProgress);
    progress.update(done);
  };
  const { set, frames, facelessFrames } = await lipreadTrainingSet({ targets, lips, ...architecture, signal, onProgress }).finally(() => progress?.stop());
  reportSkipped(set.skipped);
  const { size, channels, stride } = architecture;
  return {
    task: TRAIN_TASKS.lipread({ architecture, maskRatio }),
    set,
    about: `${set.size} clips (${frames} frames, ${facelessFrames} without a face) from ${targets} and ${lips}${set.skipped.length ? ` (${set.skipped.length} skipped)` : ''}`,
    rows: [`lip crops     ${size}×${size} ${channels === 1 ? 'luma' : 'RGB'}, temporal stride ${stride}, ${Math.round(100 * maskRatio)} % of patches masked in training`],
    details: { targets, lips, frames, facelessFrames },
  };
}

/**
 * `--data` for fusion: a dataset written by `signweave simulate`; the router stream is its frame labels one-hot. The
 * architecture and ablation variant come from the training config, the streams' widths and the lip stride from the data.
 */
async function fusionData(resolved: ResolvedTrainConfig, data: string, dropout: boolean): Promise<Prepared> {
  const [{ readSimulatedDataset }, { TrainingSet }, { TRAIN_TASKS, fusionItems, fusionSampleOf }, { resolveFusionConfig }, { fusionVariantOf }] = await Promise.all([
    import('../../simulate/dataset.js'),
    import('../../train/data.js'),
    import('../../train/tasks.js'),
    import('../../fusion/config.js'),
    import('../../bundles/fusion.js'),
  ]);
  const dataset = readSimulatedDataset(data);
  const samples: FusionSample[] = dataset.sentences.map(fusionSampleOf);
  const { gloss, letters, phonemes } = dataset.vocab;
  const longest = Math.max(...samples.map((s) => s.sign.shape[0]));
  const shape = { widths: { sign: gloss.length, fingerspell: letters.length, lips: phonemes.length }, vocabSize: gloss.length, lipStride: dataset.header.settings.lip.stride, maxLen: Math.max(DEFAULT_MAX_FRAMES, longest) };
  // The bundle records every field, defaults included.
  const architecture = resolveFusionConfig(trainingFusionConfig(resolved, shape));
  const variant = fusionVariantOf(architecture);
  const task = TRAIN_TASKS.fusion({ architecture, vocab: gloss, samples, dropout });
  const { type, d, heads, layers, norm, lip, fingerspell, lipAlignment } = architecture;
  const streams = ['sign', ...(fingerspell ? ['fingerspell'] : []), 'router', ...(lip ? [`lips${typeof lipAlignment === 'object' ? ` shifted ${lipAlignment.shift} frames` : ''}`] : [])];
  return {
    task,
    set: TrainingSet.fromArrays(fusionItems(samples), { vocabSize: gloss.length }),
    about: `${samples.length} simulated sentences from ${data}`,
    rows: [`fusion        ${type}, variant ${variant ?? 'none'}: d ${d}, ${layers} ${norm}-norm layer${layers === 1 ? '' : 's'}, ${heads} heads; streams ${streams.join(', ')}`],
    details: { fusion: { variant, architecture } },
  };
}

/** Skipped items shown one per line; the rest are counted (a corpus can skip hundreds of over-long sentences). */
const SKIPPED_SHOWN = 10;

function reportSkipped(skipped: readonly { id: string; where?: string; reason: string }[]): void {
  for (const s of skipped.slice(0, SKIPPED_SHOWN)) process.stderr.write(`signweave: ${s.where ?? s.id}: ${s.reason} (skipped)\n`);
  if (skipped.length > SKIPPED_SHOWN) process.stderr.write(`signweave: … and ${skipped.length - SKIPPED_SHOWN} more skipped (${skipped.length} in all)\n`);
}

/**
 * `--pairs` (and `--dev`) for the decoder: (pseudo-gloss, English) pairs; the tokenizer is trained on the training
 * split's gloss and English (and read back on --resume: the checkpoints hold embeddings of its ids).
 */
async function decoderData(config: TrainConfig, out: string, o: DataOptions, signal: AbortSignal): Promise<Prepared> {
  const [{ readPairs, splitPairs }, { LlamaTokenizer, trainTokenizer }, { TrainingSet }, { pairItems }, { TRAIN_TASKS }] = await Promise.all([
    import('../../train/pairs.js'),
    import('../../llm/tokenizer.js'),
    import('../../train/data.js'),
    import('../../train/llama.js'),
    import('../../train/tasks.js'),
  ]);
  const pairs = readPairs(o.pairs!, { limit: o.limit });
  reportSkipped(pairs.skipped);
  let devWhere = pairs.where;
  let train: TextPair[];
  let dev: TextPair[];
  let devAbout: Record<string, unknown>;
  if (o.dev !== undefined) {
    const devFile = readPairs(o.dev);
    reportSkipped(devFile.skipped);
    devWhere = devFile.where;
    [train, dev] = [pairs.pairs, devFile.pairs];
    devAbout = { path: o.dev, sha256: devFile.sha256, pairs: dev.length };
  } else {
    const devFraction = o.devFraction ?? DEFAULT_DEV_FRACTION;
    ({ train, dev } = splitPairs(pairs.pairs, { devFraction, seed: config.seed }));
    devAbout = { split: { fraction: devFraction, seed: config.seed }, pairs: dev.length };
  }

  const tokenizerPath = join(out, 'training', 'tokenizer.json');
  let tokenizer: LlamaTokenizer;
  if (o.resume) {
    if (!existsSync(tokenizerPath)) throw new SignweaveInputError(`nothing to resume: no tokenizer at ${tokenizerPath}`);
    tokenizer = LlamaTokenizer.read(tokenizerPath);
  } else {
    const { vocabSize } = config.decoder.tokenizer;
    let progress: Progress | undefined;
    try {
      const onProgress = (done: number, total: number): void => {
        progress ??= createProgress('tokenizer merges', total, o.progress);
        progress.update(done);
      };
      tokenizer = trainTokenizer(
        train.flatMap((p) => [p.gloss, p.english]),
        { vocabSize, signal, onProgress },
      );
    } finally {
      progress?.stop();
    }
  }
  const { maxLen } = config.decoder.architecture;
  const trainItems = pairItems(train, tokenizer, maxLen);
  const devItems = pairItems(dev, tokenizer, maxLen);
  reportSkipped([...trainItems.skipped.map((s) => ({ ...s, where: pairs.where.get(s.id) })), ...devItems.skipped.map((s) => ({ ...s, where: devWhere.get(s.id) }))]);
  if (trainItems.items.length === 0) throw new SignweaveInputError(`--pairs ${o.pairs}: no pair fits the decoder (maxLen ${maxLen} tokens)`);
  if (devItems.items.length === 0) process.stderr.write(`signweave: no dev pair fits the decoder (maxLen ${maxLen} tokens): training without evaluation or early stopping\n`);

  const architecture = { vocabSize: tokenizer.size, ...config.decoder.architecture };
  const provenance = {
    pairs: { path: o.pairs, sha256: pairs.sha256, pairs: trainItems.items.length, skipped: pairs.skipped.length + trainItems.skipped.length, ...(o.limit ? { limit: o.limit } : {}) },
    glossers: pairs.glossers,
    dev: { ...devAbout, pairs: devItems.items.length },
    tokenizer: { size: tokenizer.size, sha256: tokenizer.sha256(), vocabSize: config.decoder.tokenizer.vocabSize },
  };
  const task = TRAIN_TASKS.decoder({ architecture, tokenizer, tensorType: config.decoder.tensorType, provenance });
  const set = TrainingSet.fromArrays(trainItems.items, { vocabSize: tokenizer.size });
  const evalSet = devItems.items.length > 0 ? TrainingSet.fromArrays(devItems.items, { vocabSize: tokenizer.size }) : undefined;
  const glossers = pairs.glossers.map((g) => `${g.glosser} ${g.version}${g.fallback ? ' (fallback)' : ''}: ${g.pairs}`).join(', ');
  const skipped = pairs.skipped.length + trainItems.skipped.length;
  return {
    task,
    set,
    evalSet,
    about: `${set.size} pairs from ${o.pairs}${skipped ? ` (${skipped} skipped)` : ''}, ${evalSet?.size ?? 0} dev pairs ${o.dev !== undefined ? `from ${o.dev}` : `held out (seed ${config.seed})`}`,
    onStart: (resumed) => {
      if (!resumed) tokenizer.write(tokenizerPath);
    },
    rows: [`tokenizer     ${tokenizerPath}, ${tokenizer.size} pieces`, ...(glossers ? [`glossers      ${glossers}`] : [])],
    details: { tokenizer: { path: tokenizerPath, ...provenance.tokenizer }, pairs: provenance.pairs, dev: provenance.dev, glossers: pairs.glossers },
  };
}

/** The data options each kind takes, checked before anything is read. */
function checkDataOptions(kind: TrainKind, o: DataOptions): void {
  const decoderOnly = { '--pairs': o.pairs, '--dev': o.dev, '--dev-fraction': o.devFraction, '--limit': o.limit };
  if (kind === 'decoder') {
    if (o.data !== undefined || o.features !== undefined || o.lips !== undefined) throw new SignweaveInputError('signweave train decoder reads --pairs (and --dev), not --data, --features or --lips');
    if (o.pairs === undefined) throw new SignweaveInputError('signweave train decoder needs --pairs <jsonl> (e.g. `signweave pseudogloss --out targets.jsonl` output)');
    if (o.dev !== undefined && o.devFraction !== undefined) throw new SignweaveInputError('give --dev <jsonl> or --dev-fraction, not both');
    return;
  }
  const given = Object.entries(decoderOnly).find(([, v]) => v !== undefined);
  if (given) throw new SignweaveInputError(`${given[0]} is an option of signweave train decoder, not of ${kind}`);
  if (o.features !== undefined && !FEATURE_KINDS.includes(kind)) throw new SignweaveInputError(`--features is an option of signweave train ${FEATURE_KINDS.join('|')}, not of ${kind}`);
  if (o.lips !== undefined && kind !== 'lipread') throw new SignweaveInputError(`--lips is an option of signweave train lipread, not of ${kind}`);
  if (o.data === undefined) throw new SignweaveInputError(`signweave train ${kind} needs --data <dir>`);
}

function prepare(kind: TrainKind, resolved: ResolvedTrainConfig, out: string, o: DataOptions, signal: AbortSignal): Promise<Prepared> {
  checkDataOptions(kind, o);
  const { config } = resolved;
  const data = o.data!;
  const dropout = config.dropout > 0;
  switch (kind) {
    case 'decoder':
      return decoderData(config, out, o, signal);
    case 'sign':
    case 'fingerspell':
      return featureHeadData(kind, data, o.features, dropout);
    case 'router':
      return routerData(config, data, o.features);
    case 'lipread':
      return lipreadData(config, data, o.lips, o.progress, signal);
    case 'fusion':
      return fusionData(resolved, data, dropout);
  }
}

function summary(kind: TrainKind, result: TrainResult, out: string, prepared: Prepared, plot: boolean): string {
  const bundle = result.bundle;
  const decoder = bundle?.kind === 'decoder' ? bundle : undefined;
  // Sequence positions are tokens for the decoder; the other kinds' rows stay as they were.
  const speed = decoder && Number.isFinite(result.positionsPerSecond) ? `, ${Math.round(result.positionsPerSecond)} tokens/s` : '';
  const rows = [
    decoder ? `trained decoder → ${join(out, decoder.file)}` : `trained ${kind} bundle → ${out}`,
    `data          ${prepared.about}`,
    `steps         ${result.steps} of ${result.totalSteps}${Number.isFinite(result.msPerStep) ? `, ${result.msPerStep.toFixed(1)} ms/step${speed}` : ''}${result.stoppedEarly ? ' (stopped early)' : ''}`,
    `final loss    ${result.finalLoss.toFixed(4)}`,
  ];
  if (result.evalLoss !== undefined) {
    const accuracy = result.evalAccuracy !== undefined ? `, accuracy ${(100 * result.evalAccuracy).toFixed(1)} %` : '';
    rows.push(`eval loss     ${result.evalLoss.toFixed(4)}${accuracy}${prepared.evalOn ? ` (${prepared.evalOn})` : ''}`);
  }
  if (result.bestStep !== undefined) rows.push(`best eval     loss ${result.bestLoss!.toFixed(4)} at step ${result.bestStep}`);
  if (decoder) rows.push(`model         ${decoder.parameters} parameters, ${decoder.tensorType}, sha256 ${decoder.sha256}, ${(statSync(join(out, decoder.file)).size / 2 ** 20).toFixed(2)} MiB`);
  rows.push(...(prepared.rows ?? []));
  rows.push(`log           ${result.log}`);
  if (plot && result.plot) rows.push(`plot          ${result.plot}`);
  return `${rows.join('\n')}\n`;
}

/** A fresh `train` command (commander keeps parsed values on the command, so tests make one per run). */
export function createTrainCommand() {
  return new Command('train')
    .description(
      'Train a light module — sign or fingerspelling CTC head or router on cached backbone features, lipreading network on lip-crop videos, fusion on simulated expert outputs — and write its bundle, or the pseudo-gloss → English decoder on (pseudo-gloss, English) pairs and write its GGUF. Data formats: docs/training-data.md.',
    )
    .addArgument(new Argument('<kind>', 'what to train').choices(TRAIN_KINDS))
    .option(
      '--data <dir>',
      'sign/fingerspell: folder with targets.jsonl, its vocab files and features/ (the feature cache); router: segments.jsonl and features/; lipread: targets.jsonl and lips/<id>.mp4 lip-crop videos; fusion: a `signweave simulate` dataset',
    )
    .requiredOption('--out <dir>', 'bundle folder to write (training files go to <out>/training)')
    .option('--features <dir>', 'sign/fingerspell/router: feature cache folder (default <data>/features)')
    .option('--lips <dir>', 'lipread: folder of lip-crop videos named by record id (default <data>/lips)')
    .option('--pairs <jsonl>', 'decoder: (pseudo-gloss, English) pairs: `signweave pseudogloss --out` records or {"gloss", "english"} lines')
    .option('--dev <jsonl>', 'decoder: dev pairs for evaluation and early stopping (default: hold out --dev-fraction of --pairs)')
    .option('--dev-fraction <f>', `decoder: share of --pairs held out as dev, by a seeded hash of the ids (default ${DEFAULT_DEV_FRACTION})`, positiveNumber)
    .option('--limit <n>', 'decoder: only the first n pairs of --pairs', positiveInt)
    .option('--config <file>', `training config JSON (${TRAIN_FORMAT}; defaults for what it leaves out)`)
    .option('--epochs <n>', 'epochs (overrides the config)', positiveInt)
    .option('--seed <n>', 'seed (overrides the config)', integerIn(0, 2 ** 32 - 1))
    .option('--threads <n>', 'ONNX Runtime threads per op (default: its own choice)', positiveInt)
    .option('--resume', 'continue from the newest checkpoint in <out>/training/checkpoints', false)
    .addOption(new Option('--plot', 'print the path of the loss plot (<out>/training/loss.svg, always written)').default(false))
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the result as JSON', false)
    .action(async (kind, options) => {
      const resolved: ResolvedTrainConfig = resolveTrainConfig(options.config ?? { format: TRAIN_FORMAT });
      // --seed also seeds the dev split, as the config's seed does.
      const config: TrainConfig = { ...resolved.config, seed: options.seed ?? resolved.config.seed };
      const signal = interruptSignal();
      const prepared = await prepare(kind, { ...resolved, config }, options.out, options, signal);
      const { task, set, evalSet } = prepared;
      let progress: Progress | undefined;
      const { train } = await import('../../train/trainer.js');
      const onProgress = (e: TrainProgress): void => {
        if (e.type === 'start') {
          prepared.onStart?.(e.resumedFrom !== null);
          progress = createProgress(`train ${kind}`, e.totalSteps, options.progress);
          progress.update(e.startStep);
        } else if (e.type === 'step') progress?.update(e.step, `loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}`);
      };
      const result = await train({ task, set, evalSet, config: { ...resolved, config }, out: options.out, epochs: options.epochs, resume: options.resume, threads: options.threads, signal, onProgress });
      progress?.stop();
      if (result.interrupted) {
        process.stderr.write(`signweave: stopped after step ${result.steps}; resume with --resume (checkpoint ${result.checkpoint ?? 'none'})\n`);
        throw signal.reason;
      }
      if (options.json) {
        const { weights: _, bundle, ...rest } = result;
        const details = prepared.details ? { details: prepared.details } : {};
        const evalOn = prepared.evalOn ? { evalOn: prepared.evalOn } : {};
        process.stdout.write(`${JSON.stringify({ kind, out: options.out, config: resolved.path, configSha256: resolved.sha256, data: prepared.about, ...details, ...evalOn, ...rest, bundle }, null, 2)}\n`);
      } else {
        process.stdout.write(summary(kind, result, options.out, prepared, options.plot));
      }
    });
}

export const trainCommand = createTrainCommand();
