/**
 * Letter-to-sound for words the CMU Pronouncing Dictionary lacks: a trained IGTree classifier (Daelemans & van den
 * Bosch's information-gain tree) over EM-aligned CMUdict letters, trained by `pseudogloss/train-g2p.ts`.
 *
 * Each letter of a word emits one *unit*: nothing (silent `e`, the second `l` of `ll`), one phoneme, or two phonemes
 * (`x` → `k s`, `u` → `y uw`). A unit is predicted left to right from the letter itself, the letters around it and the
 * unit just predicted for the previous letter. The tree tests those features in a fixed order (most informative
 * first) and answers with the majority unit of the deepest node the context reaches, so an unseen context backs off
 * to the most specific one seen in training.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignweaveInputError } from '../src/errors.js';
import { mulberry32 } from '../src/util/random.js';
import { ARPABET_PHONEMES } from '../src/vocab.js';

/** The letters the model reads; `phonemes.ts` maps everything else (digits, hyphens, accents) before calling it. */
export const G2P_LETTERS = "abcdefghijklmnopqrstuvwxyz'";

/** Where the shipped model lies: beside this module, in `pseudogloss/` under tsx and `dist/pseudogloss/` once built. */
export const G2P_MODEL_URL = new URL('./g2p-model.json', import.meta.url);

/**
 * The tree's symbols, one character per value: printable ASCII without `"` and `\`, so the tree string needs no
 * JSON escapes. Feature values, unit ids and child counts are all below its length.
 */
export const TREE_SYMBOLS = '!#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~';

/**
 * A feature the tree tests: `L<k>` is the letter k positions right of the current one (negative: left; outside the
 * word: the boundary value), `U<k>` is the unit predicted k letters back (before the word: the start value).
 */
export type G2pFeature = `L${number}` | `U${number}`;

/** The model file (`g2p-model.json`), as `train-g2p.ts` writes it. */
export interface G2pModelFile {
  format: 'signweave-g2p-igtree';
  version: 1;
  /** Units by id: `''` (silent), one phoneme, or two phonemes separated by a space. */
  units: string[];
  features: G2pFeature[];
  /**
   * The tree in pre-order, three TREE_SYMBOLS per node: the feature value that leads to it (the root's is unused),
   * its unit id, and its number of children. A node's children follow it in increasing value order; a node tests the
   * feature at its depth (the root tests `features[0]`).
   */
  tree: string;
  /** The CMUdict words held out of training: those for which `isHeldOut(word, seed, fraction)` holds. */
  split: { seed: number; heldOutFraction: number };
  /** What the training script measured, for reports; tests recompute the held-out figures. */
  training: {
    source: string;
    trainWords: number;
    alignedWords: number;
    heldOutWords: number;
    heldOutPer: number;
    heldOutWordAccuracy: number;
  };
}

/**
 * Whether CMUdict `word` is in the held-out set: a per-word hash, so the split depends on neither the order nor the
 * size of the dictionary (FNV-1a of the word, salted with the seed, drives one mulberry32 draw).
 */
export function isHeldOut(word: string, seed: number, fraction: number): boolean {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mulberry32(h >>> 0)() < fraction;
}

const PHONEME_SET = new Set(ARPABET_PHONEMES);

export class G2p {
  /** Unit id per node, in pre-order. */
  private readonly unit: Uint8Array;
  /** Feature value that leads to the node. */
  private readonly value: Uint8Array;
  /** Number of children; in pre-order the first child is the next node. */
  private readonly childCount: Uint8Array;
  /** Subtree sizes, to step from one child to its next sibling. */
  private readonly sizes: Int32Array;
  private readonly units: string[][];
  /** Per feature: letter offset (`L`) or how many units back (`U`). */
  private readonly featureKind: ('L' | 'U')[];
  private readonly featureOffset: number[];

  /** First 12 hex digits of the sha256 of the model's JSON: names the exact model in target provenance. */
  readonly fingerprint: string;

  constructor(readonly model: G2pModelFile) {
    if (model.format !== 'signweave-g2p-igtree' || model.version !== 1) {
      throw new SignweaveInputError(`G2P model: unsupported format ${JSON.stringify(model.format)} version ${model.version}`);
    }
    this.units = model.units.map((u) => (u === '' ? [] : u.split(' ')));
    this.units.forEach((phonemes, i) => {
      if (!phonemes.every((p) => PHONEME_SET.has(p))) {
        throw new SignweaveInputError(`G2P model: unit ${JSON.stringify(model.units[i])} holds a non-ARPAbet phoneme`);
      }
    });
    for (const f of model.features) {
      if (!/^(L-?\d+|U[1-9]\d*)$/.test(f)) throw new SignweaveInputError(`G2P model: unknown feature ${JSON.stringify(f)}`);
    }
    this.featureKind = model.features.map((f) => f[0] as 'L' | 'U');
    this.featureOffset = model.features.map((f) => Number(f.slice(1)));
    const code = new Map([...TREE_SYMBOLS].map((c, i) => [c, i]));
    const n = model.tree.length / 3;
    if (!Number.isInteger(n) || n === 0) throw new SignweaveInputError('G2P model: the tree string is not a whole number of nodes');
    this.unit = new Uint8Array(n);
    this.value = new Uint8Array(n);
    this.childCount = new Uint8Array(n);
    const symbol = (i: number): number => {
      const v = code.get(model.tree[i]);
      if (v === undefined) throw new SignweaveInputError(`G2P model: invalid tree symbol at offset ${i}`);
      return v;
    };
    for (let i = 0; i < n; i++) {
      this.value[i] = symbol(3 * i);
      this.unit[i] = symbol(3 * i + 1);
      this.childCount[i] = symbol(3 * i + 2);
      if (this.unit[i] >= model.units.length) throw new SignweaveInputError(`G2P model: node ${i} names unit ${this.unit[i]}`);
    }
    // Pre-order: a node's children follow it, each followed by its own subtree. Walking backwards, the subtrees
    // already seen sit on a stack, nearest first, so each node pops its children and learns its subtree size, which
    // later tells a lookup where the next sibling starts.
    const size = new Int32Array(n);
    const stack: number[] = [];
    for (let i = n - 1; i >= 0; i--) {
      let s = 1;
      for (let c = 0; c < this.childCount[i]; c++) {
        const child = stack.pop();
        if (child === undefined) throw new SignweaveInputError('G2P model: the tree string ends inside a node');
        s += size[child];
      }
      size[i] = s;
      stack.push(i);
    }
    if (stack.length !== 1 || size[0] !== n) throw new SignweaveInputError('G2P model: the tree string is not one tree');
    this.sizes = size;
    this.fingerprint = createHash('sha256').update(JSON.stringify(model)).digest('hex').slice(0, 12);
  }

  /** Reads a model file written by `train-g2p.ts`. */
  static load(path: string | URL = G2P_MODEL_URL): G2p {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SignweaveInputError(`cannot read the G2P model ${String(path)}: ${(err as Error).message}`);
    }
    let model: G2pModelFile;
    try {
      model = JSON.parse(text) as G2pModelFile;
    } catch (err) {
      throw new SignweaveInputError(`the G2P model ${String(path)} is not JSON: ${(err as Error).message}`);
    }
    return new G2p(model);
  }

  /** Units (as phoneme lists) predicted for each letter of `word`, which must be lower-case letters of G2P_LETTERS. */
  predictUnits(word: string): string[][] {
    const letters: number[] = [];
    for (const ch of word) {
      const l = G2P_LETTERS.indexOf(ch);
      if (l < 0) throw new SignweaveInputError(`G2P: ${JSON.stringify(word)} holds ${JSON.stringify(ch)}; it reads only a–z and apostrophes`);
      letters.push(l);
    }
    const boundary = G2P_LETTERS.length;
    const start = this.model.units.length;
    const out: number[] = [];
    for (let i = 0; i < letters.length; i++) {
      let node = 0;
      for (let d = 0; d < this.featureKind.length; d++) {
        const k = this.featureOffset[d];
        let v: number;
        if (this.featureKind[d] === 'L') {
          const q = i + k;
          v = q < 0 || q >= letters.length ? boundary : letters[q];
        } else {
          v = i - k < 0 ? start : out[i - k];
        }
        const child = this.child(node, v);
        if (child < 0) break;
        node = child;
      }
      out.push(this.unit[node]);
    }
    return out.map((u) => this.units[u]);
  }

  /** ARPAbet phonemes (lower-case, no stress) for `word`; empty when every letter is predicted silent. */
  predict(word: string): string[] {
    return this.predictUnits(word).flat();
  }

  private child(node: number, value: number): number {
    let c = node + 1;
    for (let k = 0; k < this.childCount[node]; k++) {
      const v = this.value[c];
      if (v === value) return c;
      if (v > value) return -1;
      c += this.sizes[c];
    }
    return -1;
  }
}

let shared: G2p | undefined;

/** The shipped model, read once on first use. */
export function defaultG2p(): G2p {
  shared ??= G2p.load();
  return shared;
}
