/**
 * Text folding shared by whoever writes the search index and whoever queries it, so both
 * sides agree: NFKD, combining marks removed, lower case (`Beyoncé` → `beyonce`).
 */
export function foldText(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** Longest query the search accepts, in characters, and the most words it keeps. */
export const SEARCH_QUERY_MAX_CHARS = 200;
export const SEARCH_QUERY_MAX_WORDS = 8;

/**
 * Splits user input into plain words the way FTS5's unicode61 tokenizer does (letters and
 * digits only). Whatever the input, the result holds no FTS5 syntax.
 */
export function searchWords(query: string): string[] {
  return foldText(query)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
    .slice(0, SEARCH_QUERY_MAX_WORDS);
}

/**
 * An FTS5 MATCH expression that finds rows holding every word, the last one as a prefix:
 * each word is a quoted string, so operators (`NEAR`, `-`, `:`, `*`, `(`) are only text.
 */
export function ftsPrefixQuery(words: readonly string[]): string {
  return words.map((word, i) => `"${word}"${i === words.length - 1 ? "*" : ""}`).join(" ");
}

/** Distinct 3-character shingles of the words, for the typo-tolerant trigram fallback. */
export function trigrams(words: readonly string[]): string[] {
  const grams = new Set<string>();
  for (const word of words) {
    for (let i = 0; i + 3 <= word.length; i++) grams.add(word.slice(i, i + 3));
  }
  return [...grams];
}
