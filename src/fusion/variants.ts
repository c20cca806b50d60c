/**
 * The fusion ablations of SignBind-LLM as named variants of the full model's fusion config. Kept apart from the
 * bundle loader (src/bundles/fusion.ts) so that the training config can name them without loading ONNX Runtime.
 */
import { resolveFusionConfig, type FusionConfig } from './config.js';

/** What a fusion variant changes in the full model's fusion (gated, every stream, lips aligned by the model). */
type VariantSpec = Pick<FusionConfig, 'type' | 'lip' | 'fingerspell' | 'lipAlignment'>;

/** The fusion ablations of SignBind-LLM: fusion strategies, a dropped stream, fixed lip shifts in frames. */
export const FUSION_VARIANTS = {
  gated: {},
  'concat-mlp': { type: 'concat-mlp' },
  'cross-attention': { type: 'cross-attention' },
  cmfa: { type: 'cmfa' },
  'no-lip': { lip: false },
  'no-fingerspell': { fingerspell: false },
  'lip-shift-0': { lipAlignment: { shift: 0 } },
  'lip-shift-5': { lipAlignment: { shift: 5 } },
  'lip-shift-10': { lipAlignment: { shift: 10 } },
} as const satisfies Record<string, VariantSpec>;

export type FusionVariant = keyof typeof FUSION_VARIANTS;

export const FUSION_VARIANT_NAMES = Object.keys(FUSION_VARIANTS) as FusionVariant[];

/** The full model's fusion config changed as `variant` says (a dropped stream also loses its width and lip stride). */
export function fusionVariantConfig(base: FusionConfig, variant: FusionVariant): FusionConfig {
  const config: FusionConfig = { ...base, ...(FUSION_VARIANTS[variant] as VariantSpec) };
  if (config.lip === false) {
    config.inputs = { ...config.inputs, lips: null };
    config.lipStride = null;
  }
  if (config.fingerspell === false) config.inputs = { ...config.inputs, fingerspell: null };
  return config;
}

/**
 * Which variant a fusion config is, or null for none of them. Without lips, the fusion type and lip alignment have
 * nothing to act on, so they are not compared.
 */
export function fusionVariantOf(config: FusionConfig): FusionVariant | null {
  const c = resolveFusionConfig(config);
  const shiftOf = (a: FusionConfig['lipAlignment']) => (a === undefined || a === 'learned' ? null : a.shift);
  for (const name of FUSION_VARIANT_NAMES) {
    const spec: VariantSpec = FUSION_VARIANTS[name];
    if (c.lip !== (spec.lip ?? true) || c.fingerspell !== (spec.fingerspell ?? true)) continue;
    if (c.lip && (c.type !== (spec.type ?? 'gated') || shiftOf(c.lipAlignment) !== shiftOf(spec.lipAlignment))) continue;
    return name;
  }
  return null;
}
