// Opens --count connections to an rpcx server (--addr tcp@host:port), makes one Hello.Say call
// on each (so the server has set the connection up fully), prints `READY <count>` and keeps them
// open, idle, until SIGTERM. The memory section of `pnpm bench` reads the server's RSS meanwhile.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { benchmarkBytes } from './message.js';

const { values } = parseArgs({ options: { addr: { type: 'string' }, count: { type: 'string', default: '10000' }, parallel: { type: 'string', default: '200' } } });
const [host, port] = values.addr!.replace(/^tcp@/, '').split(':');
const count = Number(values.count);

/** An rpcx request frame for Hello.Say, protobuf (serialize type 2), no metadata. */
function requestFrame(seq: number): Buffer {
  const payload = benchmarkBytes();
  const path = Buffer.from('Hello');
  const method = Buffer.from('Say');
  const total = 16 + path.length + method.length + payload.length;
  const f = Buffer.alloc(16 + total);
  f[0] = 0x08;
  f[3] = 2 << 4;
  f.writeUInt32BE(seq, 8);
  f.writeUInt32BE(total, 12);
  let pos = 16;
  for (const part of [path, method, Buffer.alloc(0), payload]) {
    f.writeUInt32BE(part.length, pos);
    part.copy(f, pos + 4);
    pos += 4 + part.length;
  }
  return f;
}

const frame = requestFrame(1);
const sockets: net.Socket[] = [];

/** Connect, call once, wait for the whole reply frame. */
function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(port), noDelay: true });
    sockets.push(s);
    let got = 0;
    let want = -1;
    s.once('error', reject);
    s.once('connect', () => s.write(frame));
    s.on('data', (chunk: Buffer) => {
      if (want < 0 && chunk.length >= 16) want = 16 + chunk.readUInt32BE(12);
      got += chunk.length;
      if (want >= 0 && got >= want) {
        s.removeAllListeners('data');
        s.on('error', () => {});
        resolve();
      }
    });
  });
}

let next = 0;
const worker = async () => {
  while (next < count) {
    next++;
    await open();
  }
};
await Promise.all(Array.from({ length: Number(values.parallel) }, worker));
process.stdout.write(`READY ${sockets.length}\n`);
process.once('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
