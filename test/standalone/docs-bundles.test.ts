/**
 * docs/bundles.md and docs/real-models.md against the code, so the docs cannot drift: every `bundle.json` example
 * passes the schema and, given a real graph of its shape, makes a bundle folder that verifies and loads; the field
 * tables list exactly the schema's fields (and fusion's architecture fields) with its required flags; every
 * `pipeline.json` example passes the pipeline schema.
 *
 * Conventions the docs follow: examples are fenced as ```json bundle.json / ```json pipeline.json; a field table row
 * is "| `path` | type | yes/no | meaning |"; a `## ` section's rows apply to the kinds its heading names in
 * backticks, the "Fields every bundle has" section's to every kind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadFusionBundle } from '../../src/bundles/fusion.js';
import { buildRouterModel, loadRouterBundle } from '../../src/bundles/router.js';
import { BUNDLE_KINDS, BUNDLE_SCHEMA, type BundleKind, type BundleManifest } from '../../src/bundles/schema.js';
import { validateManifest } from '../../src/bundles/validate.js';
import { verifyBundle } from '../../src/bundles/verify.js';
import { MANIFEST_FILE } from '../../src/bundles/loader.js';
import { buildFingerspellHead, FINGERSPELL_VOCAB } from '../../src/experts/fingerspell/index.js';
import { buildLipreadModel, LIPREAD_VOCAB } from '../../src/experts/lipread/model.js';
import { buildSignHead, signVocabulary } from '../../src/experts/sign/index.js';
import { resolveFusionConfig } from '../../src/fusion/config.js';
import { buildFusionModel } from '../../src/fusion/graphs.js';
import type { OnnxModel } from '../../src/graph/builder.js';
import { validatePipelineConfig } from '../../src/pipeline/config.js';
import { formatVocabFile } from '../../src/vocab.js';
import { repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'signweave-docs-bundles-'));
after(() => rmSync(root, { recursive: true, force: true }));

const readDoc = (name: string) => readFileSync(join(repoRoot, 'docs', name), 'utf8');

interface Section {
  heading: string;
  body: string;
}

/** The `## ` sections of a Markdown file (text before the first one is left out). */
function sections(markdown: string): Section[] {
  return markdown
    .split(/^## /m)
    .slice(1)
    .map((part) => {
      const newline = part.indexOf('\n');
      return { heading: part.slice(0, newline), body: part.slice(newline + 1) };
    });
}

/** The parsed JSON of every code block fenced as ```json <tag>. */
function examples(text: string, tag: string): unknown[] {
  return [...text.matchAll(new RegExp('^```json ' + tag.replace('.', '\\.') + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => JSON.parse(m[1]));
}

/** The bundle kinds a heading names in backticks. */
function kindsOf(heading: string): BundleKind[] {
  return [...heading.matchAll(/`([a-z]+)`/g)].map((m) => m[1]).filter((k): k is BundleKind => (BUNDLE_KINDS as readonly string[]).includes(k));
}

/** Field table rows: path → required. A path listed twice in one section is a doc error. */
function fieldRows(body: string): Map<string, boolean> {
  const rows = new Map<string, boolean>();
  for (const m of body.matchAll(/^\| `([^`]+)` \|[^|\n]*\| (yes|no) \|/gm)) {
    assert.ok(!rows.has(m[1]), `field ${m[1]} is listed twice in one table`);
    rows.set(m[1], m[2] === 'yes');
  }
  return rows;
}

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  type?: string | readonly string[];
  items?: JsonSchema;
  allOf?: { if: { properties: { kind: { enum: readonly string[] } } }; then: JsonSchema }[];
}

/** Leaf fields of an object schema as dotted paths (`[]` for array items) → required within their parent. */
function leafFields(schema: JsonSchema, prefix = '', out = new Map<string, boolean>()): Map<string, boolean> {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const path = prefix + key;
    if (sub.properties) leafFields(sub, `${path}.`, out);
    else if (sub.type === 'array' && sub.items?.properties) leafFields(sub.items, `${path}[].`, out);
    else out.set(path, (schema.required ?? []).includes(key));
  }
  return out;
}

const schema = BUNDLE_SCHEMA as unknown as JsonSchema;

/**
 * The fields of a kind's bundle.json: the schema's own and its kind rule's; for fusion also every FusionConfig field
 * (`resolveFusionConfig` returns them all), which the schema leaves to it and which are optional there.
 */
function expectedFields(kind: BundleKind): Map<string, boolean> {
  const rule = schema.allOf!.find((r) => r.if.properties.kind.enum.includes(kind))!.then;
  const fields = leafFields({ properties: { ...schema.properties, ...rule.properties }, required: [...schema.required!, ...(rule.required ?? [])] });
  if (kind === 'fusion') {
    for (const key of Object.keys(resolveFusionConfig({ inputs: { sign: 2 }, vocabSize: 2, d: 4, lip: false, fingerspell: false }))) {
      const path = `architecture.${key}`;
      if (![...fields.keys()].some((f) => f === path || f.startsWith(`${path}.`))) fields.set(path, false);
    }
  }
  return fields;
}

const sorted = (m: Map<string, boolean>) => [...m].sort(([a], [b]) => a.localeCompare(b));

const bundleDoc = sections(readDoc('bundles.md'));
const bundleExamples = bundleDoc.flatMap((s) => examples(s.body, 'bundle.json').map((manifest) => ({ section: s.heading, manifest: manifest as BundleManifest })));

/** A real graph of the example's shape, and a vocabulary of the size it implies. */
function graphFor(m: BundleManifest): { model: OnnxModel; vocab?: readonly string[] } {
  const seed = 3;
  switch (m.kind) {
    case 'sign': {
      const vocab = signVocabulary(['HELLO', 'YOU', 'NAME']);
      return { model: buildSignHead({ dim: m.input.dim, vocabSize: vocab.length, maxLen: m.input.maxFrames ?? 8, seed }), vocab };
    }
    case 'fingerspell':
      return { model: buildFingerspellHead({ dim: m.input.dim, maxLen: m.input.maxFrames ?? 8, seed }), vocab: FINGERSPELL_VOCAB };
    case 'lipread': {
      const { size, channels } = m.input;
      return { model: buildLipreadModel({ size, patch: size, channels, dim: 8, layers: 1, heads: 2, stride: m.temporalStride, seed }), vocab: LIPREAD_VOCAB };
    }
    case 'router':
      return { model: buildRouterModel({ dim: m.input.dim, hidden: m.architecture.hidden, classes: m.output.classes.length, activation: m.architecture.activation, seed }) };
    case 'fusion': {
      const glosses = Array.from({ length: m.architecture.vocabSize - 1 }, (_, i) => `GLOSS${i}`);
      return { model: buildFusionModel(m.architecture, { seed }), vocab: signVocabulary(glosses) };
    }
  }
}

describe('docs/bundles.md', () => {
  it('has a bundle.json example of each kind in that kind’s section, and each passes the schema', () => {
    for (const kind of BUNDLE_KINDS) {
      const found = bundleExamples.filter((e) => e.manifest.kind === kind);
      assert.equal(found.length, 1, `one ${kind} example expected, found ${found.length}`);
      assert.ok(kindsOf(found[0].section).includes(kind), `the ${kind} example is in section "${found[0].section}"`);
    }
    assert.equal(bundleExamples.length, BUNDLE_KINDS.length);
    for (const { manifest } of bundleExamples) assert.deepEqual(validateManifest(manifest), [], `${manifest.kind} example`);
  });

  it('lists exactly the schema’s fields of each kind, with their required flags', () => {
    const common = bundleDoc.find((s) => s.heading.startsWith('Fields every bundle has'));
    assert.ok(common, 'the "Fields every bundle has" section is missing');
    for (const kind of BUNDLE_KINDS) {
      const documented: Map<string, boolean> = new Map(fieldRows(common.body));
      for (const s of bundleDoc.filter((s) => kindsOf(s.heading).includes(kind))) {
        for (const [path, required] of fieldRows(s.body)) {
          assert.ok(!documented.has(path), `${kind}: field ${path} is listed in two sections`);
          documented.set(path, required);
        }
      }
      assert.deepEqual(sorted(documented), sorted(expectedFields(kind)), `${kind}: the documented fields differ from the schema's`);
    }
  });

  it('each example, with a real graph of its shape, is a bundle that verifies and loads', async () => {
    for (const { manifest } of bundleExamples) {
      const dir = join(root, manifest.kind);
      mkdirSync(dir);
      const { model, vocab } = graphFor(manifest);
      const bytes = model.toBytes();
      writeFileSync(join(dir, manifest.onnx.file), bytes);
      if (vocab && manifest.kind !== 'router') writeFileSync(join(dir, manifest.output.vocab), formatVocabFile(vocab));
      // The sha256 is the one field the docs cannot know: it is the hash of this graph.
      const onnx = { ...manifest.onnx, sha256: createHash('sha256').update(bytes).digest('hex') };
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, onnx }));

      const report = await verifyBundle(dir);
      assert.deepEqual(report.problems, [], `${manifest.kind} example`);
      assert.equal(report.ok, true);
      if (manifest.kind === 'router') assert.deepEqual((await loadRouterBundle(dir)).classes, manifest.output.classes);
      if (manifest.kind === 'fusion') await (await loadFusionBundle(dir, { session: { intraOpThreads: 1 } })).dispose();
    }
  });
});

describe('docs/real-models.md', () => {
  it('every pipeline.json example passes the pipeline schema', () => {
    const configs = examples(readDoc('real-models.md'), 'pipeline.json');
    assert.ok(configs.length > 0, 'no ```json pipeline.json example found');
    for (const config of configs) assert.deepEqual(validatePipelineConfig(config), []);
  });
});
