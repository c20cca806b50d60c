import { basename } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { noShippedDecoderMessage, shippedDecoderPath } from '../../decoder/shipped.js';
import type { DecoderGpu } from '../../decoder/types.js';
import { SignweaveInputError } from '../../errors.js';
import type { PipelineConfig } from '../../pipeline/config.js';
import { PRESET_NAMES, PRESET_SUMMARIES } from '../../pipeline/presets.js';
import { pipelineResultJson, type EnglishTranslation, type GlossTranslationResult, type PipelineProgress, type PipelineResult } from '../../pipeline/result.js';
import { positiveInt, positiveNumber, seconds, videoSource } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

const GPUS: readonly DecoderGpu[] = ['auto', 'cuda', 'vulkan', 'cpu'];

type Stage = PipelineProgress['stage'];

/** How much of a run each stage stands for on the progress bar: the frame stages dominate, then generation. */
const WEIGHTS: Record<Stage, number> = { decode: 0.1, backbone: 0.35, landmarks: 0.35, experts: 0.1, router: 0.05, fusion: 0.05, decoder: 0.15 };

/** The stages a pipeline with this config reports. */
function stagesOf(config: PipelineConfig): Stage[] {
  const off: Partial<Record<Stage, boolean>> = { landmarks: config.experts.lipread === null, router: config.router === null, fusion: config.fusion === null, decoder: !config.decoder };
  return (Object.keys(WEIGHTS) as Stage[]).filter((stage) => !off[stage]);
}

/**
 * One bar over the whole run: each stage that runs fills its share of `WEIGHTS` as its events arrive. Events after
 * `stop` are ignored (streamed English takes over the terminal).
 */
function runProgress(enabled: boolean, stages: Stage[]): { onProgress: (e: PipelineProgress) => void; stop: () => void } {
  let stopped = !enabled;
  let bar: Progress | undefined;
  const fraction: Partial<Record<Stage, number>> = {};
  const whole = stages.reduce((sum, stage) => sum + WEIGHTS[stage], 0);
  return {
    onProgress(e) {
      if (stopped) return;
      bar ??= createProgress('translate', 100);
      fraction[e.stage] = e.total > 0 ? e.done / e.total : 1;
      // Features from the cache: nothing is decoded.
      if (e.stage === 'backbone' && e.cached) fraction.decode = 1;
      const done = stages.reduce((sum, stage) => sum + WEIGHTS[stage] * (fraction[stage] ?? 0), 0);
      const detail = stages.map((stage) => `${stage} ${Math.round((fraction[stage] ?? 0) * 100)}%`).join(' · ');
      bar.update(Math.min(100, Math.round((100 * done) / whole)), detail);
    },
    stop() {
      stopped = true;
      bar?.stop();
    },
  };
}

const ms = (x: number | null): string => (x === null ? '—' : Math.round(x).toString());

/** The English row's text: the sentence, why there is none, or that the config has no decoder. */
function englishText(e: EnglishTranslation | null): string {
  if (e === null) return '(off: no decoder in the config)';
  return e.text ?? `(no English: ${e.message ?? e.failure})`;
}

/** Which model made the English, with which prompt, and how the generation went. */
function decoderLine(e: EnglishTranslation, p: NonNullable<PipelineResult['provenance']['decoder']>): string {
  const lora = p.lora.length > 0 ? ` + ${p.lora.length} LoRA` : '';
  const name = p.model.name ?? basename(p.model.path);
  return `decoder         ${name} (sha256 ${p.model.sha256.slice(0, 12)})${lora} · ${p.format} prompt ${p.promptVersion} · ${e.promptTokens} prompt + ${e.generatedTokens} generated tokens, stop: ${e.stop}`;
}

/** The paper's qualitative layout: one row per stream, the fused pseudo-gloss and its English; a first line when it means nothing. */
export function formatTranslation(r: PipelineResult): string {
  const lines: string[] = [];
  const { provenance: p } = r;
  if (p.untrained) {
    lines.push(`UNTRAINED MODELS: ${p.untrainedBundles.join(', ')} have no trained weights, so the outputs below are meaningless.`);
  }
  const off = `(off${p.config.preset ? `: preset ${p.config.preset}` : ' in the config'})`;
  const text = (s: { text: string } | undefined) => (s === undefined ? off : s.text === '' ? '(nothing decoded)' : s.text);
  const v = r.video;
  lines.push(
    `video           ${v.path}  ${v.start.toFixed(3)}–${v.end.toFixed(3)} s, ${v.frames} frames at ${+v.fps.toFixed(3)} fps${v.stride > 1 ? ` (1 frame in ${v.stride} of ${+v.info.fps.toFixed(3)} fps)` : ''}${p.config.preset ? `, preset ${p.config.preset}` : ''}`,
    '',
    `Continuous Sign ${text(r.streams.sign)}`,
    `Fingerspelling  ${text(r.streams.fingerspell)}`,
    `Lip Reading     ${text(r.streams.lipread)}${r.streams.lipread && r.streams.lipread.missingFrames.length > 0 ? `  (${r.streams.lipread.missingFrames.length} of ${v.frames} frames without a face)` : ''}`,
    `Fused           ${r.fused.text === '' ? '(nothing decoded)' : r.fused.text}${r.fused.source === 'sign' ? '  (no fusion: the sign stream)' : ''}`,
    `English         ${englishText(r.english)}`,
    '',
  );
  if (r.router) {
    const segments = r.router.decisions.map((d) => `${d.label} ${d.start.toFixed(2)}–${d.end.toFixed(2)} s (${d.confidence.toFixed(2)})`);
    lines.push(`router          ${segments.join(', ')}`);
  }
  if (r.fusion?.gate) {
    const mean = r.fusion.gate.reduce((s, g) => s + g, 0) / r.fusion.gate.length;
    lines.push(`lip gate        manual share ${mean.toFixed(3)} on average (1 = manual only, 0 = lips only)`);
  }
  if (r.english && p.decoder) lines.push(decoderLine(r.english, p.decoder));
  const t = r.timings;
  const stages = `load ${ms(t.load)} · backbone ${ms(t.backbone)} · landmarks ${ms(t.landmarks)} · sign ${ms(t.sign)} · fingerspell ${ms(t.fingerspell)} · lipread ${ms(t.lipread)} · router ${ms(t.router)} · fusion ${ms(t.fusion)} · decoder ${ms(t.decoder)}`;
  lines.push(`timings (ms)    ${stages} · total ${ms(t.total)}${p.features.cache === 'hit' ? '  (features from the cache)' : ''}`);
  return `${lines.join('\n')}\n`;
}

/** `--gloss`: the pseudo-gloss given, its English, the decoder and the timings. */
export function formatGlossTranslation(r: GlossTranslationResult): string {
  const { english: e, timings: t } = r;
  return [
    `Pseudo-gloss    ${e.gloss === '' ? '(empty)' : e.gloss}`,
    `English         ${englishText(e)}`,
    '',
    decoderLine(e, r.provenance.decoder),
    `timings (ms)    load ${ms(t.load)} · decoder ${ms(t.decoder)} · total ${ms(t.total)}`,
    '',
  ].join('\n');
}

/** No English is a failed run: everything is printed first, then this, and the exit code is 1. */
function reportFailure(english: EnglishTranslation | null): void {
  if (english === null || english.text !== null) return;
  process.stderr.write(`signweave: no English: ${english.message ?? english.failure}\n`);
  process.exitCode = 1;
}

interface Output {
  json: boolean;
  stream: boolean;
  progress: boolean;
}

/**
 * Streaming: the raw English pieces go to stdout as they are generated, after the progress bar is stopped (the two
 * would garble one terminal); `done` ends the streamed line before the layout.
 */
function tokenSink(output: Output, progress: { stop: () => void }): { onToken?: (piece: string) => void; done: () => void } {
  if (!output.stream) return { done: () => undefined };
  return {
    onToken(piece) {
      progress.stop();
      process.stdout.write(piece);
    },
    done: () => process.stdout.write('\n'),
  };
}

/** `--gloss`: the decoder alone, from the config's decoder section, from `--model`, or else the shipped decoder. */
async function translateGloss(
  gloss: string,
  options: Output & { config?: string; preset?: (typeof PRESET_NAMES)[number]; model?: string; gpu?: DecoderGpu; threads?: number; contextSize?: number; maxTokens?: number },
  signal: AbortSignal,
): Promise<void> {
  const { config, model, gpu, threads, contextSize, maxTokens } = options;
  if (config !== undefined && model !== undefined) throw new SignweaveInputError('--gloss takes the decoder from --config (its decoder section) or from --model <gguf>, not both');
  const decoderModel = config === undefined ? (model ?? shippedDecoderPath()) : null;
  if (config === undefined && decoderModel === null) {
    throw new SignweaveInputError(`--gloss needs a decoder, and ${noShippedDecoderMessage('--model <gguf>, or --config <file> with a decoder section')}`);
  }
  if (config !== undefined && [gpu, threads, contextSize, maxTokens].some((o) => o !== undefined)) {
    throw new SignweaveInputError('--gpu, --threads, --context-size and --max-tokens go with --model: a config sets them in its /decoder section');
  }
  const progress = runProgress(options.progress, ['decoder']);
  const sink = tokenSink(options, progress);
  const run = { onProgress: progress.onProgress, onToken: sink.onToken, signal };
  let result: GlossTranslationResult;
  try {
    if (config !== undefined) {
      const { createPipeline } = await import('../../pipeline/pipeline.js');
      await using pipeline = await createPipeline(config, { preset: options.preset });
      result = await pipeline.translateGloss(gloss, run);
    } else {
      const { EnglishStage } = await import('../../pipeline/english.js');
      await using stage = new EnglishStage({ model: decoderModel!, gpu, threads, contextSize, maxTokens });
      result = await stage.translate(gloss, run);
    }
  } finally {
    progress.stop();
  }
  sink.done();
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatGlossTranslation(result));
  reportFailure(result.english);
}

const presetHelp = PRESET_NAMES.map((name) => `  ${name.padEnd(24)}${PRESET_SUMMARIES[name]}`).join('\n');

export const translateCommand = new Command('translate')
  .description(
    'Translate a sign-language video to English with the pipeline a JSON config describes: the expert streams, the fused pseudo-gloss, and its English when the config has a decoder. With --gloss, run the decoder alone on a pseudo-gloss.',
  )
  .argument('[video]', 'video file (any format ffmpeg reads), or a folder of numbered .png/.jpg frames (with --fps); none with --gloss')
  .addOption(new Option('--fps <n>', 'frame folders: the rate its images are shown at (PHOENIX-2014T: 25)').argParser(positiveNumber).conflicts('gloss'))
  .option('--config <file>', 'pipeline config (JSON; `signweave models init-demo <dir>` writes one); required for a video')
  .addOption(new Option('--preset <name>', "the full model or an ablation, applied to the config (instead of its own 'preset')").choices(PRESET_NAMES))
  .addOption(new Option('--start <s>', 'range start, seconds from the start of the file').argParser(seconds).conflicts('gloss'))
  .addOption(new Option('--end <s>', 'range end (exclusive), seconds from the start of the file').argParser(seconds).conflicts('gloss'))
  .option('--threads <n>', 'ONNX Runtime threads per session (default: all cores); with --gloss --model, llama.cpp threads', positiveInt)
  .option('--gloss <pseudo-gloss>', 'run the decoder alone on this pseudo-gloss (e.g. "GAIN BALANCE TOE"), with the decoder of --config or of --model; no video')
  .option('--model <gguf>', 'with --gloss and no --config: the GGUF model that decodes it (default: the decoder shipped with signweave, models/signweave-decoder/decoder.gguf)')
  .addOption(new Option('--gpu <backend>', "with --gloss and no --config: llama.cpp's backend (default auto: the GPU when one is usable; cpu: none)").choices(GPUS))
  .option('--context-size <tokens>', "with --gloss and no --config: the decoder's context window (default 1024)", positiveInt)
  .option('--max-tokens <n>', 'with --gloss and no --config: the most tokens of English to generate (default 64)', positiveInt)
  .option('--json', 'print the whole result as JSON (streams with logits, router, fusion, English, timings, provenance; with --gloss: English, timings, provenance)', false)
  .addOption(
    new Option('--stream', 'write the English to stdout as the decoder generates it (raw model text, before post-processing), then the layout; not with --json, whose output is one JSON document')
      .default(false)
      .conflicts('json'),
  )
  .option('--no-progress', 'no progress bar')
  .addHelpText(
    'after',
    `
Output: the layout (or --json) on stdout, the progress bar on stderr. When the decoder makes no English (an empty
pseudo-gloss, a prompt longer than the context, nothing left after post-processing, a llama.cpp error), everything is
still printed, then "signweave: no English: <why>" on stderr, and the exit code is 1.

Presets:
${presetHelp}
`,
  )
  .action(async (video, options) => {
    const signal = interruptSignal();
    if (options.gloss !== undefined) {
      if (video !== undefined) throw new SignweaveInputError(`--gloss runs the decoder alone on the pseudo-gloss: give no video (got ${video})`);
      await translateGloss(options.gloss, options, signal);
      return;
    }
    if (video === undefined) throw new SignweaveInputError('give a video to translate, or --gloss <pseudo-gloss> to run the decoder alone');
    if (options.config === undefined) throw new SignweaveInputError('give the pipeline config: --config <file> (`signweave models init-demo <dir>` writes one)');
    if ([options.model, options.gpu, options.contextSize, options.maxTokens].some((o) => o !== undefined)) {
      throw new SignweaveInputError('--model, --gpu, --context-size and --max-tokens go with --gloss: for a video, the config sets its decoder in /decoder');
    }
    const source = videoSource(video, options.fps);
    // Loaded here, not at start-up: the pipeline's modules (MediaPipe host, backbone, experts, llama.cpp) would slow every command.
    const { createPipeline } = await import('../../pipeline/pipeline.js');
    await using pipeline = await createPipeline(options.config, { preset: options.preset, threads: options.threads });
    if (options.stream && !pipeline.config.decoder) throw new SignweaveInputError(`--stream streams the English, but ${pipeline.resolved.source} has no decoder section`);
    const progress = runProgress(options.progress, stagesOf(pipeline.config));
    const sink = tokenSink(options, progress);
    let result: PipelineResult;
    try {
      result = await pipeline.run(source, { start: options.start, end: options.end, signal, onProgress: progress.onProgress, onToken: sink.onToken });
    } finally {
      progress.stop();
    }
    sink.done();
    process.stdout.write(options.json ? `${pipelineResultJson(result)}\n` : formatTranslation(result));
    reportFailure(result.english);
  });
