/**
 * The request path's bytes (as a latin1 string) with percent-escapes decoded, as Go's
 * `URL.Path`; undefined when an escape is malformed (Go answers 400 before any handler).
 */
export function requestPath(target: string): string | undefined {
  let path = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(path);
  if (scheme) path = path.slice(scheme[0].length);
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '%') {
      out += path[i];
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(parseInt(hex, 16));
    i += 2;
  }
  return out;
}
