import { Command } from '@commander-js/extra-typings';
import { relative } from 'node:path';
import { verifyBundles, type BundleReport } from '../../bundles/verify.js';
import { SignweaveInputError } from '../../errors.js';
import { SIGNWEAVE_VERSION } from '../../version.js';

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

export const modelsCommand = new Command('models').description('Expert, router and fusion bundles.').addCommand(verifyCommand);

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
