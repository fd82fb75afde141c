// The portable (browser) byte helpers must agree with Node's Buffer, which Node uses instead.
import { NameReader, portableReadUtf8, portableUtf8Length, portableWriteUtf8, readUint32BE, writeUint32BE, writeUtf8 } from '../src/bytes.js';
import { Message, decodeFrame, encodeMessage, resolveDecodeOptions } from '../src/index.js';

const samples = [
  '',
  'Arith',
  'Servicé',
  '方法',
  'ключ=значение',
  '😀 emoji pair',
  'lone \ud800 high',
  'lone \udc00 low',
  'end high \ud83d',
  'x'.repeat(64),
  'y'.repeat(65) + 'é',
  'z'.repeat(300),
];

describe('portable bytes', () => {
  test.each(samples)('UTF-8 of %j matches Buffer', (s) => {
    const expected = Buffer.from(s, 'utf8');
    expect(portableUtf8Length(s)).toBe(expected.length);
    const out = new Uint8Array(expected.length + 8);
    const written = portableWriteUtf8(out, s, 3);
    expect(written).toBe(expected.length);
    expect(Buffer.from(out.subarray(3, 3 + written)).equals(expected)).toBe(true);
    expect(portableReadUtf8(out, 3, 3 + written)).toBe(expected.toString('utf8'));
  });

  test('invalid UTF-8 reads as U+FFFD, as Buffer does', () => {
    const bad = new Uint8Array([0x61, 0xff, 0x62, 0xc3]);
    expect(portableReadUtf8(bad, 0, bad.length)).toBe(Buffer.from(bad).toString('utf8'));
  });

  test('uint32 big-endian', () => {
    const b = new Uint8Array(8);
    for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 581]) {
      writeUint32BE(b, v, 2);
      expect(Buffer.from(b).readUInt32BE(2)).toBe(v);
      expect(readUint32BE(b, 2)).toBe(v);
    }
  });
});

describe('Node fast paths', () => {
  test.each(samples)('writeUtf8 of %j writes what Buffer writes', (s) => {
    const expected = Buffer.from(s, 'utf8');
    const out = Buffer.alloc(expected.length + 8);
    expect(writeUtf8(out, s, 3)).toBe(expected.length);
    expect(out.subarray(3, 3 + expected.length).equals(expected)).toBe(true);
  });

  test('a NameReader gives what Buffer decodes, whatever came before', () => {
    const reader = new NameReader();
    // Repeats, changes of the same length, non-ASCII and invalid bytes of an ASCII name's length.
    const names = ['Arith', 'Arith', 'Brith', 'Arith', '方法', '方法', 'Arith', 'ab', 'ab'].map((s) => Buffer.from(s));
    names.push(Buffer.from([0x61, 0xff]), Buffer.from('ab'), Buffer.from([0x61, 0xff]));
    for (const bytes of [...names, ...samples.map((s) => Buffer.from(s)), ...samples.map((s) => Buffer.from(s))]) {
      const framed = Buffer.concat([Buffer.from([1, 2]), bytes, Buffer.from([3])]);
      expect(reader.read(framed, 2, 2 + bytes.length)).toBe(bytes.toString('utf8'));
    }
  });
});

describe('frames cut from a slab', () => {
  const message = (n: number) => new Message({ servicePath: 'Arith', serviceMethod: 'Mul', seq: n, payload: Buffer.alloc(100, n) });

  test('frames encoded one after the other sit side by side in memory, each with its own bytes', () => {
    const frames = Array.from({ length: 10 }, (_, n) => encodeMessage(message(n)));
    // A new slab starts at most once among ten small frames.
    let adjacent = 0;
    for (let i = 1; i < frames.length; i++) {
      if (frames[i].buffer === frames[i - 1].buffer && frames[i].byteOffset === frames[i - 1].byteOffset + frames[i - 1].length) adjacent++;
    }
    expect(adjacent).toBeGreaterThanOrEqual(8);
    frames.forEach((frame, n) => {
      expect(Buffer.isBuffer(frame)).toBe(true);
      const decoded = decodeFrame(frame, resolveDecodeOptions({}));
      expect(decoded.seq).toBe(n);
      expect(Buffer.from(decoded.payload).equals(Buffer.alloc(100, n))).toBe(true);
    });
  });

  test('a frame over 8 KiB gets a buffer of its own', () => {
    const big = encodeMessage(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', payload: Buffer.alloc(9000, 7) }));
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(big.length);
    expect(big.buffer.byteLength).toBeLessThan(64 * 1024);
  });
});
