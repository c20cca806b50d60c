/**
 * Reading CTC inputs from files: a `[T, V]` matrix as JSON (an array of rows, or `{ "logits": rows }`) or as a NumPy
 * `.npy` (float32/float64, C order, 2-D), and a vocabulary as a JSON array of labels or a text file of one label per
 * line (taken verbatim, so a line holding one space is the space label).
 */
import { extname } from 'node:path';
import { SignweaveInputError } from '../errors.js';
import { readInputFile, readJsonFile } from '../util/text-files.js';
import { fromRows, type CtcMatrix } from './logits.js';

const parseJson = (path: string, what: string): unknown => readJsonFile(path, what).data;

/** Reads a `[T, V]` matrix; which file format is decided by the extension (`.npy`, else JSON). */
export function readMatrixFile(path: string): CtcMatrix {
  return extname(path).toLowerCase() === '.npy' ? readNpy(path) : readJsonMatrix(path);
}

function readJsonMatrix(path: string): CtcMatrix {
  const json = parseJson(path, 'logits file');
  const rows = Array.isArray(json) ? json : (json as { logits?: unknown } | null)?.logits;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new SignweaveInputError(`logits file ${path}: expected a non-empty array of frames, or an object with a "logits" array`);
  }
  const width = Array.isArray(rows[0]) ? rows[0].length : -1;
  rows.forEach((row: unknown, t: number) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new SignweaveInputError(`logits file ${path}: frame ${t} is not an array of ${width} numbers`);
    }
    row.forEach((x: unknown, v: number) => {
      if (typeof x !== 'number') throw new SignweaveInputError(`logits file ${path}: frame ${t}, column ${v} is not a number`);
    });
  });
  return fromRows(rows as number[][], { float64: true });
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function readNpy(path: string): CtcMatrix {
  const bytes = readInputFile(path, 'logits file');
  const fail = (why: string): never => {
    throw new SignweaveInputError(`logits file ${path}: ${why}`);
  };
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(NPY_MAGIC)) fail('not a NumPy .npy file (bad magic)');
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) fail(`unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported; save it with np.ascontiguousarray');
  const dims = shape!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.length !== 2) fail(`expected a 2-D [T, V] array, got shape (${shape})`);
  const [T, V] = dims;
  const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : fail(`dtype ${descr} is not little-endian float32 or float64`);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== T * V * itemSize) {
    fail(`holds ${bytes.length - dataStart} data bytes, expected ${T * V * itemSize} for shape (${T}, ${V}) ${descr} (truncated?)`);
  }
  // Copy out: the file buffer's offset need not be aligned for a typed-array view.
  const data = bytes.subarray(dataStart);
  const values = itemSize === 4 ? new Float32Array(T * V) : new Float64Array(T * V);
  for (let i = 0; i < T * V; i++) values[i] = itemSize === 4 ? data.readFloatLE(i * 4) : data.readDoubleLE(i * 8);
  return { data: values, T, V };
}

/** Reads CTC labels: a `.json` array of strings, or a text file with one label per line (LF or CRLF). */
export function readLabelsFile(path: string): string[] {
  if (extname(path).toLowerCase() === '.json') {
    const json = parseJson(path, 'labels file');
    if (!Array.isArray(json) || !json.every((l) => typeof l === 'string')) {
      throw new SignweaveInputError(`labels file ${path}: expected a JSON array of strings`);
    }
    return json;
  }
  const lines = readInputFile(path, 'labels file').toString('utf8').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new SignweaveInputError(`labels file ${path} is empty`);
  return lines;
}
