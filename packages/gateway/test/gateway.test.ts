// The gateway against an in-process @rpcx/server over loopback TCP: routing under a base
// path, gzip bodies, oneway, fail modes and reply metadata, CORS, limits, close.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { FailMode, ServiceError, type RequestContext } from '@rpcx/core';
import { jsonCodec } from '@rpcx/codec-json';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { peer2peer } from '@rpcx/xclient';
import { allowAllCors, createGateway, type Gateway, type GatewayOptions } from '../src/index.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, path: string, headers: Record<string, string>, body?: Uint8Array | string, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const notes: number[] = [];
class Arith {
  Mul(a: { A: number; B: number }, ctx: RequestContext) {
    ctx.responseMetadata['x-served'] = 'yes';
    return { C: a.A * a.B };
  }
  Note(a: { A: number }) {
    notes.push(a.A);
    return { C: 0 };
  }
  Fail(a: { A: number }, ctx: RequestContext): never {
    ctx.responseMetadata.kept = 'k';
    throw new ServiceError(`no ${a.A}`);
  }
}

let server: Server;
let key: string;
const open: Gateway[] = [];

async function gateway(options: Partial<GatewayOptions> = {}): Promise<number> {
  const gw = createGateway({ discovery: () => peer2peer(key), transports: [tcpTransport()], codecs: [jsonCodec()], ...options });
  open.push(gw);
  return (await gw.listen('127.0.0.1', 0)).port;
}

const json = { 'X-RPCX-SerializeType': '1' };

beforeAll(async () => {
  server = new Server({ transports: [tcpTransport()], codecs: [jsonCodec()] });
  await server.register(new Arith());
  key = `tcp@${(await server.listen('tcp', '127.0.0.1:0')).address}`;
});
afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
  await server.close();
});

test('the service path is the URL path under basePath; other paths are 404', async () => {
  const port = await gateway({ http: { basePath: '/rpcx' } });
  const a = await request(port, '/rpcx/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul' }, '{"A":2,"B":3}');
  expect(a.status).toBe(200);
  expect(JSON.parse(a.body)).toEqual({ C: 6 });
  expect(a.headers['x-served']).toBe('yes');
  // The header wins over the path.
  const h = await request(port, '/rpcx/Whatever', { ...json, 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul' }, '{"A":2,"B":4}');
  expect(JSON.parse(h.body)).toEqual({ C: 8 });
  const miss = await request(port, '/other/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul' }, '{}');
  expect(miss.status).toBe(404);
  expect(miss.body).toBe('404 page not found\n');
});

test('a Content-Encoding: gzip body is sent as a gzip frame', async () => {
  const port = await gateway();
  const a = await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul', 'Content-Encoding': 'gzip' }, gzipSync('{"A":5,"B":5}'));
  expect(a.status).toBe(200);
  expect(JSON.parse(a.body)).toEqual({ C: 25 });
  const bad = await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul', 'Content-Encoding': 'gzip' }, 'not gzip');
  expect(bad.headers['x-rpcx-messagestatustype']).toBe('Error');
  expect(bad.headers['x-rpcx-errormessage']).toMatch(/^gzip: invalid payload/);
});

test('oneway: an empty 200 at once, the call still runs', async () => {
  const port = await gateway();
  const a = await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Note', 'X-RPCX-Oneway': 'true' }, '{"A":41}');
  expect(a.status).toBe(200);
  expect(a.body).toBe('');
  for (let i = 0; i < 50 && !notes.includes(41); i++) await new Promise((r) => setTimeout(r, 10));
  expect(notes).toContain(41);
});

test('service error: Failover sends only the error; Failfast also the reply metadata (Go SendRaw)', async () => {
  const over = await gateway();
  const fast = await gateway({ failMode: FailMode.Failfast });
  const a = await request(over, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Fail' }, '{"A":3}');
  const b = await request(fast, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Fail' }, '{"A":3}');
  for (const x of [a, b]) {
    expect(x.status).toBe(200);
    expect(x.headers['x-rpcx-messagestatustype']).toBe('Error');
    expect(x.headers['x-rpcx-errormessage']).toBe('no 3');
    expect(x.body).toBe('no 3');
  }
  expect(a.headers.kept).toBeUndefined();
  expect(a.headers.__rpcx_error__).toBeUndefined();
  expect(b.headers.kept).toBe('k');
  expect(b.headers.__rpcx_error__).toBe('no 3');
});

test('no server reachable: the dial error, after the retries', async () => {
  const gw = createGateway({ discovery: () => peer2peer('tcp@127.0.0.1:1'), transports: [tcpTransport()], mode: 'agent' });
  open.push(gw);
  const { port } = await gw.listen(undefined, 0);
  const a = await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul' }, '{}');
  expect(a.status).toBe(200);
  expect(a.headers['x-rpcx-messagestatustype']).toBe('Error');
  expect(a.headers['x-rpcx-errormessage']).toMatch(/ECONNREFUSED|connect|dial/);
});

test('CORS preflight is answered when cors is set', async () => {
  const port = await gateway({ http: { cors: allowAllCors() } });
  const a = await request(port, '/Arith', { Origin: 'http://example.com', 'Access-Control-Request-Method': 'POST' }, undefined, 'OPTIONS');
  expect(a.status).toBe(204);
  expect(a.headers['access-control-allow-origin']).toBe('*');
});

test('a body over maxBodyLength gets 413', async () => {
  const port = await gateway({ http: { maxBodyLength: 10 } });
  const a = await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul' }, '{"A":2,"B":3,"pad":"xxxxxxxx"}');
  expect(a.status).toBe(413);
});

test('close() closes the XClients; a closed gateway does not listen again', async () => {
  const gw = createGateway({ discovery: () => peer2peer(key), transports: [tcpTransport()], codecs: [jsonCodec()] });
  const { port } = await gw.listen('127.0.0.1', 0);
  await request(port, '/Arith', { ...json, 'X-RPCX-ServiceMethod': 'Mul' }, '{"A":1,"B":1}');
  const xc = gw.clients.get('Arith')!;
  await gw.close();
  expect(gw.clients.size).toBe(0);
  await expect(xc.call('Mul', { A: 1, B: 1 })).rejects.toThrow('xClient is shut down');
  await expect(gw.listen('127.0.0.1', 0)).rejects.toThrow('closed');
  await expect(request(port, '/Arith', {}, '')).rejects.toThrow();
});
