/**
 * Micro-benchmark behind the write-coalescing choice in src/connection.ts.
 * Run: `npx tsx packages/transport-tcp/bench/coalesce.ts` (from the repo root).
 *
 * Set ONLY=a,b to run some strategies, ROUNDS=n for more rounds (best round is shown).
 *
 * Loopback TCP scenarios, each run with every strategy, both ends using the same one:
 *  - burst:    one side writes bursts of small frames per event-loop turn, the other counts bytes.
 *  - pipeline: request/response with fixed-size frames and a window of requests in flight; the
 *              server answers every request with its own write (as an rpcx server does).
 */
import net from 'node:net';

type Writer = { write(frame: Uint8Array): void };
type Strategy = (socket: net.Socket) => Writer;

const strategies: Record<string, Strategy> = {
  // No coalescing: one socket.write (and usually one syscall) per frame.
  direct: (socket) => ({ write: (frame) => void socket.write(frame) }),
  // cork on the first write of a turn, uncork in process.nextTick: one writev per turn.
  corkTick: (socket) => {
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    return {
      write(frame) {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        socket.write(frame);
      },
    };
  },
  // Collect frames in an array; in process.nextTick write one frame as is, or several
  // concatenated into one buffer (one write call, one syscall).
  concatTick: (socket) => queued(socket, process.nextTick),
  // Same, but flushed with setImmediate (after the whole poll phase of the loop turn).
  concatImmediate: (socket) => queued(socket, (fn) => void setImmediate(fn)),
  // Collect; in nextTick concatenate when the batch is small, else cork + write each + uncork.
  // hybrid16k is what src/connection.ts does.
  hybrid16k: (socket) => hybrid(socket, 16 * 1024),
  hybrid64k: (socket) => hybrid(socket, 64 * 1024),
  hybrid4k: (socket) => hybrid(socket, 4 * 1024),
  // Collect, then cork + write each + uncork in nextTick (writev without a copy).
  queueCorkTick: (socket) => {
    let queue: Uint8Array[] = [];
    const flush = () => {
      const q = queue;
      queue = [];
      if (q.length === 1) {
        socket.write(q[0]);
        return;
      }
      socket.cork();
      for (const f of q) socket.write(f);
      socket.uncork();
    };
    return {
      write(frame) {
        if (queue.push(frame) === 1) process.nextTick(flush);
      },
    };
  },
};

function queued(socket: net.Socket, schedule: (fn: () => void) => void): Writer {
  let queue: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    const q = queue;
    const n = bytes;
    queue = [];
    bytes = 0;
    socket.write(q.length === 1 ? q[0] : Buffer.concat(q, n));
  };
  return {
    write(frame) {
      bytes += frame.length;
      if (queue.push(frame) === 1) schedule(flush);
    },
  };
}

function hybrid(socket: net.Socket, limit: number): Writer {
  let queue: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    const q = queue;
    const n = bytes;
    queue = [];
    bytes = 0;
    if (q.length === 1) socket.write(q[0]);
    else if (n <= limit) socket.write(Buffer.concat(q, n));
    else {
      socket.cork();
      for (const f of q) socket.write(f);
      socket.uncork();
    }
  };
  return {
    write(frame) {
      bytes += frame.length;
      if (queue.push(frame) === 1) process.nextTick(flush);
    },
  };
}

async function pair(): Promise<{ a: net.Socket; b: net.Socket; server: net.Server }> {
  const server = net.createServer({ noDelay: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((r) => a.once('connect', () => r()));
  const b = await accepted;
  b.setNoDelay(true);
  return { a, b, server };
}

async function burst(name: string, frameSize: number, perTurn: number, total: number): Promise<number> {
  const { a, b, server } = await pair();
  const w = strategies[name](a);
  const frame = Buffer.alloc(frameSize, 7);
  let received = 0;
  const want = frameSize * total;
  const done = new Promise<void>((r) =>
    b.on('data', (c: Buffer) => {
      received += c.length;
      if (received >= want) r();
    }),
  );
  const start = process.hrtime.bigint();
  let sent = 0;
  while (sent < total) {
    for (let i = 0; i < perTurn && sent < total; i++, sent++) w.write(frame);
    // Let the flush run, and respect back-pressure so memory stays flat.
    await new Promise((r) => setImmediate(r));
    if (a.writableLength > 1 << 20) await new Promise((r) => a.once('drain', r));
  }
  await done;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  a.destroy();
  b.destroy();
  server.close();
  return total / ms; // frames per ms
}

async function pipeline(name: string, frameSize: number, window: number, total: number): Promise<number> {
  const { a, b, server } = await pair();
  const wa = strategies[name](a);
  const wb = strategies[name](b);
  // Server: split received bytes into frames and answer each frame with one write.
  let carry = Buffer.alloc(0);
  b.on('data', (c: Buffer) => {
    let buf = carry.length ? Buffer.concat([carry, c]) : c;
    let off = 0;
    while (buf.length - off >= frameSize) {
      wb.write(Buffer.from(buf.subarray(off, off + frameSize)));
      off += frameSize;
    }
    carry = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  });
  const frame = Buffer.alloc(frameSize, 1);
  let answered = 0;
  let sent = 0;
  let pendingBytes = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    a.on('data', (c: Buffer) => {
      pendingBytes += c.length;
      while (pendingBytes >= frameSize) {
        pendingBytes -= frameSize;
        answered++;
        if (sent < total) {
          sent++;
          wa.write(frame);
        }
      }
      if (answered >= total) resolve();
    });
    for (; sent < window; sent++) wa.write(frame);
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  a.destroy();
  b.destroy();
  server.close();
  return total / ms;
}

const rounds = Number(process.env.ROUNDS ?? 3);
const results: Record<string, Record<string, number[]>> = {};
const scenarios: [string, (n: string) => Promise<number>][] = [
  ['burst 128B x100/turn', (n) => burst(n, 128, 100, 1_000_000)],
  ['burst 1KiB x10/turn', (n) => burst(n, 1024, 10, 300_000)],
  ['burst 512B x20/turn', (n) => burst(n, 512, 20, 500_000)],
  ['burst 256B x40/turn', (n) => burst(n, 256, 40, 800_000)],
  ['burst 64KiB x4/turn', (n) => burst(n, 65536, 4, 8_000)],
  ['pipeline 128B window 100', (n) => pipeline(n, 128, 100, 400_000)],
  ['pipeline 128B window 1', (n) => pipeline(n, 128, 1, 40_000)],
];
// CPU time per frame (both ends, user + system) is also shown: on a shared machine it moves
// less with the load than wall-clock throughput does.
const cpu: Record<string, Record<string, number[]>> = {};
const frames: Record<string, number> = {
  'burst 128B x100/turn': 1_000_000,
  'burst 1KiB x10/turn': 300_000,
  'burst 512B x20/turn': 500_000,
  'burst 256B x40/turn': 800_000,
  'burst 64KiB x4/turn': 8_000,
  'pipeline 128B window 100': 400_000,
  'pipeline 128B window 1': 40_000,
};
for (let r = 0; r < rounds; r++) {
  for (const [scenario, run] of scenarios) {
    for (const name of process.env.ONLY ? process.env.ONLY.split(',') : Object.keys(strategies)) {
      const before = process.cpuUsage();
      const rate = await run(name);
      const used = process.cpuUsage(before);
      ((results[scenario] ??= {})[name] ??= []).push(rate);
      ((cpu[scenario] ??= {})[name] ??= []).push((used.user + used.system) / frames[scenario]);
    }
  }
}
for (const [scenario, byName] of Object.entries(results)) {
  console.log(`${scenario} (frames/ms and CPU µs/frame, best of ${rounds})`);
  for (const [name, xs] of Object.entries(byName)) {
    const c = Math.min(...cpu[scenario][name]);
    console.log('  ' + name.padEnd(16) + Math.max(...xs).toFixed(1).padStart(8) + c.toFixed(3).padStart(9));
  }
}
