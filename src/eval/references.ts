/**
 * The reference of every stage for an evaluation sample, made the way Stage 1 makes the training targets
 * (pseudogloss/targets.ts), so experts are scored against what they were trained to emit: the pseudo-gloss (sign and
 * fusion streams), its phonemes (lipreading), the fingerspelled letters, routing labels, the sample's class and the
 * reference translation.
 */
import { FINGERSPELL_VERSION, fingerspellText } from '../../pseudogloss/fingerspell.js';
import type { Phonemizer } from '../../pseudogloss/phonemes.js';
import { RuleGlosser } from '../../pseudogloss/rules.js';
import { TargetBuilder } from '../../pseudogloss/targets.js';
import type { PseudoGlosser } from '../../pseudogloss/types.js';
import { SignweaveInputError } from '../errors.js';
import { probeVideo } from '../video/probe.js';
import type { EvalSample, RoutingLabel, SampleClass, SampleReferences, SampleVideo } from './types.js';

export interface EvalReferencesOptions {
  /** English → pseudo-gloss; the ASL rule glosser by default. The caller disposes a glosser it passes. */
  glosser?: PseudoGlosser;
  /** Shared phonemizer (dictionary and G2P model loaded once); created on demand when omitted. */
  phonemizer?: Phonemizer;
}

/** What made the references, once per run, for reports. */
export interface ReferencesProvenance {
  glosser: { name: string; version: string };
  phonemes: string;
  fingerspell: string;
}

/** The end of a video's range: the range's own, else the end of the file or frame folder. */
async function rangeEnd(video: SampleVideo): Promise<number> {
  if (video.end !== undefined) return video.end;
  const info = await probeVideo(video.kind === 'frames' ? { frames: video.path, fps: video.fps! } : video.path);
  return info.startTime + info.duration;
}

/** Explicit routing labels say the class; otherwise the dataset's or Stage 1's verdict stands. */
function classOf(routing: RoutingLabel[] | undefined, otherwise: SampleClass): SampleClass {
  if (!routing || routing.length === 0) return otherwise;
  const labels = new Set(routing.map((r) => r.label));
  return labels.size > 1 ? 'mixed' : labels.has('fingerspell') ? 'fingerspell' : 'sign';
}

/** The pseudo-gloss of a fingerspelling sample: its spelled words. */
const SPELLED_WORDS = { glosser: 'spelled-words', version: '1' };

export class EvalReferences {
  private readonly builder: TargetBuilder;

  constructor(options: EvalReferencesOptions = {}) {
    this.builder = new TargetBuilder({ glosser: options.glosser ?? new RuleGlosser(), phonemizer: options.phonemizer });
  }

  get provenance(): ReferencesProvenance {
    const { glosser, phonemizer } = this.builder;
    return { glosser: { name: glosser.name, version: glosser.version }, phonemes: phonemizer.provenance, fingerspell: `fingerspell-${FINGERSPELL_VERSION}` };
  }

  /**
   * The references of one sample. A sample with `letters` (ChicagoFSWild, or a manifest line) is fingerspelling: its
   * letters are those, its pseudo-gloss is the spelled word(s) upper-cased — Stage 1 keeps a spelled name as a word
   * ("NASA"), while the rule glosser would drop a spelled "is" or "the" — with their phonemes (the mouthing), and
   * without explicit routing its whole range is routed to fingerspelling (the range's end is probed when the dataset
   * does not give it). A sentence is `mixed` when Stage 1 finds fingerspelled spans in it. Input errors name the sample.
   */
  async forSample(sample: EvalSample): Promise<SampleReferences> {
    try {
      return await this.references(sample);
    } catch (err) {
      if (err instanceof SignweaveInputError) throw new SignweaveInputError(`sample ${sample.id} (line ${sample.line}): ${err.message}`);
      throw err;
    }
  }

  private async references(sample: EvalSample): Promise<SampleReferences> {
    const { id, line, text, language, gloss } = sample;
    if (sample.letters !== undefined) {
      const letters = fingerspellText(sample.letters).join('');
      const words = letters.split(' ').filter((w) => /[a-z]/.test(w)).map((w) => w.toUpperCase());
      const video = sample.video;
      return {
        pseudogloss: words,
        phonemes: words.length > 0 ? this.builder.phonemizer.phonemize(words).flatMap((w) => w.phonemes) : [],
        letters,
        routing: sample.routing ?? (video ? [{ label: 'fingerspell', start: video.start ?? 0, end: await rangeEnd(video) }] : null),
        sampleClass: classOf(sample.routing, 'fingerspell'),
        english: text,
        provenance: { gloss: SPELLED_WORDS, phonemes: this.builder.phonemizer.provenance, fingerspell: `fingerspell-${FINGERSPELL_VERSION}` },
      };
    }
    const record = await this.builder.build({ id, line, text, language, ...(gloss ? { gloss } : {}) });
    return {
      pseudogloss: record.pseudogloss,
      phonemes: record.phonemes.flatMap((w) => w.phonemes),
      letters: record.fingerspell.map((span) => span.chars.join('')).join(' '),
      routing: sample.routing ?? null,
      sampleClass: classOf(sample.routing, record.fingerspell.length > 0 ? 'mixed' : 'sign'),
      english: text,
      provenance: { gloss: record.provenance.gloss, phonemes: record.provenance.phonemes, fingerspell: record.provenance.fingerspell },
    };
  }
}
