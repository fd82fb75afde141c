// Prometheus metrics for an rpcx server and client: the server answers the scrape on its own
// port (`/metrics`, beside rpcx), the client's metrics are in the same registry here. This
// makes a few calls, one failing and one to a method that does not exist, scrapes over HTTP
// and prints the calls counters.
import { jsonCodec } from '@rpcx/codec-json';
import { ServiceError } from '@rpcx/core';
import { clientMetrics, metricsHandler, serverMetrics } from '@rpcx/plugin-prometheus';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

class Arith {
  Mul(args: { A: number; B: number }) {
    return { C: args.A * args.B };
  }
  Div(args: { A: number; B: number }) {
    if (args.B === 0) throw new ServiceError('divide by zero');
    return { C: args.A / args.B };
  }
}

// prom-client's global registry unless told otherwise; `metricsHandler()` serves it.
const server = serverMetrics();
const rpcx = new Server({
  transports: [tcpTransport()],
  codecs: [jsonCodec()],
  interceptors: [server.interceptor],
  plugins: [server.plugin],
  http: httpGateway({ routes: { '/metrics': metricsHandler() } }),
});
await rpcx.register(new Arith());
const { address } = await rpcx.listen('tcp', '127.0.0.1:0');

const metrics = clientMetrics();
const client = new XClient({
  servicePath: 'Arith',
  discovery: metrics.discovery(peer2peer(`tcp@${address}`), 'Arith'),
  transports: [tcpTransport()],
  codecs: [jsonCodec()],
  serializeType: 1,
  interceptors: [metrics.interceptors],
  plugins: [metrics.plugin],
});

for (let i = 1; i <= 3; i++) await client.call('Mul', { A: i, B: 7 });
await client.call('Div', { A: 1, B: 0 }).catch((err: Error) => console.log(`Div: ${err.message}`));
await client.call('Pow', { A: 2, B: 8 }).catch((err: Error) => console.log(`Pow: ${err.message}`));

const scrape = await (await fetch(`http://${address}/metrics`)).text();
for (const line of scrape.split('\n')) {
  if (/^rpcx_(server|client)_calls_total\{/.test(line) || line.startsWith('rpcx_server_call_duration_seconds_count')) console.log(line);
}

await client.close();
await rpcx.close();
