import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { expandContractions, splitContraction } from '../../pseudogloss/contractions.js';
import { analyse, type Token } from '../../pseudogloss/nlp.js';
import { normalizeEnglish } from '../../pseudogloss/normalize.js';
import { ASL_RULES, aslItems, RuleGlosser } from '../../pseudogloss/rules.js';
import { SignweaveInputError } from '../../src/errors.js';
import { sharedPath } from '../helpers/shared.js';

// Read before anything else in this process: raw wink-nlp split "customer's" differently the second time it saw it.
const ORDER_SENSITIVE = "I've got the customer's artwork that I have positioned vertically as opposed to horizontally.";
const firstReading = analyse(ORDER_SENSITIVE);

interface UniSignLabel {
  name: string;
  text: string;
}
const uniSign = (split: 'train' | 'test'): UniSignLabel[] =>
  readFileSync(sharedPath('data', 'how2sign', 'unisign_labels_jsonl', `labels.${split}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as UniSignLabel);

/** How2Sign's realigned CSVs: TAB-separated, CSV quoting, CRLF. */
const how2signCsv = (split: 'test' | 'val'): { SENTENCE_NAME: string; SENTENCE: string }[] =>
  parse(readFileSync(sharedPath('data', 'how2sign', 'csv_original_tsv', `how2sign_realigned_${split}.csv`), 'utf8'), {
    delimiter: '\t',
    columns: true,
    relax_quotes: true,
  });

const phoenix = (split: 'dev' | 'test'): string[] =>
  readFileSync(sharedPath('data', 'phoenix2014t', 'nslt_parallel_text', `phoenix2014T.${split}.de`), 'utf8').trim().split('\n');

const asl = new RuleGlosser();
const posFilter = new RuleGlosser({ mode: 'pos-filter' });
const gloss = (sentence: string): string => asl.glossSync(sentence).tokens.join(' ');
const lemmas = (sentence: string): string => posFilter.glossSync(sentence).tokens.join(' ');

/** The ASL gloss with one rule left out, to show what that rule does. */
const glossWithout = (sentence: string, ruleName: string): string =>
  ASL_RULES.filter((rule) => rule.name !== ruleName)
    .reduce((items, rule) => rule.apply(items), aslItems(sentence))
    .map((item) => item.gloss)
    .filter(Boolean)
    .join(' ');

describe('normalizeEnglish', () => {
  it('maps typographic apostrophes, quotes, dashes and spaces to plain ASCII', () => {
    assert.equal(normalizeEnglish('  It’s “fine” — isn‘t it?\u00a0Yes…  it\u00b4s ok\u200b.\n'), 'It\'s "fine" - isn\'t it? Yes... it\'s ok.');
    assert.equal(normalizeEnglish('ﬁne ＡＢＣ ¾ cup, self‐esteem, 1990–1995'), 'fine ABC 3/4 cup, self-esteem, 1990 - 1995');
  });

  it("repairs Uni-Sign's UTF-8-as-Latin-1 apostrophes to what the official How2Sign CSV has", () => {
    const csv = new Map(how2signCsv('test').map((row) => [row.SENTENCE_NAME, row.SENTENCE]));
    const mojibake = uniSign('test').filter((label) => label.text.includes('\u00e2\u0080\u0099'));
    assert.equal(mojibake.length, 23); // as PROVENANCE.txt counts
    for (const label of mojibake) {
      const official = csv.get(label.name.replace(/\.mp4$/, ''))!;
      assert.equal(normalizeEnglish(label.text), normalizeEnglish(official), label.name);
    }
    assert.equal(normalizeEnglish('Youâ\u0080\u0099re â\u0080\u009chey youâ\u0080\u009d, a Â¾ length shot'), 'You\'re "hey you", a 3/4 length shot');
    // genuine Latin-1 text is left alone
    assert.equal(normalizeEnglish('café Zürich'), 'café Zürich');
  });

  it('restores apostrophes that became "?" (How2Sign "you?re", "hero?s") and leaves question marks alone', () => {
    assert.equal(normalizeEnglish('If you?re not, it?s the hero?s pose'), "If you're not, it's the hero's pose");
    assert.equal(normalizeEnglish('Really?Sure. Why?so'), 'Really?Sure. Why?so');
  });

  it('is idempotent on every How2Sign test sentence', () => {
    for (const { text } of uniSign('test')) {
      const once = normalizeEnglish(text);
      assert.equal(normalizeEnglish(once), once);
    }
  });
});

describe('contractions', () => {
  const cases: [string, string][] = [
    ["We've been here", 'We have been here'],
    ["I don't like it", 'I do not like it'],
    ["You can't, we won't, they cannot", 'You can not, we will not, they can not'],
    ["It's its own thing", 'It is its own thing'],
    ["it's been fun", 'it has been fun'],
    ["I'm sure they're fine and you'll see", 'I am sure they are fine and you will see'],
    ["I'd better go; I'd go", 'I had better go; I would go'],
    ["Jack's car and the dog's bowl", "Jack's car and the dog's bowl"],
    ["Let's go, y'all, 'cause we're gonna win", 'Let us go, you all, because we are going to win'],
    ["Won't! WON'T! shouldn't've", 'Will not! WILL NOT! should not have'],
    ["What's up at five o'clock, ma'am, Mr. O'Brien?", "What is up at five o'clock, ma'am, Mr. O'Brien?"],
  ];
  for (const [text, expanded] of cases) {
    it(`${text} → ${expanded}`, () => assert.equal(expandContractions(text), expanded));
  }

  it('splits a word into parts that point back at its characters', () => {
    assert.deepEqual(splitContraction("don't"), [
      { text: 'do', start: 0, end: 2 },
      { text: 'not', start: 2, end: 5 },
    ]);
    assert.deepEqual(splitContraction("can't"), [
      { text: 'can', start: 0, end: 2 },
      { text: 'not', start: 2, end: 5 },
    ]);
    assert.deepEqual(splitContraction("Jack's"), [
      { text: 'Jack', start: 0, end: 4 },
      { text: "'s", start: 4, end: 6 },
    ]);
    assert.equal(splitContraction('its'), undefined);
    assert.equal(splitContraction("o'clock"), undefined);
  });
});

describe('analyse (wink-nlp)', () => {
  it('gives Universal POS tags, lemmas, offsets into the normalised sentence, sentence starts and case', () => {
    const { text, tokens } = analyse('I don’t like   coffee. The children WENT home!');
    assert.equal(text, "I don't like coffee. The children WENT home!");
    const pick = (t: Token) => [t.text, t.pos, t.lemma, text.slice(t.start, t.end), t.sentenceInitial, t.case, t.expanded];
    assert.deepEqual(tokens.map(pick), [
      ['I', 'PRON', 'i', 'I', true, 'upper', false],
      ['do', 'AUX', 'do', 'do', false, 'lower', true],
      ['not', 'PART', 'not', "n't", false, 'lower', true],
      ['like', 'VERB', 'like', 'like', false, 'lower', false],
      ['coffee', 'NOUN', 'coffee', 'coffee', false, 'lower', false],
      ['.', 'PUNCT', '.', '.', false, 'none', false],
      ['The', 'DET', 'the', 'The', true, 'title', false],
      ['children', 'NOUN', 'child', 'children', false, 'lower', false],
      ['WENT', 'VERB', 'go', 'WENT', false, 'upper', false],
      ['home', 'ADV', 'home', 'home', false, 'lower', false],
      ['!', 'PUNCT', '!', '!', false, 'none', false],
    ]);
  });

  it('does not depend on what was analysed before', () => {
    const before = uniSign('test').slice(0, 800).map(({ text }) => analyse(text));
    assert.deepEqual(analyse(ORDER_SENSITIVE), firstReading);
    const customer = firstReading.tokens.find((t) => t.text === 'customer');
    assert.equal(customer?.pos, 'NOUN');
    const again = uniSign('test').slice(0, 800).map(({ text }) => analyse(text));
    assert.deepEqual(again, before);
  });
});

describe('RuleGlosser asl', () => {
  const handAnalysed: [string, string][] = [
    // the How2Sign clips of PROVENANCE.txt
    ['You have used waterproof mascara, now how do you remove it?', 'YOU USE WATERPROOF MASCARA NOW YOU REMOVE IT HOW'],
    ['The white rice and picadillo go hand in hand; they go together.', 'WHITE RICE PICADILLO GO HAND HAND THEY GO TOGETHER'],
    ["You're wheel lugs look good, we don't see any leaks on the fuel line.", 'YOU WHEEL LUG LOOK GOOD WE SEE ANY LEAK FUEL LINE NOT'],
    ['Okay.', 'OKAY'],
    ['All right.', 'ALL RIGHT'],
    // contractions, time, negation, wh-questions
    ["We've been here since yesterday.", 'SINCE YESTERDAY WE HERE'],
    ["I don't like coffee.", 'I LIKE COFFEE NOT'],
    ['What is your name?', 'YOUR NAME WHAT'],
    ['I will go to the store tomorrow.', 'TOMORROW I GO STORE'],
    ["We'll see you next week.", 'NEXT WEEK WE SEE YOU'],
    ['I saw it two years ago.', '2 YEAR AGO I SEE IT'],
    ['How many kids do you have?', 'KID YOU HAVE HOW MANY'],
    ["Why don't you come?", 'YOU COME NOT WHY'],
    ["Where's the U.S. embassy?", 'US EMBASSY WHERE'],
    // lemmas (GOING, WENT → GO; CHILDREN → CHILD) and numbers as digits
    ['The children went and bought twenty-five apples.', 'CHILD GO BUY 25 APPLE'],
    ['In October of nineteen twenty-nine, prices fell by 50% to $330,000.', 'OCTOBER 1929 PRICE FALL 50 PERCENT 330000 DOLLAR'],
    ['Add 1/4 cup of sugar and one hundred and five grams of salt.', 'ADD 1/4 CUP SUGAR 105 GRAM SALT'],
    // what signers keep: pronouns, negation, wh-words in statements, signed modals
    ['She never eats meat and has no money.', 'SHE NEVER EAT MEAT HAVE NO MONEY'],
    ['He gave me them.', 'HE GIVE I THEY'],
    ['I know what you did.', 'I KNOW WHAT YOU DO'],
    ["I can't go.", 'I CAN NOT GO'],
    ['An A pitch pipe works great because A is right there.', 'A PITCH PIPE WORK GREAT BECAUSE A RIGHT THERE'],
    // a directional particle stays with its verb; a preposition with an object goes
    ['Pick it up and go up the stairs.', 'PICK IT UP GO STAIR'],
    ['Up.', 'UP'],
  ];
  for (const [sentence, expected] of handAnalysed) {
    it(`${sentence} → ${expected}`, () => assert.equal(gloss(sentence), expected));
  }

  it('has four rules, applied in order, each naming its ASL grammar point', () => {
    assert.deepEqual(
      ASL_RULES.map((rule) => rule.name),
      ['time-first', 'topic-first', 'negation-last', 'wh-last'],
    );
    for (const rule of ASL_RULES) assert.match(rule.grammar, /\(.*\d{4}/, `${rule.name} cites its source`);
  });

  const ruleCases: [rule: string, sentence: string, withRule: string, withoutRule: string][] = [
    ['time-first', 'I will go to the store tomorrow.', 'TOMORROW I GO STORE', 'I GO STORE TOMORROW'],
    ['time-first', 'Call me when you get home tomorrow.', 'CALL I TOMORROW WHEN YOU GET HOME', 'CALL I WHEN YOU GET HOME TOMORROW'],
    ['topic-first', 'You need to be careful when it comes to salt.', 'SALT YOU NEED CAREFUL', 'YOU NEED CAREFUL SALT'],
    ['topic-first', "It's better in terms of price.", 'PRICE IT BETTER', 'IT BETTER PRICE'],
    ['negation-last', "I don't like coffee.", 'I LIKE COFFEE NOT', 'I NOT LIKE COFFEE'],
    [
      'negation-last',
      "Don't stop just because you ran out of paper towels.",
      'STOP JUST NOT BECAUSE YOU RUN OUT PAPER TOWEL',
      'NOT STOP JUST BECAUSE YOU RUN OUT PAPER TOWEL',
    ],
    ['wh-last', 'What is your name?', 'YOUR NAME WHAT', 'WHAT YOUR NAME'],
    ['wh-last', 'Where do you live?', 'YOU LIVE WHERE', 'WHERE YOU LIVE'],
  ];
  for (const [rule, sentence, withRule, withoutRule] of ruleCases) {
    it(`${rule}: ${sentence}`, () => {
      assert.equal(gloss(sentence), withRule);
      assert.equal(glossWithout(sentence, rule), withoutRule);
    });
  }

  it('leaves alone what the rules must not move', () => {
    assert.equal(gloss('I know where you live.'), 'I KNOW WHERE YOU LIVE'); // embedded wh, not a question
    assert.equal(gloss('As soon as you see the person, cross.'), 'AS SOON YOU SEE PERSON CROSS'); // a conjunction, not time
    assert.equal(gloss('As far as I know, the car goes fast.'), 'I KNOW CAR GO FAST'); // no closer outside its clause
    assert.equal(gloss('I could not see.'), 'I COULD NOT SEE'); // modal + NOT stays together
  });

  it('drops articles, copulas, auxiliaries, infinitival "to", most prepositions and punctuation on How2Sign test', () => {
    const dropped = new Set(['THE', 'AN', 'TO', 'OF', 'IS', 'ARE', 'AM', 'WAS', 'WERE', 'BE', 'BEEN', 'WILL', 'WOULD', 'ON', 'IN', 'AT', 'FOR']);
    const seen = new Set<string>();
    for (const { text } of uniSign('test')) {
      for (const token of asl.glossSync(text).tokens) {
        assert.match(token, /^[A-Z0-9][A-Z0-9'./]*$/, `${token} in ${text}`);
        if (dropped.has(token)) seen.add(`${token} ← ${text}`);
      }
    }
    assert.deepEqual([...seen], []);
  });

  it('is deterministic, names itself, and gloss() equals glossSync()', async () => {
    const sentences = how2signCsv('val').map((row) => row.SENTENCE);
    const forward = sentences.map(gloss);
    const backward = [...sentences].reverse().map(gloss).reverse();
    assert.deepEqual(backward, forward);
    const result = await asl.gloss(sentences[3]);
    assert.deepEqual(result, asl.glossSync(sentences[3]));
    assert.equal(asl.name, 'rules');
    assert.match(asl.version, /^1~wink-nlp-\d+\.\d+\.\d+~wink-eng-lite-web-model-\d+\.\d+\.\d+$/);
    assert.deepEqual(result.provenance, { glosser: 'rules', version: asl.version });
    await asl.dispose();
  });

  it('glosses the whole How2Sign training set well within 30 s', () => {
    const sentences = uniSign('train').map((label) => label.text);
    const start = performance.now();
    const empty = sentences.filter((sentence) => asl.glossSync(sentence).tokens.length === 0);
    const seconds = (performance.now() - start) / 1000;
    assert.equal(sentences.length, 31086);
    assert.ok(seconds < 30, `${seconds.toFixed(1)} s`);
    // only sentences of fillers and function words come out empty ("Um.", "Or.")
    assert.ok(empty.length < 40, `${empty.length} empty: ${empty.slice(0, 5).join(' | ')}`);
  });
});

describe('RuleGlosser pos-filter (Sign2GPT recipe)', () => {
  const cases: [string, string][] = [
    // spaCy: The/DET children/NOUN were/AUX going/VERB to/ADP the/DET store/NOUN
    ['The children were going to the store.', 'child go store'],
    ['What is your name?', 'what your name'],
    ["I don't like coffee.", 'i like coffee'], // n't is PART: the recipe drops negation
    ["We've been here since yesterday.", 'we here yesterday'],
    ['He gave me them.', 'he give i they'], // spaCy's English pronoun lemmas, lower-cased
    ['Okay.', ''], // INTJ
    ['I have twenty-five dogs.', 'i twenty five dog'], // no reordering, numbers as written, AUX dropped
  ];
  for (const [sentence, expected] of cases) {
    it(`${sentence} → ${expected || '(nothing)'}`, () => assert.equal(lemmas(sentence), expected));
  }

  it('keeps order, repeats and lower case, and names itself rules-pos', () => {
    assert.equal(lemmas('The dogs chase dogs, and the dogs chase cats.'), 'dog chase dog dog chase cat');
    assert.equal(posFilter.name, 'rules-pos');
    assert.deepEqual(posFilter.glossSync('Hi.').provenance, { glosser: 'rules-pos', version: posFilter.version });
    for (const { text } of uniSign('test').slice(0, 500)) {
      for (const token of posFilter.glossSync(text).tokens) assert.equal(token, token.toLowerCase());
    }
  });
});

describe('English only', () => {
  it('refuses every PHOENIX-2014T dev and test translation (German)', () => {
    for (const sentence of [...phoenix('dev'), ...phoenix('test')]) {
      for (const glosser of [asl, posFilter]) {
        assert.throws(
          () => glosser.glossSync(sentence),
          (err: unknown) => err instanceof SignweaveInputError && /English-only; this sentence looks German/.test(err.message),
          sentence,
        );
      }
    }
  });

  it('refuses Chinese (CSL-Daily) and accepts every How2Sign validation sentence', () => {
    const [chinese] = readFileSync(sharedPath('data', 'csl_daily', 'unisign_labels_jsonl', 'labels.test.jsonl'), 'utf8').split('\n');
    const { text } = JSON.parse(chinese) as { text: string };
    assert.throws(() => asl.glossSync(text), /English-only; this sentence has no Latin-script letters/);
    for (const row of how2signCsv('val')) assert.doesNotThrow(() => asl.glossSync(row.SENTENCE), row.SENTENCE);
  });
});
