// Server and client metrics, read the way Prometheus reads them: by scraping /metrics over HTTP
// (on the rpcx port's HTTP side, and from a plain node:http server). Calls by service, method
// and outcome; latency; in-flight calls; open connections; payload bytes; discovery refreshes;
// and label values kept bounded (unknown methods, and pairs past `maxMethods`, are `_OTHER`).
import http from 'node:http';
import { jsonCodec } from '@rpcx/codec-json';
import { ServiceError } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers } from '@rpcx/xclient';
import { Registry } from 'prom-client';
import { clientMetrics, metricsHandler, serverMetrics, type PrometheusOptions } from '../src/index.js';

const json = jsonCodec();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

class Echo {
  Say(args: { text: string }) {
    return { text: args.text };
  }
  Other(args: { text: string }) {
    return { text: args.text };
  }
  Third(args: { text: string }) {
    return { text: args.text };
  }
  Fail(): never {
    throw new ServiceError('echo failed');
  }
  async Slow(args: { ms: number }) {
    await new Promise((r) => setTimeout(r, args.ms));
    return {};
  }
}

async function setup(options: PrometheusOptions = {}) {
  const registry = new Registry();
  const server = serverMetrics({ registry, ...options });
  const s = new Server({
    transports: [tcpTransport()],
    codecs: [json],
    interceptors: [server.interceptor],
    plugins: [server.plugin],
    http: httpGateway({ routes: { '/metrics': metricsHandler(registry) } }),
  });
  open.push(s);
  await s.register(new Echo());
  const address = (await s.listen('tcp', '127.0.0.1:0')).address;
  const client = clientMetrics({ registry, ...options });
  const discovery = multipleServers([{ key: `tcp@${address}`, value: '' }]);
  const c = new XClient({
    servicePath: 'Echo',
    discovery: client.discovery(discovery, 'Echo'),
    transports: [tcpTransport()],
    codecs: [json],
    serializeType: 1,
    interceptors: [client.interceptors],
    plugins: [client.plugin],
  });
  open.push(c);
  return { address, client: c, discovery, registry };
}

/** The scrape, as `name{labels} value` lines keyed by `name{labels}`. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function until(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    if (await check()) return;
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

test('scraping the rpcx port: calls by outcome, latency, bytes, connections; unknown methods fold into _OTHER', async () => {
  const { address, client } = await setup();
  await client.call('Say', { text: 'abc' });
  await client.call('Say', { text: 'abcdef' });
  await expect(client.call('Fail', {})).rejects.toThrow('echo failed');
  for (const name of ['Nope1', 'Nope2', 'Nope3']) await expect(client.call(name, {})).rejects.toThrow(`can't find method ${name}`);

  const m = await scrape(`http://${address}/metrics`);
  expect(m.get('rpcx_server_calls_total{service="Echo",method="Say",protocol="rpcx",outcome="ok"}')).toBe(2);
  expect(m.get('rpcx_server_calls_total{service="Echo",method="Fail",protocol="rpcx",outcome="RPCX_ERR_SERVICE"}')).toBe(1);
  expect(m.get('rpcx_server_calls_total{service="_OTHER",method="_OTHER",protocol="rpcx",outcome="RPCX_ERR_SERVICE"}')).toBe(3);
  // The server creates no series for names it does not know (the client's names are its own code's).
  expect([...m.keys()].filter((k) => k.startsWith('rpcx_server_') && k.includes('Nope'))).toEqual([]);
  expect(m.get('rpcx_server_call_duration_seconds_count{service="Echo",method="Say",protocol="rpcx"}')).toBe(2);
  expect(m.get('rpcx_server_call_duration_seconds_bucket{le="+Inf",service="Echo",method="Say",protocol="rpcx"}')).toBe(2);
  expect(m.get('rpcx_server_received_bytes_total{service="Echo",method="Say"}')).toBe('{"text":"abc"}'.length + '{"text":"abcdef"}'.length);
  expect(m.get('rpcx_server_sent_bytes_total{service="Echo",method="Say"}')).toBe('{"text":"abc"}'.length + '{"text":"abcdef"}'.length);
  expect(m.get('rpcx_server_in_flight_calls{protocol="rpcx"}')).toBe(0);
  // The client's connection and this scrape's.
  expect(m.get('rpcx_server_open_connections')).toBe(2);

  expect(m.get('rpcx_client_calls_total{service="Echo",method="Say",kind="call",outcome="ok"}')).toBe(2);
  expect(m.get('rpcx_client_calls_total{service="Echo",method="Nope2",kind="call",outcome="RPCX_ERR_SERVICE"}')).toBe(1);
  expect(m.get('rpcx_client_call_duration_seconds_count{service="Echo",method="Say",kind="call"}')).toBe(2);
  expect(m.get('rpcx_client_attempts_total{service="Echo",method="Say",outcome="ok"}')).toBe(2);
  expect(m.get('rpcx_client_sent_bytes_total{service="Echo",method="Say"}')).toBe('{"text":"abc"}'.length + '{"text":"abcdef"}'.length);
  expect(m.get('rpcx_client_received_bytes_total{service="Echo",method="Say"}')).toBe('{"text":"abc"}'.length + '{"text":"abcdef"}'.length);
  expect(m.get('rpcx_client_open_connections')).toBe(1);
  expect(m.get('rpcx_client_discovered_servers{service="Echo"}')).toBe(1);

  // The scrape's own connection is gone once it is closed; the client's when the client closes.
  await client.close();
  await until(async () => (await scrape(`http://${address}/metrics`)).get('rpcx_server_open_connections') === 1, 'connections closed');
  expect((await scrape(`http://${address}/metrics`)).get('rpcx_client_open_connections')).toBe(0);
});

test('in-flight calls are counted while they run', async () => {
  const { address, client } = await setup();
  const slow = client.call('Slow', { ms: 400 });
  await until(async () => (await scrape(`http://${address}/metrics`)).get('rpcx_server_in_flight_calls{protocol="rpcx"}') === 1, 'one call in flight');
  expect((await scrape(`http://${address}/metrics`)).get('rpcx_client_in_flight_calls{service="Echo",method="Slow"}')).toBe(1);
  await slow;
  const m = await scrape(`http://${address}/metrics`);
  expect(m.get('rpcx_server_in_flight_calls{protocol="rpcx"}')).toBe(0);
  expect(m.get('rpcx_client_in_flight_calls{service="Echo",method="Slow"}')).toBe(0);
});

test('maxMethods bounds the series: pairs past it are counted under _OTHER', async () => {
  const { address, client } = await setup({ maxMethods: 2 });
  await client.call('Say', { text: 'a' });
  await client.call('Other', { text: 'b' });
  await client.call('Third', { text: 'c' });
  await client.call('Third', { text: 'd' });
  const m = await scrape(`http://${address}/metrics`);
  expect(m.get('rpcx_server_calls_total{service="Echo",method="Say",protocol="rpcx",outcome="ok"}')).toBe(1);
  expect(m.get('rpcx_server_calls_total{service="Echo",method="Other",protocol="rpcx",outcome="ok"}')).toBe(1);
  expect(m.get('rpcx_server_calls_total{service="_OTHER",method="_OTHER",protocol="rpcx",outcome="ok"}')).toBe(2);
  expect(m.get('rpcx_client_calls_total{service="_OTHER",method="_OTHER",kind="call",outcome="ok"}')).toBe(2);
  expect([...m.keys()].filter((k) => k.includes('Third'))).toEqual([]);
});

test('gateway calls are counted with their protocol; discovery refreshes are counted', async () => {
  const { address, client, discovery } = await setup();
  const res = await fetch(`http://${address}/Echo`, { method: 'POST', headers: { 'X-RPCX-ServiceMethod': 'Say', 'X-RPCX-SerializeType': '1' }, body: '{"text":"gw"}' });
  expect(res.status).toBe(200);
  await client.call('Say', { text: 'x' });
  discovery.update([
    { key: `tcp@${address}`, value: '' },
    { key: 'tcp@127.0.0.1:1', value: '' },
  ]);
  const m = await scrape(`http://${address}/metrics`);
  expect(m.get('rpcx_server_calls_total{service="Echo",method="Say",protocol="gateway",outcome="ok"}')).toBe(1);
  expect(m.get('rpcx_client_discovery_updates_total{service="Echo"}')).toBe(1);
  expect(m.get('rpcx_client_discovered_servers{service="Echo"}')).toBe(2);
});

test('metricsHandler on a plain node:http server', async () => {
  const registry = new Registry();
  const { interceptor } = serverMetrics({ registry, prefix: 'app_rpc_' });
  const s = new Server({ transports: [tcpTransport()], codecs: [json], interceptors: [interceptor] });
  open.push(s);
  await s.register(new Echo());
  const address = (await s.listen('tcp', '127.0.0.1:0')).address;
  const c = new XClient({ servicePath: 'Echo', discovery: multipleServers([{ key: `tcp@${address}`, value: '' }]), transports: [tcpTransport()], codecs: [json], serializeType: 1 });
  open.push(c);
  await c.call('Say', { text: 'x' });

  const web = http.createServer(metricsHandler(registry));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise<void>((r) => web.close(() => r())) });
  const m = await scrape(`http://127.0.0.1:${(web.address() as { port: number }).port}/`);
  expect(m.get('app_rpc_server_calls_total{service="Echo",method="Say",protocol="rpcx",outcome="ok"}')).toBe(1);
});
