// Plain HTTP routes on the rpcx port (`httpGateway({ routes })`, e.g. a Prometheus `/metrics`):
// served next to rpcx, the gateway and JSON-RPC; a gateway call or JSON-RPC request on the same
// path still goes where it went; a failing route answers 500 and the port goes on serving.
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { httpGateway, type HttpRoute } from '../src/index.js';
import { codecs, gw, request, serve } from './gateway-http.js';

const hello: HttpRoute = (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`hello ${req.method} ${req.url}`);
};

test('a route answers beside rpcx, the gateway and JSON-RPC, which keep their paths', async () => {
  const { server, port, key } = await serve({ http: httpGateway({ routes: { '/hello': hello, '/Arith': hello } }) });
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(key), transports: [tcpTransport()], codecs: codecs() });
  try {
    const routed = await request(port, { method: 'GET', path: '/hello?x=1' });
    expect([routed.status, routed.text, routed.headers['content-type']]).toEqual([200, 'hello GET /hello?x=1', 'text/plain']);
    // The gateway call on a routed path: X-RPCX-ServiceMethod makes it a call.
    const call = await request(port, { path: '/Arith', headers: { 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '1' }, body: '{"A":6,"B":7}' });
    expect([call.status, call.text]).toEqual([200, '{"C":42}']);
    const rpc = await request(port, { path: '/hello', headers: { 'X-JSONRPC-2.0': 'true' }, body: '{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":2,"B":3},"id":1}' });
    expect(rpc.text).toBe('{"jsonrpc":"2.0","result":{"C":6},"id":1}');
    // A path with no route is still the gateway's (here: no method header, Go's error answer).
    const other = await request(port, { method: 'GET', path: '/elsewhere' });
    expect(other.headers['x-rpcx-errormessage']).toBe('empty servicemethod');
    expect(await client.call('Mul', { A: 3, B: 4 })).toEqual({ C: 12 });
  } finally {
    await client.close();
    await server.close();
  }
});

test('routes are served with the gateway and JSON-RPC off', async () => {
  const { server, port } = await serve({ http: httpGateway({ gateway: false, jsonRpc: false, routes: { '/hello': hello } }) });
  try {
    expect((await request(port, { method: 'GET', path: '/hello' })).text).toBe('hello GET /hello');
    await expect(request(port, { path: '/Arith', headers: gw('Arith', 'Mul'), body: '{"A":1,"B":1}' })).rejects.toThrow();
  } finally {
    await server.close();
  }
});

test('a route that throws or rejects answers 500; the next request is served', async () => {
  const { server, port } = await serve({
    http: httpGateway({
      routes: {
        '/throws': () => {
          throw new Error('sync failure');
        },
        '/rejects': async () => {
          throw new Error('async failure');
        },
        '/hello': hello,
      },
    }),
  });
  try {
    expect((await request(port, { method: 'GET', path: '/throws' })).status).toBe(500);
    expect((await request(port, { method: 'GET', path: '/rejects' })).status).toBe(500);
    expect((await request(port, { method: 'GET', path: '/hello' })).text).toBe('hello GET /hello');
  } finally {
    await server.close();
  }
});
