/**
 * What makes a bundle usable, as plain functions over values already read: `bundle.json` against the schema, and
 * the manifest against its vocabulary and its ONNX file's declared inputs and outputs. The loader, the writer and
 * `verifyBundle` all run these, so a bundle that writes is a bundle that loads.
 */
import type { OnnxFileInfo } from '../graph/proto.js';
import { formatShape, type TensorSpec } from '../graph/tensor.js';
import { BUNDLE_SCHEMA, type BundleManifest } from './schema.js';
import { formatSchemaProblems, lazyValidator, schemaProblems } from '../util/json-schema.js';

/**
 * One thing wrong with a bundle. `field` is a JSON pointer into bundle.json for schema violations (`/input/dim`) and
 * the dotted field for everything checked against the files (`input.dim`, `onnx.sha256`, `output.vocab`).
 */
export interface BundleProblem {
  field: string;
  message: string;
}

const manifestValidator = lazyValidator(BUNDLE_SCHEMA);

/** Schema problems of a parsed bundle.json, each with its JSON pointer and the offending value. */
export function validateManifest(data: unknown): BundleProblem[] {
  return schemaProblems(manifestValidator(), data).map(({ pointer, message }) => ({ field: pointer, message }));
}

/** A tensor the manifest says the ONNX file declares, and which of its dims are pinned by which field. */
interface ExpectedTensor {
  name: string;
  nameField: string;
  layout: string;
  rank: number;
  dims: { axis: number; size: number; field: string; claim: string }[];
}

function expectedInputs(m: BundleManifest): ExpectedTensor[] {
  switch (m.kind) {
    case 'sign':
    case 'fingerspell':
    case 'router': {
      const { name, dim } = m.input;
      const time = m.kind === 'router' ? 'S' : 'T';
      return [{ name, nameField: 'input.name', layout: `[${time}, ${dim}]`, rank: 2, dims: [{ axis: 1, size: dim, field: 'input.dim', claim: `is ${dim}` }] }];
    }
    case 'lipread': {
      const { name, size, channels } = m.input;
      const side = (axis: number) => ({ axis, size, field: 'input.size', claim: `is ${size}` });
      return [{ name, nameField: 'input.name', layout: `[T, ${size}, ${size}, ${channels}]`, rank: 4, dims: [side(1), side(2), { axis: 3, size: channels, field: 'input.channels', claim: `is ${channels}` }] }];
    }
    case 'fusion':
      return m.input.streams.map((s, i) => ({
        name: s.name,
        nameField: `input.streams[${i}].name`,
        layout: `[T, ${s.dim}]`,
        rank: 2,
        dims: [{ axis: 1, size: s.dim, field: `input.streams[${i}].dim`, claim: `is ${s.dim}` }],
      }));
  }
}

function expectedOutput(m: BundleManifest, vocab: readonly string[] | undefined): ExpectedTensor {
  const name = m.output.name;
  if (m.kind === 'router') {
    const n = m.output.classes.length;
    return { name, nameField: 'output.name', layout: `[S, ${n}]`, rank: 2, dims: [{ axis: 1, size: n, field: 'output.classes', claim: `names ${n} classes` }] };
  }
  const dims = vocab ? [{ axis: 1, size: vocab.length, field: 'output.vocab', claim: `${m.output.vocab} has ${vocab.length} labels` }] : [];
  return { name, nameField: 'output.name', layout: `[T, ${vocab?.length ?? '|vocab|'}]`, rank: 2, dims };
}

function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.length === 0 ? 'none' : specs.map((s) => `'${s.name}' ${s.dtype} ${formatShape(s.shape)}`).join(', ');
}

function checkTensor(e: ExpectedTensor, specs: readonly TensorSpec[], role: 'input' | 'output', file: string): BundleProblem[] {
  const spec = specs.find((s) => s.name === e.name);
  if (!spec) return [{ field: e.nameField, message: `is "${e.name}" but ${file} has no ${role} of that name (its ${role}s: ${describeSpecs(specs)})` }];
  const what = `${file} ${role} '${spec.name}' ${formatShape(spec.shape)}`;
  if (spec.dtype !== 'float32') return [{ field: e.nameField, message: `${what} is ${spec.dtype}; signweave exchanges float32 tensors` }];
  if (spec.shape.length !== e.rank) return [{ field: e.nameField, message: `${what} has rank ${spec.shape.length}; ${e.layout} (rank ${e.rank}) expected` }];
  return e.dims.flatMap((d) => {
    const got = spec.shape[d.axis];
    if (got === d.size) return [];
    const shown = got === null ? 'an unknown size' : typeof got === 'string' ? `the symbol '${got}'` : String(got);
    return [{ field: d.field, message: `${d.claim}, but ${what} has ${shown} at dimension ${d.axis}` }];
  });
}

/**
 * Everything the schema cannot say: per-channel normalisation lengths, window and hop, the blank inside the
 * vocabulary, and (with `info`) the ONNX file's inputs and outputs against the manifest — names, float32, ranks and
 * the static dims the manifest pins (feature dim, crop size, vocabulary size, classes). `file` names the ONNX file.
 */
export function checkManifest(m: BundleManifest, vocab: readonly string[] | undefined, info: OnnxFileInfo | undefined, file = m.onnx.file): BundleProblem[] {
  const problems: BundleProblem[] = [];
  if (m.kind === 'lipread') {
    for (const field of ['mean', 'std'] as const) {
      const n = m.input[field].length;
      if (n !== m.input.channels) problems.push({ field: `input.${field}`, message: `has ${n} values but input.channels is ${m.input.channels}` });
    }
  }
  if (m.kind === 'router' && typeof m.input.window === 'number' && m.input.hop !== undefined && m.input.hop > m.input.window) {
    problems.push({ field: 'input.hop', message: `is ${m.input.hop}, more than input.window ${m.input.window} (frames between windows would get no routing weight)` });
  }
  if (m.kind === 'fusion') {
    const names = m.input.streams.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) problems.push({ field: 'input.streams', message: `name "${dup}" is used by two streams` });
  }
  if (m.kind !== 'router' && vocab) {
    const { blank } = m.output;
    if (blank >= vocab.length) problems.push({ field: 'output.blank', message: `is ${blank}, outside ${m.output.vocab} (${vocab.length} labels, indices 0..${vocab.length - 1})` });
  }
  if (info) {
    const expected = expectedInputs(m);
    problems.push(...expected.flatMap((e) => checkTensor(e, info.inputs, 'input', file)));
    for (const spec of info.inputs) {
      if (!expected.some((e) => e.name === spec.name)) {
        problems.push({ field: 'input', message: `${file} also takes input '${spec.name}' ${formatShape(spec.shape)}, which bundle.json does not describe` });
      }
    }
    problems.push(...checkTensor(expectedOutput(m, vocab), info.outputs, 'output', file));
  }
  return problems;
}

/** `bundle DIR: field: message` for one problem; a list for several. */
export function formatProblems(dir: string, problems: readonly BundleProblem[]): string {
  return formatSchemaProblems(`bundle ${dir}`, problems.map((p) => ({ pointer: p.field, message: p.message })));
}
