// The README's first set-up command, `npm ci && npx signweave score …`: the built bin (npm ci builds it through
// `prepare`) must be executable and answer as the package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/shared.js';

describe('the signweave bin', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: { signweave: string } };
  const bin = join(repoRoot, pkg.bin.signweave);

  it('is built and executable, and npx runs it', () => {
    assert.ok(existsSync(bin), `${bin} is missing: run npm run build (npm ci does it through prepare)`);
    assert.ok((statSync(bin).mode & 0o111) !== 0, `${bin} is not executable: npx signweave would fail with "Permission denied"`);
    const run = spawnSync('npx', ['--no', 'signweave', 'score', '--hyp', 'examples/score/hyp.txt', '--ref', 'examples/score/ref.txt'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^BLEU\s+\d+\.\d+/m);
  });
});
