import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  chatHistory,
  completionPrompt,
  DEFAULT_DECODER_FEW_SHOT,
  DEFAULT_DECODER_INSTRUCTION,
  normaliseGloss,
  PROMPT_TEMPLATE_VERSION,
  readFewShotFile,
  resolvePrompt,
} from '../../src/decoder/prompt.js';
import { inputError } from '../helpers/assert.js';

const PAIRS = [
  { gloss: 'STORE I GO', english: 'I am going to the store.' },
  { gloss: 'NAME WHAT', english: 'What is the name?' },
];

describe('decoder prompt: versions and layouts', () => {
  it('the default prompt is gloss2en-v1 with its own instruction and 3–4 pairs', () => {
    const p = resolvePrompt();
    assert.equal(PROMPT_TEMPLATE_VERSION, 'gloss2en-v1');
    assert.equal(p.version, 'gloss2en-v1');
    assert.equal(p.instruction, DEFAULT_DECODER_INSTRUCTION);
    assert.match(p.instruction, /upper-case/);
    assert.match(p.instruction, /one natural English sentence/);
    assert.deepEqual(p.fewShot, DEFAULT_DECODER_FEW_SHOT);
    assert.ok(DEFAULT_DECODER_FEW_SHOT.length >= 3 && DEFAULT_DECODER_FEW_SHOT.length <= 4);
    for (const pair of DEFAULT_DECODER_FEW_SHOT) {
      assert.match(pair.gloss, /^[A-Z][A-Z' -]*$/);
      assert.match(pair.english, /^[A-Z].*[.?!]$/);
    }
    // Giving the defaults explicitly is still the default prompt.
    assert.equal(resolvePrompt({ instruction: DEFAULT_DECODER_INSTRUCTION, fewShot: DEFAULT_DECODER_FEW_SHOT }).version, 'gloss2en-v1');
  });

  it('a custom instruction or custom pairs give gloss2en-v1+<16 hex>, one per content', () => {
    const a = resolvePrompt({ instruction: 'Translate.' }).version;
    const b = resolvePrompt({ fewShot: PAIRS }).version;
    const c = resolvePrompt({ instruction: 'Translate.', fewShot: PAIRS }).version;
    const zero = resolvePrompt({ fewShot: [] }).version;
    for (const v of [a, b, c, zero]) assert.match(v, /^gloss2en-v1\+[0-9a-f]{16}$/);
    assert.equal(new Set([a, b, c, zero]).size, 4);
    assert.equal(resolvePrompt({ instruction: ' Translate. ' }).version, a);
    assert.equal(resolvePrompt({ fewShot: PAIRS.map((p) => ({ gloss: ` ${p.gloss}  `, english: p.english })) }).version, b);
  });

  it('completion layout: instruction, blank line, Gloss/English pairs, then the open English: line', () => {
    const p = resolvePrompt({ instruction: 'Translate ASL gloss.', fewShot: PAIRS });
    assert.equal(
      completionPrompt(p, 'YOU HUNGRY'),
      'Translate ASL gloss.\n\nGloss: STORE I GO\nEnglish: I am going to the store.\n\nGloss: NAME WHAT\nEnglish: What is the name?\n\nGloss: YOU HUNGRY\nEnglish:',
    );
    assert.equal(completionPrompt(resolvePrompt({ instruction: 'T.', fewShot: [] }), 'X'), 'T.\n\nGloss: X\nEnglish:');
  });

  it('chat layout: the instruction as system, pairs as user/model turns, the gloss last with an empty model turn', () => {
    const p = resolvePrompt({ instruction: 'Translate ASL gloss.', fewShot: PAIRS });
    assert.deepEqual(chatHistory(p, 'YOU HUNGRY'), [
      { type: 'system', text: 'Translate ASL gloss.' },
      { type: 'user', text: 'STORE I GO' },
      { type: 'model', response: ['I am going to the store.'] },
      { type: 'user', text: 'NAME WHAT' },
      { type: 'model', response: ['What is the name?'] },
      { type: 'user', text: 'YOU HUNGRY' },
      { type: 'model', response: [] },
    ]);
  });

  it('glosses and pairs are NFC, trimmed, one space between words (newlines cannot break the layout)', () => {
    assert.equal(normaliseGloss('  I \n\t GO\u00a0HOME '), 'I GO HOME');
    assert.equal(normaliseGloss('CAFE\u0301'), 'CAFÉ');
    assert.deepEqual(resolvePrompt({ fewShot: [{ gloss: 'A\nB', english: ' Line\none. ' }] }).fewShot, [{ gloss: 'A B', english: 'Line one.' }]);
  });

  it('bad instruction or pairs are input errors naming the option', () => {
    assert.throws(() => resolvePrompt({ instruction: '  ' }), inputError(/^prompt\.instruction must be a non-empty string, got " {2}"$/));
    assert.throws(() => resolvePrompt({ fewShot: [{ gloss: 'A', english: '' }] }), inputError(/^prompt\.fewShot\[0\]: "english" must be a non-empty string, got ""$/));
    assert.throws(
      () => resolvePrompt({ fewShot: [PAIRS[0], { gloss: 5, english: 'x' } as unknown as (typeof PAIRS)[0]] }),
      inputError(/^prompt\.fewShot\[1\]: "gloss" must be a non-empty string, got 5$/),
    );
    assert.throws(() => resolvePrompt({ fewShot: {} as unknown as [] }), inputError(/prompt\.fewShot must be an array/));
  });
});

describe('readFewShotFile: JSONL or TSV, errors with file:line', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'signweave-fewshot-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads JSONL pairs, skipping blank lines (CRLF, BOM)', () => {
    const path = file('pairs.jsonl', '\ufeff{"gloss": "STORE I GO", "english": "I am going to the store."}\r\n\r\n{"english": "What is the name?", "gloss": "NAME  WHAT", "note": 1}\r\n');
    assert.deepEqual(readFewShotFile(path), PAIRS);
    assert.equal(resolvePrompt({ fewShot: path }).version, resolvePrompt({ fewShot: PAIRS }).version);
  });

  it('reads TSV pairs', () => {
    assert.deepEqual(readFewShotFile(file('pairs.tsv', 'STORE I GO\tI am going to the store.\n\nNAME WHAT\tWhat is the name?')), PAIRS);
  });

  it('JSONL errors name the file and line', () => {
    const bad = (name: string, text: string, pattern: RegExp) => {
      const path = file(name, text);
      assert.throws(() => readFewShotFile(path), inputError(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${pattern.source}`)));
    };
    bad('a.jsonl', '{"gloss": "A", "english": "B"}\n{"gloss": "A", ', /:2: not valid JSON \(/);
    bad('b.jsonl', '{"gloss": "A", "english": "B"}\n\n["A", "B"]\n', /:3: expected an object \{"gloss": …, "english": …\}$/);
    bad('c.jsonl', '{"gloss": "A"}\n', /:1: "english" must be a non-empty string, got undefined$/);
    bad('d.jsonl', '{"gloss": "", "english": "B"}\n', /:1: "gloss" must be a non-empty string, got ""$/);
    bad('e.jsonl', '{"gloss": "A", "english": "B"}\nA\tB\n', /:2: not valid JSON/);
  });

  it('TSV errors name the file and line', () => {
    const a = file('a.tsv', 'A\tB\nC D only\n');
    assert.throws(() => readFewShotFile(a), inputError(new RegExp(`${a}:2: expected gloss<TAB>english, found 1 tab-separated field$`)));
    const b = file('b.tsv', 'A\tB\tC\n');
    assert.throws(() => readFewShotFile(b), inputError(new RegExp(`${b}:1: expected gloss<TAB>english, found 3 tab-separated fields$`)));
    const c = file('c.tsv', 'A\t \n');
    assert.throws(() => readFewShotFile(c), inputError(new RegExp(`${c}:1: "english" must be a non-empty string`)));
  });

  it('empty, missing and non-UTF-8 files are input errors naming them', () => {
    const empty = file('empty.tsv', '\n \n');
    assert.throws(() => readFewShotFile(empty), inputError(new RegExp(`^${empty}: no few-shot pairs \\(the file is empty\\)$`)));
    const missing = join(dir, 'missing.jsonl');
    assert.throws(() => readFewShotFile(missing), inputError(new RegExp(`cannot read ${missing}: no such file`)));
    const latin1 = file('latin1.tsv', Buffer.from('A\tB\nCAF\xc9\tcafe\n', 'latin1'));
    assert.throws(() => readFewShotFile(latin1), inputError(/latin1\.tsv is not valid UTF-8 \(at line 2\)/));
    assert.throws(() => resolvePrompt({ fewShot: missing }), inputError(/no such file/));
  });
});
