// The gRPC column of the call benchmark: @grpc/grpc-js unary calls carrying the same 581-byte
// message as bytes in and out (identity serializers: no protobuf work on either side), the
// server echoing them. `--serve` prints `LISTENING tcp@…`; otherwise a closed-loop client with
// one channel (one HTTP/2 connection) per --clients, printing one JSON line like the others.
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { benchmarkBytes } from './message.js';

const identity = (b: Buffer) => b;
const service: grpc.ServiceDefinition = {
  Say: {
    path: '/bench.Hello/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    addr: { type: 'string', multiple: true },
    clients: { type: 'string', default: '1' },
    inflight: { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
  },
});

if (values.serve) {
  const server = new grpc.Server();
  server.addService(service, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`LISTENING tcp@127.0.0.1:${port}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
} else {
  const target = values.addr![0].replace(/^tcp@/, '');
  const clients = Number(values.clients);
  const inflight = Number(values.inflight);
  const durationMs = Number(values['duration-ms']);
  const warmupMs = Number(values['warmup-ms']);
  const body = benchmarkBytes();
  const Client = grpc.makeGenericClientConstructor(service, 'Hello');
  type Say = (req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void;
  // A local subchannel pool per client: otherwise grpc-js shares one connection among them.
  const stubs = Array.from({ length: clients }, () => new Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as grpc.Client & { Say: Say });
  const say = (stub: { Say: Say }) => new Promise<Buffer>((resolve, reject) => stub.Say(body, (err, res) => (err ? reject(err) : resolve(res!))));

  let measuring = false;
  let stopping = false;
  let calls = 0;
  let errors = 0;
  let latencies = new Float64Array(1 << 20);
  const record = (us: number) => {
    if (calls === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[calls++] = us;
  };
  const loop = async (stub: { Say: Say }) => {
    while (!stopping) {
      const t0 = performance.now();
      try {
        const res = await say(stub);
        if (measuring) {
          if (res.length !== body.length) errors++;
          record((performance.now() - t0) * 1000);
        }
      } catch {
        if (measuring) errors++;
      }
    }
  };

  await Promise.all(stubs.map(say));
  const loops = stubs.flatMap((s) => Array.from({ length: inflight }, () => loop(s)));
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  stopping = true;
  await Promise.all(loops);
  for (const s of stubs) s.close();
  const sorted = latencies.subarray(0, calls).sort();
  const pct = (p: number) => (calls === 0 ? 0 : sorted[Math.min(calls - 1, Math.floor((calls * p) / 100))]);
  process.stdout.write(JSON.stringify({ calls, errors, seconds, callsPerSec: calls / seconds, p50us: pct(50), p99us: pct(99) }) + '\n');
}
