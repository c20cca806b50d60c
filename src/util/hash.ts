import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SignweaveInputError } from '../errors.js';
import { describeReadError } from './text-files.js';

/**
 * sha256 (hex) of a file's bytes, read in chunks (videos and models may be gigabytes). The one file hash of signweave:
 * bundles, backbones, landmark models, GGUF files and the feature cache all say which bytes they came from with it.
 * Unreadable files are input errors naming `what` and the path.
 */
export async function sha256File(path: string, what = 'file', signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw signal?.reason ?? err;
    throw new SignweaveInputError(`cannot read ${what} ${path}: ${describeReadError(err)}`);
  }
  return hash.digest('hex');
}
