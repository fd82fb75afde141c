/**
 * Metadata helpers. rpcx metadata on the wire is a string map; registries store server
 * metadata as a URL query string (`weight=10&group=g1`) written by Go's `url.Values.Encode`.
 */

/** A metadata map. Decoded maps have no prototype, so any key (even `__proto__`) is data. */
export type Metadata = Record<string, string>;

/** A fresh, prototype-less metadata map. */
export function newMetadata(init?: Metadata): Metadata {
  const m = Object.create(null) as Metadata;
  if (init) for (const k of Object.keys(init)) m[k] = init[k];
  return m;
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;
const encoder = new TextEncoder();
// Malformed UTF-8 becomes U+FFFD, as Buffer's toString did.
const decoder = new TextDecoder();

/** Go `url.QueryEscape`: everything but `A-Za-z0-9-_.~` is percent-escaped, space becomes `+`. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of encoder.encode(s)) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go `url.QueryUnescape`; throws on a malformed escape. */
export function queryUnescape(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new URIError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b /* + */) {
      bytes.push(0x20);
    } else {
      let end = i + 1;
      // Copy a run of plain characters at once (surrogate pairs stay whole).
      while (end < s.length && s.charCodeAt(end) !== 0x25 && s.charCodeAt(end) !== 0x2b) end++;
      for (const b of encoder.encode(s.slice(i, end))) bytes.push(b);
      i = end - 1;
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** Go `url.ParseQuery`: every value of every key; pairs with a bad escape or a `;` are skipped. */
export function parseQuery(query: string): Map<string, string[]> {
  return parseQueryWithError(query).values;
}

/**
 * Go `url.ParseQuery` including its error: undefined when Go would return one (a pair with a
 * `;` or a bad `%` escape). Go's selectors and group filter read metadata only when the whole
 * query parsed, so a server with one bad escape keeps weight 1 and is never dropped by group.
 */
export function parseQueryStrict(query: string): Map<string, string[]> | undefined {
  const { values, error } = parseQueryWithError(query);
  return error === undefined ? values : undefined;
}

/** Go's cap on the number of pairs `url.ParseQuery` accepts (GODEBUG `urlmaxqueryparams`). */
const MAX_QUERY_PARAMS = 10_000;

/**
 * Go `url.ParseQuery`: the pairs that parse, and Go's error text when it returns one: past
 * 10 000 pairs nothing is parsed; otherwise `invalid semicolon separator in query` when any
 * pair has a `;`, else the first bad escape (`invalid URL escape "%zz"`). The pairs that parse
 * are kept either way, as Go keeps them.
 */
export function parseQueryWithError(query: string): { values: Map<string, string[]>; error?: string } {
  const values = new Map<string, string[]>();
  let pairs = 1;
  for (let i = query.indexOf('&'); i >= 0; i = query.indexOf('&', i + 1)) pairs++;
  if (pairs > MAX_QUERY_PARAMS) return { values, error: 'number of URL query parameters exceeded limit' };
  let semicolon = false;
  let badEscape: string | undefined;
  for (const part of query.split('&')) {
    if (part.includes(';')) {
      semicolon = true;
      continue;
    }
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = queryUnescape(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : queryUnescape(part.slice(eq + 1));
    } catch (err) {
      badEscape ??= (err as Error).message;
      continue;
    }
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  const error = semicolon ? 'invalid semicolon separator in query' : badEscape;
  return error === undefined ? { values } : { values, error };
}

/** The first value of `key` in a query string, as Go's `url.Values.Get`. */
export function queryGet(query: string, key: string): string | undefined {
  return parseQuery(query).get(key)?.[0];
}

/** Go `url.Values.Encode`: keys sorted, values in order, both query-escaped. */
export function encodeQuery(values: Map<string, readonly string[]> | Record<string, string | readonly string[]>): string {
  const entries: [string, readonly string[]][] =
    values instanceof Map
      ? [...values.entries()]
      : Object.keys(values).map((k) => {
          const v = (values as Record<string, string | readonly string[]>)[k];
          return [k, typeof v === 'string' ? [v] : v];
        });
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  for (const [k, vs] of entries) for (const v of vs) parts.push(`${queryEscape(k)}=${queryEscape(v)}`);
  return parts.join('&');
}
