/**
 * A simulated dataset on disk, and its reader for training:
 *
 * ```
 * dir/dataset.json       format, tool, settings and their sha256, source corpus, vocab files, summary
 * dir/vocab.{gloss,letters,phonemes}.txt
 * dir/manifest.jsonl     per sentence: id, text, frames, lipFrames, settingsHash, target (gloss ids),
 *                        router (run-length [label, frames]), dropouts (lip frames), files
 * dir/truth.jsonl        per sentence: what was simulated (timeline, spans, offsets, every injected error)
 * dir/arrays/NNNNN.{sign,fingerspell,lip}.npy   float32 [T, V] natural-log posteriors, blank at column 0
 * ```
 *
 * The folder is built under a temporary name beside `dir` and renamed when complete, so a failed or interrupted
 * run leaves nothing that looks like a dataset.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TargetVocabularies } from '../../pseudogloss/targets.js';
import { decodeNpyFloat32, encodeNpy } from '../backbone/npy.js';
import { SignweaveInputError } from '../errors.js';
import { AtomicLineWriter, writeFileAtomic } from '../util/atomic-write.js';
import { describeReadError, readInputFile, readLines } from '../util/text-files.js';
import { formatVocabFile, parseVocabFile } from '../vocab.js';
import { ROUTER_LABELS, STREAMS, type SimulatedSentence, type StreamName } from './model.js';
import { settingsHash, type SimulationSettings } from './settings.js';

export const SIMULATED_FORMAT = 'signweave-simulated/1';

const VOCAB_FILES = { gloss: 'vocab.gloss.txt', letters: 'vocab.letters.txt', phonemes: 'vocab.phonemes.txt' } as const;
const STREAM_VOCAB: Record<StreamName, keyof TargetVocabularies> = { sign: 'gloss', fingerspell: 'letters', lip: 'phonemes' };

export interface SimulatedDatasetHeader {
  format: typeof SIMULATED_FORMAT;
  tool: { name: string; version: string; command: string };
  settings: SimulationSettings;
  settingsHash: string;
  source: Record<string, unknown>;
  vocab: typeof VOCAB_FILES;
  summary?: SimulationSummary;
}

export interface StreamSummary {
  reference: number;
  emitted: number;
  lost: number;
  realised: { substitution: number; deletion: number; insertion: number };
  configured: { substitution: number; deletion: number; insertion: number };
}

export interface SimulationSummary {
  sentences: number;
  frames: { total: number; mean: number };
  lipFrames: number;
  fingerspelledFrames: number;
  unmatchedSpans: number;
  streams: Record<StreamName, StreamSummary>;
}

/** Realised error rates against the configured ones, accumulated one sentence at a time. */
export class SimulationStats {
  private sentences = 0;
  private frames = 0;
  private lipFrames = 0;
  private fingerspelledFrames = 0;
  private unmatchedSpans = 0;
  private readonly counts = Object.fromEntries(STREAMS.map((s) => [s, { reference: 0, substitution: 0, deletion: 0, insertion: 0, lost: 0, emitted: 0 }])) as Record<
    StreamName,
    { reference: number; substitution: number; deletion: number; insertion: number; lost: number; emitted: number }
  >;

  constructor(private readonly settings: SimulationSettings) {}

  add(s: SimulatedSentence): void {
    this.sentences++;
    this.frames += s.frames;
    this.lipFrames += s.lipFrames;
    this.fingerspelledFrames += s.router.filter((l) => l === 2).length;
    this.unmatchedSpans += s.truth.unmatchedSpans.length;
    for (const stream of STREAMS) {
      const c = this.counts[stream];
      const t = s.truth.streams[stream];
      for (const k of ['reference', 'substitution', 'deletion', 'insertion', 'lost'] as const) c[k] += t.counts[k];
      c.emitted += t.emitted.length;
    }
  }

  summary(): SimulationSummary {
    const rate = (n: number, d: number) => (d === 0 ? 0 : n / d);
    const streams = Object.fromEntries(
      STREAMS.map((stream) => {
        const c = this.counts[stream];
        const s = this.settings[stream];
        return [
          stream,
          {
            reference: c.reference,
            emitted: c.emitted,
            lost: c.lost,
            realised: { substitution: rate(c.substitution, c.reference), deletion: rate(c.deletion, c.reference), insertion: rate(c.insertion, c.reference) },
            configured: { substitution: s.substitution, deletion: s.deletion, insertion: s.insertion },
          },
        ];
      }),
    ) as Record<StreamName, StreamSummary>;
    return {
      sentences: this.sentences,
      frames: { total: this.frames, mean: rate(this.frames, this.sentences) },
      lipFrames: this.lipFrames,
      fingerspelledFrames: this.fingerspelledFrames,
      unmatchedSpans: this.unmatchedSpans,
      streams,
    };
  }
}

/** Run-length router labels: [label index, frames] pairs. */
function runLengths(labels: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  for (const l of labels) {
    const last = runs[runs.length - 1];
    if (last && last[0] === l) last[1]++;
    else runs.push([l, 1]);
  }
  return runs;
}

/** Writes a dataset sentence by sentence into a temporary folder; `commit` renames it to `dir`. */
export class SimulatedDatasetWriter {
  private readonly temp: string;
  private readonly manifest: AtomicLineWriter;
  private readonly truth: AtomicLineWriter;
  private readonly hash: string;
  private count = 0;

  constructor(
    readonly dir: string,
    private readonly header: Omit<SimulatedDatasetHeader, 'format' | 'settingsHash' | 'vocab' | 'summary'>,
    private readonly vocab: TargetVocabularies,
  ) {
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new SignweaveInputError(`${dir} already exists and is not empty: remove it or choose another --out`);
    if (!existsSync(dirname(dir))) throw new SignweaveInputError(`cannot write ${dir}: its folder does not exist`);
    this.temp = join(dirname(dir), `.${basename(dir)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    mkdirSync(join(this.temp, 'arrays'), { recursive: true });
    this.manifest = new AtomicLineWriter(join(this.temp, 'manifest.jsonl'));
    this.truth = new AtomicLineWriter(join(this.temp, 'truth.jsonl'));
    this.hash = settingsHash(header.settings);
  }

  async add(s: SimulatedSentence): Promise<void> {
    const stem = String(this.count++).padStart(5, '0');
    const files = Object.fromEntries(STREAMS.map((stream) => [stream, `arrays/${stem}.${stream}.npy`])) as Record<StreamName, string>;
    for (const stream of STREAMS) writeFileAtomic(join(this.temp, files[stream]), encodeNpy(s[stream].data, s[stream].shape));
    const line = {
      id: s.id,
      text: s.text,
      frames: s.frames,
      lipFrames: s.lipFrames,
      settingsHash: this.hash,
      target: s.target,
      router: runLengths(s.router),
      dropouts: s.truth.dropouts,
      files,
    };
    await this.manifest.writeLine(JSON.stringify(line));
    await this.truth.writeLine(JSON.stringify({ id: s.id, ...s.truth }));
  }

  async commit(summary: SimulationSummary): Promise<void> {
    await this.manifest.commit();
    await this.truth.commit();
    for (const [key, file] of Object.entries(VOCAB_FILES)) writeFileAtomic(join(this.temp, file), formatVocabFile(this.vocab[key as keyof TargetVocabularies]));
    const header: SimulatedDatasetHeader = { format: SIMULATED_FORMAT, ...this.header, settingsHash: this.hash, vocab: VOCAB_FILES, summary };
    writeFileAtomic(join(this.temp, 'dataset.json'), `${JSON.stringify(header, null, 2)}\n`);
    if (existsSync(this.dir)) rmdirSync(this.dir);
    renameSync(this.temp, this.dir);
  }

  async abort(): Promise<void> {
    await this.manifest.abort();
    await this.truth.abort();
    rmSync(this.temp, { recursive: true, force: true });
  }
}

export interface SimulatedDataset {
  header: SimulatedDatasetHeader;
  vocab: TargetVocabularies;
  sentences: SimulatedSentence[];
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SignweaveInputError(`cannot read ${what} ${path}: ${err instanceof SyntaxError ? err.message : describeReadError(err)}`);
  }
}

function jsonLines(path: string): { line: number; record: Record<string, unknown> }[] {
  return readLines(path).lines.flatMap((text, i) => {
      if (text.trim() === '') return [];
      try {
        return [{ line: i + 1, record: JSON.parse(text) as Record<string, unknown> }];
      } catch (err) {
      throw new SignweaveInputError(`${path}:${i + 1}: invalid JSON: ${(err as Error).message}`);
    }
  });
}

/** Reads a dataset written by `signweave simulate` into typed sequences, checking every array against the vocabularies. */
export function readSimulatedDataset(dir: string): SimulatedDataset {
  const header = readJson(join(dir, 'dataset.json'), 'simulated dataset header') as SimulatedDatasetHeader;
  if (header?.format !== SIMULATED_FORMAT) throw new SignweaveInputError(`${join(dir, 'dataset.json')}: format must be "${SIMULATED_FORMAT}" (found ${JSON.stringify(header?.format)})`);
  const vocab = Object.fromEntries(
    Object.entries(VOCAB_FILES).map(([key, file]) => [key, parseVocabFile(readInputFile(join(dir, file), 'vocab file').toString('utf8'), join(dir, file))]),
  ) as unknown as TargetVocabularies;
  const manifestPath = join(dir, 'manifest.jsonl');
  const truths = jsonLines(join(dir, 'truth.jsonl'));
  const sentences = jsonLines(manifestPath).map(({ line, record }, index) => {
    const where = `${manifestPath}:${line}`;
    const r = record as { id: string; text: string; frames: number; lipFrames: number; settingsHash: string; target: number[]; router: [number, number][]; dropouts: [number, number][]; files: Record<StreamName, string> };
    if (r.settingsHash !== header.settingsHash) throw new SignweaveInputError(`${where}: settingsHash ${r.settingsHash} differs from dataset.json's ${header.settingsHash}`);
    const matrices = Object.fromEntries(
      STREAMS.map((stream) => {
        const path = join(dir, r.files?.[stream] ?? '');
        let npy: { data: Float32Array; shape: number[] };
        try {
          npy = decodeNpyFloat32(new Uint8Array(readFileSync(path)));
        } catch (err) {
          throw new SignweaveInputError(`${where}: ${stream} array ${path}: ${(err as NodeJS.ErrnoException).code ? describeReadError(err) : (err as Error).message}`);
        }
        const rows = stream === 'lip' ? r.lipFrames : r.frames;
        const cols = vocab[STREAM_VOCAB[stream]].length;
        if (npy.shape.length !== 2 || npy.shape[0] !== rows || npy.shape[1] !== cols) {
          throw new SignweaveInputError(`${where}: ${stream} array ${path} has shape (${npy.shape.join(', ')}), expected (${rows}, ${cols})`);
        }
        return [stream, { data: npy.data, shape: [rows, cols] as [number, number] }];
      }),
    ) as Record<StreamName, SimulatedSentence['sign']>;
    const router = new Uint8Array(r.frames);
    let at = 0;
    for (const [label, n] of r.router) {
      if (!(label in ROUTER_LABELS) || at + n > r.frames) throw new SignweaveInputError(`${where}: router runs do not cover ${r.frames} frames with labels 0–${ROUTER_LABELS.length - 1}`);
      router.fill(label, at, (at += n));
    }
    if (at !== r.frames) throw new SignweaveInputError(`${where}: router runs cover ${at} of ${r.frames} frames`);
    const face = new Uint8Array(r.lipFrames).fill(1);
    for (const [a, b] of r.dropouts) face.fill(0, a, b);
    const bad = r.target.find((id) => !Number.isInteger(id) || id < 1 || id >= vocab.gloss.length);
    if (bad !== undefined) throw new SignweaveInputError(`${where}: target id ${bad} is not a gloss in ${VOCAB_FILES.gloss}`);
    const truth = truths[index]?.record;
    if (truth?.id !== r.id) throw new SignweaveInputError(`${where}: sentence ${r.id} has no matching line ${index + 1} in truth.jsonl`);
    const { id: _id, ...rest } = truth;
    return { id: r.id, text: r.text, frames: r.frames, lipFrames: r.lipFrames, target: r.target, ...matrices, router, face, truth: rest as unknown as SimulatedSentence['truth'] };
  });
  return { header, vocab, sentences };
}
