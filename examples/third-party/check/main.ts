// Each piece at work in a real server and client: the pipe transport carries the calls, the
// canonical-JSON codec encodes them, the directory registry finds the server, the client
// interceptor sends a request id that the server interceptor requires and echoes, and the
// plugin counts. Exits non-zero on the first wrong answer.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '@rpcx/server';
import { XClient } from '@rpcx/xclient';
import {
  CANONICAL_JSON,
  callCounter,
  canonicalJsonCodec,
  concurrencyLimit,
  directoryDiscovery,
  directoryRegisterPlugin,
  pipeTransport,
  requestId,
  requireRequestId,
} from '../src/index.js';

class Arith {
  Mul(args: { A: number; B: number }) {
    return { C: args.A * args.B };
  }

  async Slow(args: { ms: number }) {
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    return {};
  }
}

const dir = await mkdtemp(join(tmpdir(), 'rpcx-directory-registry-'));
try {
  const counter = callCounter();
  const server = new Server({
    transports: [pipeTransport()],
    codecs: [canonicalJsonCodec()],
    interceptors: [requireRequestId(), concurrencyLimit(1)],
  });
  server.use(counter);
  server.use(directoryRegisterPlugin({ dir, serviceAddress: 'pipe@arith:1' }));
  await server.register(new Arith(), { metadata: 'group=demo' });
  await server.listen('pipe', 'arith:1');

  const discovery = directoryDiscovery({ dir, servicePath: 'Arith', networks: ['pipe'] });
  assert.deepEqual(await discovery.getServices(), [{ key: 'pipe@arith:1', value: 'group=demo' }]);
  console.log('registry: Arith found at pipe@arith:1 (group=demo)');

  const client = new XClient({
    servicePath: 'Arith',
    discovery,
    ownDiscovery: true,
    transports: [pipeTransport()],
    codecs: [canonicalJsonCodec()],
    serializeType: CANONICAL_JSON,
    interceptors: [requestId(() => 'req-42')],
  });
  const responseMetadata: Record<string, string> = {};
  const reply = await client.call('Mul', { B: 20, A: 10 }, { responseMetadata });
  assert.deepEqual(reply, { C: 200 });
  assert.equal(responseMetadata['x-request-id'], 'req-42');
  console.log('pipe transport + canonical-json codec: 10 * 20 = 200');
  console.log('interceptors: request id req-42 sent and echoed');

  // One call at a time: of two at once, the second is refused with Go's rate-limit text.
  const both = await Promise.allSettled([client.call('Slow', { ms: 500 }), client.call('Slow', { ms: 0 })]);
  assert.equal(both[0].status, 'fulfilled');
  assert.equal(both[1].status === 'rejected' && (both[1].reason as Error).message, 'request reached rate limit');
  console.log('interceptors: a second call at once is refused: request reached rate limit');

  assert.deepEqual(canonicalJsonCodec().encode({ b: 1, a: [{ d: 2, c: 3 }] }), new TextEncoder().encode('{"a":[{"c":3,"d":2}],"b":1}'));
  console.log('codec: keys sorted on the wire');

  // Without the client interceptor, the server interceptor refuses the call.
  const bare = new XClient({
    servicePath: 'Arith',
    discovery: directoryDiscovery({ dir, servicePath: 'Arith', networks: ['pipe'] }),
    ownDiscovery: true,
    transports: [pipeTransport()],
    codecs: [canonicalJsonCodec()],
    serializeType: CANONICAL_JSON,
  });
  await assert.rejects(bare.call('Mul', { A: 1, B: 1 }), { message: 'missing x-request-id' });
  console.log('interceptors: a call without a request id is refused');

  // The refused calls never reached the method: plugin hooks run inside the interceptors.
  assert.equal(counter.calls.get('Arith.Mul'), 1);
  assert.equal(counter.calls.get('Arith.Slow'), 1);
  assert.equal(counter.connections, 2);
  console.log('plugin: 1 call to Arith.Mul and 1 to Arith.Slow counted, 2 connections');

  await Promise.all([client.close(), bare.close()]);
  await server.shutdown();
  // Shutting down unregisters: the server's file is gone.
  const after = directoryDiscovery({ dir, servicePath: 'Arith', networks: ['pipe'] });
  assert.deepEqual(await after.getServices(), []);
  await after.close();
  console.log('registry: the server left on shutdown');
} finally {
  await rm(dir, { recursive: true, force: true });
}
