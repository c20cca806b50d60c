import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignweaveInputError } from '../errors.js';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export interface TextLines {
  path: string;
  lines: string[];
  /** sha256 of the file's bytes, so results can say exactly which input they were computed on. */
  sha256: string;
}

/**
 * Reads a UTF-8 text file as one item per line (LF or CRLF; a final newline does not start another line).
 * `-` reads standard input. Unreadable files and invalid UTF-8 are input errors naming the file.
 */
export function readLines(path: string): TextLines {
  const bytes = readInputFile(path);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new SignweaveInputError(`${describePath(path)} is not valid UTF-8 (at line ${firstInvalidUtf8Line(bytes)})`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text === '') return { path, lines: [], sha256 };
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return { path, lines, sha256 };
}

/** Reads a whole input file (`-` = standard input); failures are input errors naming the file and the reason. */
export function readInputFile(path: string, what = ''): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (err) {
    throw new SignweaveInputError(`cannot read ${what ? `${what} ` : ''}${describePath(path)}: ${describeReadError(err)}`);
  }
}

/**
 * Reads a JSON input file (`-` = standard input): its value and the sha256 of its bytes. Unreadable files and invalid
 * JSON are input errors naming `what` and the file (`<what> <path> is not valid JSON: …`).
 */
export function readJsonFile(path: string, what: string): { data: unknown; sha256: string } {
  const bytes = readInputFile(path, what);
  try {
    return { data: JSON.parse(bytes.toString('utf8')), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (err) {
    throw new SignweaveInputError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A file-system error in words (no such file, a directory, permission denied), else its own message. */
export function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && READ_ERRORS[code]) ?? (err as Error).message;
}

function describePath(path: string): string {
  return path === '-' ? 'standard input' : path;
}

/** 1-based line of the first byte sequence that is not valid UTF-8, so the user can find it. */
function firstInvalidUtf8Line(bytes: Buffer): number {
  let start = 0;
  let line = 1;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      strictUtf8.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
    line++;
  }
  return line;
}
