import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { EVAL_MANIFEST_SCHEMA, loadEvalDataset } from '../../src/eval/datasets.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';
import { ffmpeg, tempDir } from '../helpers/video.js';

const CLIPS = sharedPath('data', 'how2sign', 'clips_rgb_front');

const tmp = tempDir();
after(tmp.remove);

/** A manifest file of the given lines (objects are written as JSON, strings as they are). */
function manifest(name: string, lines: (object | string)[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

const mascara = { id: 'mascara', video: '_0fO5ETSwyg_0-5-rgb_front.mp4', text: 'You have used waterproof mascara, now how do you remove it?' };

describe('jsonl manifests', () => {
  it('the schema is exported and is valid draft-07', () => {
    const validate = new Ajv().compile(EVAL_MANIFEST_SCHEMA);
    assert.equal(validate({ id: 'a', video: 'a.mp4', text: 'Hi.' }), true);
    assert.equal(validate({ id: 'a', video: 'a.mp4' }), false);
    assert.deepEqual(EVAL_MANIFEST_SCHEMA.required, ['id', 'video', 'text']);
  });

  it('lines against the How2Sign clips: relative and absolute videos, ranges, glosses, letters, routing, frame folders', async () => {
    const framesDir = join(tmp.dir, 'frames', 'okay');
    mkdirSync(framesDir, { recursive: true });
    ffmpeg(['-i', join(CLIPS, '_15CDIexNDM_9-5-rgb_front.mp4'), '-vf', 'scale=64:36', join(framesDir, '%04d.png')]);
    const path = manifest('eval.jsonl', [
      mascara,
      { id: 'rice', video: join(CLIPS, '_93xgBE3NgA_4-5-rgb_front.mp4'), start: 1, end: 3.5, text: 'The white rice and picadillo go hand in hand; they go together.', gloss: ['RICE', 'PICADILLO'] },
      '',
      { id: 'okay', video: join(tmp.dir, 'frames', 'okay'), fps: 24, text: 'Okay.', letters: 'ok', routing: [{ label: 'fingerspell', start: 0, end: 0.5 }] },
      { id: 'absent', video: 'not-here.mp4', text: 'Nothing.', language: 'en' },
      { id: 'german', video: 'x.mp4', text: 'regen und  schnee', language: 'de' },
    ]);
    const ds = await loadEvalDataset('jsonl', { data: path, videos: CLIPS });
    assert.deepEqual([ds.name, ds.split, ds.manifest.path, ds.videos, ds.problems], ['jsonl', 'eval', path, CLIPS, []]);
    assert.match(ds.manifest.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(ds.samples, [
      { id: 'mascara', line: 1, text: mascara.text, language: 'en', video: { kind: 'file', path: join(CLIPS, mascara.video) } },
      {
        id: 'rice',
        line: 2,
        text: 'The white rice and picadillo go hand in hand; they go together.',
        language: 'en',
        gloss: ['RICE', 'PICADILLO'],
        video: { kind: 'file', path: join(CLIPS, '_93xgBE3NgA_4-5-rgb_front.mp4'), start: 1, end: 3.5 },
      },
      {
        id: 'okay',
        line: 4,
        text: 'Okay.',
        language: 'en',
        letters: 'ok',
        routing: [{ label: 'fingerspell', start: 0, end: 0.5 }],
        video: { kind: 'frames', path: framesDir, fps: 24 },
      },
      { id: 'absent', line: 5, text: 'Nothing.', language: 'en', video: null, missing: join(CLIPS, 'not-here.mp4') },
      { id: 'german', line: 6, text: 'regen und schnee', language: 'de', video: null, missing: join(CLIPS, 'x.mp4') },
    ]);
  });

  it("relative videos default to the manifest's folder; only absolute paths: videos is null", async () => {
    const relative = await loadEvalDataset('jsonl', { data: manifest('rel.jsonl', [mascara]) });
    assert.deepEqual([relative.videos, relative.samples[0].missing], [tmp.dir, join(tmp.dir, mascara.video)]);
    const absolute = await loadEvalDataset('jsonl', { data: manifest('abs.jsonl', [{ ...mascara, video: join(CLIPS, mascara.video) }]) });
    assert.equal(absolute.videos, null);
    assert.equal(absolute.samples[0].video?.kind, 'file');
    // a folder holding `<split>.jsonl`
    const folder = await loadEvalDataset('jsonl', { data: tmp.dir, split: 'rel' });
    assert.deepEqual([folder.split, folder.manifest.path], ['rel', join(tmp.dir, 'rel.jsonl')]);
  });

  it('bad lines: JSON, schema (pointer and value), times, routing, letters, duplicate ids, frame folders without fps', async () => {
    mkdirSync(join(tmp.dir, 'bad-frames'), { recursive: true });
    const path = manifest('bad.jsonl', [
      mascara,
      '{"id": "broken", ',
      '[1, 2]',
      { id: 'no-text', video: 'a.mp4' },
      { ...mascara, id: 'extra', speaker: 'x' },
      { ...mascara, id: 'lang', language: 'fr' },
      { ...mascara, id: 'neg', start: -1 },
      { ...mascara, id: 'order', start: 3, end: 2 },
      { ...mascara, id: 'label', routing: [{ label: 'gesture', start: 0, end: 1 }] },
      { ...mascara, id: 'outside', start: 1, end: 2, routing: [{ label: 'sign', start: 1.5, end: 2.5 }] },
      { ...mascara, id: 'digits', letters: 'mp3' },
      { ...mascara, text: 'again' },
      { id: 'frames', video: 'bad-frames', text: 'Frames.' },
    ]);
    const ds = await loadEvalDataset('jsonl', { data: path });
    assert.deepEqual(
      ds.samples.map((s) => s.id),
      ['mascara'],
    );
    const messages = Object.fromEntries(ds.problems.map((p) => [p.line, p.message]));
    assert.deepEqual(Object.keys(messages).map(Number), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.match(messages[2], /^invalid JSON: /);
    assert.equal(messages[3], '/: must be object (value: [1,2])');
    assert.equal(messages[4], '/text: is required but missing');
    assert.match(messages[5], /^\/speaker: is not a field here \(fields: id, video, start, end, fps, text, language, gloss, letters, routing\) \(value: "x"\)$/);
    assert.equal(messages[6], '/language: must be one of "en", "de", "zh" (value: "fr")');
    assert.equal(messages[7], '/start: must be >= 0 (value: -1)');
    assert.equal(messages[8], '/end: must be after start (3 s) (value: 2)');
    assert.equal(messages[9], '/routing/0/label: must be one of "sign", "fingerspell" (value: "gesture")');
    assert.equal(messages[10], `/routing/0: lies outside the sample's range [1, 2) s (value: {"label":"sign","start":1.5,"end":2.5})`);
    assert.match(messages[11], /^\/letters: cannot fingerspell "3" \(U\+0033\) at character 3 of "mp3"/);
    assert.equal(messages[12], 'duplicate id "mascara" (first on line 1); skipped');
    assert.equal(messages[13], '/video: "bad-frames" is a frame folder: give its frame rate in "fps" (or the fps option)');

    await assert.rejects(loadEvalDataset('jsonl', { data: path, strict: true }), inputError(new RegExp(`^${path}:2: invalid JSON`)));
    const withFps = await loadEvalDataset('jsonl', { data: manifest('fps.jsonl', [{ id: 'frames', video: 'bad-frames', text: 'Frames.' }]), fps: 25 });
    // the folder holds no images: not usable frames
    assert.deepEqual(withFps.samples[0].video, null);
    assert.equal(withFps.samples[0].missing, join(tmp.dir, 'bad-frames'));
  });

  it('invalid UTF-8 is an error naming the file and line', async () => {
    const path = join(tmp.dir, 'latin1.jsonl');
    writeFileSync(path, Buffer.concat([Buffer.from(JSON.stringify(mascara) + '\n'), Buffer.from([0x7b, 0xe9, 0x7d, 0x0a])]));
    await assert.rejects(loadEvalDataset('jsonl', { data: path }), inputError(/latin1\.jsonl is not valid UTF-8 \(at line 2\)/));
  });
});
