/**
 * `pnpm soak [--minutes 3] [--clients 16] [--hostile 8] [--every 5]`: minutes of mixed traffic
 * against a server in its own process, for a human to watch: well-behaved clients calling
 * Arith (msgpack and JSON) and the member service, and hostile workers sending fuzzed
 * connections, deep payloads, and requests from connections that never read their replies.
 * Every few seconds it prints the good calls per second and the server's memory (RSS, heap,
 * external), and at the end the memory curve's range. Not part of `pnpm test`.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { encodeMessage } from '@rpcx/protocol';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { spawnServer } from './child.js';
import { fuzzConnection } from './fuzz.js';
import { deepJson, deepMsgpack } from './payloads.js';
import { RawPeer, request } from './raw.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
    hostile: { type: 'string', default: '8' },
    every: { type: 'string', default: '5' },
  },
});
const minutes = Number(values.minutes);
const clientCount = Number(values.clients);
const hostileCount = Number(values.hostile);
const everyMs = Number(values.every) * 1000;
const seed = (Math.random() * 0x1_0000_0000) >>> 0;

const server = await spawnServer();
const deadline = performance.now() + minutes * 60_000;
const running = () => performance.now() < deadline && server.exited === undefined;

let goodCalls = 0;
let goodErrors = 0;
let firstGoodError: string | undefined;
const hostileDone = { fuzz: 0, deep: 0, nonReading: 0 };

/** A well-behaved client: calls in a loop, checking every answer. */
async function goodClient(n: number): Promise<void> {
  const serializeType = n % 2 === 0 ? 3 : 1;
  const member = n % 4 === 3;
  const client = new XClient({
    servicePath: member ? 'ServiceUser' : 'Arith',
    discovery: peer2peer(server.key),
    transports: [tcpTransport()],
    codecs: [msgpackCodec(), jsonCodec()],
    serializeType,
    timeoutMs: 30_000,
  });
  let i = 0;
  while (running()) {
    i++;
    try {
      if (member) {
        const reply = (await client.call('UserInfo', { Uid: i })) as { UID: number };
        if (reply.UID !== i) throw new Error(`UserInfo(${i}) answered UID ${reply.UID}`);
      } else {
        const reply = (await client.call('Mul', { A: i % 1000, B: 3 })) as { C: number };
        if (reply.C !== (i % 1000) * 3) throw new Error(`Mul(${i % 1000}, 3) answered ${reply.C}`);
      }
      goodCalls++;
    } catch (err) {
      goodErrors++;
      firstGoodError ??= (err as Error).message;
    }
  }
  await client.close();
}

/** Requests written as fast as the socket takes them, replies never read, for a few seconds. */
function nonReadingClient(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.once('connect', () => {
      socket.pause();
      const frame = encodeMessage(request('Arith', 'Mul', 3, msgpackCodec().encode({ A: 2, B: 3 }), 1));
      for (let i = 0; i < 5000; i++) socket.write(frame);
      setTimeout(() => socket.destroy(), 5000);
    });
  });
}

/** A call whose payload the codec refuses; the answer must be an error reply. */
async function deepCall(n: number): Promise<void> {
  const peer = await RawPeer.open(server.port);
  try {
    const json = n % 2 === 1;
    const reply = await peer.call(request('Arith', 'Mul', json ? 1 : 3, json ? deepJson(1 << 20) : deepMsgpack(1 << 20), 1), 30_000);
    if (reply.status !== 1) throw new Error('a deep payload was not refused');
  } catch (err) {
    goodErrors++;
    firstGoodError ??= `deep payload: ${(err as Error).message}`;
  } finally {
    peer.close();
  }
}

async function hostileWorker(n: number): Promise<void> {
  const report = { frames: 0, replies: 0, inStep: 0, hung: [] as string[], probeFailures: [] as string[] };
  for (let i = 0; running(); i++) {
    const id = n * 1_000_000 + i;
    switch (i % 10) {
      case 0:
        await nonReadingClient();
        hostileDone.nonReading++;
        break;
      case 1:
      case 2:
        await deepCall(i);
        hostileDone.deep++;
        break;
      default:
        await fuzzConnection(server.port, { seed, framesPerConnection: 20, closeWithinMs: 10_000 }, id, report);
        hostileDone.fuzz++;
    }
    for (const problem of [...report.hung.splice(0), ...report.probeFailures.splice(0)]) {
      goodErrors++;
      firstGoodError ??= problem;
    }
  }
}

const mb = (n: number) => (n / 1e6).toFixed(0).padStart(6);
const samples: NodeJS.MemoryUsage[] = [];
console.log(`soak: ${minutes} min, ${clientCount} well-behaved clients, ${hostileCount} hostile workers, fuzz seed ${seed}; server pid ${server.pid}`);
console.log('     t   calls/s  errors   fuzz  deep  non-reading   rss MB  heap MB  of MB  external MB');
const started = performance.now();
let lastCalls = 0;
let lastAt = started;
const ticker = setInterval(async () => {
  if (server.exited !== undefined) return;
  const memory = await server.memory().catch(() => undefined);
  if (!memory) return;
  samples.push(memory);
  const now = performance.now();
  const rate = ((goodCalls - lastCalls) * 1000) / (now - lastAt);
  [lastCalls, lastAt] = [goodCalls, now];
  const t = `${((now - started) / 1000).toFixed(0)}s`.padStart(6);
  console.log(
    `${t} ${rate.toFixed(0).padStart(9)} ${String(goodErrors).padStart(7)} ${String(hostileDone.fuzz).padStart(6)} ${String(hostileDone.deep).padStart(5)} ${String(hostileDone.nonReading).padStart(12)} ${mb(memory.rss).padStart(8)} ${mb(memory.heapUsed).padStart(8)} ${mb(memory.heapTotal)} ${mb(memory.external).padStart(12)}`,
  );
}, everyMs);

await Promise.all([
  ...Array.from({ length: clientCount }, (_, n) => goodClient(n)),
  ...Array.from({ length: hostileCount }, (_, n) => hostileWorker(n)),
]);
clearInterval(ticker);
const died = server.exited;
await server.stop();

const seconds = (performance.now() - started) / 1000;
console.log(`${goodCalls} good calls in ${seconds.toFixed(0)} s (${(goodCalls / seconds).toFixed(0)}/s), ${goodErrors} errors`);
if (samples.length > 0) {
  const rss = samples.map((s) => s.rss);
  const heap = samples.map((s) => s.heapUsed);
  console.log(`server rss ${mb(Math.min(...rss))} … ${mb(Math.max(...rss))} MB, heap used ${mb(Math.min(...heap))} … ${mb(Math.max(...heap))} MB`);
}
if (died !== undefined) console.error(`the server process exited (${died}) during the soak`);
if (firstGoodError) console.error(`first error: ${firstGoodError}`);
process.exit(died !== undefined || goodErrors > 0 ? 1 : 0);
