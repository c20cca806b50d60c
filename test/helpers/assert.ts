import assert from 'node:assert/strict';
import { SignweaveInputError } from '../../src/errors.js';

/** For `assert.throws/rejects`: the error is a SignweaveInputError whose message matches every pattern. */
export function inputError(...patterns: RegExp[]): (err: Error) => boolean {
  return (err) => {
    assert.ok(err instanceof SignweaveInputError, `${err.name}: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

/** Largest absolute element-wise difference of two equally long arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `m` with each dotted path set to its value (undefined deletes the field). */
export function withChanges(m: object, changes: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(m) as Record<string, unknown>;
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    const parent = keys.reduce((o, k) => o[k] as Record<string, unknown>, copy);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return copy;
}
