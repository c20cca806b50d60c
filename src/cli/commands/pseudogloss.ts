import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { DATASET_NAMES, readCorpus, resolveDataset } from '../../../pseudogloss/corpora.js';
import { fingerspellText } from '../../../pseudogloss/fingerspell.js';
import { createGlosser, GLOSSER_KINDS } from '../../../pseudogloss/glossers.js';
import { Phonemizer } from '../../../pseudogloss/phonemes.js';
import { TargetBuilder, TargetStats, type TargetRecord } from '../../../pseudogloss/targets.js';
import { SignweaveInputError } from '../../errors.js';
import { AtomicLineWriter, writeFileAtomic } from '../../util/atomic-write.js';
import { formatVocabFile } from '../../vocab.js';
import { SIGNWEAVE_VERSION } from '../../version.js';
import { interruptSignal } from '../interrupt.js';
import { createProgress } from '../progress.js';

const tool = (command: string) => ({ name: 'signweave', version: SIGNWEAVE_VERSION, command });

function formatRecord(record: TargetRecord): string {
  const phonemes = record.phonemes.map((w) => w.phonemes.join(' ') + (w.source === 'g2p' ? ' (g2p)' : '')).join(' | ');
  const spans = record.fingerspell.map((s) => `"${s.text}" (${s.reason}) → ${s.chars.join(' ')}`).join('; ');
  const g = record.provenance.gloss;
  return [
    `pseudo-gloss  ${record.pseudogloss.join(' ') || '(empty)'}`,
    `phonemes      ${phonemes || '(none)'}`,
    `fingerspell   ${spans || '(none)'}`,
    `made by       ${g.glosser} ${g.version}${g.fallback ? ' (LLM output invalid: rule-based fallback)' : ''}; ${record.provenance.phonemes}; ${record.provenance.fingerspell}`,
  ].join('\n');
}

export const pseudoglossCommand = new Command('pseudogloss')
  .description('Stage 1: English → pseudo-gloss, phonemes and fingerspelling targets, for one sentence or a corpus.')
  .argument('[sentence]', 'one English sentence (or use --input for a corpus)')
  .addOption(new Option('--dataset <name>', 'corpus format of --input').choices(['how2sign', ...DATASET_NAMES.filter((d) => d !== 'how2sign')]))
  .option('--input <file>', 'corpus file to turn into targets')
  .option('--out <file>', 'targets JSONL; vocabularies and stats are written beside it')
  .addOption(new Option('--glosser <kind>', 'pseudo-glosser').choices(GLOSSER_KINDS).default('rules' as const))
  .option('--model <gguf>', 'GGUF model for --glosser llm')
  .option('--cache-dir <dir>', 'LLM gloss cache (default: the user cache directory)')
  .option('--limit <n>', 'only the first n sentences', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
    return n;
  })
  .option('--strict', 'fail on the first unreadable corpus line instead of reporting and skipping it', false)
  .option('--no-progress', 'no progress bar')
  .option('--json', 'machine-readable output on stdout', false)
  .action(async (sentence, options) => {
    if ((sentence === undefined) === (options.input === undefined)) {
      throw new SignweaveInputError('give either one sentence or --input <file> (with --dataset and --out)');
    }
    const glosser = await createGlosser(options.glosser, { modelPath: options.model, cacheDir: options.cacheDir });
    try {
      const builder = new TargetBuilder({ glosser });
      if (sentence !== undefined) {
        const record = await builder.build(sentence);
        process.stdout.write(options.json ? `${JSON.stringify({ tool: tool('pseudogloss'), ...record }, null, 2)}\n` : `${formatRecord(record)}\n`);
        return;
      }
      if (!options.dataset) throw new SignweaveInputError('--input needs --dataset (the corpus format)');
      if (!options.out) throw new SignweaveInputError('--input needs --out <targets.jsonl>');
      await buildCorpusTargets(builder, {
        input: options.input!,
        dataset: options.dataset,
        out: options.out,
        limit: options.limit,
        strict: options.strict,
        progress: options.progress,
        json: options.json,
      });
    } finally {
      await glosser.dispose();
    }
  });

async function buildCorpusTargets(
  builder: TargetBuilder,
  options: { input: string; dataset: string; out: string; limit?: number; strict: boolean; progress: boolean; json: boolean },
): Promise<void> {
  const dataset = resolveDataset(options.dataset, options.input);
  const corpus = readCorpus(options.input, dataset, { strict: options.strict });
  for (const p of corpus.problems) process.stderr.write(`signweave: ${options.input}:${p.line}: ${p.message} (skipped)\n`);
  const sentences = corpus.sentences.slice(0, options.limit);
  if (sentences.length === 0) throw new SignweaveInputError(`${options.input} holds no readable sentences`);

  const stats = new TargetStats();
  const writer = new AtomicLineWriter(options.out);
  const progress = createProgress('pseudogloss', sentences.length, options.progress);
  const started = performance.now();
  const signal = interruptSignal();
  try {
    for (const [i, sentence] of sentences.entries()) {
      signal.throwIfAborted();
      const record = await builder.build(sentence, { path: corpus.path, sha256: corpus.sha256 });
      stats.add(record);
      await writer.writeLine(JSON.stringify(record));
      progress.update(i + 1);
    }
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;

  const stem = join(dirname(options.out), basename(options.out).replace(/\.jsonl$/i, ''));
  const vocab = stats.vocabularies();
  const files = {
    targets: options.out,
    glossVocab: `${stem}.vocab.gloss.txt`,
    phonemeVocab: `${stem}.vocab.phonemes.txt`,
    letterVocab: `${stem}.vocab.letters.txt`,
    stats: `${stem}.stats.json`,
  };
  writeFileAtomic(files.glossVocab, formatVocabFile(vocab.gloss));
  writeFileAtomic(files.phonemeVocab, formatVocabFile(vocab.phonemes));
  writeFileAtomic(files.letterVocab, formatVocabFile(vocab.letters));
  const report = {
    tool: tool('pseudogloss'),
    input: { path: corpus.path, dataset, sha256: corpus.sha256, skippedLines: corpus.problems },
    glosser: { name: builder.glosser.name, version: builder.glosser.version },
    phonemes: builder.phonemizer.provenance,
    seconds,
    sentencesPerSecond: sentences.length / seconds,
    ...stats.summary(),
    files,
  };
  writeFileAtomic(files.stats, `${JSON.stringify(report, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const s = report;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  process.stdout.write(
    [
      `${s.sentences} sentences → ${files.targets} (${s.seconds.toFixed(1)} s, ${Math.round(s.sentencesPerSecond)} sentences/s)`,
      `skipped lines       ${corpus.problems.length}`,
      `vocabularies        gloss ${s.vocabulary.gloss}, phonemes ${s.vocabulary.phonemes}, letters ${s.vocabulary.letters} (with <blank>)`,
      `phoneme OOV         ${pct(s.phonemeOov.tokens)} of tokens, ${pct(s.phonemeOov.types)} of types (G2P)`,
      `average length      ${s.averages.textWords.toFixed(1)} words → ${s.averages.glossTokens.toFixed(1)} glosses, ${s.averages.phonemes.toFixed(1)} phonemes, ${s.averages.fingerspellChars.toFixed(2)} fingerspelled letters`,
      `fingerspelling      ${s.fingerspell.spans} spans, ${s.fingerspell.spansPerSentence.toFixed(3)} per sentence, ${pct(s.fingerspell.sentencesWithSpan)} of sentences`,
      `glossers            ${Object.entries(s.glossers).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `files               ${Object.values(files).join(', ')}`,
    ].join('\n') + '\n',
  );
}

export const phonemesCommand = new Command('phonemes')
  .description('ARPAbet phonemes (lower-case, no stress) of exactly the words given, from CMUdict with a G2P fallback.')
  .argument('<words...>', 'words, e.g. GO MEASURE IT')
  .option('--json', 'per-word phonemes and their source', false)
  .action((words, options) => {
    const result = new Phonemizer().phonemize(words);
    process.stdout.write(
      options.json ? `${JSON.stringify({ tool: tool('phonemes'), words: result }, null, 2)}\n` : `${result.flatMap((w) => w.phonemes).join(' ')}\n`,
    );
  });

export const fingerspellCommand = new Command('fingerspell')
  .description('The fingerspelling character sequence (ChicagoFSWild alphabet) of exactly the text given.')
  .argument('<text...>', 'text, e.g. political capital')
  .option('--json', 'the characters as a JSON array', false)
  .action((words, options) => {
    const chars = fingerspellText(words.join(' '));
    process.stdout.write(options.json ? `${JSON.stringify({ tool: tool('fingerspell'), chars })}\n` : `${chars.join(' ')}\n`);
  });
