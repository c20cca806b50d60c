import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FEATURE_CACHE_FORMAT, FeatureCache, type FeatureKeyParts } from '../../src/backbone/cache.js';
import type { BackboneInfo } from '../../src/backbone/types.js';
import { TrainingSet, type Batch, type TrainingItem } from '../../src/train/data.js';
import { ctcMinFrames } from '../../src/train/loss.js';
import { mulberry32 } from '../../src/util/random.js';
import { formatVocabFile } from '../../src/vocab.js';
import { inputError } from '../helpers/assert.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

/** Items with lengths 2…(2 + n mod 9), values that name their item and frame, and frame labels. */
function items(n: number, D = 3): TrainingItem[] {
  return Array.from({ length: n }, (_, i) => {
    const T = 2 + ((i * 7) % 9);
    const data = Float32Array.from({ length: T * D }, (_, k) => i * 1000 + k + 1);
    return { id: `item${i}`, input: { data, shape: [T, D] as [number, number] }, target: [1 + (i % 4)], frameLabels: Int32Array.from({ length: T }, (_, t) => (i + t) % 3) };
  });
}

const idsOf = (batches: Batch[]) => batches.map((b) => b.ids.join(','));

describe('TrainingSet order', () => {
  const set = TrainingSet.fromArrays(items(23));
  const options = { batchSize: 4, seed: 7 };

  it('is the same for the same (seed, epoch), differs between epochs and seeds, and covers every item once', () => {
    const e0 = set.epochPlan(0, options);
    assert.deepEqual(set.epochPlan(0, options), e0);
    assert.deepEqual(TrainingSet.fromArrays(items(23)).epochPlan(0, options), e0, 'a fresh set gives the same order');
    const e1 = set.epochPlan(1, options);
    assert.notDeepEqual(e1, e0);
    assert.notDeepEqual(set.epochPlan(0, { ...options, seed: 8 }), e0);
    for (const plan of [e0, e1]) {
      assert.deepEqual(plan.map((b) => b.length), [4, 4, 4, 4, 4, 3]);
      assert.deepEqual([...plan.flat()].sort((a, b) => a - b), [...Array(23).keys()]);
    }
    // Epoch 5's order does not depend on having visited epochs 0–4.
    const later = TrainingSet.fromArrays(items(23));
    assert.deepEqual(later.epochPlan(5, options), set.epochPlan(5, options));
    assert.deepEqual(set.epochPlan(3, { ...options, shuffle: false }).flat(), [...Array(23).keys()]);
  });

  it('drops the incomplete last batch with dropLast, leaving out different items each epoch', () => {
    const o = { ...options, dropLast: true };
    assert.equal(set.stepsPerEpoch(o), 5);
    assert.equal(set.stepsPerEpoch(options), 6);
    const left = (e: number) => [...Array(23).keys()].filter((i) => !set.epochPlan(e, o).flat().includes(i));
    for (const e of [0, 1]) assert.deepEqual(set.epochPlan(e, o).map((b) => b.length), [4, 4, 4, 4, 4]);
    assert.equal(left(0).length, 3);
    assert.notDeepEqual(left(0), left(1));
  });

  it('buckets by length: less padding, every item once, deterministic', () => {
    const big = TrainingSet.fromArrays(items(200));
    const padding = (plan: number[][]) =>
      plan.reduce((sum, b) => {
        const lengths = b.map((i) => big.items[i].input.shape[0]);
        return sum + lengths.reduce((s, T) => s + Math.max(...lengths) - T, 0);
      }, 0);
    const o = { batchSize: 8, seed: 3 };
    const plain = big.epochPlan(0, o);
    const bucketed = big.epochPlan(0, { ...o, bucket: 10 });
    assert.deepEqual(big.epochPlan(0, { ...o, bucket: 10 }), bucketed);
    assert.notDeepEqual(big.epochPlan(1, { ...o, bucket: 10 }), bucketed);
    assert.deepEqual([...bucketed.flat()].sort((a, b) => a - b), [...Array(200).keys()]);
    assert.ok(padding(bucketed) < padding(plain) / 3, `padding ${padding(bucketed)} bucketed vs ${padding(plain)}`);
    // Pools are whole batches, so only the epoch's last batch can be short, and dropLast removes exactly it.
    const odd = TrainingSet.fromArrays(items(203));
    const withLast = odd.epochPlan(2, { ...o, bucket: 10 });
    assert.equal(withLast.filter((b) => b.length < 8).length, 1);
    assert.ok(odd.epochPlan(2, { ...o, bucket: 10, dropLast: true }).every((b) => b.length === 8));
  });
});

describe('TrainingSet batches', () => {
  it('pads inputs with zeros and marks real frames in the mask and frame labels', () => {
    const set = TrainingSet.fromArrays(items(3));
    const batch = set.batch([0, 1, 2], { epoch: 0, step: 0, next: { epoch: 0, step: 1 } });
    const lengths = set.items.map((it) => it.input.shape[0]);
    assert.deepEqual(batch.lengths, lengths);
    const Tmax = Math.max(...lengths);
    assert.deepEqual(batch.shape, [3, Tmax, 3]);
    assert.equal(batch.inputs.length, 3 * Tmax * 3);
    for (let b = 0; b < 3; b++) {
      const item = set.items[b];
      for (let t = 0; t < Tmax; t++) {
        const real = t < lengths[b];
        assert.equal(batch.mask[b * Tmax + t], real ? 1 : 0);
        assert.equal(batch.frameLabels![b * Tmax + t], real ? item.frameLabels![t] : -1);
        for (let d = 0; d < 3; d++) assert.equal(batch.inputs[(b * Tmax + t) * 3 + d], real ? item.input.data[t * 3 + d] : 0);
      }
    }
    assert.deepEqual(batch.targets, [[1], [2], [3]]);
    assert.deepEqual(batch.ids, ['item0', 'item1', 'item2']);
    batch.targets[0].push(9);
    assert.deepEqual(set.items[0].target, [1], 'a batch does not share target arrays with the set');
    const unlabelled = TrainingSet.fromArrays(items(2).map(({ frameLabels: _f, ...rest }) => rest));
    assert.equal(unlabelled.batch([0, 1], { epoch: 0, step: 0, next: { epoch: 1, step: 0 } }).frameLabels, undefined);
  });

  it('resumes from (epoch, step) with exactly the batches an uninterrupted run has left', () => {
    const set = TrainingSet.fromArrays(items(10));
    const options = { batchSize: 3, seed: 11, bucket: 2, epochs: 3 };
    const all = [...set.batches(options)];
    assert.equal(all.length, 12);
    assert.deepEqual(all.map((b) => [b.epoch, b.step]).slice(3, 6), [[0, 3], [1, 0], [1, 1]]);
    for (const cut of [1, 4, 5, 11]) {
      const from = all[cut - 1].next;
      const rest = [...set.batches({ ...options, from })];
      assert.deepEqual(idsOf(rest), idsOf(all.slice(cut)), `resumed after batch ${cut}`);
      assert.deepEqual(rest[0].inputs, all[cut].inputs);
      assert.deepEqual([rest[0].epoch, rest[0].step], [all[cut].epoch, all[cut].step]);
    }
    assert.deepEqual([...set.batches({ ...options, from: all[11].next })], [], 'the position after the last batch has nothing left');
    assert.throws(() => set.batches({ ...options, from: { epoch: 0, step: 9 } }).next(), inputError(/epoch 0, step 9 is outside the data \(4 batches per epoch\)/));
  });

  it('refuses bad items and options, naming the item', () => {
    const good = items(2);
    const bad = (changes: Partial<TrainingItem>) => [good[0], { ...good[1], ...changes }];
    assert.throws(() => TrainingSet.fromArrays([]), inputError(/empty/));
    assert.throws(() => TrainingSet.fromArrays(bad({ id: 'item0' })), inputError(/item 1 \(item0\): id already used/));
    assert.throws(() => TrainingSet.fromArrays(bad({ input: { data: new Float32Array(8), shape: [2, 4] } })), inputError(/item 1.*4 features per frame, the first item has 3/));
    assert.throws(() => TrainingSet.fromArrays(bad({ input: { data: new Float32Array(5), shape: [2, 3] } })), inputError(/5 values for shape \[2, 3\]/));
    assert.throws(() => TrainingSet.fromArrays(bad({ target: [0] })), inputError(/target id 0 .*blank/));
    assert.throws(() => TrainingSet.fromArrays(bad({ target: [5] }), { vocabSize: 5 }), inputError(/target id 5/));
    assert.throws(() => TrainingSet.fromArrays(bad({ frameLabels: new Int32Array(1) })), inputError(/1 frame labels for \d+ frames/));
    const set = TrainingSet.fromArrays(good);
    assert.throws(() => set.epochPlan(0, { batchSize: 0, seed: 1 }), inputError(/batch size/));
    assert.throws(() => set.batches({ batchSize: 3, seed: 1, dropLast: true }).next(), inputError(/no full batch of 3/));
  });

  it('fingerprints ids, shapes and targets', () => {
    const a = TrainingSet.fromArrays(items(5)).fingerprint();
    assert.equal(TrainingSet.fromArrays(items(5)).fingerprint(), a);
    const changed = items(5);
    changed[2].target = [3, 3];
    assert.notEqual(TrainingSet.fromArrays(changed).fingerprint(), a);
  });

  it('counts CTC frames with a blank between repeated labels', () => {
    assert.equal(ctcMinFrames([]), 0);
    assert.equal(ctcMinFrames([1, 2, 3]), 3);
    assert.equal(ctcMinFrames([1, 1, 2, 2, 2]), 8);
  });
});

describe('TrainingSet.fromFeatureCache', () => {
  const cacheDir = join(tmp.dir, 'cache');
  const cache = new FeatureCache({ dir: cacheDir });
  const random = mulberry32(5);
  const backbone = (sha256: string) => ({ kind: 'onnx', source: 'test.onnx', runtime: 'test', sha256, preprocessing: { resample: 2 } }) as unknown as BackboneInfo;
  const put = (video: FeatureKeyParts['video'], about: string | { frames: string; fps: number }, T: number, range: { start?: number; end?: number | null; stride?: number; sha?: string } = {}) => {
    const data = Float32Array.from({ length: T * 4 }, () => random());
    const sha = range.sha ?? 'a'.repeat(64);
    const parts: FeatureKeyParts = { format: FEATURE_CACHE_FORMAT, video, start: range.start ?? 0, end: range.end ?? null, stride: range.stride ?? 1, backboneSha256: sha, preprocessing: { resample: 2 } };
    const frames = [...Array(T).keys()];
    cache.put(parts, { data, shape: [T, 4], fps: 25, frameIndices: frames, times: frames.map((f) => f / 25) }, { video: about, backbone: backbone(sha) });
    return data;
  };
  const clipA = put({ sha256: '1'.repeat(64) }, '/videos/clips/clipA-rgb_front.mp4', 6);
  const ranged = put({ sha256: '2'.repeat(64) }, '/videos/long/LONGVID.mp4', 5, { start: 1.5, end: 3.25 });
  put({ sha256: '2'.repeat(64) }, '/videos/long/LONGVID.mp4', 9); // the whole video: not the sentence's range
  const phoenix = put({ framesSha256: '3'.repeat(64), fps: 25 }, { frames: '/data/phoenix/train/01April_2010-0/1', fps: 25 }, 7);
  put({ sha256: '4'.repeat(64) }, '/videos/twice.mp4', 8, { stride: 1 });
  put({ sha256: '4'.repeat(64) }, '/videos/twice.mp4', 4, { stride: 2 });
  put({ sha256: '5'.repeat(64) }, '/videos/short.mp4', 2);
  const byId = put({ sha256: '6'.repeat(64) }, '/videos/by-id.mp4', 3);

  const dir = join(tmp.dir, 'targets');
  mkdirSync(dir);
  const record = (id: string, pseudogloss: string[], extra: object = {}) => ({
    id,
    text: 'x',
    language: 'en',
    pseudogloss,
    phonemes: pseudogloss.map((w) => ({ word: w, phonemes: w === 'GO' ? ['g', 'ow'] : ['ih', 't'], source: 'cmudict' })),
    fingerspell: id === 'clipA-rgb_front' ? [{ text: 'Al', start: 0, end: 2, reason: 'proper-noun', chars: ['a', 'l'] }, { text: 'Bo', start: 3, end: 5, reason: 'proper-noun', chars: ['b', 'o'] }] : [],
    ...extra,
    provenance: {},
  });
  const targets = join(dir, 'targets.jsonl');
  writeFileSync(
    targets,
    [
      record('clipA-rgb_front', ['GO', 'STORE'], { video: 'clipA-rgb_front.mp4' }),
      record('sentence-1', ['STORE', 'GO'], { video: 'LONGVID', start: 1.5, end: 3.25 }),
      record('01April_2010-0', ['GO'], { video: '01April_2010-0/1/*.png' }),
      record('twice', ['GO'], { video: 'twice.mp4' }),
      record('short', ['GO', 'GO'], { video: 'short.mp4' }),
      record('missing', ['GO'], { video: 'nowhere.mp4' }),
      record('strange', ['GO', 'MOON'], { video: 'clipA-rgb_front.mp4' }),
      record('by-id', ['STORE']),
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  writeFileSync(join(dir, 'targets.vocab.gloss.txt'), formatVocabFile(['<blank>', 'GO', 'STORE']));
  writeFileSync(join(dir, 'targets.vocab.phonemes.txt'), formatVocabFile(['<blank>', 'g', 'ow', 'ih', 't']));
  writeFileSync(join(dir, 'targets.vocab.letters.txt'), formatVocabFile(['<blank>', 'a', 'b', 'l', 'o', ' ']));

  it('matches records by video path, frame folder, time range and id, and reports the rest with why', () => {
    const set = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'gloss' });
    assert.deepEqual(set.vocab, ['<blank>', 'GO', 'STORE']);
    assert.deepEqual(set.items.map((i) => [i.id, i.target]), [
      ['clipA-rgb_front', [1, 2]],
      ['sentence-1', [2, 1]],
      ['01April_2010-0', [1]],
      ['by-id', [2]],
    ]);
    assert.deepEqual(set.items[0].input.data, clipA);
    assert.deepEqual(set.items[1].input.data, ranged);
    assert.deepEqual(set.items[2].input.data, phoenix);
    assert.deepEqual(set.items[3].input.data, byId);
    assert.deepEqual(set.items[0].input.shape, [6, 4]);
    const skipped = new Map(set.skipped.map((s) => [s.id, `${s.where} ${s.reason}`]));
    assert.deepEqual([...skipped.keys()], ['twice', 'short', 'missing', 'strange']);
    assert.match(skipped.get('twice')!, /targets\.jsonl:4 2 cached entries fit \(backbone a{12}… stride [12], backbone a{12}… stride [12]\): give backboneSha256 or stride/);
    assert.match(skipped.get('short')!, /:5 2 frames cannot hold a CTC alignment of 2 labels \(needs 3\)/);
    assert.match(skipped.get('missing')!, /no cached features for video nowhere\.mp4 \(the whole video\)/);
    assert.match(skipped.get('strange')!, /target token "MOON" is not in .*targets\.vocab\.gloss\.txt/);

    const strided = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'gloss', stride: 2 });
    assert.deepEqual(strided.items.map((i) => i.id), ['twice']);
    assert.deepEqual(strided.items[0].input.shape, [4, 4]);
  });

  it('maps unknown tokens to <unk> when the vocabulary has it', () => {
    const vocab = join(dir, 'with-unk.txt');
    writeFileSync(vocab, formatVocabFile(['<blank>', '<unk>', 'GO', 'STORE']));
    const set = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'gloss', vocab });
    assert.deepEqual(set.items.find((i) => i.id === 'strange')?.target, [2, 1]);
    assert.deepEqual([...set.unknownTokens], [['MOON', 1]]);
  });

  it('reads the phoneme and fingerspelling streams', () => {
    const phonemes = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'phonemes' });
    assert.deepEqual(phonemes.items[0].target, [1, 2, 3, 4]);
    const letters = TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'letters' });
    assert.deepEqual(letters.items.map((i) => [i.id, i.target]), [['clipA-rgb_front', [1, 3, 5, 2, 4]]]);
    assert.match(letters.skipped.find((s) => s.id === 'by-id')!.reason, /no letters target/);
  });

  it('refuses broken targets files and vocabularies with the line', () => {
    const bad = join(dir, 'bad.jsonl');
    const write = (lines: string[]) => writeFileSync(bad, lines.join('\n') + '\n');
    const load = () => TrainingSet.fromFeatureCache({ cacheDir, targets: bad, stream: 'gloss', vocab: join(dir, 'targets.vocab.gloss.txt') });
    write([JSON.stringify(record('a', ['GO'])), '{oops']);
    assert.throws(load, inputError(/bad\.jsonl:2: not JSON/));
    write([JSON.stringify(record('a', ['GO'])), JSON.stringify(record('a', ['GO']))]);
    assert.throws(load, inputError(/bad\.jsonl:2: id "a" already on line 1/));
    write([JSON.stringify({ ...record('a', ['GO']), pseudogloss: 'GO' })]);
    assert.throws(load, inputError(/bad\.jsonl:1: field "pseudogloss" must be an array of strings/));
    write([JSON.stringify(record('nothing-cached', ['GO']))]);
    assert.throws(load, inputError(/no training item from .*bad\.jsonl.*1 targets.*no cached features for id nothing-cached/));
    writeFileSync(join(dir, 'novocab.txt'), 'GO\n');
    assert.throws(() => TrainingSet.fromFeatureCache({ cacheDir, targets, stream: 'gloss', vocab: join(dir, 'novocab.txt') }), inputError(/novocab\.txt:1: the first token must be <blank>/));
  });

  it('refuses features of two backbones unless one is chosen', () => {
    const other = join(tmp.dir, 'cache2');
    const c2 = new FeatureCache({ dir: other });
    for (const [name, sha] of [['one', 'b'], ['two', 'c']]) {
      const parts: FeatureKeyParts = { format: FEATURE_CACHE_FORMAT, video: { sha256: name.padEnd(64, '0') }, start: 0, end: null, stride: 1, backboneSha256: sha.repeat(64), preprocessing: { resample: 2 } };
      c2.put(parts, { data: new Float32Array(8), shape: [2, 4], fps: 25, frameIndices: [0, 1], times: [0, 0.04] }, { video: `/v/${name}.mp4`, backbone: backbone(sha.repeat(64)) });
    }
    const t = join(dir, 'two.jsonl');
    writeFileSync(t, [record('one', ['GO']), record('two', ['GO'])].map((r) => JSON.stringify(r)).join('\n'));
    const vocab = join(dir, 'targets.vocab.gloss.txt');
    assert.throws(() => TrainingSet.fromFeatureCache({ cacheDir: other, targets: t, stream: 'gloss', vocab }), inputError(/two\.jsonl:2: its features come from backbone cccccccccccc…, those of .*:1 from bbbbbbbbbbbb…: give backboneSha256/));
    const chosen = TrainingSet.fromFeatureCache({ cacheDir: other, targets: t, stream: 'gloss', vocab, backboneSha256: 'c'.repeat(64) });
    assert.deepEqual(chosen.items.map((i) => i.id), ['two']);
  });
});
