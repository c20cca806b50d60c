// Model-dependent (slow: loads ../shared/models/stories260K through node-llama-cpp, a few seconds per run).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const model = sharedPath('models', 'stories260K', 'stories260K.gguf');
const sha256 = createHash('sha256').update(readFileSync(model)).digest('hex');
const cacheDir = mkdtempSync(join(tmpdir(), 'signweave-llm-cli-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('signweave pseudogloss --glosser llm', () => {
  it('records the model sha256 and prompt version, falls back to rules on invalid output, and caches', () => {
    const args = ['pseudogloss', 'We have been here since yesterday.', '--glosser', 'llm', '--model', model, '--cache-dir', cacheDir, '--json'];
    const first = runCli(args);
    assert.equal(first.status, 0, first.stderr);
    const record = JSON.parse(first.stdout);
    const gloss = record.provenance.gloss;
    assert.equal(gloss.glosser, 'llm');
    assert.equal(gloss.model.sha256, sha256);
    assert.match(gloss.promptVersion, /^asl-gloss-json-v\d+/);
    // stories260K writes story English, never valid gloss tokens: the rule-based answer stands in, and says so
    assert.equal(gloss.fallback, true);
    assert.deepEqual(record.pseudogloss, ['SINCE', 'YESTERDAY', 'WE', 'HERE']);

    const cacheFiles = readdirSync(cacheDir);
    assert.deepEqual(cacheFiles, [`${sha256}.${gloss.promptVersion}.jsonl`]);
    const second = runCli(args);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), record);
    assert.equal(readFileSync(join(cacheDir, cacheFiles[0]), 'utf8').trim().split('\n').length, 1, 'served from the cache, not generated again');
  });

  it('a file that is not GGUF is a clear error naming it', () => {
    const run = runCli(['pseudogloss', 'Hello.', '--glosser', 'llm', '--model', sharedPath('data', 'INDEX.txt'), '--cache-dir', cacheDir]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /INDEX\.txt.*GGUF/);
  });
});
