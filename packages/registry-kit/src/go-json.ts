const HEX = '0123456789abcdef';

/**
 * A string as Go's `encoding/json` writes it (HTML escaping on, the `json.Marshal`
 * default): `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`/`\u20XX`; `\b \f \n \r \t`
 * short; other controls `\u00XX`; DEL and all other characters as they are. A lone surrogate
 * (which UTF-8 cannot carry) becomes `\ufffd`, as Go writes invalid UTF-8.
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else {
        out += '\\ufffd';
      }
      continue;
    }
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else out += s[i];
  }
  return `${out}"`;
}
