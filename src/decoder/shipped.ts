/**
 * The decoder that ships with signweave: a small LLaMA trained by `signweave train decoder` on How2Sign
 * (pseudo-gloss, English) pairs, committed at `models/signweave-decoder/decoder.gguf` in the package (the repository
 * root, beside package.json). It is what `signweave translate --gloss` and `signweave eval decoder` use when given no
 * other model, and what `signweave models init-demo` puts in the demo's config.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shipped decoder's path inside the package. */
export const SHIPPED_DECODER_FILE = join('models', 'signweave-decoder', 'decoder.gguf');

/** signweave's own package folder, found the same way from `src/` (tsx) and from an installed `dist/src/`. */
export function signweavePackageRoot(): string {
  return dirname(fileURLToPath(import.meta.resolve('signweave/package.json')));
}

/** The shipped decoder's absolute path, or null when this install has none (`root`: the package folder). */
export function shippedDecoderPath(root: string = signweavePackageRoot()): string | null {
  const path = join(root, SHIPPED_DECODER_FILE);
  return existsSync(path) ? path : null;
}

/** Why there is no default decoder, and what to give instead (`flags`: the command's alternatives). */
export function noShippedDecoderMessage(flags: string, root: string = signweavePackageRoot()): string {
  return `this signweave install has no shipped decoder (${join(root, SHIPPED_DECODER_FILE)} does not exist): give ${flags}`;
}
