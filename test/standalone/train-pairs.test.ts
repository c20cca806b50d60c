/**
 * Decoder training pairs: both line shapes (`signweave pseudogloss` records, plain gloss/english lines), the glossers
 * seen, skipped pairs, errors naming file:line and field, and the seeded dev split.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readPairs, splitPairs } from '../../src/train/pairs.js';
import type { TextPair } from '../../src/train/llama.js';
import { inputError } from '../helpers/assert.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(() => tmp.remove());

let files = 0;
function pairsFile(lines: (object | string)[]): string {
  const path = join(tmp.dir, `pairs-${files++}.jsonl`);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

const rules = { glosser: 'rules', version: '3' };
const record = (id: string, text: string, pseudogloss: string[], gloss: object = rules) => ({
  id,
  text,
  language: 'en',
  pseudogloss,
  phonemes: [],
  fingerspell: [],
  provenance: { gloss, phonemes: 'cmudict', fingerspell: 'fs/1' },
});

describe('readPairs', () => {
  it('reads pseudogloss records and plain pairs, counts the glossers and skips pairs without English or gloss', () => {
    const llm = { glosser: 'llm', version: '2', model: { path: 'm.gguf', sha256: 'a'.repeat(64) }, promptVersion: 'p1' };
    const path = pairsFile([
      record('a', ' Tomorrow Anna will visit NASA. ', ['TOMORROW', 'ANNA', 'VISIT', 'NASA']),
      record('b', 'I am fine.', ['I', 'FINE'], llm),
      '',
      { gloss: 'STORE I GO', english: 'I go to the store.' },
      { id: 'd', gloss: 'HOME', english: 'Home.' },
      record('e', 'The.', []),
      { gloss: 'X', english: '  ' },
      record('g', 'Yes.', ['YES']),
    ]);
    const file = readPairs(path);
    assert.deepEqual(file.pairs, [
      { id: 'a', gloss: 'TOMORROW ANNA VISIT NASA', english: 'Tomorrow Anna will visit NASA.' },
      { id: 'b', gloss: 'I FINE', english: 'I am fine.' },
      { id: 'line-4', gloss: 'STORE I GO', english: 'I go to the store.' },
      { id: 'd', gloss: 'HOME', english: 'Home.' },
      { id: 'g', gloss: 'YES', english: 'Yes.' },
    ]);
    assert.deepEqual(file.skipped, [
      { id: 'e', where: `${path}:6`, reason: 'empty pseudo-gloss' },
      { id: 'line-7', where: `${path}:7`, reason: 'no English text' },
    ]);
    assert.deepEqual(file.glossers, [
      { ...rules, pairs: 2 },
      { ...llm, pairs: 1 },
    ]);
    assert.equal(file.where.get('line-4'), `${path}:4`);
    assert.match(file.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      readPairs(path, { limit: 2 }).pairs.map((p) => p.id),
      ['a', 'b'],
    );
  });

  it('names the file, line and field of a bad line', () => {
    const bad = (line: object | string, ...patterns: RegExp[]) => {
      const path = pairsFile([{ gloss: 'OK', english: 'Ok.' }, line]);
      assert.throws(() => readPairs(path), inputError(new RegExp(`^${path}:2: `), ...patterns));
    };
    bad('{"gloss": "A",', /not JSON/);
    bad('["A", "a"]', /not a JSON object/);
    bad({ gloss: 'A' }, /field "english" must be a string/);
    bad({ gloss: ['A'], english: 'a' }, /field "gloss" must be a string/);
    bad({ id: 3, gloss: 'A', english: 'a' }, /field "id" must be a non-empty string/);
    bad({ id: 'x', text: 'a', pseudogloss: 'A B' }, /field "pseudogloss" must be an array of strings/);
    bad({ id: 'x', pseudogloss: ['A'] }, /field "text" must be a string/);
    bad({ text: 'a', pseudogloss: ['A'] }, /field "id" is missing/);
    bad({ ...record('x', 'a', ['A']), provenance: { gloss: { glosser: 'rules' } } }, /field "provenance.gloss" must be an object with the strings glosser and version/);
    bad({ sentence: 'a' }, /neither a `signweave pseudogloss` record \(id, text, pseudogloss\) nor a pair \(gloss, english\)/);
    bad({ id: 'line-1', gloss: 'A', english: 'a' }, /id "line-1" already on line 1/);
  });

  it('refuses a file without pairs and an unreadable one', () => {
    const empty = pairsFile([record('e', 'The.', [])]);
    assert.throws(() => readPairs(empty), inputError(/holds no \(pseudo-gloss, English\) pairs \(1 skipped: .*:1: empty pseudo-gloss\)/));
    assert.throws(() => readPairs(join(tmp.dir, 'missing.jsonl')), inputError(/cannot read .*missing\.jsonl: no such file/));
  });
});

describe('splitPairs', () => {
  const pairs: TextPair[] = Array.from({ length: 1000 }, (_, i) => ({ id: `p${i}`, gloss: `G${i}`, english: `e${i}` }));
  const ids = (list: TextPair[]) => list.map((p) => p.id);

  it('holds out about the fraction asked for, the same pairs for the same seed, whatever else the file holds', () => {
    const { train, dev } = splitPairs(pairs, { devFraction: 0.1, seed: 1 });
    assert.equal(train.length + dev.length, 1000);
    assert.ok(dev.length > 70 && dev.length < 130, `${dev.length} dev pairs`);
    assert.deepEqual(splitPairs(pairs, { devFraction: 0.1, seed: 1 }), { train, dev });
    // Each pair's side depends on its own id: a shuffled, shorter file splits the same pairs the same way.
    const subset = pairs.filter((_, i) => i % 3 === 0).reverse();
    const inDev = new Set(ids(dev));
    assert.deepEqual(ids(splitPairs(subset, { devFraction: 0.1, seed: 1 }).dev), ids(subset).filter((id) => inDev.has(id)));
    const other = splitPairs(pairs, { devFraction: 0.1, seed: 2 }).dev;
    assert.notDeepEqual(ids(other), ids(dev));
  });

  it('keeps at least one pair on each side, and refuses fractions outside (0, 1)', () => {
    const few = pairs.slice(0, 3);
    const tiny = splitPairs(few, { devFraction: 1e-9, seed: 0 });
    assert.deepEqual([tiny.train.length, tiny.dev.length], [2, 1]);
    const most = splitPairs(few, { devFraction: 1 - 1e-9, seed: 0 });
    assert.deepEqual([most.train.length, most.dev.length], [1, 2]);
    assert.throws(() => splitPairs(few, { devFraction: 1, seed: 0 }), inputError(/dev fraction must be between 0 and 1 \(exclusive\), got 1/));
    assert.throws(() => splitPairs(few, { devFraction: 0, seed: 0 }), inputError(/got 0/));
    assert.throws(() => splitPairs(few.slice(0, 1), { devFraction: 0.5, seed: 0 }), inputError(/1 pair cannot be split/));
  });
});
