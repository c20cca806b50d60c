import { Command } from '@commander-js/extra-typings';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyBundles, type BundleReport } from '../../bundles/verify.js';
import { shippedDecoderPath } from '../../decoder/shipped.js';
import { SignweaveInputError } from '../../errors.js';
import { SIGNWEAVE_VERSION } from '../../version.js';
import { integer } from '../args.js';

const verifyCommand = new Command('verify')
  .description('Check a bundle folder, or every bundle in a folder: schema, sha256, vocabulary, ONNX inputs/outputs, and a run on zeros.')
  .argument('<path>', 'a bundle folder (with bundle.json) or a folder of bundle folders')
  .option('--json', 'print one JSON object with every bundle and its problems', false)
  .action(async (path, options) => {
    const reports = await verifyBundles(path);
    process.stdout.write(options.json ? `${JSON.stringify(verifyReport(path, reports), null, 2)}\n` : formatTable(path, reports));
    const failed = reports.filter((r) => !r.ok).length;
    if (failed > 0) throw new SignweaveInputError(`${failed} of ${reports.length} bundle${reports.length === 1 ? '' : 's'} failed verification`);
  });

/** A model in the shared folder beside the repository ($SIGNWEAVE_SHARED, else ../shared), if there. */
function sharedModel(...parts: string[]): string | undefined {
  const repo = dirname(fileURLToPath(import.meta.resolve('signweave/package.json')));
  const path = join(process.env.SIGNWEAVE_SHARED ?? join(repo, '..', 'shared'), 'models', ...parts);
  return existsSync(path) ? path : undefined;
}


const initDemoCommand = new Command('init-demo')
  .description(
    'Write seeded, UNTRAINED demo bundles (sign, fingerspelling, lipreading, router, and a fusion bundle per fusion variant so every preset runs), a tiny DINOv2-shaped backbone, and <dir>/pipeline.json using them and an English decoder (a GGUF model). The demo exercises the whole pipeline; its outputs are meaningless.',
  )
  .argument('<dir>', 'folder to write (created if needed)')
  .option('--seed <n>', 'seed of the backbone and base seed of the bundles', integer, 0)
  .option('--face-model <file>', 'MediaPipe face_landmarker.task (default: ../shared/models/mediapipe/face_landmarker.task beside the repository, when it exists)')
  .option('--pose-model <file>', 'also run MediaPipe pose (e.g. pose_landmarker_full.task): its head landmarks help the face search')
  .option('--chromium <path>', 'the Chromium executable for MediaPipe (default: $SIGNWEAVE_CHROMIUM, else /usr/lib/chromium/chromium)')
  .option(
    '--backbone <dir|onnx>',
    'a real DINOv2 instead of the tiny demo ViT: a Hugging Face folder (config.json, preprocessor_config.json, onnx/model.onnx, e.g. an ONNX export of facebook/dinov2-small) or a bare ONNX file (e.g. a torch.onnx export of ViT-S/14, [N, 3, 224, 224] → [N, 384]); the bundles take its feature size',
  )
  .option('--preprocessor <json>', "a bare ONNX --backbone's preprocessor_config.json (default: DINOv2's at the graph's input size)")
  .option(
    '--decoder-model <gguf>',
    "the English decoder's GGUF model, with the decoder's defaults (default: the decoder shipped with signweave, models/signweave-decoder/decoder.gguf)",
  )
  .option('--no-decoder', 'no decoder section: translate stops at the fused pseudo-gloss')
  .option('--json', 'print what was written as JSON', false)
  .action(async (dir, options) => {
    if (!options.decoder && options.decoderModel !== undefined) throw new SignweaveInputError('--decoder-model and --no-decoder contradict each other: give one');
    const faceModel = options.faceModel ?? sharedModel('mediapipe', 'face_landmarker.task');
    if (faceModel === undefined) {
      throw new SignweaveInputError('no face landmark model: give --face-model <face_landmarker.task> (download: https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/latest/face_landmarker.task)');
    }
    // Loaded here, not at start-up: the graph builders and the backbone would slow every command.
    const { initDemoPipeline } = await import('../../pipeline/demo.js');
    const shipped = options.decoder && options.decoderModel === undefined ? shippedDecoderPath() : null;
    const decoder = options.decoderModel !== undefined ? { model: options.decoderModel } : shipped !== null ? { model: shipped } : undefined;

    const demo = await initDemoPipeline(dir, {
      seed: options.seed,
      faceModel,
      poseModel: options.poseModel,
      chromium: options.chromium,
      backbone: options.backbone,
      preprocessor: options.preprocessor,
      decoder,
    });
    if (options.json) {
      const tool = { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'models init-demo' };
      const bundles = demo.bundles.map((b) => ({ dir: b.dir, kind: b.manifest.kind, name: b.manifest.name, sha256: b.manifest.onnx.sha256, weights: b.manifest.weights }));
      process.stdout.write(`${JSON.stringify({ tool, config: demo.config, backbone: demo.backbone, faceModel, decoder: decoder ?? null, bundles }, null, 2)}\n`);
      return;
    }
    const backbone = demo.backbone.written ? `${demo.backbone.path} (tiny seeded ViT, ${demo.backbone.dim} features)` : `${demo.backbone.path} (${demo.backbone.type}, ${demo.backbone.dim} features)`;
    process.stdout.write(
      [
        `wrote ${demo.bundles.length} untrained demo bundles under ${join(dir, 'bundles')}: ${demo.bundles.map((b) => relative(join(dir, 'bundles'), b.dir)).join(', ')}`,
        `backbone    ${backbone}`,
        `face model  ${faceModel}`,
        `decoder     ${decoder === undefined ? '(none: translate stops at the fused pseudo-gloss)' : decoder.model === shipped ? `${decoder.model} (the decoder shipped with signweave)` : decoder.model}`,
        `config      ${demo.config}`,
        `next        signweave translate <video> --config ${demo.config} [--preset name]`,
        '',
      ].join('\n'),
    );
  });

export const modelsCommand = new Command('models').description('Expert, router and fusion bundles.').addCommand(verifyCommand).addCommand(initDemoCommand);

function verifyReport(path: string, reports: BundleReport[]) {
  return {
    tool: { name: 'signweave', version: SIGNWEAVE_VERSION, command: 'models verify' },
    path,
    ok: reports.every((r) => r.ok),
    bundles: reports,
  };
}

function formatTable(path: string, reports: BundleReport[]): string {
  const folder = (r: BundleReport) => relative(path, r.dir) || '.';
  const header = ['bundle', 'kind', 'name', 'weights', 'vocab', 'sha256', 'status'];
  const rows = reports.map((r) => [folder(r), r.kind ?? '?', r.name ?? '?', r.weights ?? '?', r.vocabSize?.toString() ?? '?', r.sha256?.slice(0, 12) ?? '?', r.ok ? 'ok' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`;
  const problems = reports.flatMap((r) => r.problems.map((p) => `  ${folder(r)}: ${p.field}: ${p.message}\n`));
  return line(header) + rows.map(line).join('') + (problems.length > 0 ? `\nproblems:\n${problems.join('')}` : '');
}
