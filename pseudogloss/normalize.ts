/**
 * Text normalisation for English sentences before glossing and fingerspelling. Offsets reported by
 * `pseudogloss/` (fingerspelling spans, token offsets) refer to the string this returns.
 */

/**
 * UTF-8 bytes read as Latin-1 (How2Sign via Uni-Sign stores "you’re" as "youâ\u0080\u0099re", and "¾" as "Â¾"):
 * a lead byte C2–F4 followed by the right number of continuation bytes 80–BF. Only sequences that decode to
 * valid UTF-8 are repaired, so genuine Latin-1 text ("café") is left alone.
 */
const MOJIBAKE = /[\u00c2-\u00df][\u0080-\u00bf]|[\u00e0-\u00ef][\u0080-\u00bf]{2}|[\u00f0-\u00f4][\u0080-\u00bf]{3}/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function repairMojibake(text: string): string {
  return text.replace(MOJIBAKE, (seq) => {
    try {
      return utf8.decode(Uint8Array.from(seq, (c) => c.charCodeAt(0)));
    } catch {
      return seq;
    }
  });
}

// Mapped before NFKC, which would turn U+00B4 (acute accent, used as an apostrophe in How2Sign) into space + combining mark.
const APOSTROPHES = /[\u2018\u2019\u201a\u201b\u02bc\u02b9\u02bb\u2032\u0060\u00b4\uff07]/g;
const DOUBLE_QUOTES = /[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\uff02]/g;
// Hyphen-like marks join words ("well-known"); en/em dashes and bars separate clauses, so they become a spaced " - ".
const HYPHENS = /[\u2010\u2011\u2043\u2212\ufe63\uff0d]/g;
const DASHES = /\s*[\u2012\u2013\u2014\u2015\u2e3a\u2e3b\ufe58]\s*/g;
const FRACTION_SLASH = /\u2044/g;
// Zero-width characters and the soft hyphen carry no text.
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const WHITESPACE = /\s+/g;
// An apostrophe lost to "?" by an encoding step ("you?re", "it?s", "hero?s": 91 How2Sign sentences): a "?" between
// a letter and a contraction or possessive ending is never a question mark.
const LOST_APOSTROPHE = /(?<=\p{L})\?(?=(?:s|re|ll|ve|t|m|d)(?![\p{L}\p{N}]))/gu;

/**
 * Normalises an English sentence: repairs UTF-8-as-Latin-1 mojibake, maps typographic apostrophes
 * (’ ‘ ʼ ′ ` ´, and "?" standing for one as in "you?re") to `'` and quotes (“ ” „ « ») to `"`, hyphens to `-` and dashes (– —) to ` - `, applies Unicode
 * NFKC (ligatures, full-width forms, "…" → "...", "¾" → "3/4", non-breaking spaces), drops zero-width characters,
 * collapses whitespace and trims. Idempotent.
 */
export function normalizeEnglish(text: string): string {
  return repairMojibake(text)
    .replace(APOSTROPHES, "'")
    .replace(LOST_APOSTROPHE, "'")
    .replace(DOUBLE_QUOTES, '"')
    .normalize('NFKC')
    .replace(FRACTION_SLASH, '/')
    .replace(HYPHENS, '-')
    .replace(DASHES, ' - ')
    .replace(INVISIBLE, '')
    .replace(WHITESPACE, ' ')
    .trim();
}
