// llama.cpp (through node-llama-cpp, vocab-only) and signweave's LlamaTokenizer must split text into the same ids:
// the decoder is trained on signweave's ids and prompted through llama.cpp's. Checked over the whole How2Sign corpus
// (train + test English, and their rule-based pseudo-gloss) with a tokenizer of 4,000 pieces trained on the train
// part, so the test part also exercises unseen words, and over hand-picked edge cases.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { readCorpus } from '../../pseudogloss/corpora.js';
import { RuleGlosser } from '../../pseudogloss/rules.js';
import { writeGguf } from '../../src/llm/gguf.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { LlamaTokenizer, trainTokenizer } from '../../src/llm/tokenizer.js';
import { mulberry32 } from '../../src/util/random.js';
import { sharedPath } from '../helpers/shared.js';

const EDGE_CASES = [
  'Hello world',
  ' leading space',
  'trailing space ',
  'two  spaces   and three',
  '   ',
  ' ',
  'tabs\tand\nnew lines\r\n',
  'Ünïcödé café — naïve “quotes” ½ 𝄞 emoji 👋🏽 中文',
  'digits 0123456789 3.14 -42 1,000,000',
  'punctuation!?.,;:\'"()[]{}<>@#$%^&*_+=|\\/~`',
  '<s> </s> <unk> <sep> <0x41> literal control texts',
  '▁ already escaped ▁▁',
  'lone surrogate \uD800 here',
  'NUL \u0000 inside',
  'WANT GO STORE YESTERDAY',
  'x',
];

/**
 * A GGUF as llama.cpp loads the trained decoder: llama hparams, the tokenizer, and the smallest model (width 8, one
 * layer, zero weights) — the tokenizer alone would do for `vocabOnly`, but node-llama-cpp's memory estimate loads the
 * tensors too and logs an error without them.
 */
function writeVocabGguf(path: string, tokenizer: LlamaTokenizer): void {
  const width = 8;
  const u32 = (key: string, value: number) => ({ key, type: 'uint32' as const, value });
  const tensor = (name: string, dims: number[]) => ({ name, dims, data: new Float32Array(dims.reduce((a, b) => a * b)) });
  const square = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];
  writeGguf(path, {
    metadata: [
      { key: 'general.architecture', type: 'string', value: 'llama' },
      { key: 'general.name', type: 'string', value: 'signweave-tokenizer-parity' },
      u32('general.file_type', 0),
      u32('llama.context_length', 128),
      u32('llama.embedding_length', width),
      u32('llama.feed_forward_length', width),
      u32('llama.block_count', 1),
      u32('llama.attention.head_count', 1),
      u32('llama.attention.head_count_kv', 1),
      u32('llama.rope.dimension_count', width),
      { key: 'llama.attention.layer_norm_rms_epsilon', type: 'float32', value: 1e-5 },
      { key: 'llama.rope.freq_base', type: 'float32', value: 10000 },
      u32('llama.vocab_size', tokenizer.size),
      ...tokenizer.ggufMetadata(),
    ],
    tensors: [
      tensor('token_embd.weight', [width, tokenizer.size]),
      tensor('output_norm.weight', [width]),
      tensor('blk.0.attn_norm.weight', [width]),
      tensor('blk.0.ffn_norm.weight', [width]),
      ...square.map((name) => tensor(`blk.0.${name}.weight`, [width, width])),
    ],
  });
}

/**
 * A hand-made vocabulary where training's order does not hold: pieces with equal scores (ties go to the leftmost
 * pair), pieces that only other splits reach, and pieces that spell control and byte token texts.
 */
function tiedScoresTokenizer(): LlamaTokenizer {
  const chars = ['▁', 'a', 'b', 'c', '<', 's', '>', '0', 'x', '4', '1', 'é'];
  const pieces: [string, number][] = [
    ['aa', -1], ['ab', -1], ['bc', -1], ['ca', -2], ['abc', -2], ['aab', -1], ['bca', -3], ['▁a', -3], ['▁ab', -2],
    ['<s', -1], ['s>', -1], ['<0', -2], ['<0x', -2], ['<0x4', -2], ['1>', -2], ['aé', -1], ['éé', -4],
  ];
  const base = Array.from({ length: 260 }, (_, id) => (id < 4 ? ['<unk>', '<s>', '</s>', '<sep>'][id] : `<0x${(id - 4).toString(16).toUpperCase().padStart(2, '0')}>`));
  return LlamaTokenizer.fromVocab({
    tokens: [...base, ...chars, ...pieces.map(([p]) => p)],
    scores: [...base.map(() => 0), ...chars.map(() => -10), ...pieces.map(([, s]) => s)],
    types: [2, 3, 3, 3, ...base.slice(4).map(() => 6), ...chars.map(() => 1), ...pieces.map(() => 1)],
  });
}

function firstMismatches(texts: readonly string[], ours: (t: string) => unknown, theirs: (t: string) => unknown): string[] {
  const out: string[] = [];
  let count = 0;
  for (const text of texts) {
    const [a, b] = [ours(text), theirs(text)];
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      if (count++ < 5) out.push(`${JSON.stringify(text)}: signweave ${JSON.stringify(a)} llama.cpp ${JSON.stringify(b)}`);
    }
  }
  if (count > 5) out.push(`… ${count} mismatches in all`);
  return out;
}

describe('LlamaTokenizer ≡ llama.cpp SPM tokenizer', () => {
  let dir: string;
  let runtime: LlamaRuntime;
  let model: LlamaModel;
  let tokenizer: LlamaTokenizer;
  let corpus: string[];
  let tied: { tokenizer: LlamaTokenizer; model: LlamaModel };

  before(async () => {
    const labels = (split: string) => sharedPath('data', 'how2sign', 'unisign_labels_jsonl', `labels.${split}.jsonl`);
    const english = (split: string) => readCorpus(labels(split), 'how2sign-jsonl', { strict: true }).sentences.map((s) => s.text);
    const glosser = new RuleGlosser();
    const gloss = (texts: string[]) => texts.map((t) => glosser.glossSync(t).tokens.join(' '));
    const [train, test] = [english('train'), english('test')];
    const trainTexts = [...train, ...gloss(train)];
    tokenizer = trainTokenizer(trainTexts, { vocabSize: 4000 });
    corpus = [...trainTexts, ...test, ...gloss(test)];

    dir = mkdtempSync(join(tmpdir(), 'signweave-tokenizer-'));
    const path = join(dir, 'vocab.gguf');
    writeVocabGguf(path, tokenizer);
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    model = (await runtime.loadModel(path, { vocabOnly: true })).model;
    const tiedTokenizer = tiedScoresTokenizer();
    writeVocabGguf(join(dir, 'tied.gguf'), tiedTokenizer);
    tied = { tokenizer: tiedTokenizer, model: (await runtime.loadModel(join(dir, 'tied.gguf'), { vocabOnly: true })).model };
  });
  after(async () => {
    await runtime?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('llama.cpp loads the vocabulary as its SPM tokenizer with the contract ids', () => {
    assert.equal(tokenizer.size, 4000);
    assert.equal(model.vocabularyType, 'spm');
    assert.equal(model.tokens.bos, tokenizer.bos);
    assert.equal(model.tokens.eos, tokenizer.eos);
    assert.deepEqual(model.tokenize('<sep>', true), [tokenizer.sep]);
    assert.ok(!model.isEogToken(tokenizer.sep as Token));
  });

  it('encode() gives llama.cpp tokenize() ids on the whole How2Sign corpus (English and pseudo-gloss)', () => {
    assert.ok(corpus.length > 60_000, `${corpus.length} texts`);
    assert.deepEqual(firstMismatches(corpus, (t) => tokenizer.encode(t), (t) => model.tokenize(t)), []);
  });

  it('encode() gives llama.cpp ids on edge cases: spaces, Unicode, byte fallback, control-token texts', () => {
    assert.deepEqual(firstMismatches(EDGE_CASES, (t) => tokenizer.encode(t), (t) => model.tokenize(t)), []);
    const fallback = tokenizer.encode('中');
    assert.deepEqual(fallback.slice(-3).map((id) => tokenizer.vocab.tokens[id]), ['<0xE4>', '<0xB8>', '<0xAD>']);
  });

  it('encode() and decode() follow llama.cpp on a vocabulary with tied scores and control-token texts', () => {
    const random = mulberry32(3);
    const alphabet = ['a', 'b', 'c', '<', 's', '>', '0', 'x', '4', '1', ' ', 'é', 'ü', '<s>', '<0x41>'];
    const texts = Array.from({ length: 3000 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 14) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''),
    );
    const { tokenizer: t, model: m } = tied;
    assert.deepEqual(firstMismatches(texts, (x) => t.encode(x), (x) => m.tokenize(x)), []);
    assert.deepEqual(firstMismatches(texts, (x) => t.decode(t.encode(x)), (x) => m.detokenize(m.tokenize(x))), []);
    // The cases this vocabulary is built for: a control token's text merges into the control token, as in llama.cpp.
    assert.deepEqual(t.encode('aaaa'), m.tokenize('aaaa'));
    assert.ok(t.encode('x<s>').includes(t.bos));
  });

  it('decode() gives llama.cpp detokenize() text on the corpus ids, and round-trips the text', () => {
    const encoded = corpus.map((t) => tokenizer.encode(t));
    const decode = (i: string) => tokenizer.decode(encoded[Number(i)]);
    const detokenize = (i: string) => model.detokenize(encoded[Number(i)] as Token[]);
    assert.deepEqual(firstMismatches(Object.keys(encoded), decode, detokenize), []);
    assert.deepEqual(firstMismatches(corpus, (t) => tokenizer.decode(tokenizer.encode(t)), (t) => t), []);
  });

  it('decode() gives llama.cpp text for control tokens, split bytes and random id sequences', () => {
    const random = mulberry32(8);
    const sequences: number[][] = [
      [tokenizer.bos, ...tokenizer.encode('after bos'), tokenizer.sep, ...tokenizer.encode('after sep'), tokenizer.eos],
      tokenizer.encode('žluť 👋 中文').slice(1),
      // Random ids that keep to whole UTF-8 characters: normal pieces, control tokens and complete byte sequences.
      ...Array.from({ length: 200 }, () =>
        Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
          const r = random();
          return r < 0.1 ? Math.floor(random() * 4) : r < 0.2 ? [4 + 0x41, 4 + 0x20][Math.floor(random() * 2)] : 260 + Math.floor(random() * (tokenizer.size - 260));
        }),
      ),
    ];
    assert.deepEqual(firstMismatches(sequences.map((s) => JSON.stringify(s)), (s) => tokenizer.decode(JSON.parse(s)), (s) => model.detokenize(JSON.parse(s))), []);
  });
});
