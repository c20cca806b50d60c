import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/helpers). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Path of a file in the read-only `../shared` folder beside the checkout (SIGNWEAVE_SHARED overrides it).
 * Tests read models and data from there; nothing from it is ever committed.
 */
export function sharedPath(...parts: string[]): string {
  const root = process.env.SIGNWEAVE_SHARED ?? join(repoRoot, '..', 'shared');
  const path = join(root, ...parts);
  if (!existsSync(path)) {
    throw new Error(`test data missing: ${path} (set SIGNWEAVE_SHARED to the shared folder)`);
  }
  return path;
}

export function readSharedJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(sharedPath(...parts), 'utf8')) as T;
}
