/** What every benchmark script shares: arguments, timing, the How2Sign corpus, and a report that says where it ran. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { SIGNWEAVE_VERSION } from '../src/version.js';
import { sharedPath } from '../test/helpers/shared.js';

export interface BenchArgs {
  runs: number;
  json: boolean;
  /** A Python interpreter with the reference package installed, to time it in the same command (optional). */
  python?: string;
  /** ONNX Runtime threads, for the benches that take them (`--threads`; default: theirs). */
  threads?: number;
}

export function benchArgs(): BenchArgs {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      python: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  const threads = values.threads === undefined ? undefined : integerArg('threads', values.threads, 1);
  return { runs: integerArg('runs', values.runs, 1), json: values.json, python: values.python, threads };
}

/** A bench's integer option, at least `min`; anything else stops the bench naming the option. */
export function integerArg(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`);
  return n;
}

export interface Timing<T> {
  value: T;
  medianSeconds: number;
  allSeconds: number[];
}

function median(seconds: number[]): number {
  const sorted = [...seconds].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One untimed warm-up (JIT), then `runs` timed calls; the median is robust to a busy second core. */
export function timeRuns<T>(fn: () => T, runs: number): Timing<T> {
  let value = fn();
  const allSeconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    value = fn();
    allSeconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { value, medianSeconds: median(allSeconds), allSeconds };
}

/** `timeRuns` for work that is asynchronous. */
export async function timeRunsAsync<T>(fn: () => Promise<T>, runs: number): Promise<Timing<T>> {
  let value = await fn();
  const allSeconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    value = await fn();
    allSeconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { value, medianSeconds: median(allSeconds), allSeconds };
}

/** The English sentences of the How2Sign training labels (Uni-Sign JSONL), in file order. */
export function loadHow2SignTexts(): string[] {
  const path = sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.train.jsonl');
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
}

export function printReport(name: string, setup: Record<string, unknown>, rows: Record<string, unknown>[], json: boolean): void {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, signweave: SIGNWEAVE_VERSION };
  if (json) {
    process.stdout.write(`${JSON.stringify({ bench: name, machine, setup, rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`bench ${name}  ${JSON.stringify(setup)}\n${JSON.stringify(machine)}\n`);
  console.table(rows);
}
