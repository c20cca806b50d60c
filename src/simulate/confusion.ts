/**
 * Confusion neighbourhoods: which tokens an expert mistakes a token for. Letters by handshape, phonemes by viseme
 * (what the lips show), glosses by form (a shared first three letters stands in for a shared lemma or sign) plus a
 * few seeded random neighbours, so every gloss has some.
 */
import { mulberry32 } from '../util/random.js';

/**
 * ASL fingerspelling handshapes that look alike on video: closed fists (A S T M N E), rounded hands (O C E), two
 * extended fingers (U V R H K), same handshape in another orientation (K P; G Q H), index-finger shapes (D X Z G),
 * flat hands (B F W), pinky shapes (I J Y), and the non-letters.
 */
export const LETTER_GROUPS: readonly (readonly string[])[] = [
  ['a', 's', 't', 'm', 'n', 'e'],
  ['o', 'c', 'e'],
  ['u', 'v', 'r', 'h', 'k'],
  ['k', 'p'],
  ['g', 'q', 'h'],
  ['d', 'x', 'z', 'g'],
  ['b', 'f', 'w'],
  ['i', 'j', 'y'],
  [' ', "'", '.'],
];

/**
 * Visemes (ARPAbet groups one mouth shape shows): bilabials, labiodentals, dentals, alveolars, post-alveolars, velars
 * and glottal, rounded, open and spread vowels, rhotics.
 */
export const VISEME_GROUPS: readonly (readonly string[])[] = [
  ['p', 'b', 'm'],
  ['f', 'v'],
  ['th', 'dh'],
  ['t', 'd', 'n', 'l', 's', 'z'],
  ['sh', 'zh', 'ch', 'jh'],
  ['k', 'g', 'ng', 'hh'],
  ['ow', 'uw', 'uh', 'ao', 'oy', 'w'],
  ['aa', 'ae', 'ah', 'ay', 'aw'],
  ['iy', 'ih', 'ey', 'eh', 'y'],
  ['er', 'r'],
];

/** Vocabulary ids → ids of the tokens confused with it (never itself, never the blank at 0). */
export type Neighbours = (id: number) => readonly number[];

/** Neighbours from overlapping groups of token strings; tokens in no group have none. */
export function groupNeighbours(vocab: readonly string[], groups: readonly (readonly string[])[]): Neighbours {
  const index = new Map(vocab.map((t, i) => [t, i]));
  const table = vocab.map((token) => {
    const ids = new Set<number>();
    for (const g of groups) if (g.includes(token)) for (const t of g) if (t !== token && index.has(t)) ids.add(index.get(t)!);
    return [...ids];
  });
  return (id) => table[id];
}

/** FNV-1a of a string: per-token seeds that do not depend on the order tokens are asked for. */
export function stringSeed(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Gloss neighbours: up to `size` glosses sharing the first three letters (nearest in length first), then seeded random
 * glosses up to `size`. Computed on first use per gloss (a corpus vocabulary has thousands).
 */
export function glossNeighbours(vocab: readonly string[], seed: number, size = 6, randomCount = 2): Neighbours {
  const byPrefix = new Map<string, number[]>();
  vocab.forEach((t, i) => {
    if (i === 0) return;
    const key = t.slice(0, 3);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), i]);
  });
  const cache = new Map<number, number[]>();
  return (id) => {
    let ids = cache.get(id);
    if (ids) return ids;
    const token = vocab[id];
    const similar = (byPrefix.get(token.slice(0, 3)) ?? [])
      .filter((j) => j !== id)
      .sort((a, b) => Math.abs(vocab[a].length - token.length) - Math.abs(vocab[b].length - token.length) || a - b);
    const set = new Set(similar.slice(0, size - randomCount));
    const random = mulberry32(stringSeed(token, seed));
    for (let tries = 0; set.size < size && tries < 4 * size && vocab.length > 2; tries++) {
      const j = 1 + Math.floor(random() * (vocab.length - 1));
      if (j !== id) set.add(j);
    }
    ids = [...set];
    cache.set(id, ids);
    return ids;
  };
}
