// @rpcx/plugin-limits: a request rate limit on the server (Go's ReqRateLimitingPlugin), and on
// the client a rate limit, a limit of calls in flight per server and a retry budget.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { connectionRateLimit, clientRateLimit, concurrencyLimit, requestRateLimit, retryBudget } from '@rpcx/plugin-limits';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { Arith } from './arith.js';

const server = new Server({
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
  // 1000 calls per second for the whole server, at most 100 at once; 2 per minute per client host.
  interceptors: [requestRateLimit({ rate: 1000, burst: 100 }), requestRateLimit({ rate: 2, periodMs: 60_000, by: 'client' })],
});
await server.use(connectionRateLimit({ rate: 100, by: 'client' }));
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address}, 1000 calls/s (burst 100), 2 calls/min per client`);

const client = new XClient({
  servicePath: 'Arith',
  discovery: peer2peer(`tcp@${listener.address}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
  interceptors: [clientRateLimit({ rate: 1000 }), concurrencyLimit({ maxInFlight: 8 }), retryBudget()],
});

const outcomes = await Promise.all(
  [1, 2, 3, 4].map((i) =>
    client.call<{ C: number }>('Mul', { A: i, B: 10 }).then(
      (r) => `${r.C}`,
      (e: Error) => e.message,
    ),
  ),
);
// The per-client limit (burst 2) lets the first two through.
console.log(`client: ${outcomes.join(' | ')}`);

await client.close();
await server.close();
console.log('done');
