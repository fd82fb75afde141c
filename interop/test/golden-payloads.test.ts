// Codec payloads captured from Go rpcx's own codecs (vmihailenco msgpack, encoding/json,
// golang protobuf, apache thrift) decode to the right values here, and where the encoding
// is canonical, ours re-encodes them byte for byte.
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { thriftCodec } from '@rpcx/codec-thrift';
import { ProtoArgsSchema, ProtoReplySchema } from './gen/arith_pb.js';
import { BenchmarkMessageSchema } from './gen/bench_pb.js';
import { goPayloads } from './support/golden.js';
import { BenchmarkMessage, ProtoArgs, ProtoReply, ThriftArgs, ThriftReply, benchmarkArgs } from './support/services.js';

const wide = { I: -9007199254740993n, U: 18446744073709551615n, S: 'wide' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('msgpack: Args, Reply, 64-bit Wide, and the embedded-struct User reply', () => {
  const go = goPayloads('msgpack');
  const codec = msgpackCodec();
  expect(codec.decode(go.get('msgpack-args')!)).toEqual({ A: 10, B: 20 });
  expect(hex(codec.encode({ A: 10, B: 20 }))).toBe(hex(go.get('msgpack-args')!));
  expect(hex(codec.encode({ C: 200 }))).toBe(hex(go.get('msgpack-reply')!));
  expect(codec.decode(go.get('msgpack-wide')!)).toEqual(wide);
  // bigint fields encode with Go's fixed widths: d3 for int64, cf for uint64
  expect(hex(codec.encode(wide))).toBe(hex(go.get('msgpack-wide')!));
  expect(codec.decode(go.get('msgpack-user-reply')!)).toEqual({
    UID: 999,
    AddTime: 14990093,
    UserType: 2,
    Uface: 'http://image.xxxx.xxx/t.gif',
    UserName: 'Joke',
  });
});

test('json: Args, 64-bit Wide and the User reply keyed by json tags', () => {
  const go = goPayloads('json');
  const codec = jsonCodec();
  expect(hex(codec.encode({ A: 10, B: 20 }))).toBe(hex(go.get('json-args')!));
  expect(codec.decode(go.get('json-wide')!)).toEqual(wide);
  expect(hex(codec.encode(wide))).toBe(hex(go.get('json-wide')!));
  expect(codec.decode(go.get('json-user-reply')!)).toEqual({
    id: 999,
    addtime: 14990093,
    utype: 2,
    uface: 'http://image.xxxx.xxx/t.gif',
    uname: 'Joke',
  });
});

test('protobuf: ProtoArgs / ProtoReply byte for byte, and the 581-byte benchmark message', () => {
  const go = goPayloads('protobuf');
  const codec = protobufCodec({ longs: 'auto' });
  expect(codec.decode(go.get('protobuf-proto-args')!, ProtoArgs)).toEqual({ A: 10, B: 20 });
  expect(hex(codec.encode({ A: 10, B: 20 }, ProtoArgs))).toBe(hex(go.get('protobuf-proto-args')!));
  expect(hex(codec.encode({ C: 200 }, ProtoReply))).toBe(hex(go.get('protobuf-proto-reply')!));
  const bench = go.get('protobuf-benchmark-message')!;
  expect(bench.length).toBe(581);
  const decoded = codec.decode(bench, BenchmarkMessage) as Record<string, unknown>;
  expect(decoded).toMatchObject(benchmarkArgs());
  // Field order may differ between encoders; the size and the content may not.
  const ours = codec.encode(benchmarkArgs(), BenchmarkMessage);
  expect(ours.length).toBe(581);
  expect(codec.decode(ours, BenchmarkMessage)).toEqual(decoded);
});

test('protobuf with protobuf-es schemas (protoc-gen-es output of the same .proto): the same bytes as Go', () => {
  const go = goPayloads('protobuf');
  const codec = protobufCodec();
  expect(codec.decode(go.get('protobuf-proto-args')!, ProtoArgsSchema)).toMatchObject({ A: 10, B: 20 });
  expect(hex(codec.encode({ A: 10, B: 20 }, ProtoArgsSchema))).toBe(hex(go.get('protobuf-proto-args')!));
  expect(hex(codec.encode({ C: 200 }, ProtoReplySchema))).toBe(hex(go.get('protobuf-proto-reply')!));
  const bench = go.get('protobuf-benchmark-message')!;
  const decoded = codec.decode(bench, BenchmarkMessageSchema);
  expect(decoded).toMatchObject({ ...benchmarkArgs(), field5: [], field22: 100000n });
  // protobuf-es writes fields in field-number order, as Go does: byte for byte.
  expect(hex(codec.encode(decoded, BenchmarkMessageSchema))).toBe(hex(bench));
  expect(hex(codec.encode(benchmarkArgs(), BenchmarkMessageSchema))).toBe(hex(bench));
});

test('thrift: ThriftArgs and ThriftReply byte for byte', () => {
  const go = goPayloads('thrift');
  const codec = thriftCodec();
  expect(codec.decode(go.get('thrift-thrift-args')!, ThriftArgs)).toMatchObject({ A: 10, B: 20 });
  expect(hex(codec.encode(new ThriftArgs({ A: 10, B: 20 }), ThriftArgs))).toBe(hex(go.get('thrift-thrift-args')!));
  expect(hex(codec.encode(new ThriftReply({ C: 200 }), ThriftReply))).toBe(hex(go.get('thrift-thrift-reply')!));
});
