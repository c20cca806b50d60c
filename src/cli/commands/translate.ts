import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { PipelineConfig } from '../../pipeline/config.js';
import { PRESET_NAMES, PRESET_SUMMARIES } from '../../pipeline/presets.js';
import { pipelineResultJson, type PipelineProgress, type PipelineResult } from '../../pipeline/result.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress, type Progress } from '../progress.js';

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds ≥ 0.');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

type Stage = PipelineProgress['stage'];

/** How much of a run each stage stands for on the progress bar: the frame stages dominate. */
const WEIGHTS: Record<Stage, number> = { decode: 0.1, backbone: 0.35, landmarks: 0.35, experts: 0.1, router: 0.05, fusion: 0.05 };

/** The stages a pipeline with this config reports. */
function stagesOf(config: PipelineConfig): Stage[] {
  return (Object.keys(WEIGHTS) as Stage[]).filter(
    (stage) => (stage !== 'landmarks' || config.experts.lipread !== null) && (stage !== 'router' || config.router !== null) && (stage !== 'fusion' || config.fusion !== null),
  );
}

/** One bar over the whole run: each stage that runs fills its share of `WEIGHTS` as its events arrive. */
function runProgress(enabled: boolean, stages: Stage[]): { onProgress: (e: PipelineProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => undefined, stop: () => undefined };
  let bar: Progress | undefined;
  const fraction: Partial<Record<Stage, number>> = {};
  const whole = stages.reduce((sum, stage) => sum + WEIGHTS[stage], 0);
  return {
    onProgress(e) {
      bar ??= createProgress('translate', 100);
      fraction[e.stage] = e.total > 0 ? e.done / e.total : 1;
      // Features from the cache: nothing is decoded.
      if (e.stage === 'backbone' && e.cached) fraction.decode = 1;
      const done = stages.reduce((sum, stage) => sum + WEIGHTS[stage] * (fraction[stage] ?? 0), 0);
      const detail = stages.map((stage) => `${stage} ${Math.round((fraction[stage] ?? 0) * 100)}%`).join(' · ');
      bar.update(Math.min(100, Math.round((100 * done) / whole)), detail);
    },
    stop: () => bar?.stop(),
  };
}

const ms = (x: number | null): string => (x === null ? '—' : Math.round(x).toString());

/** The paper's qualitative layout: one row per stream, then the fused pseudo-gloss; a first line when it means nothing. */
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
  const t = r.timings;
  const stages = `load ${ms(t.load)} · backbone ${ms(t.backbone)} · landmarks ${ms(t.landmarks)} · sign ${ms(t.sign)} · fingerspell ${ms(t.fingerspell)} · lipread ${ms(t.lipread)} · router ${ms(t.router)} · fusion ${ms(t.fusion)}`;
  lines.push(`timings (ms)    ${stages} · total ${ms(t.total)}${p.features.cache === 'hit' ? '  (features from the cache)' : ''}`);
  return `${lines.join('\n')}\n`;
}

const presetHelp = PRESET_NAMES.map((name) => `  ${name.padEnd(24)}${PRESET_SUMMARIES[name]}`).join('\n');

export const translateCommand = new Command('translate')
  .description('Translate a sign-language video up to the fused pseudo-gloss with the pipeline a JSON config describes.')
  .argument('<video>', 'video file (any format ffmpeg reads)')
  .requiredOption('--config <file>', 'pipeline config (JSON; `signweave models init-demo <dir>` writes one)')
  .addOption(new Option('--preset <name>', "the full model or an ablation, applied to the config (instead of its own 'preset')").choices(PRESET_NAMES))
  .option('--start <s>', 'range start, seconds from the start of the file', seconds)
  .option('--end <s>', 'range end (exclusive), seconds from the start of the file', seconds)
  .option('--threads <n>', 'ONNX Runtime threads per session (default: all cores)', positiveInt)
  .option('--json', 'print the whole result (streams with logits, router, fusion, timings, provenance) as JSON', false)
  .option('--no-progress', 'no progress bar')
  .addHelpText('after', `\nPresets:\n${presetHelp}\n`)
  .action(async (video, options) => {
    const signal = interruptSignal();
    // Loaded here, not at start-up: the pipeline's modules (MediaPipe host, backbone, experts) would slow every command.
    const { createPipeline } = await import('../../pipeline/pipeline.js');
    await using pipeline = await createPipeline(options.config, { preset: options.preset, threads: options.threads });
    const progress = runProgress(options.progress, stagesOf(pipeline.config));
    let result: PipelineResult;
    try {
      result = await pipeline.run(video, { start: options.start, end: options.end, signal, onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
    process.stdout.write(options.json ? `${pipelineResultJson(result)}\n` : formatTranslation(result));
  });
