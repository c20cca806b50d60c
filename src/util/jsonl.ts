/**
 * Append-only JSONL files written one whole line per write: a crash leaves whole lines and at most one torn last
 * line, which a reader drops (and reports) instead of failing.
 */

export interface JsonlText {
  /** The whole lines, parsed. */
  records: unknown[];
  /** The whole lines as written (no newline). */
  lines: string[];
  /** The text up to and including the last newline. */
  whole: string;
  /** What follows the last newline: a write a crash cut short, or null. */
  torn: string | null;
}

/** Splits JSONL text at its last newline and parses each whole line; `damaged(line)` makes the error for a line that is not JSON. */
export function parseJsonlText(text: string, damaged: (line: number) => Error): JsonlText {
  const end = text.lastIndexOf('\n') + 1;
  const whole = text.slice(0, end);
  const lines = whole.split('\n').slice(0, -1);
  const records = lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw damaged(i + 1);
    }
  });
  return { records, lines, whole, torn: end < text.length ? text.slice(end) : null };
}
