import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Int64 from 'node-int64';
import { CodecError, PayloadTooDeepError } from '@rpcx/core';
import { codecCompliance, fromHex, goldenFixtures, hex } from '@rpcx/core/testing';
import { thriftCodec, TBinaryReader, TBinaryWriter, TType } from '../src/index.js';
import { Chain, Inner, Kitchen, StaticPair, ThriftArgs } from './structs.js';

const int64 = (h: string) => new Int64(Buffer.from(h, 'hex'));

const kitchen = () =>
  new Kitchen({
    b: true,
    y: -2,
    s16: -300,
    s32: 123456789,
    s64: int64('8000000000000000'),
    d: 1.5,
    str: 'héllo',
    bin: Buffer.from([0, 1, 255]),
    li: [1, -1],
    m: { k: int64('0020000000000001') },
    st: ['a'],
    inner: new Inner({ s: 'in' }),
    u: '00112233-4455-6677-8899-aabbccddeeff',
    write: 'w',
  });

codecCompliance(() => thriftCodec(), {
  serializeType: 4,
  name: 'thrift',
  cases: [
    { name: 'ThriftArgs{A:1,B:2} (pre-0.21 generated shape)', value: new ThriftArgs({ A: 1, B: 2 }), schema: ThriftArgs },
    { name: 'a plain object through the schema constructor', value: { A: 10, B: 20 }, schema: ThriftArgs, decoded: new ThriftArgs({ A: 10, B: 20 }) },
    { name: 'every field type (0.21+ generated shape)', value: kitchen(), schema: Kitchen },
    { name: 'an empty struct', value: new Kitchen(), schema: Kitchen },
  ],
  garbage: [
    { name: 'truncated field', bytes: fromHex('08 00 01 00 00'), schema: ThriftArgs },
    { name: 'no stop byte', bytes: fromHex('08 00 01 00 00 00 01'), schema: ThriftArgs },
    { name: 'invalid field type', bytes: fromHex('ff ff ff'), schema: ThriftArgs },
    { name: 'empty payload', bytes: new Uint8Array(0), schema: ThriftArgs },
    { name: 'negative string size', bytes: fromHex('0b 00 07 ff ff ff ff 00'), schema: Kitchen },
    { name: 'list size beyond the payload', bytes: fromHex('0f 00 09 08 7f ff ff ff 00'), schema: Kitchen },
  ],
  unencodable: [
    { name: 'a plain object without a schema', value: { A: 1 } },
    { name: 'an i64 beyond 2^63 − 1', value: new Kitchen({ s64: 1n << 63n }) },
    { name: 'an unsafe number as i64', value: new Kitchen({ s64: 2 ** 60 }) },
  ],
});

goldenFixtures(() => thriftCodec(), fileURLToPath(new URL('./fixtures', import.meta.url)), {
  'thrift-args-1-2': { schema: ThriftArgs, value: new ThriftArgs({ A: 1, B: 2 }), exactEncode: true },
});

describe('thriftCodec encode', () => {
  const codec = thriftCodec();

  test('ThriftArgs{A:1,B:2}: i32 field headers (type 8, id i16), big-endian values, stop byte', () => {
    expect(hex(codec.encode(new ThriftArgs({ A: 1, B: 2 })))).toBe('08000100000001' + '08000200000002' + '00');
    expect(hex(codec.encode({ A: 1, B: 2 }, ThriftArgs))).toBe('080001000000010800020000000200');
    expect(hex(codec.encode({ B: -1 }, ThriftArgs))).toBe('080002ffffffff00');
  });

  test('every field type, byte by byte', () => {
    expect(hex(codec.encode(kitchen()))).toBe(
      [
        '020001 01',
        '030002 fe',
        '060003 fed4',
        '080004 075bcd15',
        '0a0005 8000000000000000',
        '040006 3ff8000000000000',
        '0b0007 00000006 68c3a96c6c6f',
        '0b0008 00000003 0001ff',
        '0f0009 08 00000002 00000001 ffffffff',
        '0d000a 0b 0a 00000001 00000001 6b 0020000000000001',
        '0e000b 0b 00000001 00000001 61',
        '0c000c 0b0001 00000002 696e 00',
        '10000d 00112233445566778899aabbccddeeff',
        '0b000e 00000001 77',
        '00',
      ]
        .join('')
        .replace(/ /g, ''),
    );
  });

  test('writeI64 takes Int64, bigint, safe numbers and decimal strings alike', () => {
    const forms = [int64('0020000000000001'), 9007199254740993n, '9007199254740993'];
    for (const s64 of forms) expect(hex(codec.encode(new Kitchen({ s64 })))).toBe('0a0005002000000000000100');
    expect(hex(codec.encode(new Kitchen({ s64: -9223372036854775808n })))).toBe('0a0005800000000000000000');
    expect(hex(codec.encode(new Kitchen({ s64: 9007199254740991 })))).toBe('0a0005001fffffffffffff00');
  });

  test('i64 is signed: 2^64 − 1 does not fit and is refused, never wrapped', () => {
    expect(() => codec.encode(new Kitchen({ s64: 18446744073709551615n }))).toThrow(CodecError);
    expect(() => codec.encode(new Kitchen({ s64: '18446744073709551615' }))).toThrow(/out of range/);
    expect(() => codec.encode(new Kitchen({ s64: 2 ** 53 + 2 }))).toThrow(/not a safe integer/);
  });

  test('not a struct: Go\'s "type assertion failed"', () => {
    expect(() => codec.encode({ A: 1 })).toThrow(/^type assertion failed/);
    expect(() => codec.encode(5, ThriftArgs)).toThrow(/^type assertion failed: number/);
  });

  test('a struct whose write() encodes again gets its own buffer', () => {
    const outer = {
      write(output: TBinaryWriter) {
        const nested = codec.encode(new ThriftArgs({ A: 7 }));
        output.writeFieldBegin('raw', TType.STRING, 1);
        output.writeBinary(nested);
        output.writeFieldStop();
      },
    };
    expect(hex(codec.encode(outer))).toBe('0b0001' + '00000008' + '0800010000000700' + '00');
  });
});

describe('thriftCodec decode', () => {
  const codec = thriftCodec();

  test('returns a struct instance with its fields', () => {
    const value = codec.decode(fromHex('080001000000010800020000000200'), ThriftArgs);
    expect(value).toBeInstanceOf(ThriftArgs);
    expect(value).toMatchObject({ A: 1, B: 2 });
  });

  test('i64 comes back as node-int64 Int64 by default (what generated code expects)', () => {
    const value = codec.decode(fromHex('0a0005 8000000000000000 00'.replace(/ /g, '')), Kitchen) as Kitchen;
    expect(value.s64).toBeInstanceOf(Int64);
    expect((value.s64 as Int64).toOctetString()).toBe('8000000000000000');
  });

  test('i64: "bigint" for hand-written structs, exact at the edges', () => {
    const big = thriftCodec({ i64: 'bigint' });
    const read = (h: string) => (big.decode(fromHex(`0a0005${h}00`), Kitchen) as Kitchen).s64;
    expect(read('0020000000000001')).toBe(9007199254740993n);
    expect(read('8000000000000000')).toBe(-9223372036854775808n);
    expect(read('7fffffffffffffff')).toBe(9223372036854775807n);
    // What Go sends for uint64(2^64 − 1) cast to int64.
    expect(read('ffffffffffffffff')).toBe(-1n);
  });

  test('unknown fields of every type are skipped', () => {
    const payload = [
      '0b0063 00000002 6869', // 99: string
      '0c0062 080001 00000005 00', // 98: struct
      '0d0061 08 0b 00000001 00000001 00000001 61', // 97: map<i32,string>
      '0f0060 0a 00000001 0000000000000001', // 96: list<i64>
      '10005f 00112233445566778899aabbccddeeff', // 95: uuid
      '08000100000003', // A = 3
      '0a0002 0000000000000009', // B with the wrong type: skipped
      '00',
    ]
      .join('')
      .replace(/ /g, '');
    expect(codec.decode(fromHex(payload), ThriftArgs)).toMatchObject({ A: 3, B: null });
  });

  test('bytes after the stop byte are ignored, as Go\'s TDeserializer does', () => {
    expect(codec.decode(fromHex('08000100000001 00 ffff'.replace(/ /g, '')), ThriftArgs)).toMatchObject({ A: 1 });
  });

  test('binary and i64 values are copies, not views of the payload', () => {
    const payload = fromHex('0b0008 00000002 abcd 0a0005 0020000000000001 00'.replace(/ /g, ''));
    const value = codec.decode(payload, Kitchen) as Kitchen;
    payload.fill(0);
    expect(hex(value.bin!)).toBe('abcd');
    expect((value.s64 as Int64).toOctetString()).toBe('0020000000000001');
  });

  test('a class with a static read(protocol) is used as is', () => {
    const bytes = codec.encode(new StaticPair(4, 5));
    expect(hex(bytes)).toBe('080001000000040800020000000500');
    expect(codec.decode(bytes, StaticPair)).toEqual({ A: 4, B: 5 });
  });

  test('nesting deeper than 64 structs is refused, on read and on skip', () => {
    let chain = new Chain();
    for (let i = 0; i < 70; i++) {
      const outer = new Chain();
      outer.next = chain;
      chain = outer;
    }
    expect(() => codec.encode(chain)).toThrow(/recursion depth/);
    const deep = '0c0001'.repeat(70) + '00'.repeat(71);
    expect(() => codec.decode(fromHex(deep), Chain)).toThrow(PayloadTooDeepError);
    expect(() => codec.decode(fromHex(deep.replace(/^0c0001/, '0c0063')), ThriftArgs)).toThrow(PayloadTooDeepError);
  });

  test('no schema: a CodecError', () => {
    expect(() => codec.decode(fromHex('00'))).toThrow(CodecError);
  });
});

describe('TBinaryProtocol bytes match the thrift package (run under plain Node)', () => {
  // The `thrift` package cannot load inside jest on Node 20 (it requires the ESM-only `uuid`),
  // so a child Node writes and reads with it. The struct is described generically: each node is
  // { t: type, v: value }, with i64 as decimal text and strings/binary as hex.
  const SCRIPT = `
    const thrift = require('thrift');
    const T = thrift.Thrift.Type;
    const [mode, input] = process.argv.slice(1);
    function write(p, n) {
      switch (n.t) {
        case 'bool': return p.writeBool(n.v);
        case 'byte': return p.writeByte(n.v);
        case 'i16': return p.writeI16(n.v);
        case 'i32': return p.writeI32(n.v);
        case 'i64': return p.writeI64(thrift.fromBigInt(BigInt(n.v)));
        case 'double': return p.writeDouble(n.v);
        case 'string': return p.writeString(Buffer.from(n.v, 'hex').toString('utf8'));
        case 'binary': return p.writeBinary(Buffer.from(n.v, 'hex'));
        case 'uuid': return p.writeUuid(n.v);
        case 'list': p.writeListBegin(n.e, n.v.length); n.v.forEach((x) => write(p, x)); return p.writeListEnd();
        case 'set': p.writeSetBegin(n.e, n.v.length); n.v.forEach((x) => write(p, x)); return p.writeSetEnd();
        case 'map': p.writeMapBegin(n.k, n.e, n.v.length); n.v.forEach(([k, x]) => { write(p, k); write(p, x); }); return p.writeMapEnd();
        case 'struct':
          p.writeStructBegin('S');
          for (const f of n.v) { p.writeFieldBegin('f', f.type, f.id); write(p, f.n); p.writeFieldEnd(); }
          p.writeFieldStop();
          return p.writeStructEnd();
      }
    }
    function read(p, type) {
      switch (type) {
        case T.BOOL: return p.readBool();
        case T.BYTE: return p.readByte();
        case T.I16: return p.readI16();
        case T.I32: return p.readI32();
        case T.I64: return thrift.toBigInt(p.readI64()).toString();
        case T.DOUBLE: return p.readDouble();
        case T.STRING: return p.readBinary().toString('hex');
        case T.UUID: return p.readUuid();
        case T.LIST: case T.SET: { const h = type === T.LIST ? p.readListBegin() : p.readSetBegin(); const a = []; for (let i = 0; i < h.size; i++) a.push(read(p, h.etype)); return a; }
        case T.MAP: { const h = p.readMapBegin(); const a = []; for (let i = 0; i < h.size; i++) a.push([read(p, h.ktype), read(p, h.vtype)]); return a; }
        case T.STRUCT: {
          p.readStructBegin(); const fields = [];
          for (;;) { const f = p.readFieldBegin(); if (f.ftype === T.STOP) break; fields.push([f.fid, read(p, f.ftype)]); p.readFieldEnd(); }
          p.readStructEnd(); return fields;
        }
      }
    }
    if (mode === 'write') {
      let out;
      const transport = new thrift.TBufferedTransport(undefined, (buf) => { out = buf; });
      write(new thrift.TBinaryProtocol(transport), JSON.parse(input));
      transport.flush();
      process.stdout.write(out.toString('hex'));
    } else {
      thrift.TBufferedTransport.receiver((transport) => {
        process.stdout.write(JSON.stringify(read(new thrift.TBinaryProtocol(transport), T.STRUCT)));
      })(Buffer.from(input, 'hex'));
    }
  `;
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  const runThrift = (mode: 'write' | 'read', input: string) =>
    execFileSync(process.execPath, ['-e', SCRIPT, mode, input], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

  const utf8hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  // The kitchen() value, described field by field in Kitchen's write order.
  const described = {
    t: 'struct',
    v: [
      { id: 1, type: TType.BOOL, n: { t: 'bool', v: true } },
      { id: 2, type: TType.BYTE, n: { t: 'byte', v: -2 } },
      { id: 3, type: TType.I16, n: { t: 'i16', v: -300 } },
      { id: 4, type: TType.I32, n: { t: 'i32', v: 123456789 } },
      { id: 5, type: TType.I64, n: { t: 'i64', v: '-9223372036854775808' } },
      { id: 6, type: TType.DOUBLE, n: { t: 'double', v: 1.5 } },
      { id: 7, type: TType.STRING, n: { t: 'string', v: utf8hex('héllo') } },
      { id: 8, type: TType.STRING, n: { t: 'binary', v: '0001ff' } },
      { id: 9, type: TType.LIST, n: { t: 'list', e: TType.I32, v: [{ t: 'i32', v: 1 }, { t: 'i32', v: -1 }] } },
      {
        id: 10,
        type: TType.MAP,
        n: { t: 'map', k: TType.STRING, e: TType.I64, v: [[{ t: 'string', v: utf8hex('k') }, { t: 'i64', v: '9007199254740993' }]] },
      },
      { id: 11, type: TType.SET, n: { t: 'set', e: TType.STRING, v: [{ t: 'string', v: utf8hex('a') }] } },
      { id: 12, type: TType.STRUCT, n: { t: 'struct', v: [{ id: 1, type: TType.STRING, n: { t: 'string', v: utf8hex('in') } }] } },
      { id: 13, type: TType.UUID, n: { t: 'uuid', v: '00112233-4455-6677-8899-aabbccddeeff' } },
      { id: 14, type: TType.STRING, n: { t: 'string', v: utf8hex('w') } },
    ],
  };

  test('the library writes the same bytes as the codec', () => {
    expect(runThrift('write', JSON.stringify(described))).toBe(hex(thriftCodec().encode(kitchen())));
  });

  test('the library reads the codec\'s bytes back to the same values', () => {
    const read = JSON.parse(runThrift('read', hex(thriftCodec().encode(kitchen()))));
    expect(read).toEqual([
      [1, true],
      [2, -2],
      [3, -300],
      [4, 123456789],
      [5, '-9223372036854775808'],
      [6, 1.5],
      [7, utf8hex('héllo')],
      [8, '0001ff'],
      [9, [1, -1]],
      [10, [[utf8hex('k'), '9007199254740993']]],
      [11, [utf8hex('a')]],
      [12, [[1, utf8hex('in')]]],
      [13, '00112233-4455-6677-8899-aabbccddeeff'],
      [14, utf8hex('w')],
    ]);
  });
});

describe('TBinaryReader / TBinaryWriter directly', () => {
  test('message headers: strict write, strict and old-style read', () => {
    const writer = new TBinaryWriter();
    writer.writeMessageBegin('Mul', 1, 7);
    const bytes = writer.toBytes();
    expect(hex(bytes)).toBe('80010001' + '00000003' + '4d756c' + '00000007');
    expect(new TBinaryReader(bytes).readMessageBegin()).toEqual({ fname: 'Mul', mtype: 1, rseqid: 7 });
    expect(new TBinaryReader(fromHex('00000003 4d756c 01 00000007')).readMessageBegin()).toEqual({ fname: 'Mul', mtype: 1, rseqid: 7 });
  });

  test('map key "__proto__" is refused, where generated code would set the prototype; the same string as a value is data', () => {
    // map<string, list<string>> { "a": ["__proto__"], "__proto__": [] }, read as generated code does.
    const writer = new TBinaryWriter();
    writer.writeMapBegin(TType.STRING, TType.LIST, 2);
    writer.writeString('a');
    writer.writeListBegin(TType.STRING, 1);
    writer.writeString('__proto__');
    writer.writeString('__proto__');
    writer.writeListBegin(TType.STRING, 0);
    const reader = new TBinaryReader(writer.toBytes());
    const { size } = reader.readMapBegin();
    const read: unknown[] = [];
    const readEntry = () => {
      read.push(reader.readString());
      const { size: n } = reader.readListBegin();
      const list = Array.from({ length: n }, () => reader.readString());
      reader.readListEnd();
      read.push(list);
    };
    readEntry();
    expect(read).toEqual(['a', ['__proto__']]);
    expect(size).toBe(2);
    expect(readEntry).toThrow(new CodecError('thrift: map key "__proto__" refused: generated code keeps maps in plain objects, where it would replace the prototype'));
  });

  test('a struct whose map<string,i64> holds "__proto__" is refused on decode, and its str field "__proto__" is not', () => {
    const codec = thriftCodec({ i64: 'bigint' });
    const withKey = codec.encode(new Kitchen({ m: Object.fromEntries([['__proto__', 1n], ['b', 2n]]) }));
    expect(() => codec.decode(withKey, Kitchen)).toThrow(CodecError);
    expect(() => codec.decode(withKey, Kitchen)).toThrow('thrift: map key "__proto__" refused');
    expect((codec.decode(codec.encode(new Kitchen({ str: '__proto__', m: { b: 2n } })), Kitchen) as Kitchen).str).toBe('__proto__');
  });

  test('the writer grows past its initial size', () => {
    const writer = new TBinaryWriter(4);
    writer.writeString('x'.repeat(1000));
    const bytes = writer.toBytes();
    expect(bytes.length).toBe(1004);
    expect(new TBinaryReader(bytes).readString()).toBe('x'.repeat(1000));
  });
});
