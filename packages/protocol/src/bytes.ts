/**
 * The byte helpers the frame codec needs, on Node's `Buffer` when there is one (its pooled
 * `allocUnsafe`, native UTF-8 `write` and `toString`) and on `Uint8Array`, `TextEncoder` and
 * `TextDecoder` elsewhere (browsers). Chosen once, at load; internal to this package.
 */

interface NodeBufferClass {
  allocUnsafe(size: number): Uint8Array;
  byteLength(s: string, encoding: 'utf8'): number;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
  isBuffer(value: unknown): boolean;
}
interface NodeBufferMethods {
  write(s: string, offset: number, encoding: 'utf8'): number;
  toString(encoding: 'utf8', start: number, end: number): string;
}

const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes for the platform: on Node a `Buffer` view of the same memory, elsewhere the array itself. */
export const asBytes: (chunk: Uint8Array) => Uint8Array = NodeBuffer
  ? (chunk) => (NodeBuffer.isBuffer(chunk) ? chunk : NodeBuffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  : (chunk) => chunk;

/** Uninitialised bytes (Node: pooled for small sizes). */
export const allocBytes: (size: number) => Uint8Array = NodeBuffer ? (size) => NodeBuffer.allocUnsafe(size) : (size) => new Uint8Array(size);

/** The slab frames are cut from, and the frames up to which size are (larger ones: `allocBytes`). */
const SLAB_SIZE = 64 * 1024;
const MAX_SLAB_FRAME = 8 * 1024;
const newSlab: () => Uint8Array = NodeBuffer
  ? () => (NodeBuffer as unknown as { allocUnsafeSlow(size: number): Uint8Array }).allocUnsafeSlow(SLAB_SIZE)
  : () => new Uint8Array(SLAB_SIZE);
let slab: Uint8Array | undefined;
let slabUsed = 0;

/**
 * Uninitialised bytes for one encoded frame. Frames are cut one after the other from a shared
 * 64 KiB slab, so the frames a connection writes in one turn usually sit side by side in memory
 * and its transport can send them as one view (`@rpcx/transport-kit` joins them) instead of a
 * write or a copy per frame. A view of a slab costs a third of Node's `allocUnsafe` (whose 8 KiB
 * pool is refilled every dozen frames); a frame kept keeps its slab, as Node's pool does.
 */
export function allocFrame(size: number): Uint8Array {
  if (size > MAX_SLAB_FRAME) return allocBytes(size);
  if (!slab || SLAB_SIZE - slabUsed < size) {
    slab = newSlab();
    slabUsed = 0;
  }
  const frame = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return frame;
}

/** The UTF-8 length of `s` (lone surrogates count 3, as they encode as U+FFFD). */
export const utf8Length: (s: string) => number = NodeBuffer ? (s) => NodeBuffer.byteLength(s, 'utf8') : portableUtf8Length;

export function portableUtf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Strings up to this many UTF-16 units are tried as ASCII by hand (see writeUtf8 / NameReader). */
const SHORT = 64;

/**
 * Write `s` as UTF-8 at `pos` of bytes from `allocBytes`/`asBytes`; returns the bytes written.
 * Short ASCII (service names, metadata) by hand: a call into Buffer's native write costs more.
 */
export const writeUtf8: (buf: Uint8Array, s: string, pos: number) => number = NodeBuffer
  ? (buf, s, pos) => {
      const n = s.length;
      if (n <= SHORT) {
        let i = 0;
        for (; i < n; i++) {
          const c = s.charCodeAt(i);
          if (c >= 0x80) break;
          buf[pos + i] = c;
        }
        if (i === n) return n;
      }
      return (buf as unknown as NodeBufferMethods).write(s, pos, 'utf8');
    }
  : portableWriteUtf8;

export function portableWriteUtf8(buf: Uint8Array, s: string, pos: number): number {
  // Short ASCII by hand; anything else through TextEncoder.
  if (s.length <= 64) {
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + i] = c;
    }
    if (i === s.length) return i;
  }
  return encoder.encodeInto(s, buf.subarray(pos)).written;
}

/** Read `buf[start, end)` (bytes from `allocBytes`/`asBytes`) as UTF-8. */
export const readUtf8: (buf: Uint8Array, start: number, end: number) => string = NodeBuffer
  ? (buf, start, end) => (buf as unknown as NodeBufferMethods).toString('utf8', start, end)
  : portableReadUtf8;

/**
 * Reads strings that mostly repeat from frame to frame (service path, method, metadata keys
 * such as `traceparent`): the last `size` ASCII strings are kept and given again while the
 * bytes are the same. That saves the decode, and a property stored under a string V8 has seen
 * is found at once (a fresh string is looked up in its string table first: about half the
 * time of decoding a small frame with one metadata entry, Node 20).
 */
export class NameReader {
  /** Most recent first; ASCII only, so a string's length is its byte length. */
  private readonly recent: string[] = [];

  constructor(private readonly size = 1) {}

  read(buf: Uint8Array, start: number, end: number): string {
    const n = end - start;
    for (let k = 0; k < this.recent.length; k++) {
      const known = this.recent[k];
      if (known.length !== n) continue;
      let i = 0;
      while (i < n && buf[start + i] === known.charCodeAt(i)) i++;
      if (i === n) return known;
    }
    const s = readUtf8(buf, start, end);
    // Only ASCII is kept: for other text the length in units is not the length in bytes.
    if (n <= SHORT && s.length === n) {
      if (this.recent.length === this.size) this.recent.pop();
      this.recent.unshift(s);
    }
    return s;
  }
}

export function portableReadUtf8(buf: Uint8Array, start: number, end: number): string {
  // Service names and metadata are short ASCII: cheaper by hand than a TextDecoder call.
  if (end - start <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80) return decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(buf.subarray(start, end));
}

export function readUint32BE(buf: Uint8Array, pos: number): number {
  return buf[pos] * 0x100_0000 + ((buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]);
}

export function writeUint32BE(buf: Uint8Array, value: number, pos: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}
