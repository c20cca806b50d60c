/**
 * The sign expert (SignBind-LLM §3.3): shared backbone features → positional embedding → linear CTC head over the
 * pseudo-gloss vocabulary. Its text joins glosses with spaces.
 */
import { loadBundle } from '../../bundles/loader.js';
import type { OnnxModel } from '../../graph/builder.js';
import { CTC_BLANK } from '../../vocab.js';
import { buildFeatureCtcHead, FeatureCtcExpert, type ExpertLoadOptions, type FeatureCtcHeadOptions } from '../shared.js';

/** The sign head's graph; `vocabSize` counts the glosses and the blank. */
export function buildSignHead(options: FeatureCtcHeadOptions): OnnxModel {
  return buildFeatureCtcHead({ ...options, name: options.name ?? 'signweave-sign-head' });
}

/** A gloss vocabulary as the sign head's CTC labels: the blank first, then the glosses. */
export function signVocabulary(glosses: readonly string[]): string[] {
  return [CTC_BLANK, ...glosses];
}

export class SignExpert extends FeatureCtcExpert<'sign'> {
  static async load(dir: string, options: ExpertLoadOptions = {}): Promise<SignExpert> {
    return new SignExpert(await loadBundle(dir, { ...options, expectKind: 'sign' }));
  }
}
