// @rpcx/gateway (the standalone rpcx-gateway) forwards bodies as raw frames and never decodes a
// payload itself, so a hostile body meets the codec limits of the server behind it: the HTTP
// caller gets rpcx-gateway's error answer with the typed error's text, and the gateway, its
// connection to the server and other clients go on.
import http from 'node:http';
import { createGateway, type Gateway } from '@rpcx/gateway';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { peer2peer } from '@rpcx/xclient';
import { startServer, wellBehavedClient, type Fixture } from '../src/fixture.js';
import { deepJson, deepMsgpack } from '../src/payloads.js';

const SLOWEST_CALL_MS = 2000;

function post(port: number, headers: Record<string, string>, body: Uint8Array): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('@rpcx/gateway in front of a server, with hostile bodies', () => {
  let fixture: Fixture;
  let gateway: Gateway;
  let port: number;

  beforeAll(async () => {
    fixture = await startServer();
    gateway = createGateway({ discovery: () => peer2peer(fixture.key), transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec()] });
    port = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    await gateway.close();
    await fixture.server.close();
  });

  test.each([
    ['msgpack, 32 MiB of 0x91', '3', deepMsgpack, 'msgpack: payload nested deeper than the maxDepth limit of 1000'],
    ['JSON, 32 MiB of "["', '1', deepJson, 'json: payload nested deeper than the maxDepth limit of 1000'],
  ] as const)('%s: the error answer, then the next call through the same gateway', async (_name, serializeType, payload, text) => {
    const headers = { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': serializeType };
    const body = payload();
    const client = wellBehavedClient(fixture.key);
    try {
      const answer = await post(port, headers, body);
      expect(answer.status).toBe(200); // rpcx-gateway answers errors with 200 and headers
      expect(answer.headers['x-rpcx-messagestatustype']).toBe('Error');
      expect(answer.headers['x-rpcx-errormessage']).toBe(text);
      const codec = serializeType === '3' ? msgpackCodec() : jsonCodec();
      const ok = await post(port, headers, codec.encode({ A: 5, B: 6 }));
      expect(ok.status).toBe(200);
      expect(codec.decode(new Uint8Array(ok.body))).toEqual({ C: 30 });
    } finally {
      const seen = await client.stop();
      expect(seen.failure).toBeUndefined();
      expect(seen.slowestMs).toBeLessThan(SLOWEST_CALL_MS);
    }
  });
});
