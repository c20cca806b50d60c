// The trained decoder's tokenizer without llama.cpp: BPE training (layout, determinism, limits), encoding and
// decoding on small corpora, validation, and the tokenizer file. Parity with llama.cpp itself is checked in
// test/model-dependent/llm-tokenizer-parity.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeGguf } from '../../src/llm/gguf.js';
import { LlamaTokenizer, TOKENIZER_FILE_FORMAT, trainTokenizer, type TokenizerVocab } from '../../src/llm/tokenizer.js';
import { TRAINED_CONTROL_TOKENS } from '../../src/llm/trained-format.js';
import { mulberry32 } from '../../src/util/random.js';
import { inputError } from '../helpers/assert.js';

const CORPUS = [
  'the low tower is lower than the lowest tower',
  'I WANT GO STORE YESTERDAY',
  'you know, the newest lowest price is the best price',
  'Tomorrow Anna will visit NASA.',
  'THE TOWER LOW',
  'she said: "it is 3.14, not 42!"',
  'café au lait, naïve résumé',
  'lower and lower, lowest of the low',
];
const VARIED = [
  'the lowest tower',
  'Hello, World!',
  '  two leading spaces',
  'trailing spaces  ',
  'many     inner     spaces',
  ' ',
  'tabs\tand\nnew\r\nlines',
  'digits 0123456789 and 1,000.50',
  'unicode: café ß Ωmega 中文 👋🏽 𝄞',
  '<s> </s> <sep> <unk> <0x41>',
  'x',
];

function corpus(size: number, seed: number): string[] {
  const random = mulberry32(seed);
  const words = ['the', 'tower', 'lower', 'lowest', 'new', 'newer', 'WANT', 'GO', 'STORE', 'you', 'know', 'price,', 'best.', '42'];
  return Array.from({ length: size }, () => Array.from({ length: 2 + Math.floor(random() * 8) }, () => words[Math.floor(random() * words.length)]).join(' '));
}

describe('trainTokenizer', () => {
  const tokenizer = trainTokenizer(CORPUS, { vocabSize: 400 });

  it('lays out control tokens, the 256 byte tokens, the characters, then the pieces, with llama.cpp token types', () => {
    const { tokens, types, scores } = tokenizer.vocab;
    assert.deepEqual(tokens.slice(0, 4), [...TRAINED_CONTROL_TOKENS]);
    assert.deepEqual(types.slice(0, 4), [2, 3, 3, 3]);
    assert.deepEqual([tokenizer.unk, tokenizer.bos, tokenizer.eos, tokenizer.sep], [0, 1, 2, 3]);
    assert.equal(tokens[4], '<0x00>');
    assert.equal(tokens[4 + 0x41], '<0x41>');
    assert.equal(tokens[259], '<0xFF>');
    assert.ok(types.slice(4, 260).every((t) => t === 6));
    assert.ok(types.slice(260).every((t) => t === 1));
    const chars = new Set([...CORPUS.join(' ').replaceAll(' ', '▁'), '▁']);
    const firstPiece = tokens.findIndex((t, id) => id >= 260 && [...t].length > 1);
    assert.deepEqual(new Set(tokens.slice(260, firstPiece)), chars);
    assert.equal(tokens[260], '▁', 'the most frequent character first');
    // Pieces: earlier merges score higher; characters score below every piece.
    const pieceScores = scores.slice(firstPiece);
    assert.ok(pieceScores.every((s, i) => i === 0 || s < pieceScores[i - 1]));
    assert.ok(Math.max(...scores.slice(260, firstPiece)) < Math.min(...pieceScores));
    assert.equal(tokenizer.size, tokens.length);
    assert.ok(tokens.includes('▁lowest') && tokens.includes('▁tower'));
  });

  it('never merges across words, and never makes a piece that spells a control or byte token', () => {
    const withControlTexts = trainTokenizer([...CORPUS, ...Array(20).fill('<s> <0x41> </s>')], { vocabSize: 500 });
    const pieces = withControlTexts.vocab.tokens.slice(260);
    assert.ok(pieces.every((p) => !p.slice(1).includes('▁')), 'no piece has "▁" inside');
    assert.ok(pieces.includes('s>') || pieces.includes('<s'), 'the texts were merged as far as allowed');
    for (const reserved of ['<s>', '</s>', '<0x41>']) assert.ok(!pieces.includes(reserved), reserved);
  });

  it('is deterministic, and independent of the order of the texts', () => {
    const texts = corpus(400, 1);
    const a = trainTokenizer(texts, { vocabSize: 330 });
    const b = trainTokenizer(texts, { vocabSize: 330 });
    const shuffled = trainTokenizer([...texts].reverse(), { vocabSize: 330 });
    assert.deepEqual(a.vocab, b.vocab);
    assert.deepEqual(a.vocab, shuffled.vocab);
    assert.equal(a.sha256(), shuffled.sha256());
    assert.notEqual(a.sha256(), trainTokenizer(texts, { vocabSize: 320 }).sha256());
  });

  it('stops at vocabSize, or earlier when no pair occurs twice', () => {
    assert.equal(trainTokenizer(corpus(400, 2), { vocabSize: 300 }).size, 300);
    // Every pair occurs twice: ties go to the lower symbol ids (characters by frequency, then by code point).
    const small = trainTokenizer(['abcd', 'abcd'], { vocabSize: 1000 });
    assert.deepEqual(small.vocab.tokens.slice(260), ['a', 'b', 'c', 'd', '▁', 'ab', 'cd', '▁ab', '▁abcd']);
  });

  it('reports progress and stops on abort', () => {
    const random = mulberry32(3);
    const letters = () => Array.from({ length: 2 + Math.floor(random() * 6) }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
    const texts = Array.from({ length: 3000 }, () => Array.from({ length: 5 }, letters).join(' '));
    const calls: [number, number][] = [];
    const trained = trainTokenizer(texts, { vocabSize: 900, onProgress: (done, total) => calls.push([done, total]) });
    assert.equal(trained.size, 900);
    const merges = 900 - 260 - 27;
    assert.deepEqual(calls, [256, 512, merges].map((done) => [done, merges]));
    // Merges running out end the progress at what was done.
    const few: [number, number][] = [];
    trainTokenizer(['abab abab'], { vocabSize: 900, onProgress: (done, total) => few.push([done, total]) });
    assert.deepEqual(few, [[3, 3]]);

    const controller = new AbortController();
    controller.abort(new Error('stop'));
    assert.throws(() => trainTokenizer(CORPUS, { vocabSize: 400, signal: controller.signal }), /stop/);
  });

  it('refuses a vocabSize too small for the characters, and no texts', () => {
    assert.throws(() => trainTokenizer(CORPUS, { vocabSize: 270 }), inputError(/vocabSize 270 is too small/, /distinct characters/));
    assert.throws(() => trainTokenizer(CORPUS, { vocabSize: 100 }), inputError(/vocabSize must be an integer from 260/));
    assert.throws(() => trainTokenizer(CORPUS, { vocabSize: 300.5 }), inputError(/vocabSize/));
    assert.throws(() => trainTokenizer(['', ''], { vocabSize: 300 }), inputError(/at least one non-empty text/));
  });
});

describe('LlamaTokenizer encode/decode', () => {
  const tokenizer = trainTokenizer(CORPUS, { vocabSize: 400 });
  const text = (ids: number[]) => ids.map((id) => tokenizer.vocab.tokens[id]);

  it('round-trips text: decode(encode(x)) === x', () => {
    for (const x of [...VARIED, ...CORPUS]) assert.equal(tokenizer.decode(tokenizer.encode(x)), x, JSON.stringify(x));
  });

  it('prefixes a space and writes spaces as "▁", as add_space_prefix does; empty text is no tokens', () => {
    assert.deepEqual(text(tokenizer.encode('the lowest tower')), ['▁the', '▁lowest', '▁tower']);
    assert.deepEqual(text(tokenizer.encode(' the')), ['▁', '▁the']);
    assert.deepEqual(tokenizer.encode(''), []);
  });

  it('falls back to UTF-8 byte tokens for characters it never saw', () => {
    assert.deepEqual(text(tokenizer.encode('ß')), ['▁', '<0xC3>', '<0x9F>']);
    assert.deepEqual(text(tokenizer.encode('👋')), ['▁', '<0xF0>', '<0x9F>', '<0x91>', '<0x8B>']);
    // A lone surrogate is U+FFFD, as Node hands it to llama.cpp.
    assert.deepEqual(text(tokenizer.encode('\uD800')), ['▁', '<0xEF>', '<0xBF>', '<0xBD>']);
  });

  it('merges the highest-scoring pair first, ties to the left', () => {
    const base = Array.from({ length: 260 }, (_, id) => (id < 4 ? TRAINED_CONTROL_TOKENS[id] : `<0x${(id - 4).toString(16).toUpperCase().padStart(2, '0')}>`));
    const make = (pieces: [string, number][]) =>
      LlamaTokenizer.fromVocab({
        tokens: [...base, '▁', 'a', 'b', 'c', ...pieces.map(([p]) => p)],
        scores: [...base.map(() => 0), -9, -9, -9, -9, ...pieces.map(([, s]) => s)],
        types: [2, 3, 3, 3, ...base.slice(4).map(() => 6), 1, 1, 1, 1, ...pieces.map(() => 1)],
      });
    const tied = make([['ab', -1], ['bc', -1]]);
    assert.deepEqual(tied.encode('abc').map((id) => tied.vocab.tokens[id]), ['▁', 'ab', 'c']);
    const right = make([['ab', -2], ['bc', -1]]);
    assert.deepEqual(right.encode('abc').map((id) => right.vocab.tokens[id]), ['▁', 'a', 'bc']);
    const aaaa = make([['aa', -1]]);
    assert.deepEqual(aaaa.encode('aaa').map((id) => aaaa.vocab.tokens[id]), ['▁', 'aa', 'a']);
  });

  it('decodes as llama.cpp detokenize: control tokens print nothing, the first token loses one leading space', () => {
    const ids = tokenizer.encode('the tower');
    assert.equal(tokenizer.decode(ids), 'the tower');
    assert.equal(tokenizer.decode([tokenizer.bos, ...ids, tokenizer.sep, tokenizer.eos]), ' the tower');
    assert.equal(tokenizer.decode(ids.slice(1)), 'tower');
    // A literal "▁" in the text comes back as a space, as from llama.cpp.
    assert.equal(tokenizer.decode(tokenizer.encode('a▁b')), 'a b');
    assert.equal(tokenizer.decode([4 + 0xc3, 4 + 0xa9]), 'é');
    assert.equal(tokenizer.decode([4 + 0xc3]), '\uFFFD');
    assert.equal(tokenizer.decode([]), '');
    assert.throws(() => tokenizer.decode([1, tokenizer.size]), inputError(new RegExp(`token id ${tokenizer.size} \\(at 1\\) is outside the vocabulary`)));
  });
});

describe('LlamaTokenizer vocabulary checks and file', () => {
  const tokenizer = trainTokenizer(CORPUS, { vocabSize: 400 });
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'signweave-tokenizer-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const changed = (change: (v: TokenizerVocab) => void): TokenizerVocab => {
    const v = structuredClone(tokenizer.vocab);
    change(v);
    return v;
  };

  it('fromVocab refuses vocabularies llama.cpp would read differently', () => {
    const cases: [(v: TokenizerVocab) => void, RegExp][] = [
      [(v) => (v.tokens[300] = v.tokens[280]), /tokens\[300\] ".*" duplicates tokens\[280\]/],
      [(v) => (v.tokens[3] = '<pad>'), /tokens\[3\] is "<pad>", expected "<sep>"/],
      [(v) => (v.tokens[4 + 0x41] = '<0x61>'), /tokens\[69\] is "<0x61>", expected "<0x41>"/],
      [(v) => (v.tokens[270] = ''), /tokens\[270\] must be a non-empty string/],
      [(v) => (v.tokens[270] = 'a\uD800'), /tokens\[270\] .* is not valid Unicode/],
      [(v) => v.scores.pop(), /one entry per token \(\d+, \d+, \d+\)/],
      [(v) => (v.types[1] = 1), /types\[1\] \(token "<s>"\) is 1, expected 3/],
      [(v) => (v.types[300] = 3), /types\[300\] .* is 3, expected 1/],
      [(v) => (v.scores[300] = NaN), /scores\[300\] must be a finite number/],
      [(v) => (v.tokens = v.tokens.slice(0, 100)), /tokens, scores and types|fewer than the 260/],
    ];
    for (const [change, message] of cases) {
      assert.throws(() => LlamaTokenizer.fromVocab(changed(change)), inputError(/^tokenizer vocabulary: /, message), String(message));
    }
    assert.deepEqual(LlamaTokenizer.fromVocab(changed(() => {})).vocab, tokenizer.vocab);
  });

  it('writes and reads the tokenizer file', () => {
    const path = join(dir, 'tokenizer.json');
    tokenizer.write(path);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(json.format, TOKENIZER_FILE_FORMAT);
    const back = LlamaTokenizer.read(path);
    assert.deepEqual(back.vocab, tokenizer.vocab);
    assert.equal(back.sha256(), tokenizer.sha256());
    assert.deepEqual(back.encode(CORPUS[0]), tokenizer.encode(CORPUS[0]));
  });

  it('read names the file and the problem', () => {
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const valid = JSON.parse(JSON.stringify({ format: TOKENIZER_FILE_FORMAT, ...tokenizer.vocab }));
    assert.throws(() => LlamaTokenizer.read(join(dir, 'missing.json')), inputError(/cannot read tokenizer .*missing\.json: no such file/));
    assert.throws(() => LlamaTokenizer.read(write('bad.json', '{"format":')), inputError(/tokenizer .*bad\.json is not valid JSON/));
    assert.throws(() => LlamaTokenizer.read(write('array.json', '[]')), inputError(/array\.json: "format" must be "signweave-tokenizer\/1"/));
    assert.throws(() => LlamaTokenizer.read(write('old.json', JSON.stringify({ ...valid, format: 'x/0' }))), inputError(/old\.json: "format" must be/));
    assert.throws(() => LlamaTokenizer.read(write('notokens.json', JSON.stringify({ ...valid, tokens: undefined }))), inputError(/notokens\.json: tokenizer vocabulary: tokens must be an array/));
    const dup = { ...valid, tokens: [...valid.tokens] };
    dup.tokens[301] = dup.tokens[300];
    assert.throws(() => LlamaTokenizer.read(write('dup.json', JSON.stringify(dup))), inputError(/dup\.json: tokenizer vocabulary: tokens\[301\] .* duplicates tokens\[300\]/));
  });

  it('ggufMetadata describes a llama (SPM) tokenizer without automatic BOS/EOS, and encodes as GGUF', () => {
    const entries = new Map(tokenizer.ggufMetadata().map((e) => [e.key, e]));
    assert.equal(entries.get('tokenizer.ggml.model')?.value, 'llama');
    assert.deepEqual(entries.get('tokenizer.ggml.tokens')?.value, tokenizer.vocab.tokens);
    assert.equal(entries.get('tokenizer.ggml.scores')?.type, 'float32[]');
    assert.deepEqual(Array.from(entries.get('tokenizer.ggml.scores')?.value as ArrayLike<number>), tokenizer.vocab.scores);
    assert.deepEqual(entries.get('tokenizer.ggml.token_type')?.value, tokenizer.vocab.types);
    for (const [key, value] of [['bos_token_id', 1], ['eos_token_id', 2], ['unknown_token_id', 0], ['add_bos_token', false], ['add_eos_token', false], ['add_space_prefix', true]] as const) {
      assert.equal(entries.get(`tokenizer.ggml.${key}`)?.value, value, key);
    }
    assert.ok(encodeGguf({ metadata: tokenizer.ggufMetadata(), tensors: [] }).length > 400 * 8);
  });
});
