/**
 * The fingerspelling expert (SignBind-LLM §3.3): the sign expert's network over the ChicagoFSWild letters (a–z,
 * space, apostrophe, period) and the blank. Its text joins letters directly; ' ' is a label, so words come out
 * separated.
 */
import { loadBundle } from '../../bundles/loader.js';
import type { OnnxModel } from '../../graph/builder.js';
import { CTC_BLANK, FINGERSPELLING_ALPHABET } from '../../vocab.js';
import { buildFeatureCtcHead, FeatureCtcExpert, type ExpertLoadOptions, type FeatureCtcHeadOptions } from '../shared.js';

/** The fingerspelling expert's CTC labels: the blank, then the ChicagoFSWild alphabet. */
export const FINGERSPELL_VOCAB: readonly string[] = [CTC_BLANK, ...FINGERSPELLING_ALPHABET];

/** The fingerspelling head's graph; `vocabSize` defaults to `FINGERSPELL_VOCAB.length` (30). */
export function buildFingerspellHead(options: Omit<FeatureCtcHeadOptions, 'vocabSize'> & { vocabSize?: number }): OnnxModel {
  return buildFeatureCtcHead({ ...options, name: options.name ?? 'signweave-fingerspell-head', vocabSize: options.vocabSize ?? FINGERSPELL_VOCAB.length });
}

export class FingerspellExpert extends FeatureCtcExpert<'fingerspell'> {
  static async load(dir: string, options: ExpertLoadOptions = {}): Promise<FingerspellExpert> {
    return new FingerspellExpert(await loadBundle(dir, { ...options, expectKind: 'fingerspell' }));
  }
}
