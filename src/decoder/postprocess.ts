/**
 * From the model's raw completion to one English sentence. Pure functions: the decoder calls `postprocessTranslation`
 * on every output and `answerIsComplete` on the growing text to stop generating once a sentence is done.
 *
 * Steps: skip leading lines that are empty, echo the prompt (`Gloss: …`, an instruction line, a bare `English:`) or
 * repeat the input gloss; on the first line left, drop an `English:` label and an echoed `GLOSS →` prefix; collapse
 * whitespace; keep the first sentence (abbreviations such as "Dr." and decimals such as "3.5" do not end one); strip
 * wrapping quotes. Nothing left is a failure, never replaced by anything.
 */

export type PostprocessResult = { text: string; failure: null; message: null } | { text: null; failure: 'empty'; message: string };

export interface PostprocessContext {
  /** The input pseudo-gloss, whitespace-normalised: a line or prefix repeating it is an echo, not an answer. */
  gloss: string;
  /** The prompt's instruction: a line repeating one of its lines is an echo. */
  instruction?: string;
}

/** Words whose period does not end a sentence: titles before a name, and Latin or reference abbreviations. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'gen', 'col', 'capt', 'lt', 'sgt', 'rev', 'hon',
  'gov', 'sen', 'rep', 'pres', 'no', 'nos', 'vs', 'e.g', 'i.e', 'cf', 'al', 'fig', 'approx', 'dept', 'est', 'vol',
]);

const LABEL = /^(?:english(?:\s+translation)?|translation)\s*:\s*/i;
const BARE_LABEL = /^(?:english(?:\s+translation)?|translation)\s*:?$/i;
const PROMPT_LINE = /^(?:pseudo-?)?gloss\s*:/i;
/** What may separate an echoed gloss from the answer after it: `GLOSS: …`, `GLOSS -> …`, `GLOSS = …`, `GLOSS — …`. */
const ECHO_SEPARATOR = /^\s*(?::|->|=>|=|→|–|—|-)\s*/;
const TERMINATORS = '.!?…';
const CLOSERS = `"'”’»)]`;
const QUOTE_PAIRS: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '«': '»', '`': '`' };
const OPENING: Record<string, string> = Object.fromEntries(Object.entries(QUOTE_PAIRS).map(([open, close]) => [close, open]));
const DOUBLE_QUOTES = new Set(['"', '“', '”', '«', '»']);

export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isLowercaseLetter(ch: string): boolean {
  return ch.toLowerCase() === ch && ch.toUpperCase() !== ch;
}

/** "Dr", "e.g", "U.S", "J": a period after them does not end the sentence. */
function isAbbreviation(word: string): boolean {
  const w = word.replace(/^[("'“‘«[]+/, '');
  return ABBREVIATIONS.has(w.toLowerCase()) || /^(?:[A-Za-z]\.)*[A-Za-z]$/.test(w);
}

/**
 * Index just past the first sentence of `text` (its terminator run and closing quotes or brackets), or -1 when no
 * sentence ends yet. A terminator counts when whitespace and then a character that is not a lower-case letter follow
 * it, or — with `complete` (no more text will come) — the end of the text. A single period after an abbreviation or
 * an initial does not count; "3.5" has no whitespace after its period.
 */
export function firstSentenceEnd(text: string, complete: boolean): number {
  for (let i = 0; i < text.length; i++) {
    if (!TERMINATORS.includes(text[i])) continue;
    const start = i;
    let end = i;
    while (end < text.length && TERMINATORS.includes(text[end])) end++;
    const run = text.slice(start, end);
    while (end < text.length && CLOSERS.includes(text[end])) end++;
    let next = end;
    while (next < text.length && /\s/.test(text[next])) next++;
    i = end - 1;
    if (next === text.length) {
      // Nothing but whitespace after it: the end of the answer, or of the text so far (wait for the next word).
      if (!complete) return -1;
    } else if (next === end || isLowercaseLetter(text[next])) {
      // "3.5", "U.S.A", or a lower-case word after it: not a sentence end.
      continue;
    }
    if (run === '.' && isAbbreviation(text.slice(0, start).split(/\s/).pop() ?? '')) continue;
    return end;
  }
  return -1;
}

interface Candidate {
  /** The answer line with labels and echoes removed, whitespace collapsed. */
  text: string;
  /** Whether a line break followed it in the raw text (the line is finished). */
  lineComplete: boolean;
}

function answerLine(raw: string, context: PostprocessContext): Candidate {
  const gloss = collapseWhitespace(context.gloss);
  const instructionLines = new Set((context.instruction ?? '').split(/\r?\n/).map(collapseWhitespace).filter(Boolean));
  const lines = raw.split(/\r?\n/);
  let index = 0;
  for (; index < lines.length; index++) {
    const line = collapseWhitespace(lines[index]);
    const echo = line === '' || PROMPT_LINE.test(line) || BARE_LABEL.test(line) || line === gloss || instructionLines.has(line);
    // The last line may still be growing: "Gloss" could become "Glossy". Only a finished line is skipped as an echo.
    if (!echo || index === lines.length - 1) break;
  }
  let text = collapseWhitespace(lines[index] ?? '');
  const lineComplete = index < lines.length - 1;
  if (PROMPT_LINE.test(text) || BARE_LABEL.test(text) || text === gloss || instructionLines.has(text)) text = '';
  text = text.replace(LABEL, '');
  if (gloss && text.startsWith(gloss)) {
    const separator = ECHO_SEPARATOR.exec(text.slice(gloss.length));
    if (separator) text = text.slice(gloss.length + separator[0].length);
  }
  return { text: collapseWhitespace(text), lineComplete };
}

function stripWrappingQuotes(text: string): string {
  let t = text;
  for (;;) {
    const first = t[0];
    const last = t[t.length - 1];
    if (t.length >= 2 && QUOTE_PAIRS[first] === last) t = t.slice(1, -1);
    // A double quote alone at one end (the first sentence cut out of a quotation); a lone ' may be an apostrophe.
    else if (DOUBLE_QUOTES.has(first) && !t.includes(QUOTE_PAIRS[first], 1)) t = t.slice(1);
    else if (DOUBLE_QUOTES.has(last) && !t.slice(0, -1).includes(OPENING[last])) t = t.slice(0, -1);
    else return t;
    t = t.trim();
  }
}

/** The English sentence in a raw completion, or an 'empty' failure with the reason and the raw text in the message. */
export function postprocessTranslation(raw: string, context: PostprocessContext): PostprocessResult {
  const { text: line } = answerLine(raw, context);
  const end = firstSentenceEnd(line, true);
  const text = stripWrappingQuotes(end >= 0 ? line.slice(0, end) : line);
  if (text !== '') return { text, failure: null, message: null };
  const message =
    raw.trim() === ''
      ? 'the model generated no text'
      : `nothing is left of the model's answer ${JSON.stringify(raw.length > 120 ? `${raw.slice(0, 120)}…` : raw)} once ` +
        'labels, echoed prompt lines and the repeated gloss are removed';
  return { text: null, failure: 'empty', message };
}

/** Whether the text generated so far already holds a whole answer: a finished answer line or a complete sentence. */
export function answerIsComplete(generated: string, context: PostprocessContext): boolean {
  const { text, lineComplete } = answerLine(generated, context);
  if (text === '') return false;
  return lineComplete || firstSentenceEnd(text, false) >= 0;
}
