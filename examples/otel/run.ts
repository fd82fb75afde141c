// OpenTelemetry across rpcx calls: a client calls Front.Relay, whose method calls Back.Echo on
// another server. With @rpcx/plugin-otel on both clients and both servers, the spans form one
// trace; this prints it as a tree. A real application would export to a collector instead of
// keeping spans in memory (e.g. @opentelemetry/exporter-trace-otlp-http).
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { otelClient, otelServer } from '@rpcx/plugin-otel';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

// The SDK set-up an application does once: where spans go, the active-span context, and W3C
// trace context (traceparent / tracestate), which rpcx-plugins' Go plugins read too.
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

function client(servicePath: string, address: string): XClient {
  return new XClient({
    servicePath,
    discovery: peer2peer(`tcp@${address}`),
    transports: [tcpTransport()],
    codecs: [msgpackCodec()],
    interceptors: [otelClient()],
  });
}

async function serve(service: object): Promise<{ server: Server; address: string }> {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], interceptors: [otelServer()] });
  await server.register(service);
  return { server, address: (await server.listen('tcp', '127.0.0.1:0')).address };
}

class Back {
  Echo(args: { text: string }) {
    return { text: args.text.toUpperCase() };
  }
}
const back = await serve(new Back());
const toBack = client('Back', back.address);

class Front {
  // The server span is active here, so this call joins the trace without any code for it.
  Relay(args: { text: string }) {
    return toBack.call('Echo', args);
  }
}
const front = await serve(new Front());
const toFront = client('Front', front.address);

const reply = (await toFront.call('Relay', { text: 'hello' })) as { text: string };
console.log(`reply: ${reply.text}`);

const finished = spans.getFinishedSpans();
console.log(`trace ${finished[0].spanContext().traceId}: ${finished.length} spans, ${new Set(finished.map((s) => s.spanContext().traceId)).size} trace`);
const kinds = ['internal', 'server', 'client', 'producer', 'consumer'];
function print(span: ReadableSpan, depth: number): void {
  const attempt = span.attributes['rpcx.attempt'] === undefined ? '' : ` attempt ${span.attributes['rpcx.attempt']}`;
  console.log(`${'  '.repeat(depth)}${span.name} (${kinds[span.kind]})${attempt}`);
  for (const child of finished.filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId)) print(child, depth + 1);
}
print(finished.find((s) => !s.parentSpanContext)!, 0);

await toFront.close();
await toBack.close();
await front.server.close();
await back.server.close();
