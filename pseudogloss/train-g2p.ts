/**
 * Trains the G2P model shipped as `pseudogloss/g2p-model.json`:
 *
 *   node --import tsx pseudogloss/train-g2p.ts [--out pseudogloss/g2p-model.json]
 *
 * Deterministic (no random draws besides the seeded per-word held-out split), about 10 s on one core.
 * 1. Data: every CMUdict headword of letters and apostrophes with its primary pronunciation; 5% of the words
 *    (`isHeldOut`) are held out and never trained on.
 * 2. Alignment: EM over letter→unit probabilities, a unit being nothing, one phoneme, or two phonemes; after the first
 *    rounds only the two-phoneme units with real mass are kept (`x` → `k s`, `u` → `y uw`, …) and EM runs again.
 *    Each word's Viterbi alignment gives one unit per letter.
 * 3. An IGTree over (letter window ±5, previous unit) → unit, pruned of every subtree that agrees with its parent.
 * 4. The held-out phoneme error rate and word accuracy go into the model file; the script prints them beside two
 *    baselines (letters spelled out, and each letter's likeliest unit without context).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { phonemeErrorRate } from '../src/eval/metrics/accuracy.js';
import { ARPABET_PHONEMES } from '../src/vocab.js';
import { G2P_LETTERS, G2P_MODEL_URL, G2p, isHeldOut, TREE_SYMBOLS, type G2pFeature, type G2pModelFile } from './g2p.js';
import { cmudictEntries, cmudictLookup } from './phonemes.js';

export const G2P_SPLIT = { seed: 1, heldOutFraction: 0.05 };
/** Feature order chosen on a development split carved out of the training words (the held-out words were not used). */
const FEATURES: G2pFeature[] = ['L0', 'L1', 'L-1', 'U1', 'L2', 'L-2', 'L3', 'L-3', 'L4', 'L-4', 'L5', 'L-5'];
const EM_ROUNDS = 8;
const EM_REFINE_ROUNDS = 4;
/** Expected count (over the training words) a two-phoneme unit needs to stay in the inventory. */
const MIN_PAIR_MASS = 20;

export interface G2pEntry {
  word: string;
  phonemes: string[];
}

/** The CMUdict words G2P learns from (letters and apostrophes only), split into training and held-out words. */
export function g2pCorpus(split: { seed: number; heldOutFraction: number } = G2P_SPLIT): { train: G2pEntry[]; heldOut: G2pEntry[] } {
  const train: G2pEntry[] = [];
  const heldOut: G2pEntry[] = [];
  const letters = new RegExp(`^[${G2P_LETTERS}]+$`);
  for (const [word, phonemes] of cmudictEntries()) {
    if (!letters.test(word)) continue;
    (isHeldOut(word, split.seed, split.heldOutFraction) ? heldOut : train).push({ word, phonemes });
  }
  return { train, heldOut };
}

export interface G2pScore {
  words: number;
  /** Phoneme error rate in percent: edit distance / reference length over all words. */
  per: number;
  /** Percent of words whose whole pronunciation is right. */
  wordAccuracy: number;
}

/** Scores a predictor against CMUdict pronunciations (PER with the same alignment as `signweave score --metrics per`). */
export function scoreG2p(entries: readonly G2pEntry[], predict: (word: string) => string[]): G2pScore {
  const refs: string[] = [];
  const hyps: string[] = [];
  let correct = 0;
  for (const e of entries) {
    const hyp = predict(e.word).join(' ');
    const ref = e.phonemes.join(' ');
    refs.push(ref);
    hyps.push(hyp);
    if (hyp === ref) correct++;
  }
  return { words: entries.length, per: phonemeErrorRate(refs, hyps).per, wordAccuracy: (100 * correct) / entries.length };
}

/** The baseline the model must beat by far: every letter spelled out by its name (`cat` → s iy ey t iy). */
export function spellOut(word: string): string[] {
  return [...word.replace(/'/g, '')].flatMap((ch) => cmudictLookup(`${ch}.`) ?? []);
}

// ---------------------------------------------------------------------------------------------------------------
// Alignment

const NP = ARPABET_PHONEMES.length;
/** Unit ids during alignment: 0 silent, 1..NP one phoneme, then every phoneme pair. */
const ALL_UNITS = 1 + NP + NP * NP;
const NL = G2P_LETTERS.length;

function unitId(phonemes: readonly number[], j: number, k: number): number {
  if (k === 0) return 0;
  return k === 1 ? 1 + phonemes[j] : 1 + NP + phonemes[j] * NP + phonemes[j + 1];
}

function unitString(id: number): string {
  if (id === 0) return '';
  if (id <= NP) return ARPABET_PHONEMES[id - 1];
  const pair = id - 1 - NP;
  return `${ARPABET_PHONEMES[Math.floor(pair / NP)]} ${ARPABET_PHONEMES[pair % NP]}`;
}

interface Coded {
  letters: number[];
  phonemes: number[];
}

class Aligner {
  /** P(unit | letter), row per letter. */
  readonly p = new Float64Array(NL * ALL_UNITS);
  readonly allowed = new Uint8Array(ALL_UNITS).fill(1);

  constructor(private readonly words: readonly Coded[]) {
    // Start from "most letters are one phoneme": silence and pairs must earn their probability.
    for (let l = 0; l < NL; l++) {
      for (let u = 0; u < ALL_UNITS; u++) this.p[l * ALL_UNITS + u] = u === 0 ? 0.1 : u <= NP ? 1 : 0.01;
    }
  }

  /** One EM round; returns the expected unit counts per letter. */
  round(): Float64Array {
    const counts = new Float64Array(NL * ALL_UNITS);
    for (const { letters, phonemes } of this.words) {
      const n = letters.length;
      const m = phonemes.length;
      const w = m + 1;
      const fwd = new Float64Array((n + 1) * w);
      const bwd = new Float64Array((n + 1) * w);
      fwd[0] = 1;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= m; j++) {
          const a = fwd[i * w + j];
          if (a === 0) continue;
          for (let k = 0; k <= 2 && j + k <= m; k++) {
            const u = unitId(phonemes, j, k);
            if (this.allowed[u]) fwd[(i + 1) * w + j + k] += a * this.p[letters[i] * ALL_UNITS + u];
          }
        }
      }
      const total = fwd[n * w + m];
      if (!(total > 0)) continue;
      bwd[n * w + m] = 1;
      for (let i = n - 1; i >= 0; i--) {
        for (let j = m; j >= 0; j--) {
          let b = 0;
          for (let k = 0; k <= 2 && j + k <= m; k++) {
            const u = unitId(phonemes, j, k);
            if (this.allowed[u]) b += this.p[letters[i] * ALL_UNITS + u] * bwd[(i + 1) * w + j + k];
          }
          bwd[i * w + j] = b;
        }
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= m; j++) {
          const a = fwd[i * w + j];
          if (a === 0) continue;
          for (let k = 0; k <= 2 && j + k <= m; k++) {
            const u = unitId(phonemes, j, k);
            const cell = letters[i] * ALL_UNITS + u;
            if (this.allowed[u]) counts[cell] += (a * this.p[cell] * bwd[(i + 1) * w + j + k]) / total;
          }
        }
      }
    }
    for (let l = 0; l < NL; l++) {
      let sum = 0;
      for (let u = 0; u < ALL_UNITS; u++) sum += counts[l * ALL_UNITS + u];
      for (let u = 0; u < ALL_UNITS; u++) this.p[l * ALL_UNITS + u] = sum > 0 ? counts[l * ALL_UNITS + u] / sum : 0;
    }
    return counts;
  }

  /** Keeps only the phoneme pairs whose expected count reaches `minMass`. */
  prunePairs(counts: Float64Array, minMass: number): void {
    for (let u = 1 + NP; u < ALL_UNITS; u++) {
      let mass = 0;
      for (let l = 0; l < NL; l++) mass += counts[l * ALL_UNITS + u];
      if (mass < minMass) this.allowed[u] = 0;
    }
  }

  /** The most probable unit per letter, or undefined when no alignment exists. */
  viterbi({ letters, phonemes }: Coded): number[] | undefined {
    const n = letters.length;
    const m = phonemes.length;
    const w = m + 1;
    const score = new Float64Array((n + 1) * w).fill(-Infinity);
    const step = new Int8Array((n + 1) * w);
    score[0] = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= m; j++) {
        const s = score[i * w + j];
        if (s === -Infinity) continue;
        for (let k = 0; k <= 2 && j + k <= m; k++) {
          const u = unitId(phonemes, j, k);
          if (!this.allowed[u]) continue;
          const t = s + Math.log(this.p[letters[i] * ALL_UNITS + u]);
          const cell = (i + 1) * w + j + k;
          if (t > score[cell]) {
            score[cell] = t;
            step[cell] = k;
          }
        }
      }
    }
    if (score[n * w + m] === -Infinity) return undefined;
    const units: number[] = [];
    let j = m;
    for (let i = n; i > 0; i--) {
      const k = step[i * w + j];
      j -= k;
      units.push(unitId(phonemes, j, k));
    }
    return units.reverse();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// IGTree

interface TreeNode {
  unit: number;
  children: [number, TreeNode][];
}

/** Feature values of every training letter, row-major [instance][feature], and the aligned unit of each. */
interface Instances {
  values: Uint8Array;
  units: Uint8Array;
}

function featureValue(feature: G2pFeature, letters: readonly number[], units: readonly number[], i: number, start: number): number {
  const k = Number(feature.slice(1));
  if (feature[0] === 'L') {
    const q = i + k;
    return q < 0 || q >= letters.length ? NL : letters[q];
  }
  return i - k < 0 ? start : units[i - k];
}

function buildTree(data: Instances, ids: Uint32Array, depth: number, parentUnit: number): TreeNode {
  const d = FEATURES.length;
  const tally = new Map<number, number>();
  for (const i of ids) tally.set(data.units[i], (tally.get(data.units[i]) ?? 0) + 1);
  // Majority unit; ties go to the parent's unit (so the node can be pruned), then to the lower id.
  let unit = -1;
  let best = -1;
  for (const [u, c] of [...tally].sort((a, b) => a[0] - b[0])) {
    if (c > best || (c === best && u === parentUnit)) {
      unit = u;
      best = c;
    }
  }
  const node: TreeNode = { unit, children: [] };
  if (tally.size === 1 || depth === d) return node;
  const groups = new Map<number, number[]>();
  for (const i of ids) {
    const v = data.values[i * d + depth];
    let g = groups.get(v);
    if (!g) groups.set(v, (g = []));
    g.push(i);
  }
  for (const [v, members] of [...groups].sort((a, b) => a[0] - b[0])) {
    const child = buildTree(data, Uint32Array.from(members), depth + 1, unit);
    // A leaf that answers what its parent answers adds nothing: lookups that stop at the parent say the same.
    if (child.unit !== unit || child.children.length > 0) node.children.push([v, child]);
  }
  return node;
}

function encodeTree(root: TreeNode): { tree: string; nodes: number } {
  const out: string[] = [];
  const visit = (value: number, node: TreeNode): void => {
    out.push(TREE_SYMBOLS[value], TREE_SYMBOLS[node.unit], TREE_SYMBOLS[node.children.length]);
    for (const [v, child] of node.children) visit(v, child);
  };
  visit(0, root);
  return { tree: out.join(''), nodes: out.length / 3 };
}

// ---------------------------------------------------------------------------------------------------------------

export interface TrainedG2p {
  model: G2pModelFile;
  heldOut: G2pScore;
  baselines: { spellOut: G2pScore; letterOnly: G2pScore };
  nodes: number;
}

export function trainG2p(log: (line: string) => void = () => {}): TrainedG2p {
  const { train, heldOut } = g2pCorpus();
  const phonemeIndex = new Map(ARPABET_PHONEMES.map((p, i) => [p, i]));
  const code = (e: G2pEntry): Coded => ({
    letters: [...e.word].map((ch) => G2P_LETTERS.indexOf(ch)),
    phonemes: e.phonemes.map((p) => {
      const i = phonemeIndex.get(p);
      if (i === undefined) throw new Error(`CMUdict ${e.word}: unknown phoneme ${p}`);
      return i;
    }),
  });
  // A letter emits at most two phonemes, so longer pronunciations (`aaa` → triple a) cannot be aligned.
  const coded = train.map(code).filter((c) => c.phonemes.length <= 2 * c.letters.length);
  log(`CMUdict G2P words: ${train.length} training, ${heldOut.length} held out; ${coded.length} alignable`);

  const aligner = new Aligner(coded);
  for (let r = 1; r < EM_ROUNDS; r++) aligner.round();
  aligner.prunePairs(aligner.round(), MIN_PAIR_MASS);
  for (let r = 0; r < EM_REFINE_ROUNDS; r++) aligner.round();

  const alignments = coded.map((c) => ({ c, units: aligner.viterbi(c) })).filter((a) => a.units !== undefined);
  // Model unit ids: silent, the phonemes, then the pairs kept, in alignment-id order.
  const used = [...aligner.allowed.keys()].filter((u) => aligner.allowed[u]);
  const modelId = new Map(used.map((u, i) => [u, i]));
  const units = used.map(unitString);
  if (units.length + 1 > TREE_SYMBOLS.length) throw new Error(`${units.length} units do not fit the tree's symbols`);
  log(`aligned ${alignments.length} words; ${units.length - 1 - NP} phoneme pairs kept`);

  const d = FEATURES.length;
  const letterCount = alignments.reduce((s, a) => s + a.c.letters.length, 0);
  const data: Instances = { values: new Uint8Array(letterCount * d), units: new Uint8Array(letterCount) };
  let row = 0;
  for (const { c, units: aligned } of alignments) {
    const mapped = aligned!.map((u) => modelId.get(u)!);
    for (let i = 0; i < c.letters.length; i++, row++) {
      for (let f = 0; f < d; f++) data.values[row * d + f] = featureValue(FEATURES[f], c.letters, mapped, i, units.length);
      data.units[row] = mapped[i];
    }
  }
  const root = buildTree(data, Uint32Array.from({ length: letterCount }, (_, i) => i), 0, -1);
  const { tree, nodes } = encodeTree(root);
  log(`IGTree: ${letterCount} letters, ${nodes} nodes`);

  const model: G2pModelFile = {
    format: 'signweave-g2p-igtree',
    version: 1,
    units,
    features: FEATURES,
    tree,
    split: G2P_SPLIT,
    training: {
      source: 'cmu-pronouncing-dictionary 3.0.0, primary pronunciations of headwords of letters and apostrophes',
      trainWords: train.length,
      alignedWords: alignments.length,
      heldOutWords: heldOut.length,
      heldOutPer: 0,
      heldOutWordAccuracy: 0,
    },
  };
  const g2p = new G2p(model);
  const score = scoreG2p(heldOut, (w) => g2p.predict(w));
  model.training.heldOutPer = Number(score.per.toFixed(3));
  model.training.heldOutWordAccuracy = Number(score.wordAccuracy.toFixed(3));
  // Context-free baseline: the tree cut below the first level, which tests the letter itself and nothing else.
  const firstLevel: TreeNode = { unit: root.unit, children: root.children.map(([v, c]) => [v, { unit: c.unit, children: [] }]) };
  const letterOnly = new G2p({ ...model, features: [FEATURES[0]], tree: encodeTree(firstLevel).tree });
  return {
    model,
    heldOut: score,
    baselines: { spellOut: scoreG2p(heldOut, spellOut), letterOnly: scoreG2p(heldOut, (w) => letterOnly.predict(w)) },
    nodes,
  };
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string', default: fileURLToPath(G2P_MODEL_URL) } } });
  const started = Date.now();
  const trained = trainG2p((line) => process.stdout.write(`${line}\n`));
  const json = `${JSON.stringify(trained.model)}\n`;
  writeFileSync(values.out, json);
  const fmt = (s: G2pScore): string => `PER ${s.per.toFixed(2)}%  word accuracy ${s.wordAccuracy.toFixed(2)}%`;
  process.stdout.write(
    `held-out (${trained.heldOut.words} words): ${fmt(trained.heldOut)}\n` +
      `  baseline, letters spelled out:        ${fmt(trained.baselines.spellOut)}\n` +
      `  baseline, each letter's likeliest unit: ${fmt(trained.baselines.letterOnly)}\n` +
      `wrote ${values.out} (${json.length} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
