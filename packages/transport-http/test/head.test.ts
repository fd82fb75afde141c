import { HeadScanner, headLines, parseRequestLine, parseStatusLine, targetPath } from '../src/head.js';

/** Feeds `parts` to a scanner; returns [index of the part where the head ended, end in it]. */
function scan(parts: string[]): [number, number] {
  const scanner = new HeadScanner();
  for (let i = 0; i < parts.length; i++) {
    const end = scanner.push(Buffer.from(parts[i], 'latin1'));
    if (end >= 0) return [i, end];
  }
  return [-1, -1];
}

describe('HTTP head parsing', () => {
  it('finds the blank line after LF and CRLF lines, across chunk borders', () => {
    expect(scan(['CONNECT /_rpcx_ HTTP/1.0\n\nrest'])).toEqual([0, 26]);
    expect(scan(['CONNECT /_rpcx_ HTTP/1.1\r\nHost: a\r\n\r\nrest'])).toEqual([0, 37]);
    expect(scan(['CONNECT /_rpcx_ HTTP/1.0\r', '\n', '\r', '\nx'])).toEqual([3, 1]);
    expect(scan(['HTTP/1.0 200 Connected to rpcx\n', '\n'])).toEqual([1, 1]);
    expect(scan(['CONNECT /_rpcx_ HTTP/1.0\n', 'X: y\n'])).toEqual([-1, -1]);
  });

  it('counts what it scanned, the chunk that ends the head up to its end', () => {
    const scanner = new HeadScanner();
    scanner.push(Buffer.from('GET / HTTP/1.0\n'));
    expect(scanner.length).toBe(15);
    expect(scanner.push(Buffer.from('\nbody'))).toBe(1);
    expect(scanner.length).toBe(16);
  });

  it('scans a head trickled in one byte at a time in linear time', () => {
    const scanner = new HeadScanner();
    const started = Date.now();
    const byte = Buffer.from('a');
    for (let i = 0; i < 1 << 20; i++) scanner.push(byte);
    expect(scanner.length).toBe(1 << 20);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('parses request and status lines as Go does', () => {
    expect(headLines(Buffer.from('CONNECT /_rpcx_ HTTP/1.0\r\nA: b\n\n'))).toEqual(['CONNECT /_rpcx_ HTTP/1.0', 'A: b']);
    expect(parseRequestLine('CONNECT /_rpcx_ HTTP/1.0')).toEqual({ method: 'CONNECT', target: '/_rpcx_', version: 'HTTP/1.0' });
    expect(parseRequestLine('CONNECT /_rpcx_')).toBeUndefined();
    expect(parseRequestLine('CONNECT /_rpcx_ HTTP/x')).toBeUndefined();
    expect(parseRequestLine('')).toBeUndefined();
    expect(targetPath('/_rpcx_?a=b')).toBe('/_rpcx_');
    expect(parseStatusLine('HTTP/1.0 200 Connected to rpcx')).toBe('200 Connected to rpcx');
    expect(parseStatusLine('HTTP/1.1  405 Method Not Allowed')).toBe('405 Method Not Allowed');
    expect(parseStatusLine('SSH-2.0-OpenSSH')).toBeUndefined();
  });
});
