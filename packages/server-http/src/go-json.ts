/**
 * The parts of Go's `encoding/json` that shape Go rpcx's JSON-RPC 2.0 answers: the syntax
 * check with its exact error texts, decoding into the `jsonrpcRequest` struct (case-insensitive
 * field names, type errors, the custom `VersionTag` and `ID` decoders), string quoting and
 * `Compact` with HTML escaping (what `json.Marshal` does to a `json.RawMessage`).
 */
import { CodecError } from '@rpcx/core';

const MAX_DEPTH = 10_000;

/** Go's `quoteChar`: how a byte is shown in a syntax error. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  // strconv.Quote(string(rune(c))): the byte taken as a code point (Latin-1).
  switch (c) {
    case 0x07:
      return `'\\a'`;
    case 0x08:
      return `'\\b'`;
    case 0x0c:
      return `'\\f'`;
    case 0x0a:
      return `'\\n'`;
    case 0x0d:
      return `'\\r'`;
    case 0x09:
      return `'\\t'`;
    case 0x0b:
      return `'\\v'`;
    case 0x5c:
      return `'\\\\'`;
  }
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if ((c >= 0x80 && c < 0xa0) || c === 0xad) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

const enum S {
  BeginValueOrEmpty,
  BeginValue,
  BeginStringOrEmpty,
  BeginString,
  EndValue,
  EndTop,
  InString,
  InStringEsc,
  EscU,
  EscU1,
  EscU12,
  EscU123,
  Neg,
  One,
  Zero,
  Dot,
  Dot0,
  E,
  ESign,
  E0,
  T,
  Tr,
  Tru,
  F,
  Fa,
  Fal,
  Fals,
  N,
  Nu,
  Nul,
  Error,
}

const enum P {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's `encoding/json` scanner, state for state, for its error texts. */
class Scanner {
  state = S.BeginValue;
  stack: P[] = [];
  endTop = false;
  error: string | undefined;

  fail(c: number, context: string): void {
    this.state = S.Error;
    this.error = `invalid character ${quoteChar(c)} ${context}`;
  }

  push(c: number, p: P): void {
    this.stack.push(p);
    if (this.stack.length > MAX_DEPTH) this.fail(c, 'exceeded max depth');
  }

  pop(): void {
    this.stack.pop();
    if (this.stack.length === 0) {
      this.state = S.EndTop;
      this.endTop = true;
    } else {
      this.state = S.EndValue;
    }
  }

  step(c: number): void {
    switch (this.state) {
      case S.BeginValueOrEmpty:
        if (isSpace(c)) return;
        if (c === 0x5d) return this.endValue(c);
        return this.beginValue(c);
      case S.BeginValue:
        return this.beginValue(c);
      case S.BeginStringOrEmpty:
        if (isSpace(c)) return;
        if (c === 0x7d) {
          this.stack[this.stack.length - 1] = P.ObjectValue;
          return this.endValue(c);
        }
        return this.beginString(c);
      case S.BeginString:
        return this.beginString(c);
      case S.EndValue:
        return this.endValue(c);
      case S.EndTop:
        return this.endTopStep(c);
      case S.InString:
        if (c === 0x22) this.state = S.EndValue;
        else if (c === 0x5c) this.state = S.InStringEsc;
        else if (c < 0x20) this.fail(c, 'in string literal');
        return;
      case S.InStringEsc:
        if (c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74 || c === 0x5c || c === 0x2f || c === 0x22) {
          this.state = S.InString;
        } else if (c === 0x75) this.state = S.EscU;
        else this.fail(c, 'in string escape code');
        return;
      case S.EscU:
      case S.EscU1:
      case S.EscU12:
      case S.EscU123:
        if (!isHex(c)) return this.fail(c, 'in \\u hexadecimal character escape');
        this.state = this.state === S.EscU123 ? S.InString : this.state + 1;
        return;
      case S.Neg:
        if (c === 0x30) this.state = S.Zero;
        else if (c >= 0x31 && c <= 0x39) this.state = S.One;
        else this.fail(c, 'in numeric literal');
        return;
      case S.One:
        if (isDigit(c)) return;
        return this.zero(c);
      case S.Zero:
        return this.zero(c);
      case S.Dot:
        if (isDigit(c)) this.state = S.Dot0;
        else this.fail(c, 'after decimal point in numeric literal');
        return;
      case S.Dot0:
        if (isDigit(c)) return;
        if (c === 0x65 || c === 0x45) {
          this.state = S.E;
          return;
        }
        return this.endValue(c);
      case S.E:
        if (c === 0x2b || c === 0x2d) {
          this.state = S.ESign;
          return;
        }
        return this.eSign(c);
      case S.ESign:
        return this.eSign(c);
      case S.E0:
        if (isDigit(c)) return;
        return this.endValue(c);
      case S.T:
        return this.literal(c, 0x72, S.Tr, "in literal true (expecting 'r')");
      case S.Tr:
        return this.literal(c, 0x75, S.Tru, "in literal true (expecting 'u')");
      case S.Tru:
        return this.literal(c, 0x65, S.EndValue, "in literal true (expecting 'e')");
      case S.F:
        return this.literal(c, 0x61, S.Fa, "in literal false (expecting 'a')");
      case S.Fa:
        return this.literal(c, 0x6c, S.Fal, "in literal false (expecting 'l')");
      case S.Fal:
        return this.literal(c, 0x73, S.Fals, "in literal false (expecting 's')");
      case S.Fals:
        return this.literal(c, 0x65, S.EndValue, "in literal false (expecting 'e')");
      case S.N:
        return this.literal(c, 0x75, S.Nu, "in literal null (expecting 'u')");
      case S.Nu:
        return this.literal(c, 0x6c, S.Nul, "in literal null (expecting 'l')");
      case S.Nul:
        return this.literal(c, 0x6c, S.EndValue, "in literal null (expecting 'l')");
      case S.Error:
        return;
    }
  }

  private literal(c: number, want: number, next: S, context: string): void {
    if (c === want) this.state = next;
    else this.fail(c, context);
  }

  private beginValue(c: number): void {
    if (isSpace(c)) return;
    switch (c) {
      case 0x7b: // {
        this.state = S.BeginStringOrEmpty;
        return this.push(c, P.ObjectKey);
      case 0x5b: // [
        this.state = S.BeginValueOrEmpty;
        return this.push(c, P.ArrayValue);
      case 0x22:
        this.state = S.InString;
        return;
      case 0x2d:
        this.state = S.Neg;
        return;
      case 0x30:
        this.state = S.Zero;
        return;
      case 0x74:
        this.state = S.T;
        return;
      case 0x66:
        this.state = S.F;
        return;
      case 0x6e:
        this.state = S.N;
        return;
    }
    if (c >= 0x31 && c <= 0x39) {
      this.state = S.One;
      return;
    }
    this.fail(c, 'looking for beginning of value');
  }

  private beginString(c: number): void {
    if (isSpace(c)) return;
    if (c === 0x22) {
      this.state = S.InString;
      return;
    }
    this.fail(c, 'looking for beginning of object key string');
  }

  private zero(c: number): void {
    if (c === 0x2e) this.state = S.Dot;
    else if (c === 0x65 || c === 0x45) this.state = S.E;
    else this.endValue(c);
  }

  private eSign(c: number): void {
    if (isDigit(c)) this.state = S.E0;
    else this.fail(c, 'in exponent of numeric literal');
  }

  private endValue(c: number): void {
    const n = this.stack.length;
    if (n === 0) {
      this.state = S.EndTop;
      this.endTop = true;
      return this.endTopStep(c);
    }
    if (isSpace(c)) {
      this.state = S.EndValue;
      return;
    }
    switch (this.stack[n - 1]) {
      case P.ObjectKey:
        if (c === 0x3a) {
          this.stack[n - 1] = P.ObjectValue;
          this.state = S.BeginValue;
          return;
        }
        return this.fail(c, 'after object key');
      case P.ObjectValue:
        if (c === 0x2c) {
          this.stack[n - 1] = P.ObjectKey;
          this.state = S.BeginString;
          return;
        }
        if (c === 0x7d) return this.pop();
        return this.fail(c, 'after object key:value pair');
      case P.ArrayValue:
        if (c === 0x2c) {
          this.state = S.BeginValue;
          return;
        }
        if (c === 0x5d) return this.pop();
        return this.fail(c, 'after array element');
    }
  }

  private endTopStep(c: number): void {
    if (!isSpace(c)) this.fail(c, 'after top-level value');
  }

  eof(): string | undefined {
    if (this.error !== undefined) return this.error;
    if (this.endTop) return undefined;
    this.step(0x20);
    if (this.endTop) return undefined;
    return this.error ?? 'unexpected end of JSON input';
  }
}

/** Go's `json.Valid` with the reason: undefined when `data` is one valid JSON value, else Go's error text. */
export function jsonSyntaxError(data: Uint8Array): string | undefined {
  const s = new Scanner();
  for (let i = 0; i < data.length; i++) {
    s.step(data[i]);
    if (s.state === S.Error) return s.error;
  }
  return s.eof();
}

/** Kinds as Go's type errors name them. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'bool' | 'null';

function kindAt(data: Uint8Array, i: number): JsonKind {
  switch (data[i]) {
    case 0x7b:
      return 'object';
    case 0x5b:
      return 'array';
    case 0x22:
      return 'string';
    case 0x74:
    case 0x66:
      return 'bool';
    case 0x6e:
      return 'null';
    default:
      return 'number';
  }
}

function skipSpace(data: Uint8Array, i: number): number {
  while (i < data.length && isSpace(data[i])) i++;
  return i;
}

/** The end of the (valid) value starting at `i`. */
function skipValue(data: Uint8Array, i: number): number {
  const c = data[i];
  if (c === 0x22) return skipString(data, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; i < data.length; i++) {
      const b = data[i];
      if (b === 0x22) i = skipString(data, i) - 1;
      else if (b === 0x7b || b === 0x5b) depth++;
      else if ((b === 0x7d || b === 0x5d) && --depth === 0) return i + 1;
    }
    return i;
  }
  while (i < data.length && !isSpace(data[i]) && data[i] !== 0x2c && data[i] !== 0x7d && data[i] !== 0x5d) i++;
  return i;
}

function skipString(data: Uint8Array, i: number): number {
  for (i++; i < data.length; i++) {
    if (data[i] === 0x5c) i++;
    else if (data[i] === 0x22) return i + 1;
  }
  return i;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A JSON string literal's value as Go decodes it: bad UTF-8 and lone surrogates become U+FFFD. */
function decodeString(raw: Uint8Array): string {
  return (JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as string).replace(LONE_SURROGATE, '\uFFFD');
}

/** Go `strconv.ParseInt(s, 10, 64)` succeeded: the canonical decimal, else undefined. */
function int64Text(raw: string): string | undefined {
  if (!/^-?\d+$/.test(raw)) return undefined;
  const n = BigInt(raw);
  if (n < -(1n << 63n) || n >= 1n << 63n) return undefined;
  return n.toString();
}

/** A JSON-RPC request id: a number (kept as its exact int64 text) or a string. */
export type JsonRpcId = { number: string } | { name: string };

/** What Go's `json.Unmarshal(body, &jsonrpcRequest{})` leaves in the struct. */
export interface JsonRpcRequest {
  method: string;
  /** Raw JSON of `params`, or undefined when absent or null (Go: a nil pointer). */
  params: Uint8Array | undefined;
  /** undefined when absent or null: a notification. */
  id: JsonRpcId | undefined;
}

/** Go's `ID.UnmarshalJSON`: an int64 first, else a string. Throws Go's error text. */
function decodeId(data: Uint8Array, start: number, end: number): JsonRpcId {
  const kind = kindAt(data, start);
  if (kind === 'number') {
    const text = int64Text(Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('latin1'));
    if (text !== undefined) return { number: text };
  }
  if (kind === 'string') return { name: decodeString(data.subarray(start, end)) };
  // The inner type error gets the field's context on its way out of Go's decoder.
  throw new CodecError(`json: cannot unmarshal ${kind} into Go struct field jsonrpcRequest.id of type string`);
}

/** Go's `VersionTag.UnmarshalJSON`: only the string "2.0" (null decodes to "" and fails). */
function checkVersion(data: Uint8Array, start: number, end: number): void {
  const kind = kindAt(data, start);
  let version = '';
  if (kind === 'string') version = decodeString(data.subarray(start, end));
  else if (kind !== 'null') throw new CodecError(`json: cannot unmarshal ${kind} into Go struct field jsonrpcRequest.jsonrpc of type string`);
  if (version !== '2.0') throw new CodecError(`invalid RPC version ${version}`);
}

/**
 * Decode a JSON-RPC request body as Go rpcx does (`json.Unmarshal` into `jsonrpcRequest`).
 * Throws a CodecError with Go's text where Go's Unmarshal fails (answered with -32700).
 */
export function decodeJsonRpcRequest(data: Uint8Array): JsonRpcRequest {
  const syntax = jsonSyntaxError(data);
  if (syntax !== undefined) throw new CodecError(syntax);
  const req: JsonRpcRequest = { method: '', params: undefined, id: undefined };
  let i = skipSpace(data, 0);
  const top = kindAt(data, i);
  if (top === 'null') return req;
  if (top !== 'object') throw new CodecError(`json: cannot unmarshal ${top} into Go value of type server.jsonrpcRequest`);
  // Type errors are kept and reported at the end; the custom decoders' errors stop at once.
  let saved: string | undefined;
  i = skipSpace(data, i + 1);
  while (data[i] !== 0x7d) {
    const keyEnd = skipString(data, i);
    const key = decodeString(data.subarray(i, keyEnd));
    i = skipSpace(data, keyEnd);
    i = skipSpace(data, i + 1); // the colon
    const start = i;
    const end = skipValue(data, i);
    const kind = kindAt(data, start);
    // Go matches field names exactly first, then case-insensitively.
    switch (key.length <= 7 ? key.toLowerCase() : '') {
      case 'jsonrpc':
        checkVersion(data, start, end);
        break;
      case 'method':
        if (kind === 'string') req.method = decodeString(data.subarray(start, end));
        else if (kind !== 'null') saved ??= `json: cannot unmarshal ${kind} into Go struct field jsonrpcRequest.method of type string`;
        break;
      case 'params':
        req.params = kind === 'null' ? undefined : data.slice(start, end);
        break;
      case 'id':
        req.id = kind === 'null' ? undefined : decodeId(data, start, end);
        break;
    }
    i = skipSpace(data, end);
    if (data[i] === 0x2c) i = skipSpace(data, i + 1);
  }
  if (saved !== undefined) throw new CodecError(saved);
  return req;
}

const HEX = '0123456789abcdef';

/** Go's `json.Marshal` of a string (HTML-safe escaping, U+2028/2029 escaped, bad UTF-16 as U+FFFD). */
export function quoteJson(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) continue;
      switch (c) {
        case 0x22:
        case 0x5c:
          esc = '\\' + s[i];
          break;
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        default:
          esc = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x2028 || c === 0x2029) {
      esc = '\\u202' + HEX[c & 0xf];
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      esc = '\\ufffd';
    } else {
      continue;
    }
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

/**
 * Go's `json.Compact` with HTML escaping, which `json.Marshal` applies to a RawMessage:
 * insignificant spaces dropped, `<` `>` `&` and U+2028/2029 escaped. Throws Go's syntax error
 * text when `data` is not one JSON value.
 */
export function compactJson(data: Uint8Array): Buffer {
  const syntax = jsonSyntaxError(data);
  if (syntax !== undefined) throw new CodecError(syntax);
  // What our own JSON codec writes is already compact and escaped: hand it back as it is.
  let clean = true;
  for (let i = 0; i < data.length && clean; i++) {
    const c = data[i];
    clean = !(isSpace(c) || c === 0x3c || c === 0x3e || c === 0x26 || c === 0xe2);
  }
  if (clean) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0x3c || c === 0x3e || c === 0x26) {
      out.push(0x5c, 0x75, 0x30, 0x30, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 0xf));
      continue;
    }
    if (c === 0xe2 && i + 2 < data.length && data[i + 1] === 0x80 && (data[i + 2] & ~1) === 0xa8) {
      out.push(0x5c, 0x75, 0x32, 0x30, 0x32, HEX.charCodeAt(data[i + 2] & 0xf));
      i += 2;
      continue;
    }
    if (inString) {
      if (c === 0x5c) {
        out.push(c, data[++i]);
        continue;
      }
      if (c === 0x22) inString = false;
    } else if (isSpace(c)) {
      continue;
    } else if (c === 0x22) {
      inString = true;
    }
    out.push(c);
  }
  return Buffer.from(out);
}
