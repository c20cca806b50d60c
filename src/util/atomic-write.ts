import { once } from 'node:events';
import { closeSync, createWriteStream, openSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SignweaveInputError } from '../errors.js';

/** A temp path beside `path` (same directory, so the final rename is atomic on one filesystem). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Opens the temp file now, so a missing or read-only output folder is an input error naming the output path. */
function openTemp(path: string, temp: string): number {
  try {
    return openSync(temp, 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new SignweaveInputError(`cannot write ${path}: ${why}`);
  }
}

/** Writes a whole file so that readers see either the old file or the complete new one, never a half-written one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temp = tempPathFor(path);
  const fd = openTemp(path, temp);
  try {
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * A file written line by line (e.g. JSONL over a long corpus) that appears under its name only on `commit()`;
 * `abort()` (or any failure before commit) leaves no partial file behind.
 */
export class AtomicLineWriter {
  private readonly temp: string;
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    this.temp = tempPathFor(path);
    this.stream = createWriteStream(this.temp, { fd: openTemp(path, this.temp), encoding: 'utf8' });
    // A write error (disk full…) surfaces on the next writeLine/commit instead of as an unhandled event.
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  private check(): void {
    if (this.failure) throw new SignweaveInputError(`cannot write ${this.path}: ${this.failure.message}`);
  }

  /** Writes one line; waits when the stream's buffer is full (back-pressure). */
  async writeLine(line: string): Promise<void> {
    this.check();
    // `once` rejects if the stream errors while we wait; the error listener above has kept it for check().
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain').catch(() => undefined);
    this.check();
  }

  async commit(): Promise<void> {
    this.check();
    this.stream.end();
    await once(this.stream, 'close').catch(() => undefined);
    this.check();
    renameSync(this.temp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await once(this.stream, 'close').catch(() => undefined);
    rmSync(this.temp, { force: true });
  }
}
