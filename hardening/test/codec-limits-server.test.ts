// Payloads over a codec's limits, on every path into a real server (rpcx frames over TCP, the
// HTTP gateway, JSON-RPC 2.0): each is answered to its caller with the typed error's text, the
// connection that sent it goes on, and a well-behaved client on another connection is served
// throughout, none of its calls slower than a generous bound.
import http from 'node:http';
import { MessageStatus, MetaKey } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { deepJson, deepMsgpack, deepProtobuf, manyMaps } from '../src/payloads.js';
import { RawPeer, request } from '../src/raw.js';
import { startServer, wellBehavedClient, type Fixture } from '../src/fixture.js';

/** What another client may wait for while a hostile payload is refused (the machine is shared). */
const SLOWEST_CALL_MS = 2000;
const MiB = 1024 * 1024;

function httpPost(port: number, headers: Record<string, string>, body: Uint8Array): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('codec limits on every path into the server', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startServer();
  });

  afterAll(async () => {
    await fixture.server.close();
  });

  /** Runs `hostile` while a well-behaved client calls, and checks that client afterwards. */
  async function whileServing(hostile: () => Promise<void>): Promise<void> {
    const client = wellBehavedClient(fixture.key);
    try {
      await hostile();
    } finally {
      const seen = await client.stop();
      expect(seen.failure).toBeUndefined();
      expect(seen.calls).toBeGreaterThan(0);
      expect(seen.slowestMs).toBeLessThan(SLOWEST_CALL_MS);
    }
  }

  test.each([
    ['msgpack: 32 MiB of 0x91', 'Arith', 'Mul', 3, deepMsgpack, 'msgpack: payload nested deeper than the maxDepth limit of 1000'],
    ['msgpack: 4 Mi empty maps', 'Arith', 'Mul', 3, () => manyMaps(4 * MiB), 'msgpack: the number of arrays, maps, binaries and extension values is over the maxObjects limit of 1048576'],
    ['JSON: 32 MiB of "["', 'Arith', 'Mul', 1, deepJson, 'json: payload nested deeper than the maxDepth limit of 1000'],
    ['protobuf: a million nested messages', 'Proto', 'Echo', 2, () => deepProtobuf(1_000_000), 'protobuf: payload nested deeper than the maxDepth limit of 100'],
  ] as const)('rpcx over TCP, %s: an error reply to that call, and the connection goes on', async (_name, path, method, serializeType, payload, text) => {
    const hostile = request(path, method, serializeType, payload(), 1);
    await whileServing(async () => {
      const peer = await RawPeer.open(fixture.port);
      try {
        const reply = await peer.call(hostile, 30_000);
        expect(reply.status).toBe(MessageStatus.Error);
        expect(reply.metadata[MetaKey.ServiceError]).toBe(text);
        // The same connection is still served.
        const next = await peer.call(request('Arith', 'Mul', 3, msgpackCodec().encode({ A: 6, B: 7 }), 2));
        expect(next.status).toBe(MessageStatus.Normal);
        expect(msgpackCodec().decode(next.payload)).toEqual({ C: 42 });
        expect(peer.isOpen).toBe(true);
      } finally {
        peer.close();
      }
    });
  });

  test('HTTP gateway, X-RPCX-SerializeType: 3 and 32 MiB of 0x91: a 500 with the error, the server goes on', async () => {
    const body = deepMsgpack();
    await whileServing(async () => {
      const headers = { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '3' };
      const answer = await httpPost(fixture.port, headers, body);
      expect(answer.status).toBe(500);
      expect(answer.headers['x-rpcx-messagestatustype']).toBe('Error');
      expect(answer.headers['x-rpcx-errormessage']).toBe('msgpack: payload nested deeper than the maxDepth limit of 1000');
      const ok = await httpPost(fixture.port, headers, msgpackCodec().encode({ A: 3, B: 4 }));
      expect(ok.status).toBe(200);
    });
  });

  test('HTTP gateway with JSON: 32 MiB of "[" is refused the same way', async () => {
    const body = deepJson();
    await whileServing(async () => {
      const answer = await httpPost(fixture.port, { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '1' }, body);
      expect(answer.status).toBe(500);
      expect(answer.headers['x-rpcx-errormessage']).toBe('json: payload nested deeper than the maxDepth limit of 1000');
    });
  });

  test('JSON-RPC: params deeper than the codec allows get a -32603 error; a deeper body, Go\'s parse error', async () => {
    const headers = { 'X-JSONRPC-2.0': 'true', 'Content-Type': 'application/json' };
    const params = '['.repeat(5000) + ']'.repeat(5000);
    const tooDeep = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"Arith.Mul","id":2,"params":'), deepJson()]);
    await whileServing(async () => {
      const answer = await httpPost(fixture.port, headers, Buffer.from(`{"jsonrpc":"2.0","method":"Arith.Mul","params":${params},"id":1}`));
      expect(JSON.parse(answer.text)).toEqual({
        jsonrpc: '2.0',
        error: { code: -32603, message: 'json: payload nested deeper than the maxDepth limit of 1000', data: null },
        id: 1,
      });
      // Past Go's own 10000 levels the envelope is refused before any codec runs, as Go does.
      const refused = JSON.parse((await httpPost(fixture.port, headers, tooDeep)).text);
      expect(refused.error).toEqual({ code: -32700, message: "invalid character '[' exceeded max depth", data: null });
      const ok = await httpPost(fixture.port, headers, Buffer.from('{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":2,"B":5},"id":3}'));
      expect(JSON.parse(ok.text)).toEqual({ jsonrpc: '2.0', result: { C: 10 }, id: 3 });
    });
  });
});
