/**
 * Over-the-wire fuzz: valid request frames (Arith and the member service, msgpack and JSON,
 * with metadata, gzip, oneway, heartbeats) are mutated the way a broken or hostile peer might
 * and sent over many connections to a real server. Each connection first makes one valid call
 * and checks the answer, then sends its mutated frames in random chunks and ends its side; the
 * server must close it within a bound (answering what it can on the way). A well-behaved client
 * calls throughout and must get correct answers. Everything random comes from one seed:
 * connection n uses its own generator seeded from (seed, n), so a run replays exactly whatever
 * order the connections run in.
 */
import { connect } from 'node:net';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { FrameDecoder, Message, encodeMessage, heartbeatRequest } from '@rpcx/protocol';
import { wellBehavedClient } from './fixture.js';
import { deepJson, deepMsgpack, manyMaps } from './payloads.js';

export interface FuzzOptions {
  seed: number;
  /** Fuzz connections opened in all. */
  connections: number;
  /** Mutated frames each connection sends. */
  framesPerConnection: number;
  /** Fuzz connections open at once. */
  concurrency: number;
  /** How long a connection may take, after its side is ended, to be closed by the server. */
  closeWithinMs: number;
  /** Progress lines, when given. */
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  connections: number;
  frames: number;
  /** Replies the fuzz connections received to their mutated frames. */
  replies: number;
  /** Connections whose last valid call was answered: the mutations left the stream in step. */
  inStep: number;
  /** Connections the server had not closed `closeWithinMs` after their side ended. */
  hung: string[];
  /** A valid call on a fuzz connection that got no or a wrong answer. */
  probeFailures: string[];
  wellBehaved: { calls: number; slowestMs: number; failure?: string };
}

/** sfc32: a small, fast PRNG with a 32-bit seed, so a run can be replayed exactly. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 0x1_0000_0000;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

type Random = ReturnType<typeof prng>;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)];

const msgpack = msgpackCodec();
const json = jsonCodec();

let cachedCorpus: Message[] | undefined;

/** The valid frames mutations start from (seq is set per send). */
function corpus(): Message[] {
  if (cachedCorpus) return cachedCorpus;
  const frames: Message[] = [];
  const add = (servicePath: string, serviceMethod: string, serializeType: number, payload: Uint8Array, extra: Partial<Message> = {}) =>
    frames.push(Object.assign(new Message({ servicePath, serviceMethod, serializeType, payload }), extra));
  for (const [codec, type] of [
    [msgpack, 3],
    [json, 1],
  ] as const) {
    add('Arith', 'Mul', type, codec.encode({ A: 10, B: 20 }));
    add('Arith', 'Add', type, codec.encode({ A: -3, B: 4 }));
    add('ServiceUser', 'UserInfo', type, codec.encode({ Uid: 123 }));
    add('ServiceUserFn', 'UserReply', type, codec.encode({ Uid: 456 }));
    add('Arith', 'Mul', type, codec.encode({ A: 2, B: 3 }), { metadata: { __ServerTimeout: '5000', k: 'v' } });
    add('Arith', 'Mul', type, codec.encode({ A: 1, B: 1 }), { oneway: true });
    const big = codec.encode({ A: 7, B: 8, Pad: 'x'.repeat(2000) });
    add('Arith', 'Mul', type, big, { compressType: 1 });
  }
  frames.push(heartbeatRequest(0));
  cachedCorpus = frames;
  return frames;
}

/** Payloads the codecs must refuse, small enough to send thousands of. */
const HOSTILE_PAYLOADS = [
  deepMsgpack(4096),
  deepJson(4096),
  new Uint8Array([0xdd, 0x00, 0xff, 0xff, 0xff]), // an array announcing 16 million elements
  new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff]), // a 4 GiB string
  new Uint8Array([0x81, 0x91, 0x01, 0x02]), // a map with an array as key
];
/** Over the default maxObjects: 1 MiB, so sent rarely. */
const OBJECT_FLOOD = manyMaps((1 << 20) + 1);

/**
 * One valid frame, mutated. Most mutations change fields a peer controls (payload, codec,
 * names, metadata) and keep the frame well formed, so the server decodes and answers it; one
 * frame in twenty also gets one to four byte-level edits, which usually break the framing and
 * make the server close the connection (about half the connections get that far).
 */
function mutatedFrame(random: Random, frames: Message[], seq: number): Buffer {
  const base = pick(random, frames);
  const m = Object.assign(new Message(), base, { metadata: { ...base.metadata }, seq });
  if (random() < 0.2) m.payload = pick(random, HOSTILE_PAYLOADS);
  else if (random() < 0.002) m.payload = OBJECT_FLOOD;
  else if (random() < 0.25) m.payload = Buffer.from(m.payload).map((b) => (random() < 0.1 ? int(random, 256) : b));
  if (random() < 0.1) m.serializeType = int(random, 16);
  if (random() < 0.1) m.servicePath = pick(random, ['', 'Arith', 'x'.repeat(int(random, 300)), 'ServiceUser\u0000', 'ServiceUserFn']);
  if (random() < 0.1) m.serviceMethod = pick(random, ['', 'Mul', 'Add', 'UserInfo', 'UserReply', 'Nope']);
  if (random() < 0.05) m.metadata = Object.fromEntries(Array.from({ length: int(random, 50) }, (_, i) => [`k${i}`, 'v'.repeat(int(random, 20))]));
  if (random() < 0.05) m.heartbeat = true;
  if (random() < 0.05) m.oneway = !m.oneway;
  let bytes: Buffer = Buffer.from(encodeMessage(m));
  if (random() < 0.05) {
    const edits = 1 + int(random, 4);
    for (let e = 0; e < edits; e++) bytes = editBytes(random, bytes, frames);
  }
  return bytes;
}

/** Offsets of the length fields in a frame: total, service path, method (the rest vary). */
const LENGTH_FIELDS = [12, 16];
const INTERESTING_U32 = [0, 1, 15, 16, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1];

function editBytes(random: Random, bytes: Buffer, frames: Message[]): Buffer {
  if (bytes.length === 0) return bytes;
  const at = int(random, bytes.length);
  switch (int(random, 9)) {
    case 0: // flip a bit
      bytes[at] ^= 1 << int(random, 8);
      return bytes;
    case 1: // set a byte
      bytes[at] = int(random, 256);
      return bytes;
    case 2: // a length field to an interesting value
      if (bytes.length >= 20) bytes.writeUInt32BE(pick(random, INTERESTING_U32), pick(random, LENGTH_FIELDS));
      return bytes;
    case 3: // the header's flags or serialize type byte
      if (bytes.length >= 4) bytes[2 + int(random, 2)] = int(random, 256);
      return bytes;
    case 4: // insert random bytes
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(random, 16) }, () => int(random, 256))), bytes.subarray(at)]);
    case 5: // delete a range
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(random, 32))]);
    case 6: // truncate
      return bytes.subarray(0, at);
    case 7: // splice in another valid frame
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(encodeMessage(pick(random, frames))), bytes.subarray(at)]);
    default: // a u32 anywhere to an interesting value
      if (at + 4 <= bytes.length) bytes.writeUInt32BE(pick(random, INTERESTING_U32), at);
      return bytes;
  }
}

/** The bytes in 1 to 8 writes cut at random points. */
function chunks(random: Random, bytes: Buffer): Buffer[] {
  const cuts = Array.from({ length: int(random, 8) }, () => int(random, bytes.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out.filter((c) => c.length > 0);
}

/** How long a connection waits for the answer to its last valid call before ending its side. */
const SETTLE_MS = 300;

/**
 * One fuzz connection: a valid call (its answer is checked), the mutated frames, a last valid
 * call (answered only if the mutations left the stream in step; it also gives the server time
 * to answer the mutated frames), then end, and wait for the server to close. Its outcome is
 * added to `report`.
 */
export function fuzzConnection(
  port: number,
  options: Pick<FuzzOptions, 'seed' | 'framesPerConnection' | 'closeWithinMs'>,
  id: number,
  report: Pick<FuzzReport, 'frames' | 'replies' | 'inStep' | 'hung' | 'probeFailures'>,
): Promise<void> {
  const frames = corpus();
  const random = prng((options.seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);
  const probe = (seq: number) => new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq, payload: msgpack.encode({ A: id % 1000, B: 3 }) });
  const answered = (m: Message) => m.status === 0 && (msgpack.decode(m.payload) as { C?: number })?.C === (id % 1000) * 3;
  const firstSeq = 0x7ffe_0000 + id;
  const lastSeq = 0x7fff_0000 + id;
  const fail = (problem: string) => report.probeFailures.push(`connection ${id}: ${problem}`);

  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const decoder = new FrameDecoder({ maxMessageLength: 0, maxDecompressedLength: 0 });
    let phase: 'first call' | 'mutations' | 'ended' = 'first call';
    let timer = setTimeout(() => {
      fail(`no answer to a valid call in ${options.closeWithinMs} ms`);
      socket.destroy();
    }, options.closeWithinMs);

    const end = () => {
      if (phase === 'ended') return;
      phase = 'ended';
      clearTimeout(timer);
      socket.end();
      timer = setTimeout(() => {
        report.hung.push(`connection ${id}: still open ${options.closeWithinMs} ms after its side ended`);
        socket.destroy();
      }, options.closeWithinMs);
    };

    const sendMutations = () => {
      phase = 'mutations';
      clearTimeout(timer);
      for (let i = 0; i < options.framesPerConnection; i++) {
        for (const c of chunks(random, mutatedFrame(random, frames, id * 1000 + i))) socket.write(c);
        report.frames++;
      }
      socket.write(encodeMessage(probe(lastSeq)));
      timer = setTimeout(end, SETTLE_MS);
    };

    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      if (phase === 'first call') fail('closed before answering a valid call');
      resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (m) => {
          if (m.seq === firstSeq && phase === 'first call') {
            if (!answered(m)) fail(`valid call answered ${JSON.stringify(m.metadata)}`);
            sendMutations();
          } else if (m.seq === lastSeq && phase === 'mutations') {
            if (answered(m)) report.inStep++;
            end();
          } else {
            report.replies++;
          }
        });
      } catch (err) {
        fail(`a reply frame did not decode: ${(err as Error).message}`);
        socket.destroy();
      }
    });
    socket.once('connect', () => socket.write(encodeMessage(probe(firstSeq))));
  });
}

/** Runs the fuzz against a server listening on `port` of 127.0.0.1 (`key` for the client). */
export async function runWireFuzz(port: number, key: string, options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = {
    seed: options.seed,
    connections: 0,
    frames: 0,
    replies: 0,
    inStep: 0,
    hung: [],
    probeFailures: [],
    wellBehaved: { calls: 0, slowestMs: 0 },
  };
  const client = wellBehavedClient(key);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < options.connections) {
      const id = next++;
      report.connections++;
      await fuzzConnection(port, options, id, report);
      done++;
      if (options.log && done % 500 === 0) {
        options.log(`seed ${options.seed}: ${done} connections, ${report.frames} frames, ${report.replies} replies, ${report.inStep} in step`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    report.wellBehaved = await client.stop();
  }
  return report;
}

/** A seed printed with every failure, so `pnpm fuzz --seed N` replays it. */
export function describeFailure(report: FuzzReport): string | undefined {
  const problems = [...report.probeFailures, ...report.hung];
  if (report.wellBehaved.failure) problems.push(`well-behaved client: ${report.wellBehaved.failure}`);
  if (problems.length === 0) return undefined;
  return `wire fuzz seed ${report.seed} (replay: pnpm fuzz --seed ${report.seed}): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` … and ${problems.length - 5} more` : ''}`;
}
