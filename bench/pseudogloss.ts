/**
 * Stage 1 over the whole How2Sign training set (31,086 sentences) on the rule-based path: the NLP analysis alone
 * (wink-nlp tokenize + POS + lemma: the baseline every glosser pays), the ASL rule glosser, the Sign2GPT POS filter,
 * and complete targets (pseudo-gloss + phonemes + fingerspelling), each timed in this process. Goal: complete
 * targets for the whole set in under 30 s.
 *
 *   node --import tsx bench/pseudogloss.ts [--runs 3] [--json]
 */
import { detectFingerspelling } from '../pseudogloss/fingerspell.js';
import { analyse } from '../pseudogloss/nlp.js';
import { RuleGlosser } from '../pseudogloss/rules.js';
import { TargetBuilder } from '../pseudogloss/targets.js';
import { benchArgs, loadHow2SignTexts, printReport, timeRunsAsync } from './harness.js';

const args = benchArgs();
const texts = loadHow2SignTexts();
const asl = new RuleGlosser({ mode: 'asl' });
const pos = new RuleGlosser({ mode: 'pos-filter' });
const builder = new TargetBuilder({ glosser: asl });

const cases: [string, () => Promise<unknown>][] = [
  ['NLP analysis only (baseline)', async () => texts.map((t) => analyse(t))],
  ['ASL rule glosser', async () => texts.map((t) => asl.glossSync(t))],
  ['POS-filter glosser (Sign2GPT)', async () => texts.map((t) => pos.glossSync(t))],
  ['fingerspelling detection', async () => texts.map((t) => detectFingerspelling(t))],
  ['complete targets (ASL gloss + phonemes + fingerspelling)', async () => {
    for (const t of texts) await builder.build(t);
  }],
];

const rows: Record<string, unknown>[] = [];
let baseline = 0;
for (const [name, run] of cases) {
  const timing = (await timeRunsAsync(run, args.runs)).medianSeconds;
  baseline ||= timing;
  rows.push({ case: name, seconds: Number(timing.toFixed(2)), 'sentences/s': Math.round(texts.length / timing), 'x baseline': Number((timing / baseline).toFixed(2)) });
}
printReport('pseudogloss', { sentences: texts.length, runs: args.runs, goalSeconds: 30 }, rows, args.json);

