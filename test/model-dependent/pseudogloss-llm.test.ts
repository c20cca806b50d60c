// Slow: runs the real 260K-parameter stories260K GGUF through llama.cpp (about 10 s on 2 cores). It checks the
// mechanics (grammar, validation, fallback, cache, abort), not gloss quality: the model only knows children's stories.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GeneralChatWrapper } from 'node-llama-cpp';
import {
  checkGlossAnswer,
  DEFAULT_FEW_SHOT,
  LLM_GLOSSER_VERSION,
  LlmGlosser,
  PROMPT_VERSION,
  type GlossProgress,
  type LlmGlosserOptions,
} from '../../pseudogloss/llm.js';
import { RuleGlosser } from '../../pseudogloss/rules.js';
import { SignweaveInputError } from '../../src/errors.js';
import { getLlamaRuntime, type LlamaRuntime } from '../../src/llm/runtime.js';
import { sharedPath } from '../helpers/shared.js';

const modelPath = sharedPath('models', 'stories260K', 'stories260K.gguf');
const modelSha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex');

const SENTENCES = [
  'I am going to the library tomorrow.',
  'Where do you live?',
  'My sister bought a new car last week.',
  'The children  played in the park.',
];

describe('checkGlossAnswer (the validation every model answer goes through)', () => {
  const sentence = 'I am going to the store tomorrow.';

  it('accepts upper-case gloss words, trimmed', () => {
    assert.deepEqual(checkGlossAnswer('{"gloss": [" TOMORROW", "STORE ", "I", "GO"]}', sentence), {
      ok: true,
      tokens: ['TOMORROW', 'STORE', 'I', 'GO'],
    });
    assert.deepEqual(checkGlossAnswer(`{"gloss":["DON'T","FS-JOHN","2"]}`, sentence), { ok: true, tokens: ["DON'T", 'FS-JOHN', '2'] });
  });

  it('names why an answer is rejected', () => {
    const reason = (text: string, truncated = false) => {
      const r = checkGlossAnswer(text, sentence, { truncated });
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(reason('{"gloss": ["TOMORROW", "STO'), 'invalid-json');
    assert.equal(reason('{"gloss": ["TOMORROW", "STO', true), 'truncated');
    assert.equal(reason('{"gloss": []}'), 'schema');
    assert.equal(reason('{"gloss": ["GO"], "note": "x"}'), 'schema');
    assert.equal(reason('{"gloss": [1]}'), 'schema');
    assert.equal(reason('["GO"]'), 'schema');
    assert.equal(reason('{"gloss": ["go"]}'), 'token-format');
    assert.equal(reason('{"gloss": ["GO STORE"]}'), 'token-format');
    assert.equal(reason('{"gloss": ["GO."]}'), 'token-format');
    assert.equal(reason('{"gloss": ["   "]}'), 'token-format');
    // 7 words: at most 16 tokens.
    assert.equal(reason(JSON.stringify({ gloss: Array(16).fill('GO') })), 'ok');
    assert.equal(reason(JSON.stringify({ gloss: Array(17).fill('GO') })), 'too-long');
    assert.equal(checkGlossAnswer(JSON.stringify({ gloss: Array(17).fill('GO') }), sentence, { maxGlossTokens: 8 }).ok, false);
  });
});

describe('LlmGlosser with stories260K', () => {
  let runtime: LlamaRuntime;
  let rules: RuleGlosser;
  let dir: string;
  let cacheDir: string;
  const options = (extra: Partial<LlmGlosserOptions> = {}): LlmGlosserOptions => ({
    modelPath,
    fallback: rules,
    runtime,
    cacheDir,
    threads: 1,
    // The prompt is ~560 tokens in this model's 512-piece vocabulary; 1024 leaves room for maxTokens (128).
    contextSize: 1024,
    onWarning: () => assert.fail('unexpected cache warning'),
    ...extra,
  });
  const ruleTokens = async (sentences: string[]) => Promise.all(sentences.map(async (s) => (await rules.gloss(s)).tokens));

  before(async () => {
    runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
    rules = new RuleGlosser();
    dir = mkdtempSync(join(tmpdir(), 'signweave-pseudogloss-llm-'));
    cacheDir = join(dir, 'cache');
  });
  after(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let firstRun: Awaited<ReturnType<LlmGlosser['glossMany']>>;

  it('grammar-constrained JSON parses and passes the schema, but the words are not gloss: every sentence falls back, counted', async () => {
    const glosser = await LlmGlosser.create(options());
    const progress: GlossProgress[] = [];
    firstRun = await glosser.glossMany(SENTENCES, { onProgress: (p) => progress.push(p) });
    // stories260K answers e.g. {"gloss": [" said the mattop. "]}: valid JSON in the schema (else the reason would be
    // invalid-json or schema), rejected for its token format.
    assert.deepEqual(glosser.stats(), { generated: 4, cached: 0, fallbacks: 4, invalidReasons: { 'token-format': 4 } });
    assert.deepEqual(
      firstRun.map((g) => g.tokens),
      await ruleTokens(SENTENCES.map((s) => s.replace(/\s+/g, ' '))),
    );
    for (const g of firstRun) {
      assert.deepEqual(g.provenance, {
        glosser: 'llm',
        version: LLM_GLOSSER_VERSION,
        model: { path: resolve(modelPath), sha256: modelSha256 },
        promptVersion: PROMPT_VERSION,
        fallback: true,
      });
    }
    assert.deepEqual(progress.at(-1), { done: 4, total: 4, cached: 0, fallbacks: 4 });
    assert.deepEqual(
      progress.map((p) => p.done),
      [1, 2, 3, 4],
    );
    const info = glosser.cacheInfo();
    assert.equal(info.file, join(cacheDir, `${modelSha256}.${PROMPT_VERSION}.jsonl`));
    assert.equal(readFileSync(info.file!, 'utf8').trimEnd().split('\n').length, 4);
    await glosser.dispose();
  });

  it('a second run is served from the cache: no generation, same answers and provenance', async () => {
    const glosser = await LlmGlosser.create(options());
    assert.equal(glosser.cacheInfo().loaded, 4);
    const progress: GlossProgress[] = [];
    const again = await glosser.glossMany(
      SENTENCES.map((s) => ` ${s} `),
      { onProgress: (p) => progress.push(p) },
    );
    assert.deepEqual(again, firstRun);
    assert.deepEqual(glosser.stats(), { generated: 0, cached: 4, fallbacks: 0, invalidReasons: {} });
    assert.deepEqual(progress.at(-1), { done: 4, total: 4, cached: 4, fallbacks: 0 });
    await glosser.dispose();
  });

  it('changed settings or a changed prompt miss the cache', async () => {
    const longer = await LlmGlosser.create(options({ maxTokens: 100 }));
    assert.equal(longer.cacheInfo().loaded, 0);
    await longer.gloss(SENTENCES[1]);
    assert.equal(longer.stats().generated, 1);
    await longer.dispose();

    const fewShot = [{ english: 'Are you deaf?', gloss: ['YOU', 'DEAF', 'YOU'] }, ...DEFAULT_FEW_SHOT];
    const reprompted = await LlmGlosser.create(options({ fewShot }));
    assert.match(reprompted.promptVersion, new RegExp(`^${PROMPT_VERSION}\\+fewshot-[0-9a-f]{16}$`));
    assert.notEqual(reprompted.cacheInfo().file, join(cacheDir, `${modelSha256}.${PROMPT_VERSION}.jsonl`));
    assert.equal(reprompted.cacheInfo().loaded, 0);
    const g = await reprompted.gloss(SENTENCES[1]);
    assert.equal(g.provenance.promptVersion, reprompted.promptVersion);
    assert.equal(reprompted.stats().generated, 1);
    await reprompted.dispose();

    // The original settings still find their answers beside the others in the same file.
    const original = await LlmGlosser.create(options());
    assert.equal(original.cacheInfo().loaded, 4);
    await original.dispose();
  });

  it('a torn last cache line is reported and skipped, and the next answer starts on a fresh line', async () => {
    const file = join(cacheDir, `${modelSha256}.${PROMPT_VERSION}.jsonl`);
    appendFileSync(file, '{"s":"0123456789abcdef","sentence":"Half a li');
    const warnings: string[] = [];
    const glosser = await LlmGlosser.create(options({ onWarning: (m) => warnings.push(m) }));
    assert.deepEqual(glosser.cacheInfo(), { file, loaded: 4, unreadableLines: 1 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /jsonl:\d+: torn last line \(interrupted write\), skipped$/);

    await glosser.gloss('The dog is sleeping.');
    await glosser.dispose();
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.match(lines.at(-3)!, /"Half a li$/);
    assert.match(lines.at(-2)!, /"sentence":"The dog is sleeping\."/);

    const reread: string[] = [];
    const next = await LlmGlosser.create(options({ onWarning: (m) => reread.push(m) }));
    assert.deepEqual(next.cacheInfo(), { file, loaded: 5, unreadableLines: 1 });
    assert.match(reread[0], /unreadable line, skipped$/);
    await next.gloss('The dog is sleeping.');
    assert.deepEqual(next.stats(), { generated: 0, cached: 1, fallbacks: 0, invalidReasons: {} });
    await next.dispose();
  });

  it('an answer cut off by maxTokens cannot parse: the fallback answers, counted as truncated', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null, maxTokens: 3 }));
    const out = await glosser.glossMany(SENTENCES.slice(0, 2));
    assert.deepEqual(glosser.stats(), { generated: 2, cached: 0, fallbacks: 2, invalidReasons: { truncated: 2 } });
    assert.deepEqual(
      out.map((g) => g.tokens),
      await ruleTokens(SENTENCES.slice(0, 2)),
    );
    assert.ok(out.every((g) => g.provenance.fallback === true));
    await glosser.dispose();
  });

  it('a prompt that does not fit the context is not cut: the fallback answers', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null, contextSize: 512 }));
    await glosser.gloss(SENTENCES[0]);
    assert.deepEqual(glosser.stats(), { generated: 1, cached: 0, fallbacks: 1, invalidReasons: { 'prompt-too-long': 1 } });
    await glosser.dispose();
  });

  it('a chat format (GeneralChatWrapper forced on this template-less model) goes through the same grammar and checks', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null, chatWrapper: new GeneralChatWrapper() }));
    const out = await glosser.glossMany(SENTENCES.slice(0, 2));
    assert.deepEqual(glosser.stats(), { generated: 2, cached: 0, fallbacks: 2, invalidReasons: { 'token-format': 2 } });
    assert.ok(out.every((g) => g.provenance.fallback === true));
    await glosser.dispose();
  });

  it('the same sentence asked twice at once is generated once', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null }));
    const [a, b] = await Promise.all([glosser.gloss('Where is the bus?'), glosser.gloss('Where  is the bus? ')]);
    assert.deepEqual(a, b);
    assert.deepEqual(glosser.stats(), { generated: 1, cached: 1, fallbacks: 1, invalidReasons: { 'token-format': 1 } });
    await glosser.dispose();
  });

  it('glossMany stops at an abort: before the next sentence, and at once when already aborted', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null }));
    const controller = new AbortController();
    const reason = new Error('stop here');
    const seen: number[] = [];
    await assert.rejects(
      glosser.glossMany(SENTENCES, {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.done);
          if (p.done === 2) controller.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.deepEqual(seen, [1, 2]);
    assert.equal(glosser.stats().generated, 2);

    await assert.rejects(glosser.glossMany(['Never glossed.'], { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(glosser.stats().generated, 2);
    await glosser.dispose();
  });

  it('dispose releases the glosser only: the shared model stays loaded', async () => {
    const glosser = await LlmGlosser.create(options({ cacheDir: null }));
    await glosser.gloss(SENTENCES[0]);
    await glosser.dispose();
    await assert.rejects(glosser.gloss(SENTENCES[0]), /after dispose/);
    const model = await runtime.loadModel(modelPath);
    assert.equal(model.disposed, false);
    assert.equal(model.sha256, modelSha256);
  });

  it('missing and non-GGUF model files, and empty sentences, are input errors naming the problem', async () => {
    const missing = join(dir, 'nope.gguf');
    await assert.rejects(LlmGlosser.create(options({ modelPath: missing })), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.equal(err.message, `model file not found: ${missing}`);
      return true;
    });
    const junk = join(dir, 'junk.gguf');
    writeFileSync(junk, '{"not": "a model"}');
    await assert.rejects(LlmGlosser.create(options({ modelPath: junk })), (err: Error) => {
      assert.ok(err instanceof SignweaveInputError);
      assert.match(err.message, /^not a GGUF model file: .*junk\.gguf/);
      return true;
    });
    await assert.rejects(LlmGlosser.create(options({ maxTokens: 0 })), /maxTokens must be a positive integer/);
    const glosser = await LlmGlosser.create(options({ cacheDir: null }));
    await assert.rejects(glosser.gloss('   '), SignweaveInputError);
    await glosser.dispose();
  });

  it('the default cache lives under $XDG_CACHE_HOME/signweave/pseudogloss', async () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(dir, 'xdg');
    try {
      const glosser = await LlmGlosser.create({ modelPath, fallback: rules, runtime });
      assert.equal(glosser.cacheInfo().file, join(dir, 'xdg', 'signweave', 'pseudogloss', `${modelSha256}.${PROMPT_VERSION}.jsonl`));
      await glosser.dispose();
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
