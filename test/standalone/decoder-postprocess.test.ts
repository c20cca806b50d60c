import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerIsComplete, firstSentenceEnd, postprocessTranslation } from '../../src/decoder/postprocess.js';
import { DEFAULT_DECODER_INSTRUCTION } from '../../src/decoder/prompt.js';

const gloss = 'YESTERDAY MY SISTER CAR BUY';
const context = { gloss, instruction: DEFAULT_DECODER_INSTRUCTION };
const text = (raw: string): string | null => postprocessTranslation(raw, context).text;

describe('postprocessTranslation: from a raw completion to one English sentence', () => {
  it('trims and collapses whitespace', () => {
    assert.equal(text(' My sister bought a car yesterday.'), 'My sister bought a car yesterday.');
    assert.equal(text('\t My   sister\tbought  a car. '), 'My sister bought a car.');
    assert.deepEqual(postprocessTranslation(' I went home.', context), { text: 'I went home.', failure: null, message: null });
  });

  it('a sentence without a final stop is kept whole', () => {
    assert.equal(text(' My sister bought a car yesterday'), 'My sister bought a car yesterday');
  });

  it('keeps the first sentence only', () => {
    assert.equal(text(' My sister bought a car. She likes it. It is red.'), 'My sister bought a car.');
    assert.equal(text('Did she buy a car? Yes.'), 'Did she buy a car?');
    assert.equal(text('She bought a car! It is red.'), 'She bought a car!');
    assert.equal(text('What?! No way.'), 'What?!');
    assert.equal(text('She waited… Then she left.'), 'She waited…');
    assert.equal(text('She waited... Then she left.'), 'She waited...');
  });

  it('abbreviations, initials and decimals do not end a sentence', () => {
    assert.equal(text('Dr. Smith saw my sister. She was sick.'), 'Dr. Smith saw my sister.');
    assert.equal(text('Mrs. Jones and Mr. Lee met St. Louis people. Then left.'), 'Mrs. Jones and Mr. Lee met St. Louis people.');
    assert.equal(text('The car cost 3.5 thousand dollars. It was cheap.'), 'The car cost 3.5 thousand dollars.');
    assert.equal(text('It weighs 2.25 kg. Heavy.'), 'It weighs 2.25 kg.');
    assert.equal(text('She lives in the U.S. Army base now. Really.'), 'She lives in the U.S. Army base now.');
    assert.equal(text('J. K. Rowling wrote it. Yes.'), 'J. K. Rowling wrote it.');
    assert.equal(text('Bring fruit, e.g. Apples and pears. Thanks.'), 'Bring fruit, e.g. Apples and pears.');
    assert.equal(text('They met at No. 5 Main Street. Then they left.'), 'They met at No. 5 Main Street.');
  });

  it('a period before a lower-case word is not a sentence end', () => {
    assert.equal(text('We bought apples, pears, etc. and went home. Then slept.'), 'We bought apples, pears, etc. and went home.');
    assert.equal(text('It costs approx. ten dollars. Cheap.'), 'It costs approx. ten dollars.');
  });

  it('closing quotes and brackets stay with their sentence', () => {
    assert.equal(text('He said "I bought a car." Then he left.'), 'He said "I bought a car."');
    assert.equal(text('She bought a car (a red one.) It was new.'), 'She bought a car (a red one.)');
  });

  it('drops an echoed English: label', () => {
    assert.equal(text('English: My sister bought a car yesterday.'), 'My sister bought a car yesterday.');
    assert.equal(text(' english:   My sister bought a car.'), 'My sister bought a car.');
    assert.equal(text('Translation: My sister bought a car.'), 'My sister bought a car.');
    assert.equal(text('English translation: My sister bought a car.'), 'My sister bought a car.');
  });

  it('drops echoed prompt lines and a repeated gloss before the answer', () => {
    assert.equal(text(`Gloss: ${gloss}\nEnglish: My sister bought a car yesterday.`), 'My sister bought a car yesterday.');
    assert.equal(text(`${gloss}\nMy sister bought a car yesterday.`), 'My sister bought a car yesterday.');
    assert.equal(text('\n\nEnglish:\nMy sister bought a car.'), 'My sister bought a car.');
    assert.equal(text(`${DEFAULT_DECODER_INSTRUCTION}\nMy sister bought a car.`), 'My sister bought a car.');
    assert.equal(text(`pseudo-gloss: ${gloss}\nMy sister bought a car.`), 'My sister bought a car.');
  });

  it('drops a gloss echoed before a separator, but not English that starts with the same words', () => {
    assert.equal(text(`${gloss} -> My sister bought a car yesterday.`), 'My sister bought a car yesterday.');
    assert.equal(text(`${gloss}: My sister bought a car.`), 'My sister bought a car.');
    assert.equal(text(`${gloss} = My sister bought a car.`), 'My sister bought a car.');
    assert.equal(text(`${gloss} — My sister bought a car.`), 'My sister bought a car.');
    const ctx = { gloss: 'I', instruction: DEFAULT_DECODER_INSTRUCTION };
    assert.equal(postprocessTranslation('I am going home.', ctx).text, 'I am going home.');
  });

  it('cuts at the first newline of the answer', () => {
    assert.equal(text('My sister bought a car\nShe likes it'), 'My sister bought a car');
    assert.equal(text('My sister bought a car\r\nGloss: NEXT'), 'My sister bought a car');
  });

  it('strips wrapping quotes', () => {
    assert.equal(text('"My sister bought a car."'), 'My sister bought a car.');
    assert.equal(text('“My sister bought a car.”'), 'My sister bought a car.');
    assert.equal(text("'My sister bought a car.'"), 'My sister bought a car.');
    assert.equal(text('English: "My sister bought a car." "Nice."'), 'My sister bought a car.');
    assert.equal(text('"My sister bought a car. She likes it."'), 'My sister bought a car.');
    assert.equal(text('My sister bought a car."'), 'My sister bought a car.');
    // Quotes inside the sentence stay, and so does an apostrophe at either end.
    assert.equal(text('She said "yes" to the car.'), 'She said "yes" to the car.');
    assert.equal(text("'Twas my sister's car"), "'Twas my sister's car");
    assert.equal(text("The girls' car"), "The girls' car");
  });

  it('nothing left is an empty failure keeping the reason; the raw text is never replaced', () => {
    assert.deepEqual(postprocessTranslation('', context), { text: null, failure: 'empty', message: 'the model generated no text' });
    assert.deepEqual(postprocessTranslation(' \n ', context), { text: null, failure: 'empty', message: 'the model generated no text' });
    for (const raw of [` ${gloss}`, 'English:', `Gloss: ${gloss}`, '""', `${gloss}\n`]) {
      const out = postprocessTranslation(raw, context);
      assert.equal(out.text, null, raw);
      assert.equal(out.failure, 'empty');
      assert.match(out.message ?? '', /^nothing is left of the model's answer ".*" once labels, echoed prompt lines and the repeated gloss are removed$/s);
      assert.ok(out.message?.includes(JSON.stringify(raw).slice(1, -1)));
    }
    const long = postprocessTranslation(`Gloss: ${'X'.repeat(300)}`, context);
    assert.ok((long.message ?? '').length < 300);
  });
});

describe('firstSentenceEnd', () => {
  it('finds the end of the first sentence, past closing quotes', () => {
    assert.equal(firstSentenceEnd('I went. Then', false), 7);
    assert.equal(firstSentenceEnd('I went." Then', false), 8);
    assert.equal(firstSentenceEnd('I went', true), -1);
    assert.equal(firstSentenceEnd('I went.', true), 7);
  });

  it('while the text may still grow, a terminator at its end is undecided', () => {
    assert.equal(firstSentenceEnd('I saw Dr.', false), -1);
    assert.equal(firstSentenceEnd('I went.', false), -1);
    assert.equal(firstSentenceEnd('I went. ', false), -1);
    assert.equal(firstSentenceEnd('It cost 3.', false), -1);
    assert.equal(firstSentenceEnd('It cost 3.5', false), -1);
    assert.equal(firstSentenceEnd('I saw Dr. Who. Then', false), 14);
  });
});

describe('answerIsComplete (the early stop while generating)', () => {
  it('is true once a sentence is followed by the start of another', () => {
    const grow = ['My', ' sister', ' bought', ' a car', '.', ' ', 'She'];
    let acc = '';
    const seen = grow.map((piece) => answerIsComplete((acc += piece), context));
    assert.deepEqual(seen, [false, false, false, false, false, false, true]);
  });

  it('is true once the answer line is finished, and not for echoes or labels', () => {
    assert.equal(answerIsComplete('My sister bought a car\n', context), true);
    assert.equal(answerIsComplete('English:', context), false);
    assert.equal(answerIsComplete(`Gloss: ${gloss}.`, context), false);
    assert.equal(answerIsComplete(`Gloss: ${gloss}.\n`, context), false);
    assert.equal(answerIsComplete(`Gloss: ${gloss}.\nEnglish: She bought it. `, context), false);
    assert.equal(answerIsComplete(`Gloss: ${gloss}.\nEnglish: She bought it. Then`, context), true);
    assert.equal(answerIsComplete('Dr. Smith', context), false);
  });
});
