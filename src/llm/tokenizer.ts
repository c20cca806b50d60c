/**
 * The tokenizer of the decoder trained here: SentencePiece-style BPE pieces with byte fallback, stored in the GGUF as
 * llama.cpp's "llama" (SPM) tokenizer, so that llama.cpp and signweave split text into exactly the same ids.
 *
 * Vocabulary layout (fixed, checked by `fromVocab`): the control tokens `<unk>`, `<s>`, `</s>`, `<sep>` (ids 0–3),
 * the 256 byte tokens `<0x00>`…`<0xFF>` (ids 4–259), every character of the training texts, then the learned pieces.
 * Spaces are written "▁" and every text gets a leading "▁" (llama.cpp's add_space_prefix).
 *
 * `encode` follows llama.cpp's `llm_tokenizer_spm_session` (llama-vocab.cpp): the text's characters are symbols;
 * repeatedly the adjacent pair whose concatenation is a token with the highest score is merged (ties: leftmost);
 * each final symbol is its token, or its UTF-8 bytes as byte tokens. Merges learned earlier get higher scores, so
 * encoding replays training's order.
 */
import { createHash } from 'node:crypto';
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { canonicalJson } from '../util/canonical-json.js';
import { readJsonFile } from '../util/text-files.js';
import type { GgufMetadataEntry } from './gguf.js';
import { TRAINED_CONTROL_TOKENS } from './trained-format.js';

export const TOKENIZER_FILE_FORMAT = 'signweave-tokenizer/1';

/** GGUF `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export interface TokenizerVocab {
  tokens: string[];
  scores: number[];
  /** GGUF token_type: 1 normal, 2 unknown, 3 control, 6 byte. */
  types: number[];
}

export interface TrainTokenizerOptions {
  /** The vocabulary size to reach (control and byte tokens and characters included); fewer when merges run out. */
  vocabSize: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const SPACE = '▁';
const BYTE_BASE = TRAINED_CONTROL_TOKENS.length;
const BASE_SIZE = BYTE_BASE + 256;
/** Pairs are Map keys `left * PAIR_SHIFT + right`, exact in a double for ids below 2^21. */
const PAIR_SHIFT = 2 ** 21;
const MAX_VOCAB_SIZE = PAIR_SHIFT;
/** A pair seen once is memorisation, not a piece. */
const MIN_PAIR_COUNT = 2;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const byteToken = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** Lone surrogates become U+FFFD, as Node does when it hands a string to llama.cpp as UTF-8. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** llama.cpp's SPM preprocessing: a space prefix, then every U+0020 as "▁". */
function escapeSpaces(text: string): string {
  return SPACE + wellFormed(text).replaceAll(' ', SPACE);
}

/** UTF-16 length of the code point starting at `i`. */
function codePointLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? 2 : 1;
}

/** A binary heap; `before(a, b)` says whether a comes out first. */
class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    let i = a.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, a[parent])) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const child = l + 1 < a.length && this.before(a[l + 1], a[l]) ? l + 1 : l;
      if (!this.before(a[child], last)) break;
      a[i] = a[child];
      i = child;
    }
    a[i] = last;
    return top;
  }
}

export class LlamaTokenizer {
  readonly unk = 0;
  readonly bos = 1;
  readonly eos = 2;
  readonly sep = 3;
  readonly size: number;
  /** Scores as llama.cpp holds them (float32), so ties and order are the same. */
  private readonly scores: Float32Array;
  private readonly ids = new Map<string, number>();
  private readonly pieces: Uint8Array[];

  private constructor(readonly vocab: TokenizerVocab) {
    this.size = vocab.tokens.length;
    this.scores = Float32Array.from(vocab.scores);
    vocab.tokens.forEach((t, id) => this.ids.set(t, id));
    // What llama.cpp's token_to_piece (special = false) gives: normal text with "▁" as space, the byte, or nothing.
    this.pieces = vocab.tokens.map((t, id) => {
      const type = vocab.types[id];
      if (type === TOKEN_TYPE.normal) return utf8Encoder.encode(t.replaceAll(SPACE, ' '));
      if (type === TOKEN_TYPE.byte) return Uint8Array.of(id - BYTE_BASE);
      return new Uint8Array(0);
    });
  }

  /** A tokenizer over a vocabulary in the fixed layout; anything else is a SignweaveInputError naming the entry. */
  static fromVocab(vocab: TokenizerVocab): LlamaTokenizer {
    const { tokens, scores, types } = vocab;
    const fail = (message: string): never => {
      throw new SignweaveInputError(`tokenizer vocabulary: ${message}`);
    };
    for (const field of ['tokens', 'scores', 'types'] as const) {
      if (!Array.isArray(vocab[field])) fail(`${field} must be an array`);
    }
    if (scores.length !== tokens.length || types.length !== tokens.length) {
      fail(`tokens, scores and types must have one entry per token (${tokens.length}, ${scores.length}, ${types.length})`);
    }
    if (tokens.length < BASE_SIZE) fail(`${tokens.length} tokens, fewer than the ${BASE_SIZE} control and byte tokens`);
    if (tokens.length > MAX_VOCAB_SIZE) fail(`${tokens.length} tokens, more than ${MAX_VOCAB_SIZE}`);
    const seen = new Map<string, number>();
    tokens.forEach((token, id) => {
      const expected = id < BYTE_BASE ? TRAINED_CONTROL_TOKENS[id] : id < BASE_SIZE ? byteToken(id - BYTE_BASE) : undefined;
      const expectedType = id === 0 ? TOKEN_TYPE.unknown : id < BYTE_BASE ? TOKEN_TYPE.control : id < BASE_SIZE ? TOKEN_TYPE.byte : TOKEN_TYPE.normal;
      if (typeof token !== 'string' || token === '') fail(`tokens[${id}] must be a non-empty string`);
      if (expected !== undefined && token !== expected) fail(`tokens[${id}] is ${JSON.stringify(token)}, expected ${JSON.stringify(expected)}`);
      if (token !== wellFormed(token)) fail(`tokens[${id}] ${JSON.stringify(token)} is not valid Unicode`);
      const first = seen.get(token);
      if (first !== undefined) fail(`tokens[${id}] ${JSON.stringify(token)} duplicates tokens[${first}]`);
      seen.set(token, id);
      if (types[id] !== expectedType) fail(`types[${id}] (token ${JSON.stringify(token)}) is ${JSON.stringify(types[id])}, expected ${expectedType}`);
      if (typeof scores[id] !== 'number' || !Number.isFinite(scores[id])) fail(`scores[${id}] must be a finite number`);
    });
    return new LlamaTokenizer({ tokens: [...tokens], scores: [...scores], types: [...types] });
  }

  /** Reads a `signweave-tokenizer/1` JSON file; unreadable or invalid content is an input error naming the file. */
  static read(path: string): LlamaTokenizer {
    const json = readJsonFile(path, 'tokenizer').data;
    const record = (json ?? {}) as Partial<TokenizerVocab> & { format?: unknown };
    if (typeof json !== 'object' || Array.isArray(json) || record.format !== TOKENIZER_FILE_FORMAT) {
      throw new SignweaveInputError(`tokenizer ${path}: "format" must be ${JSON.stringify(TOKENIZER_FILE_FORMAT)}`);
    }
    try {
      return LlamaTokenizer.fromVocab({ tokens: record.tokens!, scores: record.scores!, types: record.types! });
    } catch (err) {
      if (err instanceof SignweaveInputError) throw new SignweaveInputError(`tokenizer ${path}: ${err.message}`);
      throw err;
    }
  }

  /** Writes the vocabulary as a `signweave-tokenizer/1` JSON file, atomically. */
  write(path: string): void {
    writeFileAtomic(path, `${JSON.stringify({ format: TOKENIZER_FILE_FORMAT, ...this.vocab })}\n`);
  }

  /** The ids llama.cpp's `tokenize(text, add_special = false, parse_special = false)` gives for this vocabulary. */
  encode(text: string): number[] {
    if (text === '') return [];
    const s = escapeSpaces(text);
    // The symbols: a doubly linked list over the text's code points; a merged-away symbol has length 0.
    const start: number[] = [];
    const length: number[] = [];
    for (let i = 0; i < s.length; i += length[length.length - 1]) {
      start.push(i);
      length.push(codePointLength(s, i));
    }
    const n = start.length;
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));

    interface Bigram {
      left: number;
      right: number;
      score: number;
      size: number;
    }
    const queue = new Heap<Bigram>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
    const tryAdd = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const size = length[left] + length[right];
      const id = this.ids.get(s.substr(start[left], size));
      if (id !== undefined) queue.push({ left, right, score: this.scores[id], size });
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    while (queue.size > 0) {
      const { left, right, size } = queue.pop()!;
      // Stale: one side was merged since this pair was queued.
      if (length[left] === 0 || length[right] === 0 || length[left] + length[right] !== size) continue;
      length[left] = size;
      length[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      tryAdd(prev[left], left);
      tryAdd(left, next[left]);
    }

    // Every merged symbol is a token; a single character outside the vocabulary falls back to its UTF-8 bytes
    // (llama.cpp's resegment would also split a non-token through its recorded merges, which only applies to
    // symbols longer than one character, and those are always tokens).
    const out: number[] = [];
    for (let i = 0; i !== -1; i = next[i]) {
      const piece = s.substr(start[i], length[i]);
      const id = this.ids.get(piece);
      if (id !== undefined) out.push(id);
      else for (const byte of utf8Encoder.encode(piece)) out.push(BYTE_BASE + byte);
    }
    return out;
  }

  /**
   * The text llama.cpp's `detokenize(ids, remove_special = false, unparse_special = false)` gives: control and
   * unknown tokens print nothing, bytes are reassembled into UTF-8, and the first token loses one leading space
   * (the one add_space_prefix put there).
   */
  decode(ids: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new SignweaveInputError(`token id ${id} (at ${i}) is outside the vocabulary of ${this.size} tokens`);
      }
      let piece = this.pieces[id];
      if (i === 0 && piece[0] === 0x20) piece = piece.subarray(1);
      parts.push(piece);
      bytes += piece.length;
    });
    const all = new Uint8Array(bytes);
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return utf8Decoder.decode(all);
  }

  /** The `tokenizer.ggml.*` keys that make llama.cpp load this vocabulary as its "llama" (SPM) tokenizer. */
  ggufMetadata(): GgufMetadataEntry[] {
    return [
      { key: 'tokenizer.ggml.model', type: 'string', value: 'llama' },
      { key: 'tokenizer.ggml.tokens', type: 'string[]', value: this.vocab.tokens },
      { key: 'tokenizer.ggml.scores', type: 'float32[]', value: this.scores },
      { key: 'tokenizer.ggml.token_type', type: 'int32[]', value: this.vocab.types },
      { key: 'tokenizer.ggml.bos_token_id', type: 'uint32', value: this.bos },
      { key: 'tokenizer.ggml.eos_token_id', type: 'uint32', value: this.eos },
      { key: 'tokenizer.ggml.unknown_token_id', type: 'uint32', value: this.unk },
      { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: false },
      { key: 'tokenizer.ggml.add_eos_token', type: 'bool', value: false },
      { key: 'tokenizer.ggml.add_space_prefix', type: 'bool', value: true },
    ];
  }

  /** sha256 of the vocabulary in canonical JSON (scores as float32), for provenance. */
  sha256(): string {
    const { tokens, types } = this.vocab;
    return createHash('sha256')
      .update(canonicalJson({ tokens, scores: Array.from(this.scores), types }))
      .digest('hex');
  }
}

/**
 * Trains SentencePiece-style BPE: texts are split into words at spaces (each word keeps its leading "▁", so no piece
 * spans two words), and the most frequent adjacent pair over all words is merged until `vocabSize` tokens exist or no
 * pair occurs twice. Ties go to the pair of lower symbol ids (characters by frequency, then pieces in merge order), so
 * training is deterministic. Pair counts are kept per distinct word and updated only for the words a merge touches.
 */
export function trainTokenizer(texts: readonly string[], options: TrainTokenizerOptions): LlamaTokenizer {
  const { vocabSize, onProgress, signal } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < BASE_SIZE || vocabSize > MAX_VOCAB_SIZE) {
    throw new SignweaveInputError(`vocabSize must be an integer from ${BASE_SIZE} to ${MAX_VOCAB_SIZE}, got ${vocabSize}`);
  }
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    if (text === '') continue;
    for (const [word] of escapeSpaces(text).matchAll(/▁?[^▁]+|▁/g)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  if (wordCounts.size === 0) throw new SignweaveInputError('the tokenizer needs at least one non-empty text to train on');

  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) for (const c of word) charCounts.set(c, (charCounts.get(c) ?? 0) + count);
  const chars = [...charCounts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).map(([c]) => c);
  if (BASE_SIZE + chars.length > vocabSize) {
    throw new SignweaveInputError(
      `vocabSize ${vocabSize} is too small: the texts have ${chars.length} distinct characters, which with the ${BASE_SIZE} control and byte tokens need ${BASE_SIZE + chars.length}`,
    );
  }

  // Symbols: the characters, then the merged pieces. Control and byte token texts may never become pieces.
  const symbols = [...chars];
  const symbolOf = new Map(symbols.map((s, i) => [s, i]));
  const reserved = new Set<string>([...TRAINED_CONTROL_TOKENS, ...Array.from({ length: 256 }, (_, b) => byteToken(b))]);
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(word, (c) => symbolOf.get(c)!));
    freq.push(count);
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const changed = new Set<number>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const word = words[w];
    for (let i = 1; i < word.length; i++) {
      const key = word[i - 1] * PAIR_SHIFT + word[i];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  words.forEach((_, w) => addPairs(w, 1));

  // Lazy heap: an entry whose count no longer matches pairCount is stale and skipped.
  const heap = new Heap<[count: number, key: number]>((a, b) => a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]));
  const flushChanged = () => {
    for (const key of changed) {
      const count = pairCount.get(key)!;
      if (count >= MIN_PAIR_COUNT) heap.push([count, key]);
      else if (count <= 0) pairCount.delete(key);
    }
    changed.clear();
  };
  flushChanged();

  const merges: string[] = [];
  const total = vocabSize - BASE_SIZE - chars.length;
  while (merges.length < total) {
    signal?.throwIfAborted();
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    if (pairCount.get(key) !== count) continue;
    const left = Math.floor(key / PAIR_SHIFT);
    const right = key % PAIR_SHIFT;
    const text = symbols[left] + symbols[right];
    if (reserved.has(text)) continue;
    // Two pairs can spell the same piece ("ab"+"c", "a"+"bc"): the second merge reuses the first's symbol.
    let merged = symbolOf.get(text);
    if (merged === undefined) {
      merged = symbols.push(text) - 1;
      symbolOf.set(text, merged);
      merges.push(text);
      if (onProgress && (merges.length % 256 === 0 || merges.length === total)) onProgress(merges.length, total);
    }
    for (const w of pairWords.get(key)!) {
      const word = words[w];
      let found = false;
      for (let i = 1; i < word.length && !found; i++) found = word[i - 1] === left && word[i] === right;
      if (!found) continue;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(word[i]);
      }
      words[w] = out;
      addPairs(w, 1);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    changed.delete(key);
    flushChanged();
  }
  if (onProgress && merges.length < total) onProgress(merges.length, merges.length);

  // Scores: merges in rank order (−1, −2, …), then the characters below them (they never compete with merges in
  // llama.cpp's SPM, a bigram being at least two characters); control and byte tokens 0, as SentencePiece has them.
  const bytes = Array.from({ length: 256 }, (_, b) => byteToken(b));
  const tokens = [...TRAINED_CONTROL_TOKENS, ...bytes, ...chars, ...merges];
  const scores = [
    ...tokens.slice(0, BASE_SIZE).map(() => 0),
    ...chars.map((_, i) => -(merges.length + 1 + i)),
    ...merges.map((_, rank) => -(rank + 1)),
  ];
  const types = [
    TOKEN_TYPE.unknown,
    ...TRAINED_CONTROL_TOKENS.slice(1).map(() => TOKEN_TYPE.control),
    ...bytes.map(() => TOKEN_TYPE.byte),
    ...[...chars, ...merges].map(() => TOKEN_TYPE.normal),
  ];
  return LlamaTokenizer.fromVocab({ tokens, scores, types });
}
