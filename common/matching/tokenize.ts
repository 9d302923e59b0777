/**
 * Word normalization shared by queries and transcripts: lower case, accents
 * folded, possessive "'s" dropped, other apostrophes removed ("don't" →
 * "dont"), anything that is not a letter or digit separates words.
 */
export function words(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'");
  const out: string[] = [];
  for (const raw of folded.match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? []) {
    const w = raw.replace(/'s$/, '').replace(/'/g, '');
    if (w) out.push(w);
  }
  return out;
}

export interface QueryParts {
  /** Quoted parts, each as its normalized words. */
  quoted: string[][];
  /** The words outside quotes, in order. */
  free: string[];
}

/** Splits a query into "quoted phrases" (straight or curly quotes) and the free words around them. */
export function splitQuery(query: string): QueryParts {
  const quoted: string[][] = [];
  const outside = query.replace(/["\u201c\u201d]([^"\u201c\u201d]*)["\u201c\u201d]/g, (_, inner: string) => {
    const ws = words(inner);
    if (ws.length > 0) quoted.push(ws);
    return ' ';
  });
  return { quoted, free: words(outside) };
}
