// The limit of the call benchmark: what two Node processes can exchange over TCP in rpcx's
// frame sizes with nothing of rpcx in between. A frame is a 16-byte header (rpcx's prefix:
// seq in bytes 4..12, body length in 12..16) and the 581-byte benchmark message; the server
// echoes each frame as it came (seq included), the client matches replies by seq. Both ends
// coalesce the frames of one turn into one write and send the start of a batch early, as
// @rpcx/transport-kit does for every rpcx connection.
// `--serve` prints `LISTENING tcp@…`; otherwise it is a closed-loop client that prints one JSON
// line like the other bench clients (--addr, --clients, --inflight, --duration-ms, --warmup-ms).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, Measurement, loadOf } from './closed-loop.js';
import { benchmarkBytes } from './message.js';

const HEADER = 16;
// The rule of @rpcx/transport-kit's EARLY_SEND_BYTES and FULL_READ_BYTES, with their sizes (this
// script stays free of rpcx code): once 2 KiB are queued they leave at once and the rest of the
// batch after the callback, unless the read that caused the batch was 32 KiB or more. Without it
// both ends take turns with a few frames in flight, and the limit is no limit at 16 in flight.
const EARLY_SEND_BYTES = 2 * 1024;
const FULL_READ_BYTES = 32 * 1024;

/** Frames queued this turn, written as one buffer (the first 2 KiB of a batch sooner). */
class Coalescer {
  private queue: Buffer[] = [];
  private bytes = 0;
  private sendEarlyAt = EARLY_SEND_BYTES;
  constructor(private readonly socket: net.Socket) {}
  /** A read came in: the batch it causes sends its start early unless the read was full. */
  read(chunk: Buffer): void {
    this.sendEarlyAt = chunk.length >= FULL_READ_BYTES ? Infinity : EARLY_SEND_BYTES;
  }
  write(frame: Buffer): void {
    this.bytes += frame.length;
    if (this.queue.push(frame) === 1) {
      process.nextTick(this.flush);
    } else if (this.bytes >= this.sendEarlyAt) {
      this.sendEarlyAt = Infinity;
      this.flush();
    }
  }
  private readonly flush = (): void => {
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    const bytes = this.bytes;
    this.bytes = 0;
    if (!this.socket.destroyed) this.socket.write(q.length === 1 ? q[0] : Buffer.concat(q, bytes));
  };
}

/** Splits a byte stream into frames (a frame in one chunk is a view of it); tells `out` of each read. */
function framer(out: Coalescer, onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    out.read(chunk);
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      const len = HEADER + buf.readUInt32BE(pos + 12);
      if (buf.length - pos < len) break;
      onFrame(buf.subarray(pos, pos + len));
      pos += len;
    }
    if (pos < buf.length) pending = buf.subarray(pos);
  };
}

const { values } = parseArgs({ options: { ...CLIENT_OPTIONS, serve: { type: 'boolean', default: false } } });
const load = loadOf(values);

if (values.serve) {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    const out = new Coalescer(socket);
    socket.on('data', framer(out, (frame) => out.write(frame)));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING tcp@127.0.0.1:${(server.address() as net.AddressInfo).port}\n`));
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
} else {
  const { addrs, clients, inflight, durationMs, warmupMs } = load;
  const [host, port] = addrs[0].replace(/^tcp@/, '').split(':');
  const body = benchmarkBytes();
  const m = new Measurement();

  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const socket = net.connect({ host, port: Number(port), noDelay: true });
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const out = new Coalescer(socket);
      // Slot i of this connection sends seq i, i + inflight, …: the seq says the slot.
      const sentAt = new Float64Array(inflight);
      const send = (seq: number) => {
        const frame = Buffer.allocUnsafe(HEADER + body.length);
        frame.fill(0, 0, HEADER);
        frame[0] = 0x08;
        frame.writeUInt32BE(seq, 8);
        frame.writeUInt32BE(body.length, 12);
        body.copy(frame, HEADER);
        sentAt[seq % inflight] = performance.now();
        out.write(frame);
      };
      let outstanding = 0;
      let drained: () => void = () => {};
      const done = new Promise<void>((resolve) => (drained = resolve));
      socket.on(
        'data',
        framer(out, (frame) => {
          const seq = frame.readUInt32BE(8);
          outstanding--;
          m.record((performance.now() - sentAt[seq % inflight]) * 1000);
          if (m.stopping) {
            if (outstanding === 0) drained();
            return;
          }
          outstanding++;
          send((seq + inflight) >>> 0);
        }),
      );
      return {
        start: () => {
          for (let i = 0; i < inflight; i++) {
            outstanding++;
            send(i);
          }
        },
        finish: async () => {
          if (outstanding > 0) await done;
          socket.destroy();
        },
      };
    }),
  );
  for (const c of connections) c.start();
  await m.window(warmupMs, durationMs);
  await Promise.all(connections.map((c) => c.finish()));
  m.report();
}
