// The TypeScript benchmark client: C clients (one connection each), N calls in flight per
// client, for a fixed time after a warm-up. Prints one JSON line, like the Go bench-client.
import { parseArgs } from 'node:util';
import { FailMode, SelectMode } from '@rpcx/core';
import { consecutiveBreaker } from '@rpcx/breaker';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { XClient, multipleServers, selectorFor, type XClientOptions } from '@rpcx/xclient';
import { CLIENT_OPTIONS, Measurement, callLoop, loadOf } from './closed-loop.js';
import { BenchmarkMessage, benchmarkArgs, benchmarkBytes } from './message.js';
import { networksOf, transportFor } from './networks.js';

const { values } = parseArgs({
  options: {
    ...CLIENT_OPTIONS,
    governance: { type: 'boolean', default: false },
    // Tracing and metrics on every call: `tracing`, `otel-metrics`, `prometheus`, comma-separated (observe.ts).
    observe: { type: 'string' },
    // protobuf: the benchmark message through @rpcx/codec-protobuf; raw: its 581 bytes as they are.
    codec: { type: 'string', default: 'protobuf' },
  },
});
const { addrs: servers, clients, inflight, durationMs, warmupMs } = loadOf(values);

// Plain Failfast + random, or the full governance stack: Failover + weighted round robin + breaker.
const governance: Partial<XClientOptions> = values.governance
  ? { failMode: FailMode.Failover, selector: () => selectorFor(SelectMode.WeightedRoundRobin), breaker: () => consecutiveBreaker({ failureThreshold: 5, windowMs: 10_000 }) }
  : { failMode: FailMode.Failfast, selector: () => selectorFor(SelectMode.RandomSelect) };

// observe.ts loads the OpenTelemetry SDK: only when asked for.
const observed = values.observe ? await import('./observe.js').then((o) => o.observedClient(o.observedParts(values.observe!))) : {};
const raw = values.codec === 'raw';
const codec = protobufCodec({ toObject: false });
// The networks come from the --addr keys (tcp@, http@, ws@, kcp@, quic@).
const transports = await Promise.all(networksOf(servers).map((network) => transportFor(network)));
const args = raw ? benchmarkBytes() : BenchmarkMessage.fromObject(benchmarkArgs());
const schema = { args: BenchmarkMessage, reply: BenchmarkMessage };
const callOptions = raw ? {} : { schema };
/** Whether a reply is the server's answer: field1 "OK", or the bytes sent. */
const answered = raw ? (reply: unknown) => (reply as Uint8Array).length === (args as Uint8Array).length : (reply: unknown) => (reply as { field1?: string }).field1 === 'OK';

const xclients = Array.from(
  { length: clients },
  () =>
    new XClient({
      servicePath: 'Hello',
      discovery: multipleServers(servers.map((key) => ({ key, value: '' }))),
      transports,
      codecs: [codec],
      serializeType: raw ? 0 : 2,
      ...governance,
      ...observed,
    }),
);

const m = new Measurement();
await Promise.all(xclients.map((c) => c.call('Say', args, callOptions)));
const loops = xclients.flatMap((c) => Array.from({ length: inflight }, () => callLoop(m, () => c.call('Say', args, callOptions), answered)));
await m.window(warmupMs, durationMs);
await Promise.all(loops);
await Promise.all(xclients.map((c) => c.close()));
m.report();
