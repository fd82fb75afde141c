import { gzipSync } from 'node:zlib';
import {
  DecompressedTooLongError,
  MessageTooLongError,
  MetadataTooLongError,
  MetadataTooManyKeysError,
  ProtocolError,
  RpcxError,
  newMetadata,
} from '@rpcx/core';
import {
  DEFAULT_MAX_METADATA_KEYS,
  FrameDecoder,
  Message,
  decompressPayload,
  defaultCompressors,
  encodeMessage,
  heartbeatRequest,
  heartbeatTime,
  type DecodeOptions,
} from '@rpcx/protocol';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Frames from the reference (rpcx-go.md 1.13), reproduced by Go's own protocol package.
const REQUEST_A = hex(
  '08 00 00 30 00 00 00 00 00 00 00 01 00 00 00 1f 00 00 00 05 41 72 69 74 68 00 00 00 03 4d 75 6c 00 00 00 00 00 00 00 07 82 a1 41 0a a1 42 14',
);
const RESPONSE_B = hex(
  '08 00 80 30 00 00 00 00 00 00 00 01 00 00 00 1d 00 00 00 05 41 72 69 74 68 00 00 00 03 4d 75 6c 00 00 00 00 00 00 00 05 81 a1 43 cc c8',
);
const ERROR_C = hex(
  '08 00 81 30 00 00 00 00 00 00 00 01 00 00 00 32 00 00 00 05 41 72 69 74 68 00 00 00 03 4d 75 6c 00 00 00 1a 00 00 00 0e 5f 5f 72 70 63 78 5f 65 72 72 6f 72 5f 5f 00 00 00 04 62 6f 6f 6d 00 00 00 00',
);
const HEARTBEAT_D = hex(
  '08 00 40 30 00 00 00 00 00 00 00 07 00 00 00 19 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 09 d3 17 97 9c fe 36 2a 00 00',
);
const ONEWAY_E = hex(
  '08 00 20 10 00 00 00 00 00 00 00 02 00 00 00 36 00 00 00 05 41 72 69 74 68 00 00 00 03 41 64 64 00 00 00 11 00 00 00 06 5f 5f 41 55 54 48 00 00 00 03 74 6f 6b 00 00 00 0d 7b 22 41 22 3a 31 2c 22 42 22 3a 32 7d',
);

function decodeAll(bytes: Uint8Array[], options?: DecodeOptions): Message[] {
  const out: Message[] = [];
  const d = new FrameDecoder(options);
  for (const b of bytes) d.push(b, (m) => out.push(m));
  return out;
}

describe('encodeMessage matches Go byte for byte', () => {
  test('request A: Arith.Mul msgpack seq 1', () => {
    const m = new Message({ serializeType: 3, seq: 1, servicePath: 'Arith', serviceMethod: 'Mul', payload: hex('82 a1 41 0a a1 42 14') });
    expect(Buffer.from(encodeMessage(m)).toString('hex')).toBe(REQUEST_A.toString('hex'));
  });

  test('response B is the request turned into a response', () => {
    const [req] = decodeAll([REQUEST_A]);
    const res = req.toResponse();
    res.payload = hex('81 a1 43 cc c8');
    expect(Buffer.from(encodeMessage(res)).toString('hex')).toBe(RESPONSE_B.toString('hex'));
  });

  test('error response C carries __rpcx_error__', () => {
    const [req] = decodeAll([REQUEST_A]);
    const res = req.toResponse();
    res.status = 1;
    res.metadata = newMetadata({ __rpcx_error__: 'boom' });
    expect(Buffer.from(encodeMessage(res)).toString('hex')).toBe(ERROR_C.toString('hex'));
  });

  test('heartbeat D', () => {
    expect(Buffer.from(encodeMessage(heartbeatRequest(7, 1700000000000000000n))).toString('hex')).toBe(HEARTBEAT_D.toString('hex'));
  });

  test('oneway E with metadata', () => {
    const m = new Message({
      oneway: true,
      serializeType: 1,
      seq: 2,
      servicePath: 'Arith',
      serviceMethod: 'Add',
      metadata: newMetadata({ __AUTH: 'tok' }),
      payload: Buffer.from('{"A":1,"B":2}'),
    });
    expect(Buffer.from(encodeMessage(m)).toString('hex')).toBe(ONEWAY_E.toString('hex'));
  });
});

describe('FrameDecoder', () => {
  test('decodes every field of the reference frames', () => {
    const [a, b, c, d, e] = decodeAll([REQUEST_A, RESPONSE_B, ERROR_C, HEARTBEAT_D, ONEWAY_E]);
    expect(a).toMatchObject({ isResponse: false, serializeType: 3, seq: 1, servicePath: 'Arith', serviceMethod: 'Mul', status: 0 });
    expect(Buffer.from(a.payload).toString('hex')).toBe('82a1410aa14214');
    expect(b).toMatchObject({ isResponse: true, status: 0, seq: 1 });
    expect(c).toMatchObject({ isResponse: true, status: 1 });
    expect({ ...c.metadata }).toEqual({ __rpcx_error__: 'boom' });
    expect(c.payload.length).toBe(0);
    expect(d).toMatchObject({ heartbeat: true, seq: 7, servicePath: '', serviceMethod: '' });
    expect(heartbeatTime(d.payload)).toBe(1700000000000000000n);
    expect(e).toMatchObject({ oneway: true, serializeType: 1, seq: 2 });
    expect({ ...e.metadata }).toEqual({ __AUTH: 'tok' });
  });

  test('frames split at every byte boundary and packed together decode the same', () => {
    const stream = Buffer.concat([REQUEST_A, ERROR_C, ONEWAY_E]);
    const whole = decodeAll([stream]);
    expect(whole.map((m) => m.seq)).toEqual([1, 1, 2]);
    for (let cut = 1; cut < stream.length; cut++) {
      const parts = decodeAll([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(parts.map((m) => [m.serviceMethod, m.status, Buffer.from(m.payload).toString('hex')])).toEqual(
        whole.map((m) => [m.serviceMethod, m.status, Buffer.from(m.payload).toString('hex')]),
      );
    }
    const bytewise = decodeAll([...stream].map((byte) => Buffer.from([byte])));
    expect(bytewise).toHaveLength(3);
    expect({ ...bytewise[2].metadata }).toEqual({ __AUTH: 'tok' });
  });

  test('a frame without metadata has no map until one is read; the map read is kept, and what is written to it is sent', () => {
    const [m] = decodeAll([encodeMessage(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', seq: 3 }))]);
    expect(m.metadataIfAny).toBeUndefined();
    const map = m.metadata;
    expect(Object.getPrototypeOf(map)).toBeNull();
    expect({ ...map }).toEqual({});
    expect(m.metadata).toBe(map);
    m.metadata.traceparent = 't';
    expect(m.metadataIfAny).toBe(map);
    const [again] = decodeAll([encodeMessage(m)]);
    expect({ ...again.metadata }).toEqual({ traceparent: 't' });
    // A response made from it starts without metadata of its own.
    expect(m.toResponse().metadataIfAny).toBeUndefined();
  });

  test('a frame inside one chunk is a view, not a copy', () => {
    const chunk = Buffer.concat([REQUEST_A, REQUEST_A]);
    const [m] = decodeAll([chunk]);
    expect(m.payload.buffer).toBe(chunk.buffer);
  });

  test('a uint64 seq beyond 2^53 survives as bigint', () => {
    const m = new Message({ seq: 0xffff_ffff_ffff_fffen, servicePath: 'S', serviceMethod: 'M' });
    const [back] = decodeAll([encodeMessage(m)]);
    expect(back.seq).toBe(0xffff_ffff_ffff_fffen);
    const small = decodeAll([encodeMessage(new Message({ seq: 2 ** 53 - 1 }))]);
    expect(small[0].seq).toBe(2 ** 53 - 1);
  });

  test('gzip payloads are inflated and UTF-8 names and metadata round-trip', () => {
    const payload = Buffer.alloc(5000, 'abc');
    const m = new Message({
      compressType: 1,
      servicePath: 'Servicé',
      serviceMethod: '方法',
      metadata: newMetadata({ ключ: 'значение', empty: '' }),
      payload,
    });
    const wire = encodeMessage(m);
    expect(wire.length).toBeLessThan(payload.length);
    const [back] = decodeAll([wire]);
    expect(back.compressType).toBe(1);
    expect(Buffer.from(back.payload).equals(payload)).toBe(true);
    expect(back.servicePath).toBe('Servicé');
    expect(back.serviceMethod).toBe('方法');
    expect({ ...back.metadata }).toEqual({ ключ: 'значение', empty: '' });
  });

  test('metadata keys repeated from frame to frame, and keys of the same length, decode as sent', () => {
    // Keys are reused from the last frames when their bytes match: look-alikes must not be.
    const keys = ['traceparent', 'tracestatf', 'tracestate', '__AUTH', 'ключ', 'кл', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'traceparent'];
    const frames = keys.map((k, i) => encodeMessage(new Message({ seq: i, metadata: newMetadata({ [k]: `v${i}`, traceparent: `t${i}` }) })));
    const back = decodeAll([...frames, ...frames]);
    back.forEach((m, i) => expect({ ...m.metadata }).toEqual({ [keys[i % keys.length]]: `v${i % keys.length}`, traceparent: `t${i % keys.length}` }));
  });

  test('metadata keys like __proto__ are plain data', () => {
    const meta = newMetadata();
    meta['__proto__'] = 'x';
    const [back] = decodeAll([encodeMessage(new Message({ metadata: meta }))]);
    expect(back.metadata['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(back.metadata)).toBeNull();
  });
});

describe('malformed input is a typed error', () => {
  const expectError = (bytes: Buffer, code: string, message?: string | RegExp, options?: DecodeOptions) => {
    let caught: unknown;
    try {
      decodeAll([bytes], options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RpcxError);
    expect((caught as RpcxError).code).toBe(code);
    if (message) expect((caught as Error).message).toMatch(message);
  };

  test('bad magic number, with Go text', () => {
    const bad = Buffer.from(REQUEST_A);
    bad[0] = 0x47;
    expectError(bad, 'RPCX_ERR_BAD_MAGIC', 'wrong magic number: 71');
  });

  test('over the message limit is rejected from the prefix alone', () => {
    const prefixOnly = REQUEST_A.subarray(0, 16);
    expect(() => decodeAll([prefixOnly], { maxMessageLength: 10 })).toThrow(MessageTooLongError);
    expectError(REQUEST_A, 'RPCX_ERR_MESSAGE_TOO_LONG', /^message is too long$/, { maxMessageLength: 30 });
    // a 4 GiB claim fails at once under the default limit, without waiting for the bytes
    const huge = Buffer.from(prefixOnly);
    huge.writeUInt32BE(0xffff_ffff, 12);
    expectError(huge, 'RPCX_ERR_MESSAGE_TOO_LONG');
  });

  test('service path length past the frame', () => {
    const bad = Buffer.from(REQUEST_A);
    bad.writeUInt32BE(1000, 16);
    expectError(bad, 'RPCX_ERR_MALFORMED_FRAME', /service path/);
  });

  test('metadata that does not add up, with Go text', () => {
    const bad = Buffer.from(ERROR_C);
    // key length 0x0e → 0x20: the key would eat into the value-length field
    bad.writeUInt32BE(0x20, 37);
    expectError(bad, 'RPCX_ERR_METADATA', 'wrong metadata lines. some keys or values are missing');
  });

  test('payload length that disagrees with the frame', () => {
    const bad = Buffer.from(REQUEST_A);
    bad.writeUInt32BE(3, 36); // payloadLen sits after 16 + (4+5) + (4+3) + (4+0) bytes
    expectError(bad, 'RPCX_ERR_MALFORMED_FRAME', /payload length/);
  });

  test('total length shorter than the length fields', () => {
    const bad = Buffer.alloc(16);
    bad[0] = 8;
    bad.writeUInt32BE(4, 12);
    expectError(bad, 'RPCX_ERR_MALFORMED_FRAME');
  });

  test('unknown compress type, with Go text', () => {
    const bad = Buffer.from(REQUEST_A);
    bad[2] = 3 << 2;
    expectError(bad, 'RPCX_ERR_UNSUPPORTED_COMPRESSOR', 'unsupported compressor');
  });

  test('invalid gzip', () => {
    const bad = Buffer.from(REQUEST_A);
    bad[2] = 1 << 2;
    expectError(bad, 'RPCX_ERR_BAD_GZIP');
  });

  test('a gzip bomb stops at the decompression limit', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const m = new Message({ servicePath: 'A', serviceMethod: 'B' });
    m.payload = bomb;
    const wire = Buffer.from(encodeMessage(m));
    wire[2] = 1 << 2; // mark as gzip without compressing again
    let caught: unknown;
    try {
      decodeAll([wire], { maxDecompressedLength: 1024 * 1024 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DecompressedTooLongError);
    expect((caught as Error).message).toBe('decompressed size exceeds the maximum allowed size');
  });
});

describe('limits on metadata', () => {
  const withKeys = (n: number) => {
    const metadata = newMetadata();
    for (let i = 0; i < n; i++) metadata[`k${i}`] = 'v';
    return Buffer.from(encodeMessage(new Message({ servicePath: 'A', serviceMethod: 'B', metadata })));
  };

  test('up to maxMetadataKeys keys decode; one more is MetadataTooManyKeysError', () => {
    expect(Object.keys(decodeAll([withKeys(8)], { maxMetadataKeys: 8 })[0].metadata)).toHaveLength(8);
    let caught: unknown;
    try {
      decodeAll([withKeys(9)], { maxMetadataKeys: 8 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MetadataTooManyKeysError);
    expect(caught).toMatchObject({ code: 'RPCX_ERR_METADATA_TOO_MANY_KEYS', limit: 8 });
  });

  test('the defaults allow 1024 keys and refuse 50,000 (750 KB, under the length limit)', () => {
    expect(Object.keys(decodeAll([withKeys(DEFAULT_MAX_METADATA_KEYS)])[0].metadata)).toHaveLength(1024);
    expect(() => decodeAll([withKeys(50_000)])).toThrow(MetadataTooManyKeysError);
  });

  test('a metadata block over maxMetadataLength is refused before it is read', () => {
    const frame = Buffer.from(
      encodeMessage(new Message({ servicePath: 'A', serviceMethod: 'B', metadata: newMetadata({ big: 'x'.repeat(2000) }) })),
    );
    let caught: unknown;
    try {
      decodeAll([frame], { maxMetadataLength: 1024 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MetadataTooLongError);
    expect(caught).toMatchObject({ code: 'RPCX_ERR_METADATA_TOO_LONG', length: 2011, limit: 1024 });
    expect(decodeAll([frame], { maxMetadataLength: 2011 })[0].metadata.big).toHaveLength(2000);
  });
});

describe('FrameDecoder flow control', () => {
  test('onMessage returning false stops; the rest waits unchecked for the next push', () => {
    const d = new FrameDecoder({ maxMessageLength: 40 });
    const big = Buffer.from(encodeMessage(new Message({ servicePath: 'A', serviceMethod: 'B', payload: Buffer.alloc(100) })));
    const seen: Message[] = [];
    // A small frame, then one over the current limit: stopping after the first leaves the
    // second's prefix unread, so raising the limit in between lets it through.
    d.push(Buffer.concat([REQUEST_A, big]), (m) => {
      seen.push(m);
      return false;
    });
    expect(seen).toHaveLength(1);
    expect(d.pendingBytes).toBe(big.length);
    d.maxMessageLength = 1000;
    d.push(new Uint8Array(0), (m) => void seen.push(m));
    expect(seen.map((m) => m.payload.length)).toEqual([7, 100]);
    expect(d.pendingBytes).toBe(0);
  });

  test('with decompress: false the payload stays compressed until decompressPayload', async () => {
    const payload = Buffer.from('hello '.repeat(1000));
    const m = new Message({ servicePath: 'A', serviceMethod: 'B', compressType: 1, payload });
    const [raw] = decodeAll([encodeMessage(m)], { decompress: false });
    expect(raw.compressType).toBe(1);
    // the bytes as sent: encodeMessage's gzip
    expect(Buffer.from(raw.payload).equals(gzipSync(payload))).toBe(true);
    await decompressPayload(raw, defaultCompressors, 1 << 20);
    expect(Buffer.from(raw.payload).equals(payload)).toBe(true);
    expect(raw.compressType).toBe(1);
  });

  test('decompressPayload stops a bomb at its limit with DecompressedTooLongError', async () => {
    const m = new Message({ servicePath: 'A', serviceMethod: 'B' });
    m.payload = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    m.compressType = 1;
    await expect(decompressPayload(m, defaultCompressors, 1 << 20)).rejects.toBeInstanceOf(DecompressedTooLongError);
    m.payload = Buffer.from('not gzip');
    await expect(decompressPayload(m, defaultCompressors, 1 << 20)).rejects.toMatchObject({ code: 'RPCX_ERR_BAD_GZIP' });
  });
});
