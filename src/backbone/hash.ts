/**
 * Content hashes: files streamed through sha256, frame folders (their images' names and bytes), and ONNX models
 * together with their external weight files.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { decodeModel, readOnnxInfo, type OnnxFileInfo } from '../graph/proto.js';
import { sha256File } from '../util/hash.js';
import { readInputFile } from '../util/text-files.js';

export { sha256File };

/**
 * One sha256 over a frame folder's images, in the order given: the lines `name\0sha256(bytes)\n`. Names count, so
 * renaming an image (which may reorder the frames) changes the hash as changing its bytes does. Each image is streamed.
 */
export async function sha256FrameFolder(folder: string, images: readonly string[], signal?: AbortSignal): Promise<string> {
  const combined = createHash('sha256');
  for (const name of images) {
    combined.update(`${name}\0${await sha256File(join(folder, name), 'frame', signal)}\n`);
  }
  return combined.digest('hex');
}

export interface OnnxInspection {
  info: OnnxFileInfo;
  /** See `BackboneInfo.sha256`. */
  sha256: string;
  /** External weight files the graph names, relative to its folder, sorted. */
  externalFiles: string[];
}

/** Reads an ONNX file once: its inputs and outputs, and a hash that covers its external weight files. */
export async function inspectOnnx(path: string): Promise<OnnxInspection> {
  const bytes = readInputFile(path, 'ONNX model');
  const info = readOnnxInfo(bytes, path);
  const graphSha = createHash('sha256').update(bytes).digest('hex');
  const locations = new Set<string>();
  for (const t of decodeModel(bytes, path).graph?.initializer ?? []) {
    for (const entry of t.externalData ?? []) if (entry.key === 'location' && entry.value) locations.add(entry.value);
  }
  const externalFiles = [...locations].sort();
  if (externalFiles.length === 0) return { info, sha256: graphSha, externalFiles };
  const combined = createHash('sha256').update(`onnx ${graphSha}\n`);
  for (const file of externalFiles) {
    combined.update(`${file} ${await sha256File(join(dirname(path), file), `external weights of ${path}:`)}\n`);
  }
  return { info, sha256: combined.digest('hex'), externalFiles };
}
