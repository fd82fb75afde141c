// One trace across Go and TypeScript, carried in the rpcx request metadata as rpcx-plugins'
// Go OpenTelemetry plugins carry it (W3C traceparent): a Go rpcx client with the client OTel
// plugin calls our server (otelServer), whose method calls a Go rpcx server with the server
// OTel plugin through our client (otelClient). Spans come from both languages: the TS SDK's
// in-memory exporter, and the Go peers' stdout.
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { jsonCodec } from '@rpcx/codec-json';
import { ServiceError } from '@rpcx/core';
import { otelClient, otelServer } from '@rpcx/plugin-otel';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { buildOtelPeer, runGoOtelClient, startGoOtelServer, type GoOtelServer, type GoSpan } from './support/otel-peer.js';

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const options = { tracerProvider, propagator: new W3CTraceContextPropagator(), metrics: false };
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);

let goServer: GoOtelServer;
let tsServer: Server;
let toGo: XClient;
let tsAddress: string;

beforeAll(async () => {
  buildOtelPeer();
  goServer = await startGoOtelServer();
  toGo = new XClient({
    servicePath: 'Echo',
    discovery: peer2peer(`tcp@${goServer.address}`),
    transports: [tcpTransport()],
    codecs: [jsonCodec()],
    serializeType: 1,
    interceptors: [otelClient(options)],
  });
  class Trace {
    // The Go client's call; the server span is active here, so this nested call joins the trace.
    async Relay(args: { text: string }) {
      const fromGo = (await toGo.call('Say', { text: `${args.text} via ts` })) as { text: string; from: string; traceparent: string };
      return { text: fromGo.text, from: `ts+${fromGo.from}`, traceparent: fromGo.traceparent };
    }
    Refuse(args: { text: string }): never {
      throw new ServiceError(`refused: ${args.text}`);
    }
  }
  tsServer = new Server({ transports: [tcpTransport()], codecs: [jsonCodec()], interceptors: [otelServer(options)] });
  await tsServer.register(new Trace());
  tsAddress = (await tsServer.listen('tcp', '127.0.0.1:0')).address;
}, 600_000);

afterAll(async () => {
  await toGo?.close();
  await tsServer?.close();
  await goServer?.stop();
  await tracerProvider.shutdown();
  contextManager.disable();
});

/** Polls until `find` returns something, for spans a Go process prints after answering. */
async function eventually<T>(find: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const found = find();
    if (found !== undefined) return found;
  }
  throw new Error(`${what} did not appear in ${ms} ms: ${goServer.stderr()}`);
}

test('Go client → TS server → Go server: one trace id, each span the child of the one before', async () => {
  const { reply, spans: goClientSpans } = await runGoOtelClient(tsAddress, 'Trace', 'Relay', 'hello');
  expect(reply).toMatchObject({ text: 'hello via ts', from: 'ts+go' });

  const root = goClientSpans.find((s) => s.name === 'go.client.root')!;
  const goClient = goClientSpans.find((s) => s.name === 'rpcx.client.Trace.Relay')!;
  expect(root).toBeDefined();
  expect(goClient).toBeDefined();
  const traceId = root.traceId;

  const tsSpans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const ts = (kind: SpanKind, name: string): ReadableSpan => {
    const found = tsSpans.filter((s) => s.kind === kind && s.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const tsServerSpan = ts(SpanKind.SERVER, 'Trace/Relay');
  // A Failfast call is one request: its client span stands for the call.
  const tsRequest = ts(SpanKind.CLIENT, 'Echo/Say');
  expect(tsSpans).toHaveLength(2);

  const goServerSpan = await eventually(
    () => goServer.spans().find((s: GoSpan) => s.name === 'rpcx.service.Echo.Say' && s.traceId === traceId),
    'the Go server span',
  );

  // One trace, five spans, each the child of the one before it.
  expect(goClient.traceId).toBe(traceId);
  expect(goClient.parentSpanId).toBe(root.spanId);
  expect(tsServerSpan.parentSpanContext?.spanId).toBe(goClient.spanId);
  expect(tsServerSpan.parentSpanContext?.isRemote).toBe(true);
  expect(tsRequest.parentSpanContext?.spanId).toBe(tsServerSpan.spanContext().spanId);
  expect(goServerSpan.parentSpanId).toBe(tsRequest.spanContext().spanId);
  expect(goServerSpan.parentRemote).toBe(true);

  // Both languages name the same call the same way.
  expect(goServerSpan).toMatchObject({ kind: 'server', statusCode: 'Ok', attributes: { 'rpc.system': 'rpcx', 'rpc.service': 'Echo', 'rpc.method': 'Say' } });
  expect(goClient.attributes).toEqual({ 'rpc.system': 'rpcx', 'rpc.service': 'Trace', 'rpc.method': 'Relay' });
  expect(tsServerSpan.attributes).toMatchObject({ 'rpc.system': 'rpcx', 'rpc.service': 'Trace', 'rpc.method': 'Relay', 'rpcx.protocol': 'rpcx' });
  // What the Go server read from the metadata after its plugin wrote its own span there.
  expect((reply as { traceparent: string }).traceparent).toBe(`00-${traceId}-${goServerSpan.spanId}-01`);
});

test('a failed call: the Go client span and the TS server span both carry the rpcx error text, in one trace', async () => {
  const { error, spans } = await runGoOtelClient(tsAddress, 'Trace', 'Refuse', 'no');
  expect(error).toBe('refused: no');
  const goClient = spans.find((s) => s.name === 'rpcx.client.Trace.Refuse')!;
  expect(goClient).toMatchObject({ statusCode: 'Error', statusMessage: 'refused: no' });
  const server = exporter.getFinishedSpans().find((s) => s.name === 'Trace/Refuse' && s.spanContext().traceId === goClient.traceId)!;
  expect(server.parentSpanContext?.spanId).toBe(goClient.spanId);
  expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'refused: no' });
  expect(server.attributes['error.type']).toBe('RPCX_ERR_SERVICE');
});
