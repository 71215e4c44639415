/** The suggest query written the naive way: `LIKE '%q%'` over the joined catalog. */
export const LIKE_SUGGEST_SQL = `SELECT t.id, t.title AS text, a.name AS subtitle
  FROM tracks t JOIN artists a ON a.id = t.artist_id
  WHERE t.visibility = 'public'
    AND (t.title || ' ' || a.name) LIKE ?1 ESCAPE '\\'
  ORDER BY t.popularity DESC LIMIT 8`;

export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
