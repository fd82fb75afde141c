// The gRPC column of the call benchmark: @grpc/grpc-js unary calls carrying the same 581-byte
// message as bytes in and out (identity serializers: no protobuf work on either side), the
// server echoing them. `--serve` prints `LISTENING tcp@…`; otherwise a closed-loop client with
// one channel (one HTTP/2 connection) per --clients, printing one JSON line like the others.
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, Measurement, callLoop, loadOf } from './closed-loop.js';
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

const { values } = parseArgs({ options: { ...CLIENT_OPTIONS, serve: { type: 'boolean', default: false } } });
const load = loadOf(values);

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
  const { addrs, clients, inflight, durationMs, warmupMs } = load;
  const target = addrs[0].replace(/^tcp@/, '');
  const body = benchmarkBytes();
  const Client = grpc.makeGenericClientConstructor(service, 'Hello');
  type Say = (req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void;
  // A local subchannel pool per client: otherwise grpc-js shares one connection among them.
  const stubs = Array.from({ length: clients }, () => new Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as grpc.Client & { Say: Say });
  const say = (stub: { Say: Say }) => new Promise<Buffer>((resolve, reject) => stub.Say(body, (err, res) => (err ? reject(err) : resolve(res!))));

  const m = new Measurement();
  await Promise.all(stubs.map(say));
  const loops = stubs.flatMap((s) => Array.from({ length: inflight }, () => callLoop(m, () => say(s), (res) => res.length === body.length)));
  await m.window(warmupMs, durationMs);
  await Promise.all(loops);
  for (const s of stubs) s.close();
  m.report();
}
