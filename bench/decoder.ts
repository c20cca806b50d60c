/**
 * The English decoder against node-llama-cpp called directly, on stories260K (1 thread, CPU, greedy, default prompt).
 * - per sentence: signweave's `Decoder.translate` and a bare `LlamaCompletion` on a second context with the same
 *   settings, tokenising the same prompt text (the same tokens as `Decoder.tokenizePrompt`, checked) with `maxTokens`
 *   set to the number of tokens the decoder generated (it stops once a sentence is complete), so both generate the
 *   same text — checked — and differ only in what signweave adds (prompt layout, option handling, streaming stop
 *   checks, post-processing); the two alternate, the
 *   order swapping every run; reported: time to first token, decode speed (tokens after the first per second),
 *   tokens per second overall, and signweave's overhead (goal < 5 %);
 * - `translateMany` over the same sentences with parallel 1 and 4 (one context, node-llama-cpp batching the
 *   sequences), alternating: sentences and generated tokens per second.
 * The inputs are the rule glosser's pseudo-gloss of the first How2Sign training sentences. Medians over the runs; a
 * warm-up run first fills each sequence's KV cache with the prompt's fixed head, as in real use.
 *
 *   node --import tsx bench/decoder.ts [--runs 5] [--json]
 */
import { LlamaCompletion } from 'node-llama-cpp';
import { RuleGlosser } from '../pseudogloss/rules.js';
import { completionPrompt, createDecoder, resolvePrompt, type Decoder, type DecoderOutput } from '../src/decoder/index.js';
import { getLlamaRuntime } from '../src/llm/runtime.js';
import { sharedPath } from '../test/helpers/shared.js';
import { benchArgs, loadHow2SignTexts, printReport } from './harness.js';

const args = benchArgs();
const model = sharedPath('models', 'stories260K', 'stories260K.gguf');
const SENTENCES = 16;
const THREADS = 1;
const CONTEXT_SIZE = 1024;
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

const glosser = new RuleGlosser();
const glosses: string[] = [];
for (const text of loadHow2SignTexts().slice(0, SENTENCES)) glosses.push((await glosser.gloss(text)).tokens.join(' '));

const runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
const settings = { model, runtime, threads: THREADS, contextSize: CONTEXT_SIZE } as const;
const decoder = await createDecoder(settings);
const loaded = await runtime.loadModel(model);
const context = await loaded.model.createContext({ contextSize: CONTEXT_SIZE, threads: THREADS, sequences: 1 });
const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
const sampling = decoder.provenance.sampling;

const prompt = resolvePrompt();
const bos = loaded.model.tokens.shouldPrependBosToken;
for (const g of glosses) {
  const same = loaded.model.tokenize(completionPrompt(prompt, g), false, bos ? 'trimLeadingSpace' : undefined);
  if (same.join() !== decoder.tokenizePrompt(g).tokens.join()) throw new Error(`different prompt tokens for ${g}`);
}

/** One sentence through node-llama-cpp alone, as the decoder runs it: tokenise the same prompt text, generate. */
async function direct(gloss: string, maxTokens: number): Promise<{ text: string; firstMs: number | null; totalMs: number }> {
  const start = performance.now();
  const tokens = loaded.model.tokenize(completionPrompt(prompt, gloss), false, bos ? 'trimLeadingSpace' : undefined);
  let firstMs: number | null = null;
  const res = await completion.generateCompletionWithMeta(tokens, {
    maxTokens,
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    seed: sampling.seed,
    repeatPenalty: false,
    customStopTriggers: ['\n'],
    disableContextShift: true,
    onTextChunk: () => (firstMs ??= performance.now() - start),
  });
  return { text: res.response, firstMs, totalMs: performance.now() - start };
}

interface Sample {
  firstMs: number;
  totalMs: number;
  tokens: number;
}

const warm = await decoder.translateMany(glosses);
for (const [i, g] of glosses.entries()) await direct(g, warm[i].generatedTokens);
const ours: Sample[][] = [];
const theirs: Sample[][] = [];
let mismatches = 0;
for (let r = 0; r < args.runs; r++) {
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (const gloss of glosses) {
    const viaDecoder = async (): Promise<DecoderOutput> => {
      const out = await decoder.translate(gloss);
      a.push({ firstMs: out.firstTokenMs ?? out.totalMs, totalMs: out.totalMs, tokens: out.generatedTokens });
      return out;
    };
    const viaDirect = async (n: number): Promise<string> => {
      const out = await direct(gloss, n);
      b.push({ firstMs: out.firstMs ?? out.totalMs, totalMs: out.totalMs, tokens: n });
      return out.text;
    };
    let out: DecoderOutput;
    let text: string;
    if (r % 2 === 0) {
      out = await viaDecoder();
      text = await viaDirect(out.generatedTokens);
    } else {
      // The decoder's token count for this sentence is known from the warm-up.
      text = await viaDirect(warm[glosses.indexOf(gloss)].generatedTokens);
      out = await viaDecoder();
    }
    if (text !== out.raw) mismatches++;
  }
  ours.push(a);
  theirs.push(b);
}
if (mismatches > 0) throw new Error(`the decoder and node-llama-cpp generated different text ${mismatches} times`);

type Row = Record<string, string | number>;
const rows: Row[] = [];
const summarise = (runs: Sample[][]) => {
  const perRun = runs.map((samples) => ({
    totalMs: sum(samples.map((s) => s.totalMs)),
    firstMs: sum(samples.map((s) => s.firstMs)) / samples.length,
    tokens: sum(samples.map((s) => s.tokens)),
    decodeTokensPerS: sum(samples.map((s) => s.tokens - 1)) / (sum(samples.map((s) => s.totalMs - s.firstMs)) / 1000),
  }));
  return {
    totalMs: median(perRun.map((p) => p.totalMs)),
    firstMs: median(perRun.map((p) => p.firstMs)),
    tokens: perRun[0].tokens,
    decodeTokensPerS: median(perRun.map((p) => p.decodeTokensPerS)),
  };
};
const base = summarise(theirs);
for (const [name, s] of [
  ['node-llama-cpp LlamaCompletion, direct', base],
  ['signweave Decoder.translate', summarise(ours)],
] as const) {
  rows.push({
    case: name,
    sentences: glosses.length,
    'generated tokens': s.tokens,
    'ms (all sentences)': round(s.totalMs, 1),
    'time to first token ms': round(s.firstMs, 2),
    'decode tok/s': round(s.decodeTokensPerS, 0),
    'tok/s overall': round(s.tokens / (s.totalMs / 1000), 0),
    'sentences/s': round(glosses.length / (s.totalMs / 1000), 1),
    overhead: s === base ? '' : `${round((100 * (s.totalMs - base.totalMs)) / base.totalMs, 1)}%`,
  });
}
await context.dispose();

// translateMany with 1 and 4 sequences on one context, alternating.
const many: Decoder[] = [decoder, await createDecoder({ ...settings, parallel: 4 })];
for (const d of many) await d.translateMany(glosses);
const manySeconds: number[][] = many.map(() => []);
let manyTokens = 0;
for (let r = 0; r < args.runs; r++) {
  for (let k = 0; k < many.length; k++) {
    const c = (r + k) % many.length;
    const start = performance.now();
    const outs = await many[c].translateMany(glosses);
    manySeconds[c].push((performance.now() - start) / 1000);
    manyTokens = sum(outs.map((o) => o.generatedTokens));
  }
}
many.forEach((d, i) => {
  const s = median(manySeconds[i]);
  rows.push({
    case: `translateMany, parallel ${d === decoder ? 1 : 4}`,
    sentences: glosses.length,
    'generated tokens': manyTokens,
    'ms (all sentences)': round(s * 1000, 1),
    'time to first token ms': '',
    'decode tok/s': '',
    'tok/s overall': round(manyTokens / s, 0),
    'sentences/s': round(glosses.length / s, 1),
    overhead: '',
  });
});
const setup = {
  runs: args.runs,
  model: 'stories260K.gguf',
  threads: THREADS,
  contextSize: CONTEXT_SIZE,
  promptVersion: decoder.provenance.promptVersion,
  promptTokens: decoder.tokenizePrompt(glosses[0]).count,
  nodeLlamaCpp: decoder.provenance.nodeLlamaCpp,
  llamaCpp: runtime.info.llamaCppRelease,
};
for (const d of many) await d.dispose();
await runtime.dispose();
printReport('decoder', setup, rows, args.json);
