/**
 * The training log: JSONL, one line per optimiser step (`step`), per evaluation (`eval`) and per start or resume
 * (`start`). Each line is appended with a single write as soon as it is known, so a crash can only tear the last line;
 * reading drops (and reports) that torn line. Non-finite numbers (a diverged loss) are written as null, as JSON has no
 * NaN, and read back as NaN.
 *
 * A new run replaces the file. A run resumed from a checkpoint at step S keeps the lines up to step S and drops the
 * later ones (written after that checkpoint, before the crash), so the log never holds a step twice.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { SignweaveInputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { parseJsonlText } from '../util/jsonl.js';
import { describeReadError } from '../util/text-files.js';
import { SIGNWEAVE_VERSION } from '../version.js';

export const TRAIN_LOG_FORMAT = 'signweave-train-log/1';

export interface StartLine {
  type: 'start';
  format: typeof TRAIN_LOG_FORMAT;
  signweaveVersion: string;
  time: string;
  configHash?: string;
  /** The checkpoint step a resumed run continues from. */
  resumedFrom?: number;
}

export interface StepLine {
  type: 'step';
  /** Optimiser step, 1 for the first update. */
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  examplesPerSecond: number;
  ms: number;
}

export interface EvalLine {
  type: 'eval';
  step: number;
  epoch: number;
  loss: number;
  /** Other scores (WER, BLEU…) by name. */
  metrics?: Record<string, number>;
}

export type TrainLogLine = StartLine | StepLine | EvalLine;

export interface TrainLogContents {
  lines: TrainLogLine[];
  /** The torn last line (a crash mid-write), dropped; null when the file ends with a whole line. */
  torn: string | null;
}

const NUMBER_FIELDS = ['step', 'epoch', 'loss', 'lr', 'gradNorm', 'examplesPerSecond', 'ms'] as const;

/** Splits a log's text into its lines; only the last may be torn, anything else unreadable is an error naming the line. */
function parseLog(text: string, path: string): TrainLogContents & { wholeText: string } {
  const { records, whole, torn } = parseJsonlText(text, (line) => new SignweaveInputError(`training log ${path}:${line} is not JSON, so the file is damaged`));
  const lines = records.map((record, i) => {
    const line = record as Record<string, unknown>;
    if (line === null || typeof line !== 'object' || !['start', 'step', 'eval'].includes(line.type as string)) {
      throw new SignweaveInputError(`training log ${path}:${i + 1}: not a start, step or eval line`);
    }
    for (const field of NUMBER_FIELDS) if (line[field] === null) line[field] = NaN;
    if (line.type !== 'start' && typeof line.step !== 'number') throw new SignweaveInputError(`training log ${path}:${i + 1}: field "step" must be a number`);
    return line as unknown as TrainLogLine;
  });
  return { lines, torn, wholeText: whole };
}

/** Reads a training log, tolerating a torn last line. */
export function readTrainingLog(path: string): TrainLogContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SignweaveInputError(`cannot read training log ${path}: ${describeReadError(err)}`);
  }
  const { lines, torn } = parseLog(text, path);
  return { lines, torn };
}

export class TrainingLog {
  private constructor(
    readonly path: string,
    private fd: number | null,
    /** The torn line dropped on opening, or null. */
    readonly tornLine: string | null,
  ) {}

  /** Starts a log (replacing the file), or with `resumeStep` continues one after the lines of steps ≤ resumeStep. */
  static open(path: string, options: { configHash?: string; resumeStep?: number } = {}): TrainingLog {
    const { resumeStep, configHash } = options;
    let kept = '';
    let torn: string | null = null;
    if (resumeStep !== undefined && existsSync(path)) {
      const log = parseLog(readFileSync(path, 'utf8'), path);
      torn = log.torn;
      const raw = log.wholeText.split('\n').slice(0, -1);
      kept = raw
        .filter((_, i) => {
          const line = log.lines[i];
          return line.type === 'start' || line.step <= resumeStep;
        })
        .map((l) => `${l}\n`)
        .join('');
    }
    // Rewritten whole (atomically) so the file never holds a torn line or the dropped steps, even after another crash.
    writeFileAtomic(path, kept);
    let fd: number;
    try {
      fd = openSync(path, 'a');
    } catch (err) {
      throw new SignweaveInputError(`cannot write training log ${path}: ${describeReadError(err)}`);
    }
    const log = new TrainingLog(path, fd, torn);
    log.append({
      type: 'start',
      format: TRAIN_LOG_FORMAT,
      signweaveVersion: SIGNWEAVE_VERSION,
      time: new Date().toISOString(),
      ...(configHash !== undefined ? { configHash } : {}),
      ...(resumeStep !== undefined ? { resumedFrom: resumeStep } : {}),
    });
    return log;
  }

  private append(line: TrainLogLine): void {
    if (this.fd === null) throw new Error(`training log ${this.path} is closed`);
    // One write per line: a crash leaves whole lines and at most one torn last line.
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
    } catch (err) {
      throw new SignweaveInputError(`cannot write training log ${this.path}: ${describeReadError(err)}`);
    }
  }

  step(line: Omit<StepLine, 'type'>): void {
    this.append({ type: 'step', ...line });
  }

  eval(line: Omit<EvalLine, 'type'>): void {
    this.append({ type: 'eval', ...line });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
