/**
 * The knobs of the simulated-experts generative model (docs/simulate.md explains each one and why its default is
 * what it is). One typed object, defaults filled in, validated with JSON pointers in errors, hashed into every output.
 */
import { createHash } from 'node:crypto';
import { SignweaveInputError } from '../errors.js';
import { escapePointer, showValue } from '../util/json-schema.js';

/** Erlang(shape, mean) durations in frames, rounded, at least `min` (the sum of `shape` exponentials). */
export interface DurationSettings {
  mean: number;
  shape: number;
  min: number;
}

/** What one expert gets wrong, per reference token, and how its CTC posteriors look. */
export interface StreamSettings {
  substitution: number;
  deletion: number;
  insertion: number;
  /** Share of substitutions drawn from the token's confusion neighbourhood (the rest: any token of the vocabulary). */
  confusable: number;
  /**
   * Probability of the winning token at a token spike: normal(mean, sd) clipped to [min, 0.999 − floor]. At least 0.5,
   * so the winner stays the argmax and greedy CTC decoding shows exactly the emitted tokens.
   */
  peak: { mean: number; sd: number; min: number };
  /** Probability of the blank between spikes, drawn the same way. */
  blank: { mean: number; sd: number; min: number };
  /** Frames a token's spike covers (1: CTC-peaky; larger spreads it over its segment). */
  peakFrames: number;
  /** Tokens sharing the mass a frame's winner leaves: how many, and the sd of their log-weights (noise). */
  distractors: number;
  noise: number;
  /** Share of that left-over mass given to the true token's confusion neighbours first. */
  confusableMass: number;
  /** Mass spread evenly over the whole vocabulary, so no log-probability is -Infinity. */
  floor: number;
}

export interface SimulationSettings {
  seed: number;
  /** Frames per second of the simulated video (How2Sign: 24). */
  fps: number;
  timeline: {
    sign: DurationSettings;
    letter: DurationSettings;
    restStart: DurationSettings;
    restEnd: DurationSettings;
    /** Probability of a rest between two consecutive signs / fingerspelled spans, and its duration. */
    pauseProbability: number;
    pause: DurationSettings;
  };
  sign: StreamSettings;
  fingerspell: StreamSettings;
  lip: StreamSettings & {
    /** Hand frames per lip frame (the lipreading expert's temporal stride). */
    stride: number;
    /** Probability that a sign's English word is mouthed at all. */
    mouthing: number;
    /** Lips lag the hands by `frames` (negative: lead); `per-sentence` draws normal(frames, sd) once per sentence; `random-walk` adds normal(0, step) per hand frame on top. */
    offset: { mode: 'constant' | 'per-sentence' | 'random-walk'; frames: number; sd: number; step: number };
    /** Face lost: a dropout starts at a lip frame with this probability and lasts Erlang frames. */
    dropout: { rate: number; length: DurationSettings };
  };
}

const stream = (s: Partial<StreamSettings>): StreamSettings => ({
  substitution: 0.1,
  deletion: 0.05,
  insertion: 0.03,
  confusable: 0.8,
  peak: { mean: 0.85, sd: 0.1, min: 0.5 },
  blank: { mean: 0.97, sd: 0.02, min: 0.5 },
  peakFrames: 1,
  distractors: 4,
  noise: 1,
  confusableMass: 0.5,
  floor: 1e-6,
  ...s,
});

/** Defaults: How2Sign-like timing (24 fps, ~162 frames for a 17-word sentence) and moderately good experts. */
export const DEFAULT_SIMULATION_SETTINGS: SimulationSettings = {
  seed: 1,
  fps: 24,
  timeline: {
    sign: { mean: 10.5, shape: 4, min: 3 },
    letter: { mean: 5, shape: 6, min: 3 },
    restStart: { mean: 8, shape: 3, min: 1 },
    restEnd: { mean: 8, shape: 3, min: 1 },
    pauseProbability: 0.25,
    pause: { mean: 5, shape: 2, min: 1 },
  },
  sign: stream({ substitution: 0.15, deletion: 0.08, insertion: 0.04 }),
  fingerspell: stream({ substitution: 0.2, deletion: 0.06, insertion: 0.04 }),
  lip: {
    ...stream({ substitution: 0.3, deletion: 0.1, insertion: 0.05, peak: { mean: 0.7, sd: 0.15, min: 0.5 } }),
    stride: 2,
    mouthing: 0.8,
    offset: { mode: 'constant', frames: 5, sd: 2, step: 0.2 },
    dropout: { rate: 0.005, length: { mean: 8, shape: 2, min: 1 } },
  },
};

/** Inclusive ranges by key path (`*` = any stream); integers where marked. */
const RANGES: Record<string, { min: number; max: number; integer?: boolean }> = {
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  fps: { min: 1, max: 1000 },
  mean: { min: 0, max: 10_000 },
  shape: { min: 1, max: 100, integer: true },
  'duration.min': { min: 0, max: 10_000, integer: true },
  probability: { min: 0, max: 1 },
  sd: { min: 0, max: 100 },
  peakFrames: { min: 1, max: 10_000, integer: true },
  distractors: { min: 0, max: 1000, integer: true },
  noise: { min: 0, max: 100 },
  floor: { min: 1e-12, max: 0.01 },
  stride: { min: 1, max: 16, integer: true },
  frames: { min: -1000, max: 1000 },
  step: { min: 0, max: 100 },
  'peak.min': { min: 0.5, max: 0.99 },
};

function rangeFor(path: string[]): { min: number; max: number; integer?: boolean } {
  const key = path[path.length - 1];
  const parent = path[path.length - 2];
  if (key === 'min') return parent === 'peak' || parent === 'blank' ? RANGES['peak.min'] : RANGES['duration.min'];
  if (key === 'mean' && (parent === 'peak' || parent === 'blank')) return RANGES.probability;
  if (['substitution', 'deletion', 'insertion', 'confusable', 'confusableMass', 'pauseProbability', 'mouthing', 'rate'].includes(key)) return RANGES.probability;
  const range = RANGES[key];
  if (!range) throw new Error(`no range for setting ${path.join('/')}`);
  return range;
}

const OFFSET_MODES = ['constant', 'per-sentence', 'random-walk'] as const;

/**
 * `overrides` (e.g. a parsed sim.json) laid over the defaults: unknown keys, wrong types and values out of range are
 * input errors naming `source` and the JSON pointer.
 */
export function resolveSimulationSettings(overrides: unknown, source = 'settings'): SimulationSettings {
  const problems: string[] = [];
  const merge = (base: unknown, value: unknown, path: string[]): unknown => {
    const pointer = `/${path.map(escapePointer).join('/')}`;
    if (base !== null && typeof base === 'object') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${pointer}: must be an object (value: ${showValue(value)})`);
        return base;
      }
      const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
      for (const [k, v] of Object.entries(value)) {
        if (!Object.hasOwn(base, k)) problems.push(`${pointer === '/' ? '' : pointer}/${escapePointer(k)}: unknown setting`);
        else out[k] = merge((base as Record<string, unknown>)[k], v, [...path, k]);
      }
      return out;
    }
    if (typeof base === 'string') {
      if (!OFFSET_MODES.includes(value as (typeof OFFSET_MODES)[number])) problems.push(`${pointer}: must be one of ${OFFSET_MODES.join(', ')} (value: ${showValue(value)})`);
      return value;
    }
    const range = rangeFor(path);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
      problems.push(`${pointer}: must be ${range.integer ? 'an integer' : 'a number'} in [${range.min}, ${range.max}] (value: ${showValue(value)})`);
    }
    return value;
  };
  const settings = merge(DEFAULT_SIMULATION_SETTINGS, overrides ?? {}, []) as SimulationSettings;
  if (problems.length > 0) throw new SignweaveInputError(`${source}: ${problems.join('; ')}`);
  return settings;
}

/** sha256 of the settings as JSON (their key order is the defaults', so equal settings hash equally). */
export function settingsHash(settings: SimulationSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}
