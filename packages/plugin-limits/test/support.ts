// A server with Arith (and a gated method) on 127.0.0.1:0 over TCP, with the HTTP gateway
// and JSON-RPC on the same port, and a raw HTTP request helper.
import http from 'node:http';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server, type ServerOptions } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';

export const codecs = () => [jsonCodec(), msgpackCodec()];

export class Arith {
  calls = 0;
  /** Calls of Slow wait here until the test calls `_open()` (methods starting with `_` are not served). */
  private opened: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  _open() {
    this.opened();
  }
  Mul(a: { A: number; B: number }) {
    this.calls++;
    return { C: a.A * a.B };
  }
  Add(a: { A: number; B: number }) {
    this.calls++;
    return { C: a.A + a.B };
  }
  async Slow(a: { A: number }) {
    this.calls++;
    await this.gate;
    return { C: a.A };
  }
}

export async function serve(options: Partial<ServerOptions> = {}) {
  const arith = new Arith();
  const server = new Server({ transports: [tcpTransport()], codecs: codecs(), http: httpGateway(), ...options });
  await server.register(arith, { name: 'Arith' });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const port = Number(listener.address.split(':')[1]);
  return { server, arith, port, key: `tcp@${listener.address}` };
}

export function client(key: string | string[], options: Partial<XClientOptions> = {}): XClient {
  return new XClient({
    servicePath: 'Arith',
    discovery: peer2peer(Array.isArray(key) ? key[0] : key),
    transports: [tcpTransport()],
    codecs: codecs(),
    ...options,
  });
}

/** One HTTP POST on a fresh connection: the status and body, or the socket error. */
export function post(port: number, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    r.setTimeout(5000, () => r.destroy(new Error('no answer in 5 s')));
    r.on('error', reject);
    r.end(body);
  });
}

export const gatewayHeaders = (method: string) => ({
  'X-RPCX-SerializeType': '1',
  'X-RPCX-ServicePath': 'Arith',
  'X-RPCX-ServiceMethod': method,
  'Content-Type': 'application/json',
});

export const jsonRpcHeaders = { 'Content-Type': 'application/json', 'X-JSONRPC-2.0': 'true' };
