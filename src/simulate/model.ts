/**
 * The generative model of simulated expert outputs (docs/simulate.md): a signing timeline drawn for a sentence's
 * Stage-1 targets, then for each expert the tokens it should see, the errors it makes, and CTC-style per-frame
 * log-posteriors that show the (erroneous) tokens as spikes over a blank background.
 */
import type { TargetRecord, TargetVocabularies } from '../../pseudogloss/targets.js';
import { SignweaveInputError } from '../errors.js';
import { mulberry32 } from '../util/random.js';
import { glossNeighbours, groupNeighbours, LETTER_GROUPS, stringSeed, VISEME_GROUPS, type Neighbours } from './confusion.js';
import type { DurationSettings, SimulationSettings } from './settings.js';

/** What the simulator reads of a Stage-1 target record. */
export type SentenceTargets = Pick<TargetRecord, 'id' | 'text' | 'pseudogloss' | 'phonemes' | 'fingerspell'>;

export const STREAMS = ['sign', 'fingerspell', 'lip'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Router labels per hand frame. */
export const ROUTER_LABELS = ['rest', 'sign', 'fingerspell'] as const;

export interface TimelineSegment {
  kind: 'rest' | 'sign' | 'letter';
  /** Hand frames, end exclusive. */
  start: number;
  end: number;
  /** The gloss (sign) or letter shown. */
  token?: string;
  /** Index into the pseudo-gloss of the sign, or of the gloss word a fingerspelled span stands for. */
  gloss?: number;
}

/**
 * One reference token of a stream and what the expert did with it, or a token it inserted. `frame` is where its
 * spike starts in the stream's frames; `lost` says why a token the expert emitted is not in the posteriors.
 */
export interface StreamEvent {
  kind: 'correct' | 'substitution' | 'deletion' | 'insertion' | 'not-mouthed';
  reference?: string;
  token?: string;
  frame?: number;
  lost?: 'dropout' | 'no-room';
}

export interface StreamCounts {
  /** Reference tokens the errors were drawn for (for lips: mouthed phonemes only). */
  reference: number;
  substitution: number;
  deletion: number;
  insertion: number;
  /** Emitted tokens missing from the posteriors: in a face dropout, or no frame left for them. */
  lost: number;
}

export interface StreamTruth {
  /** The stream's full reference (what its CTC target would be). */
  reference: string[];
  /** What the posteriors show, in order: greedy CTC decoding gives exactly this. */
  emitted: string[];
  events: StreamEvent[];
  counts: StreamCounts;
}

export interface SimulationTruth {
  segments: TimelineSegment[];
  /** Fingerspelled spans with the gloss indices they replace; `unmatched` spans had no gloss word to replace. */
  fingerspell: { text: string; glosses: number[] }[];
  unmatchedSpans: string[];
  /** Lips-behind-hands offset in hand frames over the sentence. */
  lipOffset: { first: number; mean: number; min: number; max: number };
  /** Face dropouts, lip frames, end exclusive. */
  dropouts: [number, number][];
  streams: Record<StreamName, StreamTruth>;
}

/** A `[rows, cols]` float32 matrix of natural-log probabilities, row-major; each row sums to 1 in probability. */
export interface LogProbMatrix {
  data: Float32Array;
  shape: [number, number];
}

export interface SimulatedSentence {
  id: string;
  text: string;
  /** Hand frames T; lip frames ⌈T / stride⌉. */
  frames: number;
  lipFrames: number;
  /** The fused target: pseudo-gloss ids in the gloss vocabulary. */
  target: number[];
  sign: LogProbMatrix;
  fingerspell: LogProbMatrix;
  lip: LogProbMatrix;
  /** Per hand frame, index into ROUTER_LABELS. */
  router: Uint8Array;
  /** Per lip frame, 1 where the face (mouth) is visible. */
  face: Uint8Array;
  truth: SimulationTruth;
}

/** Seeded draws. */
class Draw {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  /** Erlang(shape, mean): the sum of `shape` exponentials, rounded to frames. */
  frames(d: DurationSettings): number {
    let sum = 0;
    for (let i = 0; i < d.shape; i++) sum -= Math.log(1 - this.next());
    return Math.max(d.min, Math.round((sum * d.mean) / d.shape));
  }
  index(n: number): number {
    return Math.floor(this.next() * n);
  }
  probability(p: { mean: number; sd: number; min: number }, max: number): number {
    return Math.min(max, Math.max(p.min, p.mean + p.sd * this.normal()));
  }
}

/** Everything shared by the sentences of one dataset: settings, vocabularies, confusion neighbourhoods. */
export class Simulator {
  private readonly ids: Record<StreamName, Map<string, number>>;
  private readonly neighbours: Record<StreamName, Neighbours>;

  constructor(
    readonly settings: SimulationSettings,
    readonly vocab: TargetVocabularies,
  ) {
    this.ids = {
      sign: new Map(vocab.gloss.map((t, i) => [t, i])),
      fingerspell: new Map(vocab.letters.map((t, i) => [t, i])),
      lip: new Map(vocab.phonemes.map((t, i) => [t, i])),
    };
    this.neighbours = {
      sign: glossNeighbours(vocab.gloss, settings.seed),
      fingerspell: groupNeighbours(vocab.letters, LETTER_GROUPS),
      lip: groupNeighbours(vocab.phonemes, VISEME_GROUPS),
    };
  }

  private vocabOf(stream: StreamName): readonly string[] {
    return stream === 'sign' ? this.vocab.gloss : stream === 'fingerspell' ? this.vocab.letters : this.vocab.phonemes;
  }

  private id(stream: StreamName, token: string, sentence: SentenceTargets): number {
    const id = this.ids[stream].get(token);
    if (id === undefined) throw new SignweaveInputError(`sentence ${sentence.id}: ${stream} token "${token}" is not in the ${stream} vocabulary`);
    return id;
  }

  /** Each sentence draws from its own seeds (settings seed × id × part), so it does not depend on the others. */
  simulate(sentence: SentenceTargets): SimulatedSentence {
    const seed = (part: string) => stringSeed(`${sentence.id}/${part}`, this.settings.seed);
    const { segments, spans, unmatched } = this.timeline(sentence, new Draw(seed('timeline')));
    const T = segments[segments.length - 1].end;
    const router = new Uint8Array(T);
    for (const s of segments) router.fill(s.kind === 'rest' ? 0 : s.kind === 'sign' ? 1 : 2, s.start, s.end);

    const sign = this.manualStream('sign', segments.filter((s) => s.kind === 'sign'), T, sentence, new Draw(seed('sign')));
    const fingerspell = this.manualStream('fingerspell', segments.filter((s) => s.kind === 'letter'), T, sentence, new Draw(seed('fingerspell')));
    const lip = this.lipStream(sentence, segments, spans, T, new Draw(seed('lip')));
    return {
      id: sentence.id,
      text: sentence.text,
      frames: T,
      lipFrames: lip.matrix.shape[0],
      target: sentence.pseudogloss.map((g) => this.id('sign', g, sentence)),
      sign: sign.matrix,
      fingerspell: fingerspell.matrix,
      lip: lip.matrix,
      router,
      face: lip.face,
      truth: {
        segments,
        fingerspell: spans,
        unmatchedSpans: unmatched,
        lipOffset: lip.offset,
        dropouts: lip.dropouts,
        streams: { sign: sign.truth, fingerspell: fingerspell.truth, lip: lip.truth },
      },
    };
  }

  /** Rest, then each sign or fingerspelled span (letter by letter) with an occasional pause between, then rest. */
  private timeline(sentence: SentenceTargets, draw: Draw) {
    const t = this.settings.timeline;
    const { spans, unmatched } = matchSpans(sentence);
    const spanAt = new Map(spans.map((s) => [s.glosses[0], s]));
    const segments: TimelineSegment[] = [];
    let now = 0;
    const push = (kind: TimelineSegment['kind'], frames: number, token?: string, gloss?: number) => {
      segments.push({ kind, start: now, end: now + frames, ...(token !== undefined ? { token, gloss } : {}) });
      now += frames;
    };
    push('rest', draw.frames(t.restStart));
    for (let i = 0; i < sentence.pseudogloss.length; i++) {
      if (i > 0 && draw.next() < t.pauseProbability) push('rest', draw.frames(t.pause));
      const span = spanAt.get(i);
      if (span) {
        for (const ch of span.chars) push('letter', draw.frames(t.letter), ch, i);
        i = span.glosses[span.glosses.length - 1];
      } else {
        push('sign', draw.frames(t.sign), sentence.pseudogloss[i], i);
      }
    }
    push('rest', draw.frames(t.restEnd));
    return { segments, spans: spans.map(({ text, glosses }) => ({ text, glosses })), unmatched };
  }

  /**
   * Sign or fingerspelling stream: one reference token per segment; its spike sits inside the segment, away from the
   * first frame (so equal neighbours stay separated by a blank) and the last (where an insertion goes).
   */
  private manualStream(stream: 'sign' | 'fingerspell', segments: TimelineSegment[], T: number, sentence: SentenceTargets, draw: Draw) {
    const s = this.settings[stream];
    const spikes: Spike[] = [];
    const events: StreamEvent[] = [];
    for (const seg of segments) {
      const ref = this.id(stream, seg.token!, sentence);
      const len = seg.end - seg.start;
      const start = seg.start + Math.max(1, Math.floor((len - s.peakFrames) / 2));
      this.inject(stream, ref, draw, events, spikes, (insertion) => (insertion ? { ideal: seg.end - 1, limit: seg.end } : { ideal: start, limit: seg.end - 1 }));
    }
    const reference = segments.map((seg) => seg.token!);
    return this.render(stream, T, spikes, events, reference, draw, new Uint8Array(T).fill(1));
  }

  /**
   * Lip stream: each mouthed gloss word's phonemes share its hand segment(s) evenly, shifted by the lip offset,
   * then sampled at the lipreading stride; face dropouts blank out whole lip frames.
   */
  private lipStream(sentence: SentenceTargets, segments: TimelineSegment[], spans: { glosses: number[] }[], T: number, draw: Draw) {
    const s = this.settings.lip;
    const Tl = Math.ceil(T / s.stride);
    const offsets = this.offsets(T, draw);
    const at = (handFrame: number) => Math.max(0, (handFrame + offsets[Math.min(T - 1, Math.max(0, Math.floor(handFrame)))]) / s.stride);

    // The hand time of each gloss word: its sign, or its share of the fingerspelled span it belongs to.
    const words: { gloss: number; start: number; end: number }[] = [];
    for (const seg of segments) if (seg.kind === 'sign') words.push({ gloss: seg.gloss!, start: seg.start, end: seg.end });
    for (const span of spans) {
      const letters = segments.filter((x) => x.kind === 'letter' && x.gloss === span.glosses[0]);
      const [start, end, n] = [letters[0].start, letters[letters.length - 1].end, span.glosses.length];
      span.glosses.forEach((gloss, k) => words.push({ gloss, start: start + (k * (end - start)) / n, end: start + ((k + 1) * (end - start)) / n }));
    }
    words.sort((a, b) => a.gloss - b.gloss);

    const spikes: Spike[] = [];
    const events: StreamEvent[] = [];
    const reference: string[] = [];
    for (const w of words) {
      const phonemes = sentence.phonemes[w.gloss]?.phonemes ?? [];
      reference.push(...phonemes);
      if (draw.next() >= s.mouthing) {
        for (const p of phonemes) events.push({ kind: 'not-mouthed', reference: p });
        continue;
      }
      phonemes.forEach((p, k) => {
        const a = w.start + (k * (w.end - w.start)) / phonemes.length;
        const b = w.start + ((k + 1) * (w.end - w.start)) / phonemes.length;
        const ideal = Math.floor(at((a + b) / 2));
        const limit = Math.max(ideal + 1, Math.ceil(at(b)));
        this.inject('lip', this.id('lip', p, sentence), draw, events, spikes, (insertion) => ({ ideal: insertion ? ideal + 1 : ideal, limit: insertion ? limit + 1 : limit }));
      });
    }

    const face = new Uint8Array(Tl).fill(1);
    const dropouts: [number, number][] = [];
    for (let j = 0; j < Tl; j++) {
      if (draw.next() < s.dropout.rate) {
        const end = Math.min(Tl, j + draw.frames(s.dropout.length));
        face.fill(0, j, end);
        dropouts.push([j, end]);
        j = end - 1;
      }
    }
    let sum = 0;
    for (const o of offsets) sum += o;
    const offset = { first: offsets[0], mean: sum / T, min: Math.min(...offsets), max: Math.max(...offsets) };
    return { ...this.render('lip', Tl, spikes, events, reference, draw, face), face, dropouts, offset };
  }

  /** Lip offset per hand frame: constant, drawn per sentence, or a random walk from a per-sentence start. */
  private offsets(T: number, draw: Draw): number[] {
    const o = this.settings.lip.offset;
    const first = o.mode === 'constant' ? o.frames : o.frames + o.sd * draw.normal();
    const offsets = [first];
    for (let t = 1; t < T; t++) offsets.push(o.mode === 'random-walk' ? offsets[t - 1] + o.step * draw.normal() : first);
    return offsets;
  }

  /** Draws the expert's error for one reference token and queues the spikes it shows. */
  private inject(stream: StreamName, ref: number, draw: Draw, events: StreamEvent[], spikes: Spike[], place: (insertion: boolean) => { ideal: number; limit: number }): void {
    const s = this.settings[stream];
    const vocab = this.vocabOf(stream);
    const u = draw.next();
    const event: StreamEvent =
      u < s.deletion ? { kind: 'deletion', reference: vocab[ref] } : u < s.deletion + s.substitution ? { kind: 'substitution', reference: vocab[ref] } : { kind: 'correct', reference: vocab[ref] };
    events.push(event);
    if (event.kind !== 'deletion') {
      const token = event.kind === 'substitution' ? this.confusion(stream, ref, draw) : ref;
      event.token = vocab[token];
      spikes.push({ token, context: ref, event, ...place(false) });
    }
    if (draw.next() < s.insertion) {
      // Not the token just emitted: CTC would merge the two, and the insertion would not show.
      let token = this.confusion(stream, ref, draw);
      const emitted = spikes[spikes.length - 1]?.event === event ? spikes[spikes.length - 1].token : -1;
      for (let tries = 0; token === emitted && tries < 8; tries++) token = this.confusion(stream, ref, draw);
      const inserted: StreamEvent = { kind: 'insertion', token: vocab[token] };
      events.push(inserted);
      spikes.push({ token, context: ref, event: inserted, ...place(true) });
    }
  }

  /** A token the expert mistakes `ref` for: a confusion neighbour (share `confusable`) or any other token. */
  private confusion(stream: StreamName, ref: number, draw: Draw): number {
    const near = this.neighbours[stream](ref);
    if (near.length > 0 && draw.next() < this.settings[stream].confusable) return near[draw.index(near.length)];
    const V = this.vocabOf(stream).length;
    if (V <= 2) return ref;
    const other = 1 + draw.index(V - 2);
    return other >= ref ? other + 1 : other;
  }

  /**
   * Places the spikes in order (a spike never starts before the previous one ends, and equal tokens keep a blank
   * between them, so greedy CTC decoding recovers them) and fills every frame with a normalised distribution.
   */
  private render(stream: StreamName, T: number, spikes: Spike[], events: StreamEvent[], reference: string[], draw: Draw, face: Uint8Array) {
    const s = this.settings[stream];
    const V = this.vocabOf(stream).length;
    const winner = new Int32Array(T);
    const context = new Int32Array(T).fill(-1);
    const peak = new Float64Array(T);
    const emitted: string[] = [];
    let prevEnd = 0;
    let prevToken = -1;
    for (const spike of spikes) {
      const start = Math.max(spike.ideal, prevEnd + (spike.token === prevToken ? 1 : 0));
      if (start >= T) {
        spike.event.lost = 'no-room';
        continue;
      }
      if (face[start] === 0) {
        spike.event.lost = 'dropout';
        continue;
      }
      spike.event.frame = start;
      const end = Math.min(T, start + Math.max(1, Math.min(s.peakFrames, spike.limit - start)));
      const p = draw.probability(s.peak, 0.999 - s.floor);
      for (let t = start; t < end && face[t] === 1; t++) {
        winner[t] = spike.token;
        context[t] = spike.context;
        peak[t] = p;
      }
      emitted.push(this.vocabOf(stream)[spike.token]);
      prevEnd = end;
      prevToken = spike.token;
    }

    const data = new Float32Array(T * V);
    // Mass above the floor, by token; every other entry of a row is the floor's share.
    const extra = new Map<number, number>();
    const floorShare = s.floor / V;
    for (let t = 0; t < T; t++) {
      const row = data.subarray(t * V, (t + 1) * V);
      if (face[t] === 0) {
        // No mouth to read: the lipreading expert knows nothing, a flat distribution.
        row.fill(-Math.log(V));
        continue;
      }
      const w = winner[t];
      const p = w === 0 ? draw.probability(s.blank, 0.999 - s.floor) : peak[t];
      extra.clear();
      extra.set(w, p);
      this.spread(stream, extra, 1 - p - s.floor, w, context[t], draw);
      row.fill(Math.log(floorShare));
      for (const [v, mass] of extra) row[v] = Math.log(floorShare + mass);
    }
    const counts: StreamCounts = { reference: 0, substitution: 0, deletion: 0, insertion: 0, lost: 0 };
    for (const e of events) {
      if (e.kind === 'not-mouthed') continue;
      if (e.kind === 'insertion') counts.insertion++;
      else {
        counts.reference++;
        if (e.kind === 'substitution') counts.substitution++;
        if (e.kind === 'deletion') counts.deletion++;
      }
      if (e.lost) counts.lost++;
    }
    return { matrix: { data, shape: [T, V] as [number, number] }, truth: { reference, emitted, events, counts } };
  }

  /**
   * The mass the winner leaves: a share `confusableMass` to confusion neighbours of the true token, the rest to
   * random distractors (and the blank, at a spike), each weighted by exp(noise · normal).
   */
  private spread(stream: StreamName, extra: Map<number, number>, mass: number, winner: number, context: number, draw: Draw): void {
    const s = this.settings[stream];
    const V = this.vocabOf(stream).length;
    const near = context >= 0 ? this.neighbours[stream](context).filter((v) => v !== winner) : [];
    const nearCount = Math.min(near.length, s.distractors);
    const random: number[] = winner === 0 ? [] : [0];
    for (let k = 0; k < s.distractors && V > 1; k++) {
      const v = draw.index(V);
      if (v !== winner) random.push(v);
    }
    const groups: [number[], number][] = [];
    if (nearCount > 0) {
      const picked = Array.from({ length: nearCount }, () => near[draw.index(near.length)]);
      groups.push([picked, random.length > 0 ? s.confusableMass : 1]);
    }
    if (random.length > 0) groups.push([random, nearCount > 0 ? 1 - s.confusableMass : 1]);
    if (groups.length === 0) {
      extra.set(winner, extra.get(winner)! + mass);
      return;
    }
    for (const [tokens, share] of groups) {
      const weights = tokens.map(() => Math.exp(s.noise * draw.normal()));
      const total = weights.reduce((a, b) => a + b, 0);
      tokens.forEach((v, k) => extra.set(v, (extra.get(v) ?? 0) + (mass * share * weights[k]) / total));
    }
  }
}

interface Spike {
  token: number;
  /** The reference token the spike stands for (its confusion neighbours get some of the left-over mass). */
  context: number;
  event: StreamEvent;
  /** Frame the spike would start at, and the frame it must end by. */
  ideal: number;
  limit: number;
}

const normalizeWord = (w: string) => w.toUpperCase().replace(/'S$/, '').replace(/[^\p{L}\p{N}]/gu, '');

/** Equal, or one a prefix of the other of at least 4 letters (CHICKPEA / chickpeas). */
function sameWord(gloss: string, word: string): boolean {
  const [a, b] = [normalizeWord(gloss), normalizeWord(word)];
  if (a === '' || b === '') return false;
  return a === b || (Math.min(a.length, b.length) >= 4 && (a.startsWith(b) || b.startsWith(a)));
}

/**
 * The gloss words each fingerspelled span replaces: the first unclaimed gloss matching the span's first word, plus
 * the following glosses while they match the following words. Spans whose words the glosser dropped or changed
 * beyond recognition are returned as unmatched (and are not simulated).
 */
export function matchSpans(sentence: SentenceTargets): { spans: { text: string; glosses: number[]; chars: string[] }[]; unmatched: string[] } {
  const claimed = new Set<number>();
  const spans: { text: string; glosses: number[]; chars: string[] }[] = [];
  const unmatched: string[] = [];
  for (const span of sentence.fingerspell) {
    const words = span.text.split(/[\s-]+/).filter((w) => normalizeWord(w) !== '');
    const first = sentence.pseudogloss.findIndex((g, i) => !claimed.has(i) && words.length > 0 && sameWord(g, words[0]));
    if (first < 0) {
      unmatched.push(span.text);
      continue;
    }
    const glosses = [first];
    while (glosses.length < words.length && first + glosses.length < sentence.pseudogloss.length) {
      const i = first + glosses.length;
      if (claimed.has(i) || !sameWord(sentence.pseudogloss[i], words[glosses.length])) break;
      glosses.push(i);
    }
    for (const i of glosses) claimed.add(i);
    spans.push({ text: span.text, glosses, chars: span.chars });
  }
  spans.sort((a, b) => a.glosses[0] - b.glosses[0]);
  return { spans, unmatched };
}
