// Server interceptors run for every entry point: the same chain sees rpcx, HTTP gateway and
// JSON-RPC calls (call.protocol tells them apart), its rejection reaches each kind of client in
// that protocol's error shape, and its metadata rewrites reach the method.
import { RateLimitError, type RequestContext, type ServerInterceptor } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { codecs, gw, jsonRpcHeaders, request, serve } from './gateway-http.js';

const mul = JSON.stringify({ A: 6, B: 7 });

test('one chain for rpcx, gateway and JSON-RPC calls, with the remote address and sizes of each', async () => {
  const seen: string[] = [];
  const record: ServerInterceptor = (next) => async (call) => {
    const result = await next(call);
    seen.push(`${call.protocol} ${call.servicePath}.${call.serviceMethod} ${call.payload.length}>${result.payload.length} ${/^127\.0\.0\.1:\d+$/.test(call.remoteAddress)}`);
    return result;
  };
  const { server, port, key } = await serve({ interceptors: [record] });
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(key), transports: [tcpTransport()], codecs: codecs() });
  try {
    expect(await client.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    expect((await request(port, { headers: gw('Arith', 'Mul'), body: mul })).text).toBe('{"C":42}');
    const j = await request(port, { headers: jsonRpcHeaders, body: '{"method":"Arith.Mul","params":{"A":1,"B":5},"id":1}' });
    expect(j.text).toBe('{"jsonrpc":"2.0","result":{"C":5},"id":1}');
    const msgpack = codecs()[1];
    const rpcxSizes = `${msgpack.encode({ A: 2, B: 3 }).length}>${msgpack.encode({ C: 6 }).length}`;
    // The JSON payloads as sent and answered: the gateway body; JSON-RPC's params and result.
    expect(seen).toEqual([`rpcx Arith.Mul ${rpcxSizes} true`, 'gateway Arith.Mul 13>8 true', 'jsonrpc Arith.Mul 13>7 true']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a rejection is a service error on rpcx, a 500 with the text on the gateway, -32603 on JSON-RPC', async () => {
  const closed: ServerInterceptor = () => async () => {
    throw new RateLimitError();
  };
  const { server, port, key } = await serve({ interceptors: [closed] });
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(key), transports: [tcpTransport()], codecs: codecs() });
  try {
    await expect(client.call('Mul', { A: 2, B: 3 })).rejects.toThrow('request reached rate limit');
    const g = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
    expect([g.status, g.headers['x-rpcx-messagestatustype'], g.headers['x-rpcx-errormessage']]).toEqual([500, 'Error', 'request reached rate limit']);
    const j = await request(port, { headers: jsonRpcHeaders, body: '{"method":"Arith.Mul","params":{"A":1,"B":5},"id":7}' });
    expect(j.text).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"request reached rate limit","data":null},"id":7}');
  } finally {
    await client.close();
    await server.close();
  }
});

test('metadata rewritten by an interceptor reaches the method on the gateway and JSON-RPC', async () => {
  const tenant: ServerInterceptor = (next) => (call) => {
    call.metadata.tenant = `${call.protocol}:${call.metadata.tenant ?? '-'}`;
    return next(call);
  };
  const { server, port } = await serve({ interceptors: [tenant] }, (s) =>
    s.registerFunction('Who', (_a: unknown, ctx: RequestContext) => ctx.metadata.tenant, { name: 'Am' }),
  );
  try {
    const g = await request(port, { headers: gw('Who', 'Am', { 'X-RPCX-Meta': 'tenant=acme' }), body: '{}' });
    expect(g.text).toBe('"gateway:acme"');
    const j = await request(port, { headers: jsonRpcHeaders, body: '{"method":"Who.Am","params":{},"id":1}' });
    expect(j.text).toBe('{"jsonrpc":"2.0","result":"jsonrpc:-","id":1}');
  } finally {
    await server.close();
  }
});
