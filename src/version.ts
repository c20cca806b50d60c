import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from this module to signweave's own package.json; works from `src/` (tsx) and from `dist/src/` alike. */
function readOwnPackageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'signweave' && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('signweave: cannot find its own package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const SIGNWEAVE_VERSION: string = readOwnPackageVersion();

/**
 * The `version:` field of a metric signature: which signweave computed it and which reference implementation it
 * reproduces, e.g. `signweave-0.1.0~sacrebleu-2.6.0`.
 */
export function metricImplVersion(reference: string): string {
  return `signweave-${SIGNWEAVE_VERSION}~${reference}`;
}
