// The TypeScript benchmark client: C clients (one connection each), N calls in flight per
// client, for a fixed time after a warm-up. Prints one JSON line, like the Go bench-client.
import { parseArgs } from 'node:util';
import { FailMode, SelectMode } from '@rpcx/core';
import { consecutiveBreaker } from '@rpcx/breaker';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { XClient, multipleServers, selectorFor, type XClientOptions } from '@rpcx/xclient';
import { BenchmarkMessage, benchmarkArgs, benchmarkBytes } from './message.js';
import { networksOf, transportFor } from './networks.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', multiple: true },
    clients: { type: 'string', default: '1' },
    inflight: { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
    governance: { type: 'boolean', default: false },
    // Tracing and metrics on every call: `tracing`, `otel-metrics`, `prometheus`, comma-separated (observe.ts).
    observe: { type: 'string' },
    // protobuf: the benchmark message through @rpcx/codec-protobuf; raw: its 581 bytes as they are.
    codec: { type: 'string', default: 'protobuf' },
  },
});
const servers = values.addr ?? [];
const clients = Number(values.clients);
const inflight = Number(values.inflight);
const durationMs = Number(values['duration-ms']);
const warmupMs = Number(values['warmup-ms']);

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

let measuring = false;
let stopping = false;
let calls = 0;
let errors = 0;
let latencies = new Float64Array(1 << 20);

function record(us: number) {
  if (calls === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[calls++] = us;
}

async function loop(client: XClient) {
  while (!stopping) {
    const t0 = performance.now();
    try {
      const reply = await client.call('Say', args, callOptions);
      if (measuring) {
        if (!answered(reply)) errors++;
        record((performance.now() - t0) * 1000);
      }
    } catch {
      if (measuring) errors++;
    }
  }
}

await Promise.all(xclients.map((c) => c.call('Say', args, callOptions)));
const loops = xclients.flatMap((c) => Array.from({ length: inflight }, () => loop(c)));
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const start = performance.now();
const cpuAtStart = process.cpuUsage();
await new Promise((r) => setTimeout(r, durationMs));
measuring = false;
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
stopping = true;
await Promise.all(loops);
await Promise.all(xclients.map((c) => c.close()));

const sorted = latencies.subarray(0, calls).sort();
const pct = (p: number) => (calls === 0 ? 0 : sorted[Math.min(calls - 1, Math.floor((calls * p) / 100))]);
process.stdout.write(
  // CPU time of this process per call: steadier than calls/s on a busy machine.
  JSON.stringify({ calls, errors, seconds, callsPerSec: calls / seconds, p50us: pct(50), p99us: pct(99), cpuUsPerCall: (cpu.user + cpu.system) / calls }) + '\n',
);
