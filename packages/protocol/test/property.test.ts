// Property-based tests (fast-check) of the frame decoder: any bytes, cut into any chunks, give
// messages or a typed error and nothing else; any message survives encode then decode, however
// the stream is chunked. fast-check prints the seed and the shrunk input of a failure; rerun
// one with `fc.assert(..., { seed, path })`.
import fc from 'fast-check';
import { RpcxError, newMetadata } from '@rpcx/core';
import { FrameDecoder, Message, decodeFrame, encodeMessage, resolveDecodeOptions, type DecodeOptions } from '@rpcx/protocol';

/** Small limits so that no generated input can make the decoder allocate much. */
const LIMITS: DecodeOptions = { maxMessageLength: 1 << 20, maxDecompressedLength: 1 << 20 };

/** Valid UTF-8 text (lone surrogates would not survive the trip and are not what is tested). */
const text = fc.string({ unit: 'grapheme', maxLength: 12 });

const message = fc
  .record({
    version: fc.integer({ min: 0, max: 255 }),
    isResponse: fc.boolean(),
    heartbeat: fc.boolean(),
    oneway: fc.boolean(),
    compressType: fc.constantFrom(0, 1),
    status: fc.integer({ min: 0, max: 3 }),
    serializeType: fc.integer({ min: 0, max: 15 }),
    // Below 2^53 a seq is a number, above it a bigint, as the decoder hands them out.
    seq: fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 1n << 53n, max: (1n << 64n) - 1n })),
    servicePath: text,
    serviceMethod: text,
    metadata: fc.dictionary(text, text, { maxKeys: 4 }),
    payload: fc.uint8Array({ maxLength: 2048 }),
  })
  .map((fields) => new Message({ ...fields, metadata: newMetadata(fields.metadata) }));

/** The bytes cut at the given points (taken modulo the length), in order. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Feeds every chunk; returns the messages, or the first error thrown (the stream ends there). */
function feed(chunks: Uint8Array[], options: DecodeOptions = LIMITS): { messages: Message[]; error?: unknown } {
  const decoder = new FrameDecoder(options);
  const messages: Message[] = [];
  try {
    for (const c of chunks) decoder.push(c, (m) => messages.push(m));
  } catch (error) {
    return { messages, error };
  }
  return { messages };
}

/** What a message looks like after the trip: the fields that travel, payload as hex. */
const view = (m: Message) => ({
  version: m.version,
  isResponse: m.isResponse,
  heartbeat: m.heartbeat,
  oneway: m.oneway,
  compressType: m.compressType,
  status: m.status,
  serializeType: m.serializeType,
  seq: m.seq,
  servicePath: m.servicePath,
  serviceMethod: m.serviceMethod,
  metadata: { ...m.metadata },
  payload: Buffer.from(m.payload).toString('hex'),
});

/** One edit of a valid frame, the way a broken or hostile peer might change it. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(frame: Uint8Array, edits: Mutation[]): Uint8Array {
  let bytes = Buffer.from(frame);
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + 1);
    if (edit.op === 'set') {
      if (bytes.length > 0) bytes[at % bytes.length] = edit.value;
    } else if (edit.op === 'insert') {
      bytes = Buffer.concat([bytes.subarray(0, at), edit.bytes, bytes.subarray(at)]);
    } else if (edit.op === 'delete') {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + edit.count)]);
    } else {
      bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

/** The only failures allowed: typed errors from @rpcx/core's catalogue. */
function expectTyped(error: unknown): void {
  if (error === undefined) return;
  expect(error).toBeInstanceOf(RpcxError);
  expect(typeof (error as RpcxError).code).toBe('string');
}

describe('FrameDecoder properties', () => {
  test('arbitrary bytes in arbitrary chunks: messages or a typed error, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        expectTyped(feed(chunked(bytes, cuts)).error);
      }),
      { numRuns: 2000 },
    );
  });

  test('bytes that start like a frame (magic, then anything): messages or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(fc.nat(), { maxLength: 8 }), (rest, cuts) => {
        const bytes = Buffer.concat([Buffer.from([0x08]), rest]);
        expectTyped(feed(chunked(bytes, cuts)).error);
        // decodeFrame on the same bytes as one frame: a message or a typed error.
        try {
          decodeFrame(bytes, resolveDecodeOptions(LIMITS));
        } catch (error) {
          expectTyped(error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('mutated valid frames (set, insert, delete, truncate): messages or a typed error', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 3 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (messages, edits, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodeMessage(m)));
        expectTyped(feed(chunked(mutate(stream, edits), cuts)).error);
      }),
      { numRuns: 1000 },
    );
  });

  test('encode then decode gives every message back, in order, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodeMessage(m)));
        const { messages: decoded, error } = feed(chunked(stream, cuts));
        expect(error).toBeUndefined();
        expect(decoded.map(view)).toEqual(messages.map(view));
      }),
      { numRuns: 500 },
    );
  });

  test('byte by byte, the decoder buffers nothing it has handed out', () => {
    fc.assert(
      fc.property(message, (m) => {
        const frame = encodeMessage(m);
        const decoder = new FrameDecoder(LIMITS);
        const out: Message[] = [];
        for (let i = 0; i < frame.length; i++) decoder.push(frame.subarray(i, i + 1), (d) => out.push(d));
        expect(out.map(view)).toEqual([view(m)]);
        expect(decoder.pendingBytes).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});
