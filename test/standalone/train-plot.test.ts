import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrainLogLine } from '../../src/train/log.js';
import { plotTrainingLog } from '../../src/train/plot.js';

/** 50 steps of a falling loss, a warm-up then cosine learning rate, and an evaluation every 10 steps. */
function log(): TrainLogLine[] {
  const lines: TrainLogLine[] = [{ type: 'start', format: 'signweave-train-log/1', signweaveVersion: '0.1.0', time: '2024-01-01T00:00:00.000Z' }];
  for (let step = 1; step <= 50; step++) {
    const lr = step <= 5 ? (1e-3 * step) / 5 : 1e-3 * 0.5 * (1 + Math.cos((Math.PI * (step - 5)) / 45));
    lines.push({ type: 'step', step, epoch: Math.floor((step - 1) / 10), loss: 100 * Math.exp(-step / 8) + 0.5, lr, gradNorm: 5 / Math.sqrt(step), examplesPerSecond: 64, ms: 120 });
    if (step % 10 === 0) lines.push({ type: 'eval', step, epoch: step / 10 - 1, loss: 110 * Math.exp(-step / 8) + 0.8 });
  }
  return lines;
}

/** Each path's class and its points (one per M or L command) as numbers. */
function paths(svg: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const m of svg.matchAll(/<path class="series ([\w-]+)" d="([^"]*)"/g)) {
    const points = [...m[2].matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((p): [number, number] => [Number(p[1]), Number(p[2])]);
    assert.equal(points.length, m[2].split(/[ML]/).length - 1, 'every command is a point');
    out.set(m[1], points);
  }
  return out;
}

const texts = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);

describe('plotTrainingLog', () => {
  it('draws loss, evaluation loss, learning rate and gradient norm with one point per logged value', () => {
    const svg = plotTrainingLog(log(), { title: 'sign <expert>' });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
    assert.match(svg, /<\/svg>\n$/);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    const p = paths(svg);
    assert.deepEqual([...p.keys()], ['train-loss', 'eval-loss', 'lr', 'grad-norm']);
    assert.equal(p.get('train-loss')!.length, 50);
    assert.equal(p.get('eval-loss')!.length, 5);
    assert.equal(p.get('lr')!.length, 50);
    assert.equal(p.get('grad-norm')!.length, 50);
    // Steps grow to the right; a falling loss goes down the page (SVG y grows downwards).
    const loss = p.get('train-loss')!;
    assert.ok(loss.every((pt, i) => i === 0 || pt[0] > loss[i - 1][0]));
    assert.ok(loss[49][1] > loss[0][1]);
    // The warm-up's peak is the highest point of the learning-rate panel (the smallest y).
    const lr = p.get('lr')!;
    assert.equal(lr.findIndex((pt) => pt[1] === Math.min(...lr.map((q) => q[1]))), 4);
    assert.deepEqual(texts(svg, 'axis-label y-label'), ['loss', 'learning rate', 'gradient norm']);
    assert.deepEqual(texts(svg, 'axis-label x-label'), ['step', 'step', 'step']);
    assert.deepEqual(texts(svg, 'legend'), ['training loss', 'evaluation loss']);
    assert.deepEqual(texts(svg, 'title'), ['sign &lt;expert&gt;']);
    const xTicks = texts(svg, 'tick-label x-tick-label');
    assert.deepEqual(xTicks.slice(0, 5), ['10', '20', '30', '40', '50']);
    const lrPanel = svg.slice(svg.indexOf('data-panel="learning rate"'), svg.indexOf('data-panel="gradient norm"'));
    assert.deepEqual(texts(lrPanel, 'tick-label y-tick-label'), ['0', '5e-4', '0.001']);
    assert.equal(plotTrainingLog(log(), { title: 'sign <expert>' }), svg, 'deterministic');
  });

  it('puts the loss on a log scale with power-of-ten ticks, leaving out values it cannot draw', () => {
    const lines = log();
    const first = lines[1];
    if (first.type === 'step') first.loss = NaN;
    const svg = plotTrainingLog(lines, { logLoss: true });
    assert.deepEqual(texts(svg, 'axis-label y-label')[0], 'loss (log scale)');
    const p = paths(svg);
    assert.equal(p.get('train-loss')!.length, 49);
    const lossPanel = svg.slice(svg.indexOf('data-panel="loss"'), svg.indexOf('data-panel="learning rate"'));
    const ticks = texts(lossPanel, 'tick-label y-tick-label');
    for (const t of ['1', '10']) assert.ok(ticks.includes(t), `ticks ${ticks.join(' ')}`);
    // Equal ratios are equal distances: 1→10 spans as many pixels as 10→100 would.
    const tickY = (label: string) => Number(new RegExp(`y="([\\d.]+)" text-anchor="end">${label}<`).exec(lossPanel)![1]);
    if (ticks.includes('100')) assert.ok(Math.abs(tickY('1') - tickY('10') - (tickY('10') - tickY('100'))) < 0.02);
    else assert.ok(tickY('1') > tickY('10'));
  });

  it('says "no data" for an empty log and plots a single step', () => {
    const empty = plotTrainingLog([]);
    assert.equal(texts(empty, 'no-data').length, 3);
    assert.equal(paths(empty).size, 0);
    const one = plotTrainingLog([{ type: 'step', step: 1, epoch: 0, loss: 2, lr: 1e-3, gradNorm: 1, examplesPerSecond: 8, ms: 10 }]);
    assert.deepEqual([...paths(one).values()].map((p) => p.length), [1, 1, 1]);
    assert.doesNotMatch(one, /NaN|Infinity/);
  });
});
