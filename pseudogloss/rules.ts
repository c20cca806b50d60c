/**
 * Rule-based pseudo-glossers (SignBind-LLM §3.2 Stage 1 without an LLM).
 *
 * `asl` (default, provenance `rules`): contractions expanded, function words dropped, content lemmatised and
 * upper-cased, then reordered toward ASL by the named rules in `ASL_RULES`, applied in that order.
 *
 * `pos-filter` (provenance `rules-pos`): the Sign2GPT recipe (scripts/pseudo_gloss_de.py; the hierarchical-alignment
 * paper uses the same filter): for each token, `lemma.lower()` when its Universal POS tag is NOUN, NUM, ADV, PRON,
 * PROPN, ADJ or VERB; original order, repeats kept, punctuation dropped by its tag. Output is lower-case, as the
 * recipe's (unlike the upper-case `asl` glosses). Differences from running it with spaCy: wink-nlp's tagger and
 * lemmatiser instead of a spaCy English pipeline (Sign2GPT only published German and Chinese runs); spaCy's English
 * pronoun lemmas (me → I, him → he, her → she unless possessive, us → we, them → they) are reproduced by a table;
 * contractions are expanded before tagging, which gives the same kept lemmas as spaCy's do + n't split. Sign2GPT's
 * training-time filter that drops lemmas found in ≥ 40 % of a corpus's sentences is a vocabulary step, not applied
 * here.
 *
 * Both are English-only: a sentence with more German than English function words (PHOENIX-2014T translations), or
 * with letters but none in Latin script (CSL-Daily), is refused with a SignweaveInputError rather than glossed.
 */
import { SignweaveInputError } from '../src/errors.js';
import { analyse, NLP_LIBRARY, type Analysis, type Token, type UniversalPos } from './nlp.js';
import type { PseudoGloss, PseudoGlosser } from './types.js';

/** Bumped whenever either mode's output can change. */
export const RULES_VERSION = '1';

export type RuleMode = 'asl' | 'pos-filter';

/** One pseudo-gloss token on its way through the ASL rules, with what the rules need to know about it. */
export interface GlossItem {
  /** Upper-case gloss; empty for topic markers, which only the topic rule reads. Items of one time expression or
   * wh-phrase ("NEXT WEEK", "HOW MANY") are adjacent and share their role, so they move together. */
  gloss: string;
  /** Index of the clause (text between , ; : . ! ? quotes, brackets and dashes). */
  clause: number;
  /** Index of the stretch of a clause up to the next conjunction, linker or relative pronoun: where time moves to. */
  phrase: number;
  /** A phrase cut again before each new subject pronoun: how far a negation may move. */
  segment: number;
  /** The clause ends with "?". */
  question: boolean;
  role: 'word' | 'time' | 'wh' | 'negation' | 'topic-open' | 'topic-close';
  /** A wh-word that precedes every verb of its clause (a fronted, question wh-word). */
  fronted: boolean;
}

export interface AslRule {
  name: string;
  /** The ASL grammar point the rule implements, with a reference. */
  grammar: string;
  apply(items: readonly GlossItem[]): GlossItem[];
}

// ---------------------------------------------------------------------------------------------------------------
// Word classes

const ARTICLES = new Set(['a', 'an', 'the']);
/** be/have/do and tense auxiliaries carry no sign of their own; ASL marks tense with time signs. */
const DROPPED_AUX = new Set(['be', 'have', 'do', 'will', 'would', 'shall', 'get']);
/** Modals ASL signs lexically (CAN, COULD, SHOULD, MUST, MIGHT, MAY). */
const MODALS = new Set(['can', 'could', 'should', 'must', 'might', 'may']);
const KEPT_ADPOSITIONS = new Set([
  'after', 'before', 'behind', 'between', 'under', 'without', 'during', 'until', 'till', 'across', 'around', 'through',
  'inside', 'outside', 'near', 'against',
]);
const PARTICLES = new Set(['up', 'down', 'out', 'off', 'away', 'back']);
const NOMINAL = new Set<UniversalPos>(['DET', 'NOUN', 'PROPN', 'PRON', 'NUM', 'ADJ']);
const KEPT_CONJUNCTIONS = new Set(['but', 'because', 'if', 'before', 'after', 'until', 'till', 'unless', 'while', 'although']);
const FILLERS = new Set(['um', 'uh', 'uhm', 'umm', 'er', 'erm', 'ah', 'oh', 'hmm', 'mm', 'huh']);
const WH_WORDS = new Set(['what', 'where', 'who', 'whom', 'whose', 'which', 'why', 'how', 'when']);
/** "how" moves with these ("HOW MANY", "HOW LONG"). */
const HOW_PARTNERS = new Set(['much', 'many', 'long', 'often', 'old', 'far', 'big', 'soon']);
/** spaCy's English pronoun lemmas: object forms → subject forms (the same ASL sign). */
const PRONOUN_LEMMAS: Record<string, string> = { me: 'i', him: 'he', us: 'we', them: 'they', whom: 'who' };
const SYMBOLS: Record<string, string> = { '%': 'PERCENT', $: 'DOLLAR', '+': 'PLUS', '=': 'EQUAL', '°': 'DEGREE' };

const TIME_WORDS = new Set([
  'now', 'today', 'tonight', 'tomorrow', 'yesterday', 'nowadays', 'currently', 'recently', 'lately', 'soon', 'later',
  'someday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
]);
const TIME_UNITS = new Set([
  'second', 'minute', 'hour', 'day', 'week', 'weekend', 'month', 'year', 'decade', 'century', 'night', 'morning',
  'afternoon', 'evening', 'summer', 'winter', 'spring', 'fall', 'autumn', 'season', 'semester', 'monday', 'tuesday',
  'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
]);
const TIME_MODIFIERS = new Set(['next', 'last', 'this', 'every', 'each', 'past', 'coming']);
const DAY_PARTS = new Set(['morning', 'afternoon', 'evening', 'night', 'noon', 'midnight', 'weekend']);
const TIME_PREPOSITIONS = new Set(['since', 'until', 'till']);
const TIME_INTENSIFIERS = new Set(['right', 'pretty', 'very', 'really', 'just']);

/** Topic markers, and the words that close the topic where it does not run to the end of its clause. */
const TOPIC_MARKERS: { words: string[]; closers?: Set<string> }[] = [
  { words: ['as', 'far', 'as'], closers: new Set(['concerned', 'goes', 'go']) },
  { words: ['when', 'it', 'come', 'to'] },
  { words: ['in', 'terms', 'of'] },
  { words: ['as', 'for'] },
  { words: ['speaking', 'of'] },
  { words: ['regarding'] },
  { words: ['concerning'] },
];

const NUMBER_UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11,
  twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const NUMBER_TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const NUMBER_SCALES: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };

const POS_FILTER_TAGS = new Set<UniversalPos>(['NOUN', 'NUM', 'ADV', 'PRON', 'PROPN', 'ADJ', 'VERB']);

// ---------------------------------------------------------------------------------------------------------------
// Language check

const ENGLISH_FUNCTION_WORDS = new Set(
  ('the a and of to is are were be been you your it its this that these those with for on at from by we they he she ' +
    'his her our their i me my not do does did have has had would can could should there what which who how why ' +
    'when where if or but just').split(' '),
);
const GERMAN_FUNCTION_WORDS = new Set(
  ('der die das den dem des ein eine einen einem einer und ist sind nicht es im auch sich mit von zu zum zur auf bis ' +
    'wir ich sie er wird werden noch nur heute nacht aus bei nach über ueber für fuer oder aber dann doch schon sehr ' +
    'wie wo wer was wenn weil dass daß kein keine morgen gibt bleibt am um vom beim ab gegen liebe guten abend sonst ' +
    'mal unser uns etwas kaum mehr weniger eines davon teils ganz viel viele weiter weiterhin recht').split(' '),
);
const LATIN_LETTER = /\p{Script=Latin}/u;
const ANY_LETTER = /\p{L}/u;

/**
 * Refuses text the English rules cannot gloss. German is recognised by function words and ä/ö/ü/ß outnumbering
 * English function words: it refuses 8,254 of the 8,257 PHOENIX-2014T translations (all of dev and test) and none of
 * How2Sign's sentences. Other Latin-script languages are not detected.
 */
function assertEnglish(text: string): void {
  if (ANY_LETTER.test(text) && !LATIN_LETTER.test(text)) {
    throw new SignweaveInputError(`the rule glosser is English-only; this sentence has no Latin-script letters: "${text}"`);
  }
  let english = 0;
  const german: string[] = [];
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    if (ENGLISH_FUNCTION_WORDS.has(word)) english++;
    if (GERMAN_FUNCTION_WORDS.has(word) || /[äöüß]/.test(word)) german.push(word);
  }
  if (german.length > english) {
    throw new SignweaveInputError(
      `the rule glosser is English-only; this sentence looks German (${german.slice(0, 3).map((w) => `"${w}"`).join(', ')}): "${text}"`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Analysis → gloss items

const CLAUSE_BREAKS = new Set([',', ';', ':', '.', '!', '?', '"', '(', ')', '[', ']', '{', '}']);

function isClauseBreak(tokens: readonly Token[], i: number, text: string): boolean {
  const t = tokens[i];
  if (CLAUSE_BREAKS.has(t.text)) return true;
  // A dash: a hyphen with spaces around it ("fear - and"), or a doubled one ("gonna--her").
  if (t.text !== '-') return false;
  const spaced = text[t.start - 1] === ' ' && text[t.end] === ' ';
  return spaced || tokens[i - 1]?.text === '-' || tokens[i + 1]?.text === '-';
}

/** "a lot that originate…", "the man who…": a relative pronoun right after what it modifies. */
function startsRelativeClause(tokens: readonly Token[], i: number): boolean {
  return ['that', 'which', 'who', 'whom', 'whose'].includes(tokens[i].normal) && ['NOUN', 'PROPN', 'PRON', 'NUM'].includes(tokens[i - 1]?.pos ?? '');
}

/** Indices of the tokens that belong to time expressions. */
function timeTokens(tokens: readonly Token[]): Set<number> {
  const time = new Set<number>();
  const mark = (from: number, to: number): void => {
    // "since yesterday", "until next week": the temporal preposition moves with its time expression.
    let first = from;
    if (TIME_PREPOSITIONS.has(tokens[first - 1]?.normal ?? '')) first--;
    else if (ARTICLES.has(tokens[first - 1]?.normal ?? '') && TIME_PREPOSITIONS.has(tokens[first - 2]?.normal ?? '')) first -= 2;
    for (let k = first; k <= to; k++) time.add(k);
  };
  for (let i = 0; i < tokens.length; i++) {
    if (time.has(i)) continue;
    const t = tokens[i];
    const lemma = t.lemma;
    // "two years ago", "a long time ago": the measure before "ago".
    if (t.normal === 'ago') {
      let from = i;
      while (from > 0 && i - from < 4 && ['NUM', 'ADJ', 'NOUN', 'DET', 'ADV'].includes(tokens[from - 1].pos) && !time.has(from - 1)) from--;
      if (from < i) mark(from, i);
    } else if (TIME_MODIFIERS.has(t.normal) && TIME_UNITS.has(tokens[i + 1]?.lemma ?? '')) {
      mark(i, i + 1); // next week, last night, this morning, every day
      i++;
    } else if (['in', 'at'].includes(t.normal)) {
      // "in the morning", "at night"
      const j = tokens[i + 1]?.normal === 'the' ? i + 2 : i + 1;
      if (DAY_PARTS.has(tokens[j]?.lemma ?? '') && tokens[j + 1]?.pos !== 'NOUN') {
        mark(j, j);
        i = j;
      }
    } else if ((TIME_WORDS.has(lemma) || TIME_WORDS.has(t.normal)) && !(t.normal === 'soon' && tokens[i - 1]?.normal === 'as')) {
      // "right now", "pretty soon" move as one; "as soon as" is a conjunction.
      mark(TIME_INTENSIFIERS.has(tokens[i - 1]?.normal ?? '') ? i - 1 : i, i);
    }
  }
  return time;
}

/** The topic marker starting at token `i`, if any (later words also match by lemma: "comes", "came" → come). */
function topicMarkerAt(tokens: readonly Token[], i: number): (typeof TOPIC_MARKERS)[number] | undefined {
  return TOPIC_MARKERS.find((m) => m.words.every((w, k) => tokens[i + k]?.normal === w || (k > 0 && tokens[i + k]?.lemma === w)));
}

/** Cardinal number words from `i` ("twenty five", "one hundred and five", "twenty-five hundred"): value and end. */
function readNumberWords(tokens: readonly Token[], i: number): { value: number; end: number } | undefined {
  const word = (k: number): string => (tokens[k]?.pos === 'NUM' ? tokens[k].normal : '');
  const hyphenated = (k: number): number => (tokens[k]?.text === '-' && word(k + 1) ? k + 1 : k);
  // below 100: "seven", "seventeen", "seventy", "seventy(-)seven"
  const small = (k: number): { value: number; end: number } | undefined => {
    if (word(k) in NUMBER_UNITS) return { value: NUMBER_UNITS[word(k)], end: k + 1 };
    if (!(word(k) in NUMBER_TENS)) return undefined;
    const u = hyphenated(k + 1);
    const unit = word(u);
    if (unit in NUMBER_UNITS && NUMBER_UNITS[unit] > 0 && NUMBER_UNITS[unit] < 10) return { value: NUMBER_TENS[word(k)] + NUMBER_UNITS[unit], end: u + 1 };
    return { value: NUMBER_TENS[word(k)], end: k + 1 };
  };
  // below 1000: small [hundred [and] small]
  const group = (k: number): { value: number; end: number } | undefined => {
    const head = word(k) === 'hundred' ? { value: 1, end: k } : small(k);
    if (!head) return undefined;
    if (word(head.end) !== 'hundred') return head;
    let k2 = head.end + 1;
    if (tokens[k2]?.normal === 'and' && small(k2 + 1)) k2++;
    const rest = small(k2);
    return { value: head.value * 100 + (rest?.value ?? 0), end: rest?.end ?? head.end + 1 };
  };
  const first = group(i) ?? (word(i) in NUMBER_SCALES ? { value: 1, end: i } : undefined);
  if (!first) return undefined;
  // "nineteen twenty-nine", "twenty twenty": a year read as two two-digit groups.
  const second = first.value >= 10 && first.value < 100 ? group(first.end) : undefined;
  if (second && second.value >= 10 && second.value < 100) return { value: first.value * 100 + second.value, end: second.end };
  // "two thousand five", "three million two hundred thousand"
  let total = 0;
  let current: { value: number; end: number } | undefined = first;
  let lastScale = Infinity;
  let end = i;
  while (current) {
    const scale = NUMBER_SCALES[word(current.end)];
    if (scale === undefined || scale >= lastScale) {
      total += current.value;
      end = current.end;
      break;
    }
    total += current.value * scale;
    lastScale = scale;
    end = current.end + 1;
    current = group(end);
  }
  return { value: total, end };
}

/** Possessive "her" (followed by what it possesses) stays HER; object "her" is SHE, as in spaCy. */
function pronounLemma(tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  if (t.normal === 'her') return ['NOUN', 'ADJ', 'NUM', 'PROPN'].includes(tokens[i + 1]?.pos ?? '') ? 'her' : 'she';
  return PRONOUN_LEMMAS[t.normal] ?? t.lemma;
}

/** Digits as written ("330,000" → 330000) and abbreviations without their dots ("U.S." → US). */
function glossText(text: string): string {
  if (/^\p{N}+(?:,\p{N}{3})+$/u.test(text)) return text.replace(/,/g, '');
  return /^\p{L}(?:\.\p{L})+\.?$/u.test(text) ? text.replace(/\./g, '').toUpperCase() : text.toUpperCase();
}

function aslWord(tokens: readonly Token[], i: number): string | undefined {
  const t = tokens[i];
  const next = tokens[i + 1];
  switch (t.pos) {
    case 'PUNCT':
    case 'SPACE':
      return undefined;
    case 'SYM':
      return SYMBOLS[t.text];
    case 'DET':
      // A capital "A" inside a sentence names the letter or note ("an A pitch pipe"), not the article.
      if (t.text === 'A' && !t.sentenceInitial) return 'A';
      return ARTICLES.has(t.normal) ? undefined : glossText(t.normal);
    case 'AUX': {
      if (MODALS.has(t.lemma)) return glossText(t.lemma);
      // "have" or "do" with no verb after it is a main verb ("I have a dog", "what did he do?"), not an auxiliary.
      let k = i + 1;
      while (tokens[k] && (tokens[k].lemma === 'not' || tokens[k].pos === 'ADV' || tokens[k].pos === 'PRON')) k++;
      if ((t.lemma === 'have' || t.lemma === 'do') && !['VERB', 'AUX'].includes(tokens[k]?.pos ?? '')) return glossText(t.lemma);
      return DROPPED_AUX.has(t.lemma) ? undefined : glossText(t.lemma);
    }
    case 'VERB':
      // "going to" + verb is the periphrastic future, an auxiliary.
      if (t.normal === 'going' && next?.normal === 'to' && tokens[i + 2]?.pos === 'VERB') return undefined;
      return glossText(t.lemma);
    case 'ADP':
      if (KEPT_ADPOSITIONS.has(t.normal)) return glossText(t.normal);
      // A directional particle with no object of its own belongs to the verb ("pick it up", "turn it off", "Up.").
      return PARTICLES.has(t.normal) && !NOMINAL.has(next?.pos ?? '') ? glossText(t.normal) : undefined;
    case 'CCONJ':
    case 'SCONJ':
      return KEPT_CONJUNCTIONS.has(t.normal) ? glossText(t.normal) : undefined;
    case 'PART':
      return t.lemma === 'not' ? 'NOT' : undefined;
    case 'INTJ':
      return FILLERS.has(t.normal) ? undefined : glossText(t.normal);
    case 'PRON':
      // Existential "there is/are" has no sign; locative "there" does.
      if (t.normal === 'there' && next?.pos === 'AUX' && next.lemma === 'be') return undefined;
      return glossText(pronounLemma(tokens, i));
    case 'ADJ':
    case 'ADV':
      // Degree is meaning-bearing (BETTER, BEST, WORSE are signs of their own): adjectives and adverbs keep their form.
      return t.normal === 'not' ? 'NOT' : glossText(t.text);
    default:
      return glossText(t.pos === 'PROPN' || t.pos === 'NUM' ? t.text : t.lemma);
  }
}

/**
 * The ASL glosser's first stage: contractions expanded, function words dropped, content words lemmatised and
 * upper-cased, numbers as digits, each item labelled with its clause and role for the reordering rules. Refuses
 * non-English text (SignweaveInputError).
 */
export function aslItems(sentence: string): GlossItem[] {
  const analysis = analyse(sentence);
  assertEnglish(analysis.text);
  return itemsOf(analysis);
}

/** Words that open a new clause or embedded clause even without punctuation. */
const LINKERS = new Set([
  'and', 'but', 'or', 'so', 'because', 'if', 'when', 'whenever', 'where', 'while', 'which', 'who', 'whom', 'whose',
  'what', 'how', 'why', 'unless', 'until', 'although', 'though', 'whether',
]);
/** Nominative pronouns start a new subject, so a negation never moves past one. "you" and "it" are also objects. */
const SUBJECT_PRONOUNS = new Set(['i', 'he', 'she', 'we', 'they']);

/** Per token: its clause, phrase (clause cut at conjunctions) and segment (phrase cut before a new subject). */
function spans(text: string, tokens: readonly Token[], times: Set<number>) {
  const clause: number[] = [];
  const phrase: number[] = [];
  const segment: number[] = [];
  const questions = new Set<number>();
  let [c, p, g] = [0, 0, 0];
  tokens.forEach((t, i) => {
    if (isClauseBreak(tokens, i, text)) {
      if (t.text === '?') questions.add(c);
      c++;
      p++;
      g++;
    } else if (!times.has(i) && (t.pos === 'CCONJ' || t.pos === 'SCONJ' || LINKERS.has(t.normal) || startsRelativeClause(tokens, i))) {
      p++;
      g++;
    } else if (SUBJECT_PRONOUNS.has(t.normal) && t.pos === 'PRON') {
      g++;
    }
    clause.push(c);
    phrase.push(p);
    segment.push(g);
  });
  return { clause, phrase, segment, questions };
}

function itemsOf({ text, tokens }: Analysis): GlossItem[] {
  const times = timeTokens(tokens);
  const at = spans(text, tokens, times);
  const items: GlossItem[] = [];
  let verbSeen = -1;
  let topicCloser: Set<string> | undefined;
  let topicClause = -1;
  let dollar = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const c = at.clause[i];
    const base = { clause: c, phrase: at.phrase[i], segment: at.segment[i], question: at.questions.has(c), fronted: false };

    const marker = topicMarkerAt(tokens, i);
    if (marker) {
      items.push({ ...base, gloss: '', role: 'topic-open' });
      topicCloser = marker.closers;
      topicClause = c;
      i += marker.words.length - 1;
      continue;
    }
    // A closer only counts in the marker's own clause ("as far as I know, the car goes fast" has none).
    if (c !== topicClause) topicCloser = undefined;
    if (topicCloser?.has(t.normal)) {
      // "as far as X is concerned": the copula before the closer is dropped as usual.
      items.push({ ...base, gloss: '', role: 'topic-close' });
      topicCloser = undefined;
      continue;
    }
    if (t.pos === 'VERB' || t.pos === 'AUX') verbSeen = c;
    // "$5" is signed 5 DOLLAR.
    if (t.text === '$' && tokens[i + 1]?.pos === 'NUM') {
      dollar = true;
      continue;
    }

    const number = t.pos === 'NUM' ? readNumberWords(tokens, i) : undefined;
    const time = times.has(i);
    let gloss: string | undefined;
    if (number) gloss = String(number.value);
    else if (time) gloss = ARTICLES.has(t.normal) ? undefined : glossText(t.pos === 'NOUN' ? t.lemma : t.normal);
    else gloss = aslWord(tokens, i);
    let end = number ? number.end - 1 : i;

    if (gloss !== undefined) {
      let role: GlossItem['role'] = 'word';
      let fronted = false;
      const previous = tokens[i - 1];
      if (time) role = 'time';
      else if (WH_WORDS.has(t.normal)) {
        role = 'wh';
        fronted = verbSeen !== c;
      } else if (gloss === 'NOT' && previous?.pos === 'AUX' && !MODALS.has(previous.lemma)) {
        // Sentential negation of a verb phrase ("do not", "is not"); CAN NOT stays together like the sign CAN'T.
        role = 'negation';
      }
      items.push({ ...base, gloss, role, fronted });
      // "how many", "how long": one wh-phrase.
      if (t.normal === 'how' && HOW_PARTNERS.has(tokens[i + 1]?.normal ?? '')) {
        items.push({ ...base, gloss: glossText(tokens[i + 1].normal), role: 'wh', fronted });
        end = i + 1;
      }
    }
    if (dollar && t.pos === 'NUM') {
      items.push({ ...base, gloss: 'DOLLAR', role: 'word' });
      dollar = false;
    }
    i = end;
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// ASL reordering rules

/** Moves the items of `pick` within each run of items sharing `key`, to its start or its end. Stable. */
function moveWithin(items: readonly GlossItem[], key: 'clause' | 'phrase' | 'segment', pick: (item: GlossItem) => boolean, to: 'start' | 'end'): GlossItem[] {
  const out: GlossItem[] = [];
  let i = 0;
  while (i < items.length) {
    let j = i;
    while (j < items.length && items[j][key] === items[i][key]) j++;
    const run = items.slice(i, j);
    const moved = run.filter(pick);
    const rest = run.filter((item) => !pick(item));
    out.push(...(to === 'start' ? [...moved, ...rest] : [...rest, ...moved]));
    i = j;
  }
  return out;
}

export const ASL_RULES: readonly AslRule[] = [
  {
    name: 'time-first',
    grammar:
      'Time is established first: ASL places time signs (TOMORROW, YESTERDAY, NOW, NEXT WEEK, TWO YEAR AGO) at the ' +
      'start of the clause and has no tense inflection (Baker-Shenk & Cokely 1980, "time-topic-comment"; Valli, ' +
      'Lucas & Mulrooney, Linguistics of ASL, 2011). The move stops at conjunctions, so in "call me when you get ' +
      'home tomorrow" TOMORROW opens the when-clause.',
    apply: (items) => moveWithin(items, 'phrase', (item) => item.role === 'time', 'start'),
  },
  {
    name: 'topic-first',
    grammar:
      'Topic before comment: a topic set off by an English topic marker ("as far as X goes", "when it comes to X", ' +
      '"in terms of X", "as for X") moves to the start of its clause and the marker is dropped; in ASL the topic is ' +
      'signed first under raised brows (Liddell 1980; Aarons 1994). Only marked topics move: unmarked objects stay.',
    apply: (items) => {
      const out: GlossItem[] = [];
      let i = 0;
      while (i < items.length) {
        const item = items[i];
        if (item.role !== 'topic-open') {
          if (item.role !== 'topic-close') out.push(item);
          i++;
          continue;
        }
        let j = i + 1;
        while (j < items.length && items[j].clause === item.clause && items[j].role !== 'topic-close' && items[j].role !== 'topic-open') j++;
        const topic = items.slice(i + 1, j);
        const clauseStart = out.findIndex((o) => o.clause === item.clause);
        if (clauseStart === -1) out.push(...topic);
        else out.splice(clauseStart, 0, ...topic);
        i = j;
      }
      return out;
    },
  },
  {
    name: 'negation-last',
    grammar:
      'Negation after the verb phrase: sentential NOT (from "do not", "is not", "won\'t") goes to the end of its ' +
      'verb phrase, where ASL can place the negative sign with the headshake spreading over the VP (Neidle et al. ' +
      '2000, The Syntax of ASL, ch. 3). It stops at the next conjunction so it never crosses into another clause; ' +
      'NEVER and NO stay in place, and CAN NOT stays together like the sign CAN\'T.',
    apply: (items) => moveWithin(items, 'segment', (item) => item.role === 'negation', 'end'),
  },
  {
    name: 'wh-last',
    grammar:
      'Wh-questions end with the wh-sign: a fronted wh-word of a question clause (WHAT, WHERE, WHO, HOW, WHY, WHEN, ' +
      'WHICH, HOW MANY) moves to the end of the clause, as in YOU NAME WHAT (Neidle et al. 2000, ch. 6; Petronio & ' +
      'Lillo-Martin 1997). Embedded and relative wh-words are not moved.',
    apply: (items) => moveWithin(items, 'clause', (item) => item.role === 'wh' && item.question && item.fronted, 'end'),
  },
];

/** Sign2GPT's pos-filter on an analysis: lower-case lemmas of NOUN, NUM, ADV, PRON, PROPN, ADJ, VERB tokens. */
function posFilter({ tokens }: Analysis): string[] {
  const out: string[] = [];
  tokens.forEach((t, i) => {
    if (POS_FILTER_TAGS.has(t.pos)) out.push(t.pos === 'PRON' ? pronounLemma(tokens, i) : t.lemma);
  });
  return out;
}

export interface RuleGlosserOptions {
  /** `asl` (default): ASL-ordered pseudo-gloss; `pos-filter`: Sign2GPT's POS-filtered lemmas. */
  mode?: RuleMode;
}

export class RuleGlosser implements PseudoGlosser {
  readonly mode: RuleMode;
  readonly name: string;
  readonly version = `${RULES_VERSION}~${NLP_LIBRARY}`;

  constructor(options: RuleGlosserOptions = {}) {
    this.mode = options.mode ?? 'asl';
    this.name = this.mode === 'asl' ? 'rules' : 'rules-pos';
  }

  /** Synchronous glossing for bulk use; same result as `gloss`. */
  glossSync(sentence: string): PseudoGloss {
    const provenance = { glosser: this.name, version: this.version };
    if (this.mode === 'pos-filter') {
      const analysis = analyse(sentence);
      assertEnglish(analysis.text);
      return { tokens: posFilter(analysis), provenance };
    }
    const items = ASL_RULES.reduce((acc, rule) => rule.apply(acc), aslItems(sentence));
    return { tokens: items.map((item) => item.gloss).filter(Boolean), provenance };
  }

  async gloss(sentence: string): Promise<PseudoGloss> {
    return this.glossSync(sentence);
  }

  async dispose(): Promise<void> {}
}
