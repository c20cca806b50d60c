/**
 * The gloss → English prompt: an instruction and few-shot pairs, laid out as plain completion or as chat turns.
 *
 * Completion layout (the newline after the answer stops generation):
 *
 *     <instruction>
 *
 *     Gloss: YOUR NAME WHAT
 *     English: What is your name?
 *
 *     Gloss: <input>
 *     English:
 *
 * Chat layout: the instruction as the system message, each pair as a user turn (the gloss) and a model turn (the
 * English), then the input as the last user turn, rendered by the model's own chat template.
 */
import { createHash } from 'node:crypto';
import type { ChatHistoryItem } from 'node-llama-cpp';
import { SignweaveInputError } from '../errors.js';
import { readLines } from '../util/text-files.js';
import type { DecoderPromptOptions, FewShotPair } from './types.js';

/** Bumped whenever the default instruction, the default pairs or the layouts change. */
export const PROMPT_TEMPLATE_VERSION = 'gloss2en-v1';

export const DEFAULT_DECODER_INSTRUCTION =
  'Translate American Sign Language pseudo-gloss into English. A pseudo-gloss is a sequence of upper-case glosses, ' +
  'one per sign, in ASL word order: time first, the topic before the comment, negation and question words last, with ' +
  'no articles, no forms of "be" and no word endings. Answer with one natural English sentence.';

/** Written for this project: time-first, topic-comment, negation-last and wh-last orders, one of each. */
export const DEFAULT_DECODER_FEW_SHOT: readonly FewShotPair[] = [
  { gloss: 'YESTERDAY MY SISTER NEW CAR BUY', english: 'My sister bought a new car yesterday.' },
  { gloss: 'COFFEE I LIKE NOT', english: 'I do not like coffee.' },
  { gloss: 'YOUR TEACHER NAME WHAT', english: "What is your teacher's name?" },
  { gloss: 'NEXT-WEEK WE BOSTON DRIVE', english: 'We are driving to Boston next week.' },
];

export const GLOSS_LABEL = 'Gloss:';
export const ENGLISH_LABEL = 'English:';

/** A prompt ready to lay out: its text parts and the version that names it in provenance. */
export interface ResolvedPrompt {
  instruction: string;
  fewShot: readonly FewShotPair[];
  /** `gloss2en-v1`, or `gloss2en-v1+<16 hex>` for a custom instruction or custom pairs. */
  version: string;
}

/** NFC, trimmed, runs of whitespace (newlines included) as one space: how glosses and examples enter the prompt. */
export function normaliseGloss(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ');
}

function checkPair(pair: FewShotPair, where: string): FewShotPair {
  const out: Record<'gloss' | 'english', string> = { gloss: '', english: '' };
  for (const field of ['gloss', 'english'] as const) {
    const value: unknown = (pair as unknown as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string' || normaliseGloss(value) === '') {
      throw new SignweaveInputError(`${where}: "${field}" must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    out[field] = normaliseGloss(value);
  }
  return out;
}

/**
 * Reads few-shot pairs from a file: JSONL (`{"gloss": …, "english": …}` per line) when the first non-blank line starts
 * with `{`, else TSV (`gloss<TAB>english`). Blank lines are skipped; any other bad line is an input error with
 * `file:line`.
 */
export function readFewShotFile(path: string): FewShotPair[] {
  const { lines } = readLines(path);
  const first = lines.find((line) => line.trim() !== '');
  if (first === undefined) throw new SignweaveInputError(`${path}: no few-shot pairs (the file is empty)`);
  const jsonl = first.trimStart().startsWith('{');
  const pairs: FewShotPair[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    if (jsonl) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new SignweaveInputError(`${where}: not valid JSON (${(err as Error).message})`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SignweaveInputError(`${where}: expected an object {"gloss": …, "english": …}`);
      }
      pairs.push(checkPair(value as FewShotPair, where));
    } else {
      const fields = line.split('\t');
      if (fields.length !== 2) {
        throw new SignweaveInputError(`${where}: expected gloss<TAB>english, found ${fields.length} tab-separated field${fields.length === 1 ? '' : 's'}`);
      }
      pairs.push(checkPair({ gloss: fields[0], english: fields[1] }, where));
    }
  });
  return pairs;
}

/** The instruction and pairs `options` ask for (defaults where not given), checked, with their version. */
export function resolvePrompt(options: DecoderPromptOptions = {}): ResolvedPrompt {
  const { instruction, fewShot } = options;
  if (instruction !== undefined && (typeof instruction !== 'string' || instruction.trim() === '')) {
    throw new SignweaveInputError(`prompt.instruction must be a non-empty string, got ${JSON.stringify(instruction)}`);
  }
  let pairs: readonly FewShotPair[] = DEFAULT_DECODER_FEW_SHOT;
  if (typeof fewShot === 'string') pairs = readFewShotFile(fewShot);
  else if (fewShot !== undefined) {
    if (!Array.isArray(fewShot)) throw new SignweaveInputError('prompt.fewShot must be an array of {gloss, english} pairs or a file path');
    pairs = fewShot.map((pair, i) => checkPair(pair, `prompt.fewShot[${i}]`));
  }
  const text = instruction?.trim() ?? DEFAULT_DECODER_INSTRUCTION;
  // The version names the content: the defaults given explicitly are still the default prompt.
  const custom = text !== DEFAULT_DECODER_INSTRUCTION || JSON.stringify(pairs) !== JSON.stringify(DEFAULT_DECODER_FEW_SHOT);
  const version = custom
    ? `${PROMPT_TEMPLATE_VERSION}+${createHash('sha256').update(JSON.stringify({ instruction: text, fewShot: pairs })).digest('hex').slice(0, 16)}`
    : PROMPT_TEMPLATE_VERSION;
  return { instruction: text, fewShot: pairs, version };
}

/** The plain-completion prompt for one (normalised) gloss; the model continues after `English:`. */
export function completionPrompt(prompt: ResolvedPrompt, gloss: string): string {
  const shots = prompt.fewShot.map((p) => `${GLOSS_LABEL} ${p.gloss}\n${ENGLISH_LABEL} ${p.english}\n\n`).join('');
  return `${prompt.instruction}\n\n${shots}${GLOSS_LABEL} ${gloss}\n${ENGLISH_LABEL}`;
}

/** The chat history for one (normalised) gloss, ending with an empty model turn for the answer. */
export function chatHistory(prompt: ResolvedPrompt, gloss: string): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [{ type: 'system', text: prompt.instruction }];
  for (const p of prompt.fewShot) history.push({ type: 'user', text: p.gloss }, { type: 'model', response: [p.english] });
  history.push({ type: 'user', text: gloss }, { type: 'model', response: [] });
  return history;
}
