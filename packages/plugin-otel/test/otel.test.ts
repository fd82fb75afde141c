// Spans and metrics of otelServer / otelClient on real TCP connections: one trace across a
// client, a server whose method calls another server, and that server; error status with the
// rpcx error text; retries and fan-out targets as child spans; the trace context in the rpcx
// request metadata as `traceparent`; the rpc.server.* / rpc.client.* metrics, with unknown
// names folded into `_OTHER`. The same spans across Go and TypeScript: interop/test/otel.test.ts.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { jsonCodec } from '@rpcx/codec-json';
import { FailMode, ServiceError, type ClientInterceptors, type RequestContext } from '@rpcx/core';
import { roundRobinSelector } from '@rpcx/selector';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers, peer2peer } from '@rpcx/xclient';
import { otelClient, otelContextOf, otelServer } from '../src/index.js';
import { pointWith, sdk, useContextManager, type Sdk } from './otel-harness.js';

useContextManager();

const json = jsonCodec();
const open: { close(): Promise<void> }[] = [];
let telemetry: Sdk;
beforeEach(() => {
  telemetry = sdk();
});
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
  await telemetry.shutdown();
});

class Back {
  Echo(args: { text: string }, ctx: RequestContext) {
    return { text: args.text, traceparent: ctx.metadata.traceparent ?? null };
  }
  Fail(): never {
    throw new ServiceError('back is down');
  }
}

async function serve(service: object, name?: string): Promise<string> {
  const server = new Server({ transports: [tcpTransport()], codecs: [json], interceptors: [otelServer(telemetry.options)], http: httpGateway() });
  open.push(server);
  await server.register(service, name ? { name } : {});
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return listener.address;
}

function client(servicePath: string, servers: string[], extra: Partial<ConstructorParameters<typeof XClient>[0]> = {}): XClient {
  const c = new XClient({
    servicePath,
    discovery: servers.length === 1 ? peer2peer(`tcp@${servers[0]}`) : multipleServers(servers.map((s) => ({ key: `tcp@${s}`, value: '' }))),
    transports: [tcpTransport()],
    codecs: [json],
    serializeType: 1,
    interceptors: [otelClient(telemetry.options) as ClientInterceptors],
    ...extra,
  });
  open.push(c);
  return c;
}

const id = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
function only(spans: ReadableSpan[], kind: SpanKind, name: string, pick: (s: ReadableSpan) => boolean = () => true): ReadableSpan {
  const found = spans.filter((s) => s.kind === kind && s.name === name && pick(s));
  expect(found).toHaveLength(1);
  return found[0];
}

test('a call through a server whose method calls another server is one trace, each span a child of the one before', async () => {
  // Back's client is Failfast: its one request span stands for the call. Front's can retry:
  // its call span has the request span under it.
  const backAddress = await serve(new Back());
  const back = client('Back', [backAddress]);
  class Front {
    async Relay(args: { text: string }) {
      // No trace context passed by hand: the server span is active here.
      return back.call('Echo', args);
    }
  }
  const frontAddress = await serve(new Front());
  const front = client('Front', [frontAddress], { failMode: FailMode.Failover });

  const reply = (await front.call('Relay', { text: 'hi' })) as { text: string; traceparent: string };
  expect(reply.text).toBe('hi');

  const spans = telemetry.spans();
  expect(spans).toHaveLength(5);
  expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  const frontCall = only(spans, SpanKind.INTERNAL, 'Front/Relay');
  const frontAttempt = only(spans, SpanKind.CLIENT, 'Front/Relay');
  const frontServer = only(spans, SpanKind.SERVER, 'Front/Relay');
  const backRequest = only(spans, SpanKind.CLIENT, 'Back/Echo');
  const backServer = only(spans, SpanKind.SERVER, 'Back/Echo');
  expect(parentOf(frontCall)).toBeUndefined();
  expect(parentOf(frontAttempt)).toBe(id(frontCall));
  expect(parentOf(frontServer)).toBe(id(frontAttempt));
  expect(parentOf(backRequest)).toBe(id(frontServer));
  expect(parentOf(backServer)).toBe(id(backRequest));

  // What went over the wire: the attempt span as a W3C traceparent in the request metadata,
  // which the server then replaced with its own span's, as rpcx-plugins' Go server plugin does.
  const { traceId } = backServer.spanContext();
  expect(reply.traceparent).toBe(`00-${traceId}-${id(backServer)}-01`);

  const [host, port] = frontAddress.split(':');
  expect(frontAttempt.attributes).toEqual({
    'rpc.system': 'rpcx',
    'rpc.service': 'Front',
    'rpc.method': 'Relay',
    'rpcx.server': `tcp@${frontAddress}`,
    'rpcx.attempt': 1,
    'server.address': host,
    'server.port': Number(port),
  });
  expect(frontCall.attributes).toEqual({ 'rpc.system': 'rpcx', 'rpc.service': 'Front', 'rpc.method': 'Relay', 'rpcx.call.kind': 'call' });
  expect(backRequest.attributes).toMatchObject({ 'rpc.service': 'Back', 'rpc.method': 'Echo', 'rpcx.attempt': 1, 'rpcx.call.kind': 'call' });
  expect(frontServer.attributes).toMatchObject({ 'rpc.system': 'rpcx', 'rpc.service': 'Front', 'rpc.method': 'Relay', 'rpcx.protocol': 'rpcx', 'client.address': '127.0.0.1' });
  for (const s of spans) expect(s.status.code).toBe(SpanStatusCode.UNSET);
});

test('a failed call: error status with the rpcx error text on the server, request and call spans', async () => {
  // Failfast: the request span is the call's; Failover: a call span over the request span.
  const address = await serve(new Back());
  await expect(client('Back', [address]).call('Fail', {})).rejects.toThrow('back is down');
  await expect(client('Back', [address], { failMode: FailMode.Failover }).call('Fail', {})).rejects.toThrow('back is down');
  const spans = telemetry.spans();
  expect(spans.map((s) => s.kind).sort()).toEqual([SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.CLIENT].sort());
  for (const s of spans) {
    expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'back is down' });
    expect(s.attributes['error.type']).toBe('RPCX_ERR_SERVICE');
    expect(s.events.map((e) => e.name)).toEqual(['exception']);
  }
});

test('retries are child spans of the call: a failed attempt on a dead server, then one that answers', async () => {
  // A port nothing listens on: bind one, note it, close it.
  const dead = new Server({ transports: [tcpTransport()] });
  const deadAddress = (await dead.listen('tcp', '127.0.0.1:0')).address;
  await dead.close();
  const live = await serve(new Back());
  const c = client('Back', [deadAddress, live], { failMode: FailMode.Failover, selector: () => roundRobinSelector() });

  for (let i = 0; i < 2; i++) await c.call('Echo', { text: `${i}` });
  const spans = telemetry.spans();
  const calls = spans.filter((s) => s.kind === SpanKind.INTERNAL);
  expect(calls).toHaveLength(2);
  // Round robin starts each call on the next server: one of the two calls tried the dead one first.
  const retried = calls.find((call) => spans.filter((s) => s.kind === SpanKind.CLIENT && parentOf(s) === id(call)).length === 2)!;
  expect(retried).toBeDefined();
  const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT && parentOf(s) === id(retried)).sort((a, b) => Number(a.attributes['rpcx.attempt']) - Number(b.attributes['rpcx.attempt']));
  expect(attempts.map((a) => [a.attributes['rpcx.attempt'], a.attributes['rpcx.server'], a.status.code])).toEqual([
    [1, `tcp@${deadAddress}`, SpanStatusCode.ERROR],
    [2, `tcp@${live}`, SpanStatusCode.UNSET],
  ]);
  expect(retried.status.code).toBe(SpanStatusCode.UNSET);
  const served = only(spans, SpanKind.SERVER, 'Back/Echo', (s) => parentOf(s) === id(attempts[1]));
  expect(served.spanContext().traceId).toBe(retried.spanContext().traceId);
});

test('broadcast: one call span, a child span per target, each server span under its own target', async () => {
  const servers = [await serve(new Back()), await serve(new Back())];
  const c = client('Back', servers);
  await c.broadcast('Echo', { text: 'all' });
  const spans = telemetry.spans();
  const call = only(spans, SpanKind.INTERNAL, 'Back/Echo');
  expect(call.attributes['rpcx.call.kind']).toBe('broadcast');
  const targets = spans.filter((s) => s.kind === SpanKind.CLIENT);
  expect(targets.map((t) => parentOf(t))).toEqual([id(call), id(call)]);
  expect(targets.map((t) => t.attributes['rpcx.target.index']).sort()).toEqual([0, 1]);
  expect(targets.map((t) => t.attributes['rpcx.server']).sort()).toEqual(servers.map((s) => `tcp@${s}`).sort());
  const served = spans.filter((s) => s.kind === SpanKind.SERVER);
  expect(served.map((s) => parentOf(s)).sort()).toEqual(targets.map(id).sort());
});

test('a traceparent sent through the HTTP gateway parents the server span', async () => {
  const address = await serve(new Back());
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = '00f067aa0ba902b7';
  const res = await fetch(`http://${address}/Back`, {
    method: 'POST',
    headers: { 'X-RPCX-ServiceMethod': 'Echo', 'X-RPCX-SerializeType': '1', 'X-RPCX-Meta': `traceparent=00-${traceId}-${parent}-01` },
    body: JSON.stringify({ text: 'gw' }),
  });
  expect(res.status).toBe(200);
  const span = only(telemetry.spans(), SpanKind.SERVER, 'Back/Echo');
  expect(span.spanContext().traceId).toBe(traceId);
  expect(parentOf(span)).toBe(parent);
  expect(span.parentSpanContext?.isRemote).toBe(true);
  expect(span.attributes['rpcx.protocol']).toBe('gateway');
});

test('a method reads its call\'s OpenTelemetry context with otelContextOf', async () => {
  let seen: string | undefined;
  class Probe {
    Who(_args: unknown, ctx: RequestContext) {
      seen = trace.getSpan(otelContextOf(ctx)!)?.spanContext().spanId;
      return {};
    }
  }
  const c = client('Probe', [await serve(new Probe())]);
  await c.call('Who', {});
  expect(seen).toBe(id(only(telemetry.spans(), SpanKind.SERVER, 'Probe/Who')));
});

test('metrics: durations, sizes and active calls by service and method; unknown names fold into _OTHER', async () => {
  const back = client('Back', [await serve(new Back())]);
  await back.call('Echo', { text: 'abc' });
  await back.call('Echo', { text: 'abcdef' });
  await expect(back.call('Fail', {})).rejects.toThrow('back is down');
  await expect(back.call('Nope1', {})).rejects.toThrow("rpcx: can't find method Nope1");
  await expect(back.call('Nope2', {})).rejects.toThrow("rpcx: can't find method Nope2");

  const names = { 'rpc.system': 'rpcx', 'rpc.service': 'Back' };
  const serverDuration = await telemetry.points('rpc.server.duration');
  expect(serverDuration).toHaveLength(3);
  expect((pointWith(serverDuration, { ...names, 'rpc.method': 'Echo' })!.value as Histogram).count).toBe(2);
  expect((pointWith(serverDuration, { ...names, 'rpc.method': 'Fail', 'error.type': 'RPCX_ERR_SERVICE' })!.value as Histogram).count).toBe(1);
  expect((pointWith(serverDuration, { 'rpc.system': 'rpcx', 'rpc.service': '_OTHER', 'rpc.method': '_OTHER', 'error.type': 'RPCX_ERR_SERVICE' })!.value as Histogram).count).toBe(2);

  const requestSize = pointWith(await telemetry.points('rpc.server.request.size'), { ...names, 'rpc.method': 'Echo' })!.value as Histogram;
  expect(requestSize.sum).toBe(JSON.stringify({ text: 'abc' }).length + JSON.stringify({ text: 'abcdef' }).length);
  const responseSize = pointWith(await telemetry.points('rpc.server.response.size'), { ...names, 'rpc.method': 'Echo' })!.value as Histogram;
  expect(responseSize.count).toBe(2);
  expect(responseSize.sum).toBeGreaterThan(requestSize.sum!);

  const clientDuration = await telemetry.points('rpc.client.duration');
  expect((pointWith(clientDuration, { ...names, 'rpc.method': 'Echo' })!.value as Histogram).count).toBe(2);
  expect((pointWith(clientDuration, { ...names, 'rpc.method': 'Nope1', 'error.type': 'RPCX_ERR_SERVICE' })!.value as Histogram).count).toBe(1);
  for (const name of ['rpc.server.active_calls', 'rpc.client.active_calls']) {
    const points = await telemetry.points(name);
    expect(points.length).toBeGreaterThan(0);
    for (const p of points) expect(p.value).toBe(0);
  }
});

test('a malformed traceparent starts a new trace; the call is served as usual', async () => {
  const address = await serve(new Back());
  const back = client('Back', [address]);
  // Straight to the server, through the gateway (no client span replaces it there).
  const res = await fetch(`http://${address}/Back`, {
    method: 'POST',
    headers: { 'X-RPCX-ServiceMethod': 'Echo', 'X-RPCX-SerializeType': '1', 'X-RPCX-Meta': 'traceparent=00-zz-not-hex-01&tracestate=%3D%2C%3D' },
    body: JSON.stringify({ text: 'gw' }),
  });
  const direct = only(telemetry.spans(), SpanKind.SERVER, 'Back/Echo');
  expect(parentOf(direct)).toBeUndefined();
  expect(res.status).toBe(200);
  // The method saw the server span's own traceparent in place of the malformed one.
  expect(JSON.parse(await res.text())).toEqual({ text: 'gw', traceparent: `00-${direct.spanContext().traceId}-${id(direct)}-01` });
  telemetry.reset();

  const reply = (await back.call('Echo', { text: 'x' }, { metadata: { traceparent: '00-not-a-trace-id-01', tracestate: '=,=' } })) as { text: string };
  expect(reply.text).toBe('x');
  const spans = telemetry.spans();
  const call = only(spans, SpanKind.CLIENT, 'Back/Echo');
  const server = only(spans, SpanKind.SERVER, 'Back/Echo');
  // The client found no valid parent in the metadata: its span (the call's only request) is a root, and the server's parent.
  expect(parentOf(call)).toBeUndefined();
  expect(parentOf(server)).toBe(id(call));
  expect(server.spanContext().traceId).toBe(call.spanContext().traceId);
  expect(server.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
});
