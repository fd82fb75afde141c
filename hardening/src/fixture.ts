/**
 * What the hardening tests, the fuzz and the soak run against: a real Server on 127.0.0.1 with
 * the seed examples' services (Arith, the member service) and a protobuf echo, msgpack + JSON
 * + protobuf, and a well-behaved client that keeps calling and checks every answer.
 */
import protobuf from 'protobufjs';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { Server, type ServerOptions } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { Arith } from '../../examples/arith/service.js';
import { ServiceUser, UserReply } from '../../examples/member/service.js';

/** `message Node { Node child = 1; repeated Node kids = 2; string s = 3; }`: nests as deep as asked. */
export const Node = protobuf.parse('syntax = "proto3"; message Node { Node child = 1; repeated Node kids = 2; string s = 3; }', { keepCase: true })
  .root.lookupType('Node');

export interface Fixture {
  server: Server;
  port: number;
  /** `tcp@127.0.0.1:port` */
  key: string;
}

/**
 * A server with Arith, ServiceUser, ServiceUserFn and Proto.Echo (protobuf `Node`), with the
 * HTTP gateway and JSON-RPC on its port (as a Go server has them) unless `options.http` says otherwise.
 */
export async function startServer(options: ServerOptions = {}): Promise<Fixture> {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec(), protobufCodec()], http: httpGateway(), ...options });
  await server.register(new Arith());
  await server.register(new ServiceUser(), { name: 'ServiceUser' });
  await server.registerFunction('ServiceUserFn', UserReply);
  await server.register({ Echo: (node: unknown) => node }, { name: 'Proto', schemas: { Echo: { args: Node, reply: Node } } });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const port = Number(listener.address.slice(listener.address.lastIndexOf(':') + 1));
  return { server, port, key: `tcp@${listener.address}` };
}

/**
 * A client calling `Arith.Mul` with fresh numbers in a loop until stopped, checking every
 * answer. `stop()` resolves with what it saw: the number of calls, the slowest one, and the
 * first wrong answer or error.
 */
export function wellBehavedClient(key: string, serializeType = 3): { stop(): Promise<{ calls: number; slowestMs: number; failure?: string }> } {
  const client = new XClient({
    servicePath: 'Arith',
    discovery: peer2peer(key),
    transports: [tcpTransport()],
    codecs: [msgpackCodec(), jsonCodec()],
    serializeType,
    timeoutMs: 30_000,
  });
  let running = true;
  let calls = 0;
  let slowestMs = 0;
  let failure: string | undefined;
  const loop = (async () => {
    while (running && failure === undefined) {
      const A = calls % 1000;
      const B = 7;
      const started = performance.now();
      try {
        const reply = (await client.call('Mul', { A, B })) as { C: number };
        if (reply.C !== A * B) failure = `Mul(${A}, ${B}) answered ${JSON.stringify(reply)}`;
      } catch (err) {
        failure = `Mul(${A}, ${B}) failed: ${(err as Error).message}`;
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
      calls++;
      // Leave the event loop to the rest of the test between calls.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close();
      return { calls, slowestMs, failure };
    },
  };
}
