// The TypeScript benchmark server: Hello.Say echoes the message with field1 "OK" and field2
// 100, as rpcx-benchmark's server does (raw-codec calls get their bytes back). Prints `LISTENING tcp@host:port` when ready.
import { parseArgs } from 'node:util';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server } from '@rpcx/server';
import { readFileSync } from 'node:fs';
import { BenchmarkMessage } from './message.js';
import { transportFor } from './networks.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:0' },
    network: { type: 'string', default: 'tcp' },
    // QUIC needs a certificate, as Go's quic server does.
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    // Tracing and metrics on every call: `tracing`, `otel-metrics`, `prometheus`, comma-separated (observe.ts).
    observe: { type: 'string' },
  },
});

class Hello {
  Say(m: Record<string, unknown> | Uint8Array) {
    // With the raw codec (serialize type 0) the bytes come back as they came, as in the limit.
    if (m instanceof Uint8Array) return m;
    m.field1 = 'OK';
    m.field2 = 100;
    return m;
  }
}

/** The observed stack (observe.ts loads the OpenTelemetry SDK: only when asked for). */
async function observed(parts: string) {
  const { observedServer, observedParts } = await import('./observe.js');
  return observedServer(observedParts(parts));
}

const serverTls = values['tls-cert'] ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined;
// Message instances (not plain objects) skip protobufjs' toObject/fromObject round trip.
const server = new Server({
  transports: [await transportFor(values.network!, serverTls)],
  codecs: [protobufCodec({ toObject: false })],
  ...(values.observe ? await observed(values.observe) : {}),
});
await server.register(new Hello(), { schemas: { Say: { args: BenchmarkMessage, reply: BenchmarkMessage } } });
const listener = await server.listen(values.network!, values.addr!);
process.stdout.write(`LISTENING ${values.network}@${listener.address}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
