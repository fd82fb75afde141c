// Frames captured from the real Go rpcx (`interop/go`: `peer golden`), committed as a fixture.
// Every frame must decode to the fields Go reported, and re-encode to Go's exact bytes
// (gzip frames excepted: two gzip encoders need not agree byte for byte).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrameDecoder, Message, encodeMessage } from '@rpcx/protocol';

interface FrameFields {
  seq: string;
  version: number;
  messageType: number;
  heartbeat: boolean;
  oneway: boolean;
  compressType: number;
  statusType: number;
  serializeType: number;
  servicePath: string;
  serviceMethod: string;
  metadata: Record<string, string>;
  payloadHex: string;
}
interface Golden {
  name: string;
  kind: 'frame' | 'payload';
  hex: string;
  fields: FrameFields;
}

const golden: Golden[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../interop/fixtures/go-golden.json', import.meta.url)), 'utf8'),
);
const frames = golden.filter((g) => g.kind === 'frame');

function decodeOne(bytes: Buffer): Message {
  const out: Message[] = [];
  new FrameDecoder().push(bytes, (m) => out.push(m));
  expect(out).toHaveLength(1);
  return out[0];
}

test('the fixture holds the frames the tests rely on', () => {
  expect(frames.map((f) => f.name)).toEqual(
    expect.arrayContaining(['msgpack-request-arith-mul', 'error-response-boom', 'heartbeat-request', 'gzip-response-echo', 'live-server-push']),
  );
});

describe.each(frames.map((f) => [f.name, f] as const))('Go frame %s', (_name, g) => {
  const bytes = Buffer.from(g.hex, 'hex');

  test('decodes to the fields Go reported', () => {
    const m = decodeOne(bytes);
    const f = g.fields;
    expect(String(m.seq)).toBe(f.seq);
    expect({
      version: m.version,
      messageType: m.isResponse ? 1 : 0,
      heartbeat: m.heartbeat,
      oneway: m.oneway,
      compressType: m.compressType,
      statusType: m.status,
      serializeType: m.serializeType,
      servicePath: m.servicePath,
      serviceMethod: m.serviceMethod,
      metadata: { ...m.metadata },
      payloadHex: Buffer.from(m.payload).toString('hex'),
    }).toEqual({
      version: f.version,
      messageType: f.messageType,
      heartbeat: f.heartbeat,
      oneway: f.oneway,
      compressType: f.compressType,
      statusType: f.statusType,
      serializeType: f.serializeType,
      servicePath: f.servicePath,
      serviceMethod: f.serviceMethod,
      metadata: f.metadata,
      payloadHex: f.payloadHex,
    });
  });

  test('re-encodes to the same bytes (or, for gzip, to a frame that decodes the same)', () => {
    const m = decodeOne(bytes);
    const again = Buffer.from(encodeMessage(m));
    if (m.compressType === 0) expect(again.toString('hex')).toBe(g.hex);
    else expect(Buffer.from(decodeOne(again).payload).toString('hex')).toBe(g.fields.payloadHex);
  });
});
