/**
 * The few HTTP/1.x bits an rpcx CONNECT exchange needs. Go's client and server end every line
 * with a bare LF (`CONNECT /_rpcx_ HTTP/1.0\n\n`), which Node's own HTTP parser refuses
 * (HPE_INVALID_VERSION on Node 20, a request timeout with `insecureHTTPParser`), so heads are
 * split here, accepting LF and CRLF alike as Go's net/textproto does.
 */

const LF = 0x0a;
const CR = 0x0d;

/**
 * Finds the blank line that ends a head as its bytes arrive, chunk by chunk, without joining
 * them first: a client trickling its head a byte at a time costs linear work, not quadratic.
 */
export class HeadScanner {
  /** Non-CR bytes in the current line so far: a line of none is the blank line. */
  #lineLength = 0;
  /** Bytes scanned so far, the chunk being scanned excluded. */
  #scanned = 0;

  /** Bytes taken into the head so far. */
  get length(): number {
    return this.#scanned;
  }

  /**
   * Scans the next chunk; returns the index in `chunk` just past the blank line (the head's
   * end), or -1 when the head goes on. An LF alone or CR LF ends a line, as in Go's textproto.
   */
  push(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF) {
        if (this.#lineLength === 0) {
          this.#scanned += i + 1;
          return i + 1;
        }
        this.#lineLength = 0;
      } else if (byte !== CR) {
        this.#lineLength++;
      }
    }
    this.#scanned += chunk.length;
    return -1;
  }
}

/** The lines of a head, without their LF / CRLF endings and without the blank line. */
export function headLines(head: Uint8Array): string[] {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export interface RequestLine {
  method: string;
  /** The request target as sent, e.g. `/_rpcx_` or `/_rpcx_?a=b`. */
  target: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  version: string;
}

/** Go's parseRequestLine: `METHOD SP target SP HTTP/x.y`; undefined when malformed. */
export function parseRequestLine(line: string): RequestLine | undefined {
  const first = line.indexOf(' ');
  const second = first < 0 ? -1 : line.indexOf(' ', first + 1);
  if (first <= 0 || second < 0) return undefined;
  const method = line.slice(0, first);
  const target = line.slice(first + 1, second);
  const version = line.slice(second + 1);
  if (target === '' || !/^HTTP\/\d\.\d$/.test(version) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) {
    return undefined;
  }
  return { method, target, version };
}

/** The path of a request target, without query or fragment. */
export function targetPath(target: string): string {
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

/**
 * The status of a response line as Go's http.ReadResponse sets `Response.Status`: what follows
 * the protocol and its space, e.g. `200 Connected to rpcx`. Undefined when malformed.
 */
export function parseStatusLine(line: string): string | undefined {
  const space = line.indexOf(' ');
  if (space < 0 || !line.startsWith('HTTP/')) return undefined;
  const status = line.slice(space + 1).replace(/^ +/, '');
  return /^\d{3}( |$)/.test(status) ? status : undefined;
}
