// Helpers for the gateway and JSON-RPC tests: a server with Arith and the HTTP side on
// 127.0.0.1:0, and one raw HTTP exchange per call, with the answer's headers as sent (name
// spelling kept).
import http from 'node:http';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server, type ServerOptions } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { httpGateway } from '../src/index.js';

export interface HttpAnswer {
  status: number;
  /** Lower-cased name → value, as the client saw them. */
  headers: http.IncomingHttpHeaders;
  /** Names exactly as sent. */
  rawNames: string[];
  body: Buffer;
  text: string;
}

export interface HttpRequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** One request on a fresh connection; rejects when the server closes without answering. */
export function request(port: number, spec: HttpRequestSpec, host = '127.0.0.1'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
    const r = http.request({ host, port, method: spec.method ?? 'POST', path: spec.path ?? '/', agent: false, headers: spec.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        const rawNames = res.rawHeaders.filter((_, i) => i % 2 === 0);
        resolve({ status: res.statusCode!, headers: res.headers, rawNames, body, text: body.toString('utf8') });
      });
    });
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    r.end(spec.body);
  });
}

export const codecs = () => [jsonCodec(), msgpackCodec()];

export class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
  Fail(a: { A: number }): never {
    throw new Error(`boom ${a.A}`);
  }
}

/**
 * A server with `Arith` (plus what `setup` adds) listening on 127.0.0.1:0, with `httpGateway()`
 * unless `options.http` says otherwise.
 */
export async function serve(options: ServerOptions = {}, setup?: (server: Server) => unknown) {
  const server = new Server({ transports: [tcpTransport()], codecs: codecs(), http: httpGateway(), ...options });
  await server.register(new Arith());
  await setup?.(server);
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const port = Number(listener.address.slice(listener.address.lastIndexOf(':') + 1));
  return { server, port, key: `tcp@${listener.address}` };
}

/** Gateway request headers for `Service.Method` in JSON. */
export const gw = (servicePath: string, serviceMethod: string, extra: Record<string, string> = {}) => ({
  'X-RPCX-ServicePath': servicePath,
  'X-RPCX-ServiceMethod': serviceMethod,
  'X-RPCX-SerializeType': '1',
  ...extra,
});

export const jsonRpcHeaders = { 'X-JSONRPC-2.0': 'true', 'Content-Type': 'application/json' };
