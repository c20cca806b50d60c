import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { greedyDecode } from '../../src/ctc/greedy.js';
import { resolveSimulationSettings, Simulator, STREAMS, type SimulatedSentence, type SimulationSettings, type StreamName } from '../../src/simulate/index.js';
import { corpusTargets, type SentenceSource } from '../../src/simulate/sources.js';
import { inputError } from '../helpers/assert.js';
import { sharedPath } from '../helpers/shared.js';

const SENTENCES = 300;

function simulateAll(source: SentenceSource, overrides: object): { settings: SimulationSettings; sentences: SimulatedSentence[] } {
  const settings = resolveSimulationSettings(overrides);
  const simulator = new Simulator(settings, source.vocab);
  return { settings, sentences: source.sentences.map((s) => simulator.simulate(s)) };
}

const labelsOf = (source: SentenceSource, stream: StreamName) => (stream === 'sign' ? source.vocab.gloss : stream === 'fingerspell' ? source.vocab.letters : source.vocab.phonemes);

function argmax(m: SimulatedSentence['sign'], t: number): number {
  const V = m.shape[1];
  let best = 0;
  for (let v = 1; v < V; v++) if (m.data[t * V + v] > m.data[t * V + best]) best = v;
  return best;
}

describe('simulate: generative model', () => {
  let source: SentenceSource;
  before(async () => {
    source = await corpusTargets('how2sign', sharedPath('data', 'how2sign', 'unisign_labels_jsonl', 'labels.test.jsonl'), SENTENCES);
  });

  it('is deterministic by seed, and sentences do not depend on each other', () => {
    const a = simulateAll(source, { seed: 7 }).sentences.slice(0, 20);
    const b = simulateAll(source, { seed: 7 }).sentences.slice(0, 20);
    const c = simulateAll(source, { seed: 8 }).sentences.slice(0, 20);
    assert.deepEqual(a, b);
    assert.notDeepEqual(
      a.map((s) => s.truth),
      c.map((s) => s.truth),
    );
    // A sentence simulated alone is the same as in the corpus run.
    const alone = new Simulator(resolveSimulationSettings({ seed: 7 }), source.vocab).simulate(source.sentences[5]);
    assert.deepEqual(alone, a[5]);
  });

  it('gives How2Sign-like durations: ~162 frames per sentence, segment means as configured', () => {
    const { settings, sentences } = simulateAll(source, {});
    const mean = sentences.reduce((n, s) => n + s.frames, 0) / sentences.length;
    assert.ok(mean > 150 && mean < 175, `mean sentence length ${mean} frames`);
    for (const kind of ['sign', 'letter'] as const) {
      const lengths = sentences.flatMap((s) => s.truth.segments.filter((x) => x.kind === kind).map((x) => x.end - x.start));
      const realised = lengths.reduce((a, b) => a + b, 0) / lengths.length;
      const configured = settings.timeline[kind].mean;
      assert.ok(Math.abs(realised - configured) < 0.08 * configured, `${kind}: mean ${realised} frames, configured ${configured} (${lengths.length} segments)`);
      assert.ok(Math.min(...lengths) >= settings.timeline[kind].min);
    }
    assert.ok(sentences.some((s) => s.truth.segments.some((x) => x.kind === 'rest' && x.start > 0 && x.end < s.frames)), 'some pauses between signs');
  });

  it('realises the configured error rates, and greedy CTC decoding of the posteriors gives exactly the emitted tokens', () => {
    const rates = { substitution: 0.2, deletion: 0.1, insertion: 0.05 };
    const { sentences } = simulateAll(source, { sign: rates, fingerspell: rates, lip: { ...rates, dropout: { rate: 0.01 } } });
    for (const stream of STREAMS) {
      const counts = { reference: 0, substitution: 0, deletion: 0, insertion: 0, lost: 0 };
      for (const s of sentences) for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += s.truth.streams[stream].counts[k];
      for (const k of ['substitution', 'deletion', 'insertion'] as const) {
        const realised = counts[k] / counts.reference;
        const sd = Math.sqrt((rates[k] * (1 - rates[k])) / counts.reference);
        assert.ok(Math.abs(realised - rates[k]) < 4 * sd, `${stream} ${k}: ${realised} over ${counts.reference} tokens, configured ${rates[k]}`);
      }
      for (const s of sentences) {
        const m = s[stream];
        const decoded = greedyDecode({ data: m.data, T: m.shape[0], V: m.shape[1] }, { labels: labelsOf(source, stream) });
        assert.deepEqual(decoded.labels, s.truth.streams[stream].emitted, `${s.id} ${stream}`);
      }
    }
    const lip = sentences.flatMap((s) => s.truth.streams.lip.events);
    assert.ok(lip.some((e) => e.lost === 'dropout'), 'some phonemes fall into face dropouts');
  });

  it('writes normalised log-probabilities with the blank at 0, flat where the face is lost', () => {
    const { sentences } = simulateAll(source, { lip: { dropout: { rate: 0.02 } } });
    for (const s of sentences.slice(0, 40)) {
      for (const stream of STREAMS) {
        const { data, shape } = s[stream];
        const [T, V] = shape;
        assert.equal(T, stream === 'lip' ? Math.ceil(s.frames / 2) : s.frames);
        assert.equal(V, labelsOf(source, stream).length);
        for (let t = 0; t < T; t++) {
          let sum = 0;
          for (let v = 0; v < V; v++) {
            assert.ok(Number.isFinite(data[t * V + v]) && data[t * V + v] <= 0);
            sum += Math.exp(data[t * V + v]);
          }
          assert.ok(Math.abs(sum - 1) < 1e-4, `${s.id} ${stream} frame ${t}: probabilities sum to ${sum}`);
        }
      }
      s.face.forEach((visible, t) => {
        if (!visible) for (let v = 0; v < s.lip.shape[1]; v++) assert.equal(s.lip.data[t * s.lip.shape[1] + v], Math.fround(-Math.log(s.lip.shape[1])));
      });
    }
  });

  it('shows fingerspelled spans on the fingerspelling stream only, and routes their frames to it', () => {
    const { sentences } = simulateAll(source, { sign: { peakFrames: 100 }, fingerspell: { peakFrames: 100 } });
    const spelled = sentences.filter((s) => s.truth.fingerspell.length > 0);
    assert.ok(spelled.length >= 20, `${spelled.length} sentences with fingerspelling`);
    for (const s of sentences) {
      const letters = s.truth.segments.filter((x) => x.kind === 'letter');
      assert.deepEqual(s.truth.streams.fingerspell.reference, letters.map((x) => x.token));
      const spelledGlosses = new Set(s.truth.fingerspell.flatMap((f) => f.glosses));
      assert.deepEqual(s.truth.streams.sign.reference, s.truth.segments.filter((x) => x.kind === 'sign').map((x) => x.token));
      assert.ok(s.truth.streams.sign.reference.length + spelledGlosses.size === s.target.length, s.id);
      for (let t = 0; t < s.frames; t++) {
        const route = s.router[t];
        if (route === 2) assert.equal(argmax(s.sign, t), 0, `${s.id}: sign stream shows a token at fingerspelled frame ${t}`);
        if (route !== 2) assert.equal(argmax(s.fingerspell, t), 0, `${s.id}: fingerspelling stream shows a token at frame ${t} (router ${route})`);
        if (route === 0) assert.equal(argmax(s.sign, t), 0);
      }
    }
  });

  it('offsets the lips from the hands: cross-correlation of the two timelines peaks at the offset', () => {
    const clean = { substitution: 0, deletion: 0, insertion: 0 };
    const peakLag = (frames: number) => {
      const { sentences } = simulateAll({ ...source, sentences: source.sentences.slice(0, 100) }, { sign: clean, lip: { ...clean, stride: 1, mouthing: 1, dropout: { rate: 0 }, offset: { frames } } });
      const active = (m: SimulatedSentence['sign'], t: number) => 1 - Math.exp(m.data[t * m.shape[1]]);
      let best = { lag: 0, score: -Infinity };
      for (let lag = -15; lag <= 15; lag++) {
        let score = 0;
        for (const s of sentences) for (let t = Math.max(0, -lag); t < s.frames && t + lag < s.frames; t++) score += active(s.sign, t) * active(s.lip, t + lag);
        if (score > best.score) best = { lag, score };
      }
      return best.lag;
    };
    for (const offset of [0, 7, -4]) assert.ok(Math.abs(peakLag(offset) - offset) <= 1, `offset ${offset}: peak at ${peakLag(offset)}`);
  });

  it('draws per-sentence and random-walk offsets', () => {
    const perSentence = simulateAll(source, { lip: { offset: { mode: 'per-sentence', frames: 5, sd: 2 } } }).sentences.map((s) => s.truth.lipOffset);
    const firsts = perSentence.map((o) => o.first);
    const mean = firsts.reduce((a, b) => a + b, 0) / firsts.length;
    const sd = Math.sqrt(firsts.reduce((a, b) => a + (b - mean) ** 2, 0) / firsts.length);
    assert.ok(Math.abs(mean - 5) < 0.5 && Math.abs(sd - 2) < 0.4, `per-sentence offsets mean ${mean} sd ${sd}`);
    assert.ok(perSentence.every((o) => o.min === o.max));
    const walk = simulateAll(source, { lip: { offset: { mode: 'random-walk', frames: 5, sd: 0, step: 0.3 } } }).sentences.map((s) => s.truth.lipOffset);
    assert.ok(walk.every((o) => o.first === 5));
    assert.ok(walk.filter((o) => o.max - o.min > 1).length > walk.length / 2);
  });

  it('refuses unknown settings and values out of range, naming the JSON pointer', () => {
    assert.throws(() => resolveSimulationSettings({ sign: { substitutions: 0.1 } }, 'sim.json'), inputError(/^sim\.json: \/sign\/substitutions: unknown setting/));
    assert.throws(() => resolveSimulationSettings({ lip: { stride: 0 } }, 'sim.json'), inputError(/\/lip\/stride: must be an integer in \[1, 16\] \(value: 0\)/));
    assert.throws(() => resolveSimulationSettings({ fingerspell: { peak: { min: 0.2 } } }), inputError(/\/fingerspell\/peak\/min: must be a number in \[0\.5, 0\.99\]/));
    assert.throws(() => resolveSimulationSettings({ lip: { offset: { mode: 'drift' } } }), inputError(/\/lip\/offset\/mode: must be one of constant, per-sentence, random-walk/));
    assert.throws(() => resolveSimulationSettings([1]), inputError(/^settings: \/: must be an object/));
  });
});
