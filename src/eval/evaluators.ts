/**
 * What `signweave eval <stage>` scores, as one declarative table: per stage, which parts of the user's pipeline config
 * run (only what is scored), where the hypothesis comes from, which reference it is scored against, and the metrics
 * (src/eval/metrics/registry.ts, plus routing accuracy, defined here). The runner (src/eval/run.ts) knows no stage.
 */
import type { DecoderOutput } from '../decoder/types.js';
import { SignweaveInputError } from '../errors.js';
import { sentenceBleu } from './metrics/bleu.js';
import { scoreCorpus, type MetricId } from './metrics/registry.js';
import type { MetricScore } from './metrics/types.js';
import type { PipelineConfig, ResolvedPipelineConfig } from '../pipeline/config.js';
import type { PipelineResult } from '../pipeline/result.js';
import type { Language } from '../../pseudogloss/corpora.js';
import type { EvalStage, RoutingLabel, SampleReferences } from './types.js';
import { SIGNWEAVE_VERSION } from '../version.js';

/** A corpus-level score: the registry's `ScoredMetric` shape, also for routing accuracy, which is not in the registry. */
export interface EvalMetric {
  id: string;
  result: MetricScore & Record<string, unknown>;
  /** The components in a line. */
  details: string;
}

/** A stage's hypothesis for one sample, or why there is none; `input` is what the scored stage read (a pseudo-gloss). */
export type Outcome<H> = { hypothesis: H; input?: string } | { failure: string; input?: string };

/** The parts of a pipeline config an evaluation may turn off. */
type Part = 'fingerspell' | 'lipread' | 'router' | 'fusion' | 'decoder';

/** Per part: turned off, kept as the user's config has it, or required (an error names the pointer when it is off). */
type PartUse = 'off' | 'as-is' | 'required';

/**
 * Where hypotheses come from: a pipeline run per sample (`video`), or the decoder alone on the oracle pseudo-gloss
 * (`pseudogloss`: no video).
 */
export type HypothesisSource<H> =
  | { input: 'video'; hypothesis(result: PipelineResult): Outcome<H> }
  | { input: 'pseudogloss'; hypothesis(output: DecoderOutput, gloss: string): Outcome<H> };

/** One stage's evaluation. Functions are methods, so a typed evaluator is also an `Evaluator` (unknown, unknown). */
export type Evaluator<H = unknown, R = unknown> = HypothesisSource<H> & {
  stage: EvalStage;
  summary: string;
  /** What of the user's config runs (the sign expert always does: a pipeline cannot run without it). */
  parts: Readonly<Record<Part, PartUse>>;
  /** The reference, or null when the sample has nothing to score this stage against (no fingerspelling, empty gloss…). */
  reference(refs: SampleReferences): R | null;
  /** Why a sample without a reference is not scored, in words. */
  noReference: string;
  /** What a failed sample counts as: failures lower the corpus score, as an empty line of a hypothesis file would. */
  empty: H;
  /** Sentence-level scores of one sample, so the worst cases can be found. */
  sentence(hypothesis: H, reference: R, language: Language): Record<string, number>;
  /** Corpus-level metrics over every scored sample (`language`: the dataset's). */
  corpus(hypotheses: readonly H[], references: readonly R[], language: Language): EvalMetric[];
  /** The sentence score samples are ranked by (then `tiebreak`), and whether higher is better. */
  rank: { score: string; tiebreak?: string; higherIsBetter: boolean };
  /** A reference point scored in the same run with the same metrics, made from the oracle pseudo-gloss alone (no model). */
  baseline?: EvalBaselineSpec<H>;
};

export interface EvalBaselineSpec<H> {
  id: string;
  /** What its hypotheses are, in words. */
  description: string;
  hypothesis(pseudoGloss: string): H;
}

/**
 * The decoder's identity baseline: the oracle pseudo-gloss itself, lower-cased, as the English. A decoder earns its
 * place only by beating it clearly (a function-word filter as "gloss" already scores ≈ 21 BLEU-4 on How2Sign test).
 */
export const IDENTITY_BASELINE: EvalBaselineSpec<string> = {
  id: 'identity',
  description: 'the oracle pseudo-gloss itself, lower-cased, as the English',
  hypothesis: (pseudoGloss) => pseudoGloss.toLowerCase(),
};

const POINTERS: Record<Part, string> = {
  fingerspell: '/experts/fingerspell',
  lipread: '/experts/lipread',
  router: '/router',
  fusion: '/fusion',
  decoder: '/decoder',
};

const PART_NAMES: Record<Part, string> = {
  fingerspell: 'the fingerspelling expert',
  lipread: 'the lipreading expert',
  router: 'the router',
  fusion: 'fusion',
  decoder: 'the English decoder (a `decoder` section)',
};

function partOf(config: PipelineConfig, part: Part): unknown {
  return part === 'fingerspell' || part === 'lipread' ? config.experts[part] : config[part];
}

/** How errors name a config: its source and the preset applied. */
export function configLabel(resolved: ResolvedPipelineConfig): string {
  return resolved.preset ? `${resolved.source} (preset '${resolved.preset}')` : resolved.source;
}

/**
 * The config that runs exactly what `evaluator` scores, from the user's resolved config (paths absolute, preset
 * applied). A required part the config turns off is an input error naming the config, its preset and the pointer.
 */
export function stageConfig(evaluator: Evaluator, resolved: ResolvedPipelineConfig): PipelineConfig {
  const { preset: _applied, ...config } = resolved.config;
  const label = configLabel(resolved);
  const off = new Set<Part>();
  for (const [part, use] of Object.entries(evaluator.parts) as [Part, PartUse][]) {
    if (use === 'off') off.add(part);
    else if (use === 'required' && (partOf(config, part) ?? null) === null) {
      throw new SignweaveInputError(`${label}: ${POINTERS[part]}: is ${partOf(config, part) === null ? 'null' : 'missing'}, but \`signweave eval ${evaluator.stage}\` scores ${PART_NAMES[part]}`);
    }
  }
  const drop = (part: Part) => (off.has(part) ? null : partOf(config, part));
  return {
    ...config,
    experts: { ...config.experts, fingerspell: drop('fingerspell') as PipelineConfig['experts']['fingerspell'], lipread: drop('lipread') as PipelineConfig['experts']['lipread'] },
    router: drop('router') as PipelineConfig['router'],
    fusion: drop('fusion') as PipelineConfig['fusion'],
    decoder: drop('decoder') as PipelineConfig['decoder'],
  };
}

/** The English of a decoder output, or its failure (text null) in words. */
export function englishOutcome(output: DecoderOutput, input: string): Outcome<string> {
  return output.text === null ? { failure: `${output.failure}: ${output.message ?? 'no English'}`, input } : { hypothesis: output.text, input };
}

/** Scores of one sentence pair with registry metrics (a corpus of one). */
function sentenceScores(ids: readonly MetricId[], hypothesis: string, reference: string): Record<string, number> {
  return Object.fromEntries(scoreCorpus(ids, [hypothesis], [[reference]]).map((m) => [m.id, m.result.score]));
}

/** What every stage says about itself. */
type StageSpec = HypothesisSource<string> & { stage: EvalStage; summary: string; parts: Evaluator['parts']; baseline?: EvalBaselineSpec<string> };

type TextEvaluatorSpec = StageSpec & {
  rank: Evaluator['rank'];
  noReference: string;
  reference(refs: SampleReferences): string;
  metrics: readonly MetricId[];
};

/** A stage scored as text against text with registry metrics; an empty reference leaves the sample unscored. */
function textEvaluator(spec: TextEvaluatorSpec): Evaluator<string, string> {
  const { reference, metrics, ...rest } = spec;
  return {
    ...rest,
    empty: '',
    reference: (refs) => {
      const text = reference(refs);
      return text.trim() === '' ? null : text;
    },
    sentence: (h, r) => sentenceScores(metrics, h, r),
    corpus: (hypotheses, references) => scoreCorpus(metrics, hypotheses, [references]),
  };
}

/** Chinese is written without spaces: characters are its tokens. */
const characters = (text: string): string => Array.from(text.replace(/\s+/g, '')).join(' ');

/**
 * Translation metrics as SLT papers report them: sacrebleu corpus BLEU with cumulative BLEU-1..4 (tokenizer 13a;
 * `char` for Chinese), COCO ROUGE-L (on characters for Chinese) and chrF2. Samples are ranked by sacrebleu's sentence
 * BLEU (effective order), then sentence chrF.
 */
function translationEvaluator(spec: StageSpec): Evaluator<string, string> {
  const tokenize = (language: Language) => (language === 'zh' ? 'char' : '13a');
  const rouge = (hypotheses: readonly string[], references: readonly string[], language: Language): EvalMetric => {
    if (language !== 'zh') return scoreCorpus(['rouge'], hypotheses, [references])[0];
    const [m] = scoreCorpus(['rouge'], hypotheses.map(characters), [references.map(characters)]);
    return { ...m, result: { ...m.result, signature: m.result.signature.replace('tok:space', 'tok:char') } };
  };
  return {
    ...spec,
    reference: (refs) => (refs.english.trim() === '' ? null : refs.english),
    noReference: 'no reference translation',
    empty: '',
    rank: { score: 'bleu', tiebreak: 'chrf', higherIsBetter: true },
    sentence: (h, r, language) => ({
      bleu: sentenceBleu(h, [r], { tokenize: tokenize(language) }).score,
      rouge: rouge([h], [r], language).result.score,
      chrf: scoreCorpus(['chrf'], [h], [[r]])[0].result.score,
    }),
    corpus: (hypotheses, references, language) => {
      const [bleu, chrf] = scoreCorpus(['bleu', 'chrf'], hypotheses, [references], { tokenize: tokenize(language) });
      return [bleu, rouge(hypotheses, references, language), chrf];
    },
  };
}

// -----------------------------------------------------------------------------------------------------------------
// Routing accuracy

/** The router's decisions of one sample, as the samples file keeps them. */
export type RouterHypothesis = { label: string; start: number; end: number }[];

/** Labelled segments (explicit or derived routing labels), or only the sample's class. */
export type RouterReference = { segments: RoutingLabel[] } | { sampleClass: SampleReferences['sampleClass'] };

const ROUTING_VERSION = `signweave-${SIGNWEAVE_VERSION}`;

/**
 * Routing accuracy, one of two units:
 * - `segment` (samples with routing labels): each labelled segment is routed as the class whose router segments
 *   overlap it longest (ties: the first in `sign, fingerspell, rest` order); it is right when that class is its label.
 *   A labelled segment no router segment overlaps (outside the analysed range) is wrong.
 * - `sample` (samples without labels, by their class): a `fingerspell` sample is right when the router made at least
 *   one segment and routed every one to fingerspell, a `sign` sample when it made at least one and routed none to
 *   fingerspell, a `mixed` sample when it routed at least one to fingerspell.
 * Accuracy = 100 · right / all over the corpus.
 */
export const ROUTING_SIGNATURES = {
  segment: `metric:routing-acc|unit:segment|match:max-overlap|classes:sign,fingerspell,rest|version:${ROUTING_VERSION}`,
  sample: `metric:routing-acc|unit:sample|rule:fingerspell-all,sign-none,mixed-any|version:${ROUTING_VERSION}`,
} as const;

const CLASS_ORDER = ['sign', 'fingerspell', 'rest'];

function routedAs(segment: RoutingLabel, decisions: RouterHypothesis): string | null {
  const overlap = new Map<string, number>();
  for (const d of decisions) {
    const o = Math.min(d.end, segment.end) - Math.max(d.start, segment.start);
    if (o > 0) overlap.set(d.label, (overlap.get(d.label) ?? 0) + o);
  }
  const order = (label: string) => (CLASS_ORDER.includes(label) ? CLASS_ORDER.indexOf(label) : CLASS_ORDER.length);
  const ranked = [...overlap].sort((a, b) => b[1] - a[1] || order(a[0]) - order(b[0]));
  return ranked[0]?.[0] ?? null;
}

function routingCounts(decisions: RouterHypothesis, reference: RouterReference): { correct: number; total: number } {
  if ('segments' in reference) {
    return { correct: reference.segments.filter((s) => routedAs(s, decisions) === s.label).length, total: reference.segments.length };
  }
  const fingerspelled = decisions.filter((d) => d.label === 'fingerspell').length;
  const right =
    reference.sampleClass === 'fingerspell'
      ? decisions.length > 0 && fingerspelled === decisions.length
      : reference.sampleClass === 'sign'
        ? decisions.length > 0 && fingerspelled === 0
        : fingerspelled > 0;
  return { correct: Number(right), total: 1 };
}

function routingMetric(unit: keyof typeof ROUTING_SIGNATURES, counts: { correct: number; total: number }[]): EvalMetric {
  const correct = counts.reduce((s, c) => s + c.correct, 0);
  const total = counts.reduce((s, c) => s + c.total, 0);
  const score = total > 0 ? (100 * correct) / total : 0;
  return {
    id: `routing-${unit}`,
    result: { name: unit === 'segment' ? 'RoutingAcc (segments)' : 'RoutingAcc (samples)', score, signature: ROUTING_SIGNATURES[unit], correct, total, unit },
    details: `${correct} of ${total} ${unit}s routed right`,
  };
}

const routerEvaluator: Evaluator<RouterHypothesis, RouterReference> = {
  stage: 'router',
  summary: 'routing accuracy per labelled segment (routing labels) or per sample (its class: sign, fingerspell, mixed)',
  input: 'video',
  parts: { fingerspell: 'off', lipread: 'off', router: 'required', fusion: 'off', decoder: 'off' },
  hypothesis: (r) => (r.router ? { hypothesis: r.router.decisions.map(({ label, start, end }) => ({ label, start, end })) } : { failure: 'the pipeline ran no router' }),
  reference: (refs) => (refs.routing && refs.routing.length > 0 ? { segments: refs.routing } : { sampleClass: refs.sampleClass }),
  noReference: 'no routing reference',
  empty: [],
  sentence: (h, r) => {
    const { correct, total } = routingCounts(h, r);
    return { accuracy: (100 * correct) / total, correct, total };
  },
  corpus: (hypotheses, references) => {
    const byUnit = { segment: [] as { correct: number; total: number }[], sample: [] as { correct: number; total: number }[] };
    references.forEach((r, i) => byUnit['segments' in r ? 'segment' : 'sample'].push(routingCounts(hypotheses[i], r)));
    return (['segment', 'sample'] as const).filter((unit) => byUnit[unit].length > 0).map((unit) => routingMetric(unit, byUnit[unit]));
  },
  rank: { score: 'accuracy', higherIsBetter: true },
};

// -----------------------------------------------------------------------------------------------------------------
// The table

const ONLY_SIGN = { fingerspell: 'off', lipread: 'off', router: 'off', fusion: 'off', decoder: 'off' } as const;

const pseudoglossText = (refs: SampleReferences) => refs.pseudogloss.join(' ');

function stream(r: PipelineResult, kind: 'fingerspell' | 'lipread'): Outcome<string> {
  const s = r.streams[kind];
  return s ? { hypothesis: s.text } : { failure: `the pipeline ran no ${kind} expert` };
}

/**
 * Every stage's evaluator. References (src/eval/references.ts): the Stage-1 pseudo-gloss (the corpus gloss for
 * PHOENIX-2014T and CSL-Daily), its phonemes, the fingerspelled letters, routing labels or the sample's class, and
 * the English text.
 */
export const EVALUATORS: Readonly<Record<EvalStage, Evaluator>> = {
  sign: textEvaluator({
    stage: 'sign',
    summary: "WER of the sign expert's glosses against the Stage-1 pseudo-gloss",
    input: 'video',
    parts: ONLY_SIGN,
    hypothesis: (r) => ({ hypothesis: r.streams.sign.text }),
    reference: pseudoglossText,
    noReference: 'the pseudo-gloss reference is empty',
    metrics: ['wer'],
    rank: { score: 'wer', higherIsBetter: false },
  }),
  fingerspell: textEvaluator({
    stage: 'fingerspell',
    summary: "letter accuracy (and CER) of the fingerspelling expert against the fingerspelled letters (samples without fingerspelling are not scored)",
    input: 'video',
    parts: { ...ONLY_SIGN, fingerspell: 'required' },
    hypothesis: (r) => stream(r, 'fingerspell'),
    reference: (refs) => refs.letters,
    noReference: 'no fingerspelled letters',
    metrics: ['letter', 'cer'],
    rank: { score: 'letter', higherIsBetter: true },
  }),
  lipread: textEvaluator({
    stage: 'lipread',
    summary: 'PER and phoneme accuracy of the lipreading expert against the phonemes of the pseudo-gloss',
    input: 'video',
    parts: { ...ONLY_SIGN, lipread: 'required' },
    hypothesis: (r) => stream(r, 'lipread'),
    reference: (refs) => refs.phonemes.join(' '),
    noReference: 'no phonemes',
    metrics: ['per'],
    rank: { score: 'per', higherIsBetter: false },
  }),
  router: routerEvaluator,
  fusion: textEvaluator({
    stage: 'fusion',
    summary: 'WER of the fused pseudo-gloss against the Stage-1 pseudo-gloss',
    input: 'video',
    parts: { fingerspell: 'as-is', lipread: 'as-is', router: 'as-is', fusion: 'required', decoder: 'off' },
    hypothesis: (r) => (r.fused.source === 'fusion' ? { hypothesis: r.fused.text } : { failure: 'the pipeline ran no fusion' }),
    reference: pseudoglossText,
    noReference: 'the pseudo-gloss reference is empty',
    metrics: ['wer'],
    rank: { score: 'wer', higherIsBetter: false },
  }),
  decoder: translationEvaluator({
    stage: 'decoder',
    summary: 'BLEU-1..4, ROUGE-L and chrF of the decoder on the oracle (Stage-1) pseudo-gloss against the reference translation',
    input: 'pseudogloss',
    parts: { fingerspell: 'off', lipread: 'off', router: 'off', fusion: 'off', decoder: 'required' },
    hypothesis: englishOutcome,
    baseline: IDENTITY_BASELINE,
  }),
  pipeline: translationEvaluator({
    stage: 'pipeline',
    summary: "BLEU-1..4, ROUGE-L and chrF of the whole pipeline's English against the reference translation",
    input: 'video',
    parts: { fingerspell: 'as-is', lipread: 'as-is', router: 'as-is', fusion: 'as-is', decoder: 'required' },
    hypothesis: (r) => (r.english ? englishOutcome(r.english, r.fused.text) : { failure: 'the pipeline ran no decoder', input: r.fused.text }),
  }),
};
