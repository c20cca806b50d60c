import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FINGERSPELL_VERSION } from '../../pseudogloss/fingerspell.js';
import { Phonemizer } from '../../pseudogloss/phonemes.js';
import { RuleGlosser } from '../../pseudogloss/rules.js';
import { TargetBuilder } from '../../pseudogloss/targets.js';
import { loadEvalDataset } from '../../src/eval/datasets.js';
import { EvalReferences } from '../../src/eval/references.js';
import type { EvalSample } from '../../src/eval/types.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';
import { ffmpeg, tempDir } from '../helpers/video.js';

const DATA = sharedPath('data');
const CLIPS = sharedPath('data', 'how2sign', 'clips_rgb_front');

const tmp = tempDir();
after(tmp.remove);

const phonemizer = new Phonemizer();
const references = new EvalReferences({ phonemizer });

const sample = (fields: Partial<EvalSample>): EvalSample => ({ id: 's', line: 1, text: 'Hi!', language: 'en', video: null, ...fields });

describe('EvalReferences', () => {
  it('English sentences: the Stage-1 targets of the rule glosser, phonemes flattened, no fingerspelling → sign', async () => {
    const refs = await references.forSample(sample({ text: "I don't like coffee." }));
    assert.deepEqual(refs, {
      pseudogloss: ['I', 'LIKE', 'COFFEE', 'NOT'],
      phonemes: ['ay', 'l', 'ay', 'k', 'k', 'aa', 'f', 'iy', 'n', 'aa', 't'],
      letters: '',
      routing: null,
      sampleClass: 'sign',
      english: "I don't like coffee.",
      provenance: { gloss: { glosser: 'rules', version: new RuleGlosser().version }, phonemes: phonemizer.provenance, fingerspell: `fingerspell-${FINGERSPELL_VERSION}` },
    });
    assert.deepEqual(references.provenance, {
      glosser: { name: 'rules', version: new RuleGlosser().version },
      phonemes: phonemizer.provenance,
      fingerspell: `fingerspell-${FINGERSPELL_VERSION}`,
    });
  });

  it('a sentence with fingerspelled spans is mixed; its letters are the spans joined by spaces', async () => {
    const openasl = await loadEvalDataset('openasl', { data: join(DATA, 'openasl'), limit: 1 });
    const refs = await references.forSample(openasl.samples[0]);
    const target = await new TargetBuilder({ glosser: new RuleGlosser(), phonemizer }).build(openasl.samples[0].text);
    assert.deepEqual(refs.pseudogloss, target.pseudogloss);
    assert.deepEqual(refs.pseudogloss, ['I', 'ED', 'BOSSON', 'I', '67', 'YEAR', 'OLD', 'NOW', 'RETIRED']);
    assert.deepEqual(
      refs.phonemes,
      target.phonemes.flatMap((w) => w.phonemes),
    );
    assert.deepEqual([refs.letters, refs.sampleClass, refs.routing, refs.english], ['ed bosson', 'mixed', null, 'I am Ed Bosson, and I am 67 years old and now retired.']);
  });

  it('PHOENIX-2014T and CSL-Daily: the corpus glosses, no phonemes or letters', async () => {
    const phoenix = await loadEvalDataset('phoenix2014t', { data: join(DATA, 'phoenix2014t'), split: 'dev', limit: 1 });
    const refs = await references.forSample(phoenix.samples[0]);
    assert.deepEqual(refs, {
      pseudogloss: ['DRUCK', 'TIEF', 'KOMMEN'],
      phonemes: [],
      letters: '',
      routing: null,
      sampleClass: 'sign',
      english: 'tiefer luftdruck bestimmt in den nächsten tagen unser wetter',
      provenance: { gloss: { glosser: 'corpus-gloss', version: '1' }, phonemes: 'none (not English)', fingerspell: 'none (not English)' },
    });
    const csl = await loadEvalDataset('csl-daily', { data: join(DATA, 'csl_daily'), limit: 1 });
    assert.deepEqual((await references.forSample(csl.samples[0])).pseudogloss, ['他', '今天', '年龄', '4']);
  });

  it('ChicagoFSWild: letters from the label, the spelled word as gloss, the whole frame folder routed to fingerspelling', async () => {
    const videos = join(tmp.dir, 'fswild');
    const folder = join(videos, 'aslized', 'ben_jarashow_1759');
    mkdirSync(folder, { recursive: true });
    ffmpeg(['-i', join(CLIPS, '_5keJZsmTh0_0-5-rgb_front.mp4'), '-vf', 'scale=64:36', '-q:v', '2', '-frames:v', '15', join(folder, '%04d.jpg')]);
    const ds = await loadEvalDataset('chicagofswild', { data: join(DATA, 'chicago_fswild'), videos, limit: 3 });
    const [missing, present] = await Promise.all(ds.samples.slice(0, 2).map((s) => references.forSample(s)));
    assert.deepEqual(present, {
      pseudogloss: ['JASLL'],
      phonemes: present.phonemes,
      letters: 'jasll',
      routing: [{ label: 'fingerspell', start: 0, end: 15 / 30 }],
      sampleClass: 'fingerspell',
      english: 'jasll',
      provenance: { gloss: { glosser: 'spelled-words', version: '1' }, phonemes: phonemizer.provenance, fingerspell: `fingerspell-${FINGERSPELL_VERSION}` },
    });
    assert.ok(present.phonemes.length > 0);
    // no video on disk: nothing to route
    assert.deepEqual([missing.letters, missing.sampleClass, missing.routing], ['yll', 'fingerspell', null]);
  });

  it('explicit routing wins, and sets the class; a range bounds the derived routing', async () => {
    const video = { kind: 'file' as const, path: join(CLIPS, '_0fO5ETSwyg_0-5-rgb_front.mp4') };
    const both = await references.forSample(
      sample({ text: 'My name is Anna.', routing: [{ label: 'sign', start: 0, end: 1 }, { label: 'fingerspell', start: 1, end: 2 }], video }),
    );
    assert.deepEqual([both.sampleClass, both.routing?.length, both.letters], ['mixed', 2, 'anna']);
    const signOnly = await references.forSample(sample({ text: 'My name is Anna.', routing: [{ label: 'sign', start: 0, end: 2 }], video }));
    assert.equal(signOnly.sampleClass, 'sign');
    const spelled = await references.forSample(sample({ text: 'New York', letters: 'new york', video: { ...video, start: 1, end: 2.5 } }));
    assert.deepEqual([spelled.pseudogloss, spelled.routing], [['NEW', 'YORK'], [{ label: 'fingerspell', start: 1, end: 2.5 }]]);
    // the whole file when no range is given: probed
    const whole = await references.forSample(sample({ text: 'ok', letters: 'ok', video }));
    assert.deepEqual(whole.routing, [{ label: 'fingerspell', start: 0, end: 4.25 }]);
  });

  it('another glosser changes the pseudo-gloss and the provenance; bad letters name the sample', async () => {
    const pos = new EvalReferences({ glosser: new RuleGlosser({ mode: 'pos-filter' }), phonemizer });
    const refs = await pos.forSample(sample({ text: "I don't like coffee." }));
    assert.deepEqual([refs.pseudogloss, refs.provenance.gloss.glosser], [['i', 'like', 'coffee'], 'rules-pos']);
    assert.equal(pos.provenance.glosser.name, 'rules-pos');
    await assert.rejects(references.forSample(sample({ id: 'x7', line: 7, letters: 'mp3' })), inputError(/^sample x7 \(line 7\): cannot fingerspell "3"/));
  });
});
