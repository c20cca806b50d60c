/**
 * Presets: the full model and the paper's ablations, each a function from a base config (the full model: every
 * expert, the router and fusion, with a fusion bundle per variant in `fusion.variants`) to the config that runs it.
 * A preset only turns stages off and picks fusion bundles; it never invents a bundle the base config does not name.
 */
import type { FusionVariant } from '../bundles/fusion.js';
import { SignweaveInputError } from '../errors.js';
import type { PipelineConfig } from './config.js';

export const PRESET_NAMES = [
  'full',
  'no-lipreading',
  'no-fingerspelling',
  'no-fusion',
  'fusion-concat',
  'fusion-cross-attention',
  'fusion-gated',
  'fusion-cmfa',
  'lip-shift-0',
  'lip-shift-5',
  'lip-shift-10',
] as const;

export type PresetName = (typeof PRESET_NAMES)[number];

export type Preset = (base: PipelineConfig) => PipelineConfig;

function fail(preset: PresetName, message: string): never {
  throw new SignweaveInputError(`preset '${preset}' ${message}`);
}

/** A stage the preset runs: the base config must have it (a preset cannot name a bundle for it). */
function needs(preset: PresetName, base: PipelineConfig, stage: 'fingerspell' | 'lipread' | 'router' | 'fusion'): void {
  const on = stage === 'router' || stage === 'fusion' ? base[stage] : base.experts[stage];
  const pointer = stage === 'router' || stage === 'fusion' ? `/${stage}` : `/experts/${stage}`;
  if (!on) fail(preset, `runs the ${stage} stage, but the base config turns it off (${pointer} is null): presets start from the full model's config`);
}

/**
 * The bundle of a fusion variant: `fusion.variants[variant]`, or `fusion.bundle` when that is the variant the base
 * config runs (`fusion.variant`, the full model's gated fusion when unset).
 */
function fusionBundle(preset: PresetName, base: PipelineConfig, variant: FusionVariant): string {
  const fusion = base.fusion!;
  const named = fusion.variants?.[variant];
  if (named !== undefined) return named;
  if ((fusion.variant ?? 'gated') === variant) return fusion.bundle;
  return fail(preset, `runs the fusion variant '${variant}': name its bundle in /fusion/variants/${variant}`);
}

/** Every stage on and the fusion bundle of `variant`; the no-lip and no-fingerspell variants turn their expert off. */
function withFusion(preset: PresetName, variant: FusionVariant): Preset {
  return (base) => {
    const dropped = variant === 'no-lip' ? 'lipread' : variant === 'no-fingerspell' ? 'fingerspell' : null;
    for (const stage of ['fingerspell', 'lipread', 'router', 'fusion'] as const) if (stage !== dropped) needs(preset, base, stage);
    const experts = { ...base.experts, ...(dropped && { [dropped]: null }) };
    return { ...base, preset, experts, fusion: { ...base.fusion!, bundle: fusionBundle(preset, base, variant), variant } };
  };
}

/**
 * - `full`, `fusion-gated`: every expert, the router and the paper's gated fusion (the same config; the second name
 *   is the gated row of the fusion-strategy ablation);
 * - `no-lipreading`: no lipreading expert (no landmarks either) and the fusion bundle without a lip stream;
 * - `no-fingerspelling`: no fingerspelling expert and the fusion bundle without the fingerspelling stream (the router
 *   weights are renormalised over sign and rest);
 * - `no-fusion`: no fusion: the sign expert's output is the pseudo-gloss (the other experts and the router still run
 *   and are reported);
 * - `fusion-concat`, `fusion-cross-attention`, `fusion-cmfa`: the other fusion strategies (concatenation + MLP,
 *   manual-to-lip cross-attention, SignFuse's bidirectional CMFA);
 * - `lip-shift-0`, `lip-shift-5`, `lip-shift-10`: the lip stream moved by a fixed 0, 5 or 10 manual-stream frames
 *   instead of the alignment the gated fusion learns.
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  full: withFusion('full', 'gated'),
  'no-lipreading': withFusion('no-lipreading', 'no-lip'),
  'no-fingerspelling': withFusion('no-fingerspelling', 'no-fingerspell'),
  'no-fusion': (base) => ({ ...base, preset: 'no-fusion', fusion: null }),
  'fusion-concat': withFusion('fusion-concat', 'concat-mlp'),
  'fusion-cross-attention': withFusion('fusion-cross-attention', 'cross-attention'),
  'fusion-gated': withFusion('fusion-gated', 'gated'),
  'fusion-cmfa': withFusion('fusion-cmfa', 'cmfa'),
  'lip-shift-0': withFusion('lip-shift-0', 'lip-shift-0'),
  'lip-shift-5': withFusion('lip-shift-5', 'lip-shift-5'),
  'lip-shift-10': withFusion('lip-shift-10', 'lip-shift-10'),
};

/** One line per preset, for help texts. */
export const PRESET_SUMMARIES: Readonly<Record<PresetName, string>> = {
  full: 'every expert, the router and the gated fusion (the paper\'s model)',
  'no-lipreading': 'ablation: no lipreading expert; fusion without the lip stream',
  'no-fingerspelling': 'ablation: no fingerspelling expert; fusion without the fingerspelling stream',
  'no-fusion': 'ablation: the sign expert\'s output is the pseudo-gloss',
  'fusion-concat': 'fusion strategy: concatenation + MLP',
  'fusion-cross-attention': 'fusion strategy: manual-to-lip cross-attention',
  'fusion-gated': 'fusion strategy: the adaptive gate (same as full)',
  'fusion-cmfa': 'fusion strategy: SignFuse\'s bidirectional cross-modal fusion attention',
  'lip-shift-0': 'lip alignment: a fixed shift of 0 frames instead of the learned one',
  'lip-shift-5': 'lip alignment: a fixed shift of 5 frames',
  'lip-shift-10': 'lip alignment: a fixed shift of 10 frames',
};
