/**
 * Text folding shared by whoever writes the search index and whoever queries it, so both
 * sides agree: NFKD, combining marks removed, lower case (`Beyoncé` → `beyonce`).
 */
export function foldText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
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

/** Longest word prefix the completion table stores; longer input is cut to it. */
export const COMPLETION_PREFIX_MAX_CHARS = 12;

/**
 * The completion rows of a name: every prefix of every word, `starts` = 1 for prefixes of
 * the first word (they rank first), deduplicated.
 */
export function completionPrefixes(name: string): { prefix: string; starts: 0 | 1 }[] {
  const seen = new Map<string, 0 | 1>();
  searchWords(name).forEach((word, index) => {
    const chars = [...word].slice(0, COMPLETION_PREFIX_MAX_CHARS);
    for (let n = 1; n <= chars.length; n++) {
      const prefix = chars.slice(0, n).join("");
      if (index === 0) seen.set(prefix, 1);
      else if (!seen.has(prefix)) seen.set(prefix, 0);
    }
  });
  return [...seen].map(([prefix, starts]) => ({ prefix, starts }));
}
