import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readTrainingLog, TrainingLog, type StepLine } from '../../src/train/log.js';
import { inputError } from '../helpers/assert.js';
import { tempDir } from '../helpers/video.js';

const tmp = tempDir();
after(tmp.remove);

const stepLine = (step: number): Omit<StepLine, 'type'> => ({ step, epoch: Math.floor((step - 1) / 4), loss: 10 / step, lr: 1e-3, gradNorm: 2 / step, examplesPerSecond: 64, ms: 125 });
const steps = (path: string) => readTrainingLog(path).lines.flatMap((l) => (l.type === 'start' ? ['start'] : [`${l.type}${l.step}`]));

describe('training log', () => {
  it('writes one line per step and eval after a start line, and reads them back', () => {
    const path = join(tmp.dir, 'a.jsonl');
    const log = TrainingLog.open(path, { configHash: 'abc' });
    for (let s = 1; s <= 3; s++) log.step(stepLine(s));
    log.eval({ step: 3, epoch: 0, loss: 2.5, metrics: { wer: 81.5 } });
    log.step({ ...stepLine(4), loss: NaN });
    log.close();
    const { lines, torn } = readTrainingLog(path);
    assert.equal(torn, null);
    assert.equal(readFileSync(path, 'utf8').split('\n').length, 7, 'six lines, each ended by a newline');
    assert.deepEqual(steps(path), ['start', 'step1', 'step2', 'step3', 'eval3', 'step4']);
    const start = lines[0];
    assert.equal(start.type === 'start' && start.configHash, 'abc');
    assert.equal(start.type === 'start' && start.format, 'signweave-train-log/1');
    assert.deepEqual(lines[2], { type: 'step', ...stepLine(2) });
    assert.deepEqual(lines[4], { type: 'eval', step: 3, epoch: 0, loss: 2.5, metrics: { wer: 81.5 } });
    assert.ok(lines[5].type === 'step' && Number.isNaN(lines[5].loss), 'a NaN loss comes back as NaN');
    assert.throws(() => log.step(stepLine(5)), /closed/);
  });

  it('drops and reports a torn last line, and refuses a damaged line elsewhere', () => {
    const path = join(tmp.dir, 'torn.jsonl');
    const log = TrainingLog.open(path);
    log.step(stepLine(1));
    log.step(stepLine(2));
    log.close();
    appendFileSync(path, '{"type":"step","step":3,"epo');
    const read = readTrainingLog(path);
    assert.equal(read.torn, '{"type":"step","step":3,"epo');
    assert.deepEqual(steps(path), ['start', 'step1', 'step2']);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('"step":1,', '"step":1,,'));
    assert.throws(() => readTrainingLog(path), inputError(/torn\.jsonl:2 is not JSON/));
    writeFileSync(path, '{"type":"weights"}\n');
    assert.throws(() => readTrainingLog(path), inputError(/torn\.jsonl:1: not a start, step or eval line/));
    assert.throws(() => readTrainingLog(join(tmp.dir, 'none.jsonl')), inputError(/cannot read training log .*none\.jsonl: no such file/));
  });

  it('on resume keeps the steps up to the checkpoint, drops later ones and the torn line; a new run starts over', () => {
    const path = join(tmp.dir, 'resume.jsonl');
    const first = TrainingLog.open(path);
    for (let s = 1; s <= 7; s++) first.step(stepLine(s));
    first.eval({ step: 4, epoch: 0, loss: 3 });
    first.eval({ step: 6, epoch: 1, loss: 2 });
    first.close();
    appendFileSync(path, '{"type":"st');
    const resumed = TrainingLog.open(path, { resumeStep: 5 });
    assert.equal(resumed.tornLine, '{"type":"st');
    resumed.step(stepLine(6));
    resumed.close();
    assert.deepEqual(steps(path), ['start', 'step1', 'step2', 'step3', 'step4', 'step5', 'eval4', 'start', 'step6']);
    const restart = readTrainingLog(path).lines[7];
    assert.ok(restart.type === 'start' && restart.resumedFrom === 5);
    assert.deepEqual(readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp')), []);

    TrainingLog.open(path).close();
    assert.deepEqual(steps(path), ['start']);
  });
});
