/**
 * The English decoder against node-llama-cpp called directly, on stories260K and on a decoder trained by signweave.
 * Both models run the same cases (1 thread, CPU, greedy, default decoder settings):
 * - per sentence: signweave's `Decoder.translate` and a bare `LlamaCompletion` on a second context with the same
 *   settings, given the same prompt tokens as `Decoder.tokenizePrompt` (checked) — stories260K: the default prompt's
 *   text tokenised; a trained model: `[bos] gloss [sep]` as it was trained — with `maxTokens` set to the number of
 *   tokens the decoder generated (stories260K's decoder stops once a sentence is complete, a trained one at `</s>`), so
 *   both generate the same text — checked — and differ only in what signweave adds (prompt layout, option handling,
 *   streaming stop checks, post-processing); the two alternate, the order swapping every run; reported: time to first
 *   token, decode speed (tokens after the first per second), tokens per second overall, and signweave's overhead
 *   (goal < 5 %);
 * - `translateMany` over the same sentences with parallel 1 and 4 (one context, node-llama-cpp batching the
 *   sequences), alternating: sentences and generated tokens per second.
 * The inputs are the rule glosser's pseudo-gloss of the first How2Sign training sentences. Medians over the runs; a
 * warm-up run first fills each sequence's KV cache with the prompt's fixed head, as in real use.
 * The trained model is `--trained <gguf>`, by default the shipped `models/signweave-decoder/decoder.gguf`; without
 * either its section is skipped, with a note on stderr.
 *
 *   node --import tsx bench/decoder.ts [--runs 5] [--trained <gguf>] [--json]
 */
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getModuleVersion, LlamaCompletion, type Token } from 'node-llama-cpp';
import { RuleGlosser } from '../pseudogloss/rules.js';
import {
  completionPrompt,
  createDecoder,
  resolvePrompt,
  SHIPPED_DECODER_FILE,
  shippedDecoderPath,
  trainedPrompting,
  type Decoder,
  type DecoderOutput,
} from '../src/decoder/index.js';
import { trainedPromptTokens } from '../src/decoder/trained.js';
import { getLlamaRuntime, type RuntimeModel } from '../src/llm/runtime.js';
import { sharedPath } from '../test/helpers/shared.js';
import { integerArg, loadHow2SignTexts, printReport } from './harness.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    trained: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const runs = integerArg('runs', values.runs, 1);

const SENTENCES = 16;
const THREADS = 1;
const CONTEXT_SIZE = 1024;
const PARALLEL = [1, 4] as const;
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** What node-llama-cpp is given for a gloss when called directly: the prompt tokens and its own stop triggers. */
interface DirectPrompt {
  tokens: (gloss: string) => Token[];
  stopTriggers: string[];
}

/** A model to bench and how to prompt it without signweave's Decoder. */
interface ModelCase {
  name: string;
  loaded: RuntimeModel;
  direct: DirectPrompt;
}

interface Sample {
  firstMs: number;
  totalMs: number;
  tokens: number;
}

type Row = Record<string, string | number>;

const glosser = new RuleGlosser();
const glosses: string[] = [];
for (const text of loadHow2SignTexts().slice(0, SENTENCES)) glosses.push((await glosser.gloss(text)).tokens.join(' '));

const runtime = await getLlamaRuntime({ gpu: false, logLevel: 'error' });
const settings = { runtime, threads: THREADS, contextSize: CONTEXT_SIZE } as const;

/** Medians over the runs of the per-run totals. */
function summarise(samplesPerRun: Sample[][]) {
  const perRun = samplesPerRun.map((samples) => ({
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
}

/** `Decoder.translate` against node-llama-cpp alone, alternating: one row each, the decoder's with its overhead. */
async function translateVsDirect(modelCase: ModelCase, decoder: Decoder): Promise<{ rows: Row[]; outputs: DecoderOutput[] }> {
  const context = await modelCase.loaded.model.createContext({ contextSize: CONTEXT_SIZE, threads: THREADS, sequences: 1 });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  const sampling = decoder.provenance.sampling;
  const prompt = modelCase.direct;
  for (const g of glosses) {
    if (prompt.tokens(g).join() !== decoder.tokenizePrompt(g).tokens.join()) throw new Error(`${modelCase.name}: different prompt tokens for ${g}`);
  }

  /** One sentence through node-llama-cpp alone, as the decoder runs it: build the same prompt tokens, generate. */
  const direct = async (gloss: string, maxTokens: number): Promise<{ text: string; firstMs: number | null; totalMs: number }> => {
    const start = performance.now();
    let firstMs: number | null = null;
    const res = await completion.generateCompletionWithMeta(prompt.tokens(gloss), {
      maxTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      seed: sampling.seed,
      repeatPenalty: false,
      customStopTriggers: prompt.stopTriggers,
      disableContextShift: true,
      onTextChunk: () => (firstMs ??= performance.now() - start),
    });
    return { text: res.response, firstMs, totalMs: performance.now() - start };
  };

  const warm = await decoder.translateMany(glosses);
  for (const [i, g] of glosses.entries()) await direct(g, warm[i].generatedTokens);
  const ours: Sample[][] = [];
  const theirs: Sample[][] = [];
  let mismatches = 0;
  for (let r = 0; r < runs; r++) {
    const a: Sample[] = [];
    const b: Sample[] = [];
    for (const [i, gloss] of glosses.entries()) {
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
        text = await viaDirect(warm[i].generatedTokens);
        out = await viaDecoder();
      }
      if (text !== out.raw) mismatches++;
    }
    ours.push(a);
    theirs.push(b);
  }
  await context.dispose();
  if (mismatches > 0) throw new Error(`${modelCase.name}: the decoder and node-llama-cpp generated different text ${mismatches} times`);

  const base = summarise(theirs);
  const rows = (
    [
      ['node-llama-cpp LlamaCompletion, direct', base],
      ['signweave Decoder.translate', summarise(ours)],
    ] as const
  ).map(([name, s]) => ({
    model: modelCase.name,
    case: name,
    sentences: glosses.length,
    'generated tokens': s.tokens,
    'ms (all sentences)': round(s.totalMs, 1),
    'time to first token ms': round(s.firstMs, 2),
    'decode tok/s': round(s.decodeTokensPerS, 0),
    'tok/s overall': round(s.tokens / (s.totalMs / 1000), 0),
    'sentences/s': round(glosses.length / (s.totalMs / 1000), 1),
    overhead: s === base ? '' : `${round((100 * (s.totalMs - base.totalMs)) / base.totalMs, 1)}%`,
  }));
  return { rows, outputs: warm };
}

/** `translateMany` with each of PARALLEL's sequence counts on one context, alternating: one row each. */
async function translateManyParallel(modelCase: ModelCase, decoder: Decoder): Promise<Row[]> {
  const many: Decoder[] = [decoder];
  for (const parallel of PARALLEL.slice(1)) many.push(await createDecoder({ ...settings, model: modelCase.loaded.path, parallel }));
  for (const d of many) await d.translateMany(glosses);
  const seconds: number[][] = many.map(() => []);
  let tokens = 0;
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < many.length; k++) {
      const c = (r + k) % many.length;
      const start = performance.now();
      const outs = await many[c].translateMany(glosses);
      seconds[c].push((performance.now() - start) / 1000);
      tokens = sum(outs.map((o) => o.generatedTokens));
    }
  }
  for (const d of many.slice(1)) await d.dispose();
  return PARALLEL.map((parallel, i) => {
    const s = median(seconds[i]);
    return {
      model: modelCase.name,
      case: `translateMany, parallel ${parallel}`,
      sentences: glosses.length,
      'generated tokens': tokens,
      'ms (all sentences)': round(s * 1000, 1),
      'time to first token ms': '',
      'decode tok/s': '',
      'tok/s overall': round(tokens / s, 0),
      'sentences/s': round(glosses.length / s, 1),
      overhead: '',
    };
  });
}

/** Every case on one model: its rows and what the setup records of it. */
async function benchModel(modelCase: ModelCase): Promise<{ rows: Row[]; setup: Record<string, unknown> }> {
  const decoder = await createDecoder({ ...settings, model: modelCase.loaded.path });
  const { rows, outputs } = await translateVsDirect(modelCase, decoder);
  rows.push(...(await translateManyParallel(modelCase, decoder)));
  const stops: Record<string, number> = {};
  for (const o of outputs) stops[o.stop] = (stops[o.stop] ?? 0) + 1;
  const setup = {
    model: modelCase.name,
    path: decoder.provenance.model.path,
    sha256: decoder.provenance.model.sha256,
    promptVersion: decoder.provenance.promptVersion,
    meanPromptTokens: round(sum(glosses.map((g) => decoder.tokenizePrompt(g).count)) / glosses.length, 1),
    maxTokens: decoder.provenance.maxTokens,
    stops,
  };
  await decoder.dispose();
  return { rows, setup };
}

const storiesModel = await runtime.loadModel(sharedPath('models', 'stories260K', 'stories260K.gguf'));
const storiesPrompt = resolvePrompt();
const storiesBos = storiesModel.model.tokens.shouldPrependBosToken;
const stories: ModelCase = {
  name: 'stories260K',
  loaded: storiesModel,
  direct: {
    tokens: (gloss) => storiesModel.model.tokenize(completionPrompt(storiesPrompt, gloss), false, storiesBos ? 'trimLeadingSpace' : undefined),
    stopTriggers: ['\n'],
  },
};

/** The trained model's case, checked before anything runs: a missing file or a model not trained here stops the bench. */
async function trainedCase(path: string): Promise<ModelCase> {
  const loaded = await runtime.loadModel(path);
  const prompting = trainedPrompting(loaded);
  if (prompting === null) throw new Error(`${loaded.path} is not a decoder trained by signweave (its GGUF has no signweave.decoder.format)`);
  const bos = loaded.model.tokens.shouldPrependBosToken;
  // It ends its answer with </s>: no stop trigger.
  return { name: `trained ${basename(path)}`, loaded, direct: { tokens: (gloss) => trainedPromptTokens(loaded, prompting, gloss, bos), stopTriggers: [] } };
}

const trainedPath = values.trained === undefined ? shippedDecoderPath() : resolve(values.trained);
const trained = trainedPath === null ? null : await trainedCase(trainedPath);
if (trained === null) {
  process.stderr.write(`bench decoder: no trained decoder (no --trained and no shipped ${SHIPPED_DECODER_FILE}): its section is skipped\n`);
}

const rows: Row[] = [];
const models: Record<string, unknown>[] = [];
for (const modelCase of trained === null ? [stories] : [stories, trained]) {
  const result = await benchModel(modelCase);
  rows.push(...result.rows);
  models.push(result.setup);
}
const setup = {
  runs,
  threads: THREADS,
  contextSize: CONTEXT_SIZE,
  models,
  nodeLlamaCpp: await getModuleVersion(),
  llamaCpp: runtime.info.llamaCppRelease,
};
await runtime.dispose();
printReport('decoder', setup, rows, values.json);
