/**
 * A JSON parser that keeps integers beyond 2^53 exact. Only used when the text has a run of 16+
 * digits (see index.ts); everything else goes to the native `JSON.parse`. Node 20 has no
 * `JSON.parse` source-text access, so a reviver would only ever see the rounded number.
 */

/** What integer literals beyond ±(2^53 − 1) become. */
export type LargeIntegers = 'bigint' | 'string' | 'number';

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

export function parse(text: string, largeIntegers: LargeIntegers): unknown {
  const parser = new Parser(text, largeIntegers);
  const value = parser.value();
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail();
  return value;
}

class Parser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly largeIntegers: LargeIntegers,
  ) {}

  skipSpace(): void {
    const { text } = this;
    let c = text.charCodeAt(this.pos);
    // space, \t, \n, \r
    while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++this.pos);
  }

  fail(): never {
    const at = this.pos;
    if (at >= this.text.length) throw new SyntaxError('Unexpected end of JSON input');
    throw new SyntaxError(`Unexpected token ${JSON.stringify(this.text[at])} in JSON at position ${at}`);
  }

  value(): unknown {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 123: // {
        return this.object();
      case 91: // [
        return this.array();
      case 34: // "
        return this.string();
      case 116: // t
        return this.literal('true', true);
      case 102: // f
        return this.literal('false', false);
      case 110: // n
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, result: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail();
    this.pos += word.length;
    return result;
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++; // {
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 34) this.fail();
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 58) this.fail(); // :
      this.pos++;
      const item = this.value();
      // Plain assignment of "__proto__" would replace the prototype; JSON.parse defines it.
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: item, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = item;
      }
      this.skipSpace();
      const next = this.text.charCodeAt(this.pos++);
      if (next === 125) return out; // }
      if (next !== 44) {
        this.pos--;
        this.fail();
      }
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const next = this.text.charCodeAt(this.pos++);
      if (next === 93) return out; // ]
      if (next !== 44) {
        this.pos--;
        this.fail();
      }
    }
  }

  private string(): string {
    const { text } = this;
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) i++; // skip the escaped character
      else if (Number.isNaN(c)) {
        this.pos = text.length;
        this.fail();
      }
      i++;
    }
    this.pos = i + 1;
    // The native parser validates escapes and control characters for us.
    return JSON.parse(text.slice(start, i + 1)) as string;
  }

  private number(): number | bigint | string {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail();
    const token = match[0];
    this.pos += token.length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    // 15 digits or fewer are always safe; only longer integers need the exact check.
    if (!isInteger || token.length < 16 || this.largeIntegers === 'number') return Number(token);
    const exact = BigInt(token);
    if (exact <= MAX_SAFE && exact >= MIN_SAFE) return Number(token);
    return this.largeIntegers === 'string' ? token : exact;
  }
}
