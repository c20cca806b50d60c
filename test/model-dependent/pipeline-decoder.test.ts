// The pipeline's decoder stage on ../shared's stories260K (1 thread, CPU): a run on a How2Sign clip gives English with
// provenance, streamed tokens and progress; `translateGloss` runs the decoder alone, loading no video stage. The
// demo bundles are untrained and the no-lipreading preset keeps Chromium out; a few seconds.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PipelineConfig } from '../../src/pipeline/config.js';
import { initDemoPipeline } from '../../src/pipeline/demo.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import type { PipelineProgress } from '../../src/pipeline/result.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';

const MODEL = sharedPath('models', 'stories260K', 'stories260K.gguf');
const SHA256 = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
const CLIP = sharedPath('data', 'how2sign', 'clips_rgb_front', '_15CDIexNDM_9-5-rgb_front.mp4');
/** stories260K's small vocabulary makes the default prompt ~470 tokens: the context is set, not left to the default. */
const DECODER = { model: MODEL, gpu: 'cpu', threads: 1, contextSize: 1024, maxTokens: 24 } as const;
const root = mkdtempSync(join(tmpdir(), 'signweave-pipeline-decoder-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('pipeline: the English decoder stage', () => {
  let configPath: string;
  before(async () => {
    // The face model is never opened: the no-lipreading preset runs no landmarks.
    configPath = (await initDemoPipeline(join(root, 'demo'), { faceModel: join(root, 'no-face.task'), decoder: DECODER })).config;
  });

  it('a run: English of the fused pseudo-gloss, streamed and with progress, its provenance and timing', async () => {
    await using pipeline = await createPipeline(configPath, { preset: 'no-lipreading', threads: 1 });
    const pieces: string[] = [];
    const events: PipelineProgress[] = [];
    const r = await pipeline.run(CLIP, { end: 0.5, onToken: (p) => pieces.push(p), onProgress: (e) => events.push(e) });
    const { english } = r;
    assert.ok(english);
    assert.equal(english.pseudoGloss, r.fused.text);
    assert.equal(english.gloss, r.fused.text.trim().split(/\s+/).join(' '));
    assert.equal(english.failure, null, english.message ?? '');
    assert.ok(english.text && english.text.length > 0);
    assert.equal(pieces.join(''), english.raw);
    assert.ok(pieces.length > 0 && english.generatedTokens <= DECODER.maxTokens);
    const decoderEvents = events.filter((e) => e.stage === 'decoder');
    assert.deepEqual(decoderEvents.at(-1), { stage: 'decoder', done: english.generatedTokens, total: english.generatedTokens });
    for (const e of decoderEvents.slice(0, -1)) assert.ok(e.done >= 1 && e.done <= e.total && e.total === DECODER.maxTokens, JSON.stringify(e));
    // The decoder runs after everything else.
    assert.equal(events.findLastIndex((e) => e.stage !== 'decoder'), events.length - decoderEvents.length - 1);
    const d = r.provenance.decoder;
    assert.equal(d?.model.path, MODEL);
    assert.equal(d?.model.sha256, SHA256);
    assert.equal(d?.maxTokens, DECODER.maxTokens);
    assert.equal(d?.runtime.gpu, false);
    assert.ok(r.timings.decoder !== null && r.timings.decoder > 0 && r.timings.decoder < r.timings.total);

    // The same pseudo-gloss through translateGloss: the same English.
    const alone = await pipeline.translateGloss(r.fused.text);
    assert.equal(alone.english.text, english.text);
    assert.equal(alone.timings.load, 0);
    assert.deepEqual(alone.provenance.decoder, d);
    assert.equal(alone.provenance.config?.preset, 'no-lipreading');
  });

  it('translateGloss loads no video stage: it works with a config whose backbone and bundles do not exist', async () => {
    const config: PipelineConfig = {
      format: 'signweave-pipeline/1',
      backbone: { type: 'hf-folder', path: 'no-backbone' },
      experts: { sign: { bundle: 'no-sign' }, fingerspell: null, lipread: null },
      router: null,
      fusion: null,
      decoder: DECODER,
    };
    await using pipeline = await createPipeline(config, { baseDir: root });
    const events: PipelineProgress[] = [];
    const r = await pipeline.translateGloss('  GAIN   BALANCE TOE ', { onProgress: (e) => events.push(e) });
    assert.equal(r.english.pseudoGloss, '  GAIN   BALANCE TOE ');
    assert.equal(r.english.gloss, 'GAIN BALANCE TOE');
    assert.ok(r.english.text);
    assert.ok(r.timings.load > 0);
    assert.equal(r.provenance.config?.path, null);
    assert.ok(events.length > 0 && events.every((e) => e.stage === 'decoder'));
    // A run needs the video stages, which are not there.
    await assert.rejects(pipeline.run(CLIP), inputError(/\/backbone\/path: .*no-backbone: no such file or folder/));
    // Failures are in the result, never thrown: an empty pseudo-gloss.
    const empty = await pipeline.translateGloss('');
    assert.equal(empty.english.failure, 'empty-input');
    assert.equal(empty.english.text, null);
    // A prompt longer than the context allows: a failure in the result.
    await using tight = await createPipeline({ ...config, decoder: { ...DECODER, contextSize: 256 } }, { baseDir: root });
    const long = await tight.translateGloss('GAIN BALANCE TOE');
    assert.equal(long.english.failure, 'prompt-too-long');
    assert.equal(long.english.text, null);
    assert.match(long.english.message ?? '', /context's 256$/);
    assert.equal(long.english.generatedTokens, 0);
    assert.equal(long.provenance.decoder.contextSize, 256);
    // Aborting rejects with the signal's reason.
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(pipeline.translateGloss('GAIN', { signal: controller.signal }), (err) => err === reason);
  });

  it('errors name the config: no decoder section; a decoder model that is not there', async () => {
    const base = JSON.parse(readFileSync(configPath, 'utf8')) as PipelineConfig;
    await using without = await createPipeline({ ...base, decoder: null }, { baseDir: join(root, 'demo') });
    await assert.rejects(without.translateGloss('GAIN'), inputError(/^the pipeline config object: \/decoder: the config has no decoder section/));
    await using missing = await createPipeline({ ...base, decoder: { model: 'absent.gguf' } }, { baseDir: join(root, 'demo') });
    await assert.rejects(missing.translateGloss('GAIN'), inputError(/^the pipeline config object: \/decoder: .*absent\.gguf/));
  });
});
