/**
 * The samples file of an evaluation (`<report>.samples.jsonl`): what makes `signweave eval` resumable. Line 1 is a
 * header with the run's identity; every later line is one record, appended with a single write as soon as it is
 * known: a sample's row, or the provenance of what ran (when it changes, for reports of runs that resume everything).
 * A run with the same identity skips the samples the file already has; another identity is refused. A crash can only
 * tear the last line, which is dropped (and reported) when the file is opened again.
 */
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { SignweaveInputError } from '../errors.js';
import type { DecoderProvenance } from '../decoder/types.js';
import type { PipelineProvenance } from '../pipeline/result.js';
import { canonicalJson, jsonDifferences } from '../util/canonical-json.js';
import { parseJsonlText } from '../util/jsonl.js';
import { describeReadError } from '../util/text-files.js';
import type { EvalSampleRow } from './run.js';

export const SAMPLES_FORMAT = 'signweave-eval-samples/1';

/** A pipeline's provenance without the per-sample feature-cache outcome. */
export type PipelineRunProvenance = Omit<PipelineProvenance, 'features'>;

/**
 * What ran, as the samples file keeps it: the pipeline's provenance without the per-sample feature-cache outcome
 * (video stages), or the decoder's (the decoder stage).
 */
export interface StoredProvenance {
  pipeline?: PipelineRunProvenance;
  decoder?: DecoderProvenance;
}

type SamplesRecord =
  | { type: 'header'; format: typeof SAMPLES_FORMAT; identity: unknown }
  | ({ type: 'sample' } & EvalSampleRow)
  | ({ type: 'provenance' } & StoredProvenance);

function differences(stored: unknown, current: unknown): string[] {
  return jsonDifferences(stored, current).map((d) => `${d.path}: ${d.a ?? '(none)'} in the file, ${d.b ?? '(none)'} now`);
}

function cannotWrite(path: string, err: unknown): SignweaveInputError {
  const code = (err as NodeJS.ErrnoException).code;
  return new SignweaveInputError(`cannot write ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : describeReadError(err)}`);
}

export class SamplesFile {
  private constructor(
    readonly path: string,
    private fd: number | null,
    /** The rows already there, by sample id (a sample's last row wins). */
    readonly rows: ReadonlyMap<string, EvalSampleRow>,
    /** What ran, as last stored, if anything. */
    readonly provenance: StoredProvenance | null,
    /** The torn last line dropped on opening (a crash mid-write), or null. */
    readonly tornLine: string | null,
  ) {}

  /**
   * Opens `path` for `identity`: a new file (or, with `restart`, a replaced one) gets the header; an existing one
   * must carry the same identity, and its rows are the samples already done.
   */
  static open(path: string, identity: unknown, options: { restart?: boolean } = {}): SamplesFile {
    const header = `${JSON.stringify({ type: 'header', format: SAMPLES_FORMAT, identity })}\n`;
    let text = '';
    if (!options.restart && existsSync(path)) {
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new SignweaveInputError(`cannot read samples file ${path}: ${describeReadError(err)}`);
      }
    }
    if (text === '') {
      let fd: number;
      try {
        fd = openSync(path, 'w');
      } catch (err) {
        throw cannotWrite(path, err);
      }
      writeSync(fd, header);
      return new SamplesFile(path, fd, new Map(), null, null);
    }

    const parsed = parseJsonlText(text, (line) => new SignweaveInputError(`samples file ${path}:${line} is not JSON, so the file is damaged: use --restart to start over`));
    const records = parsed.records as SamplesRecord[];
    const { torn } = parsed;
    const first = records[0];
    if (first?.type !== 'header' || first.format !== SAMPLES_FORMAT) {
      throw new SignweaveInputError(`${path} is not a signweave eval samples file (line 1 is no "${SAMPLES_FORMAT}" header): give another --out, or --restart to overwrite it`);
    }
    if (canonicalJson(first.identity) !== canonicalJson(identity)) {
      const diff = differences(first.identity, identity);
      throw new SignweaveInputError(
        `${path} holds the samples of another evaluation (${diff.slice(0, 4).join('; ')}${diff.length > 4 ? `; ${diff.length - 4} more` : ''}): use --restart to discard them, or another --out`,
      );
    }
    const rows = new Map<string, EvalSampleRow>();
    let provenance: StoredProvenance | null = null;
    for (const record of records.slice(1)) {
      if (record.type === 'sample') {
        const { type: _type, ...row } = record;
        rows.set(row.id, row);
      } else if (record.type === 'provenance') {
        const { type: _type, ...stored } = record;
        provenance = stored;
      }
    }
    let fd: number;
    try {
      if (torn !== null) truncateSync(path, Buffer.byteLength(parsed.whole));
      fd = openSync(path, 'a');
    } catch (err) {
      throw cannotWrite(path, err);
    }
    return new SamplesFile(path, fd, rows, provenance, torn);
  }

  private append(record: SamplesRecord): void {
    if (this.fd === null) throw new Error(`samples file ${this.path} is closed`);
    // One write per record: a crash leaves whole lines and at most one torn last line.
    try {
      writeSync(this.fd, `${JSON.stringify(record)}\n`);
    } catch (err) {
      throw cannotWrite(this.path, err);
    }
  }

  appendRow(row: EvalSampleRow): void {
    this.append({ type: 'sample', ...row });
  }

  appendProvenance(provenance: StoredProvenance): void {
    this.append({ type: 'provenance', ...provenance });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
