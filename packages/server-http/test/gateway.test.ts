// The HTTP gateway on the rpcx port, over real TCP: protocol sniffing and its switches, the
// dispatch path it shares with rpcx (plugins, auth, handlers), limits, CORS, shutdown. The
// byte-for-byte comparison with Go rpcx is interop/test/gateway-parity.test.ts.
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MetaKey, type Connection, type RequestContext, type ServerPlugin } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { allowAllCors, httpGateway } from '../src/index.js';
import { Arith, codecs, gw, request, serve } from './gateway-http.js';

const mul = JSON.stringify({ A: 6, B: 7 });

/** Whether the server closes a raw connection after `bytes` without writing anything. */
function closedSilently(port: number, bytes: string | Buffer): Promise<{ closed: boolean; received: number }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let received = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('connection still open after 3 s'));
    }, 3000);
    s.on('data', (d) => (received += d.length));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received });
    });
    s.write(bytes);
  });
}

describe('one port, three protocols', () => {
  test('rpcx, the gateway and JSON-RPC on the same port', async () => {
    const { server, port, key } = await serve();
    const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(key), transports: [tcpTransport()], codecs: codecs() });
    try {
      expect(await client.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
      const g = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
      expect([g.status, g.text]).toEqual([200, '{"C":42}']);
      const j = await request(port, { headers: { 'X-JSONRPC-2.0': 'true' }, body: '{"method":"Arith.Mul","params":{"A":1,"B":5},"id":1}' });
      expect(j.text).toBe('{"jsonrpc":"2.0","result":{"C":5},"id":1}');
      expect(await client.call('Mul', { A: 3, B: 3 })).toEqual({ C: 9 });
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('the response header names are spelled as Go writes them', async () => {
    const { server, port } = await serve();
    try {
      const g = await request(port, { headers: gw('Arith', 'Mul', { 'X-RPCX-MessageID': '12' }), body: mul });
      expect(g.rawNames.filter((n) => n.startsWith('X-'))).toEqual([
        'X-Rpcx-Version',
        'X-Rpcx-Messageid',
        'X-Rpcx-Servicepath',
        'X-Rpcx-Servicemethod',
        'X-Rpcx-Serializetype',
        'X-Rpcx-Meta',
      ]);
      expect(g.headers['x-rpcx-messageid']).toBe('12');
      expect(g.headers['content-type']).toBe('text/plain; charset=utf-8'); // Go's sniffing of {"C":42}
      // The client asked to close; Node's `Keep-Alive: timeout=…` never appears.
      expect(g.headers.connection).toBe('close');
      expect(g.rawNames).not.toContain('Keep-Alive');
    } finally {
      await server.close();
    }
  });

  test.each([
    ['without httpGateway()', { http: undefined }],
    ['gateway and JSON-RPC both off', { http: httpGateway({ gateway: false, jsonRpc: false }) }],
  ])('%s: an HTTP request is refused like any bad magic', async (_name, options) => {
    const warnings: string[] = [];
    const { server, port } = await serve({ ...options, logger: { ...console, warn: (m: string) => warnings.push(m), debug() {}, info() {}, error() {} } });
    try {
      const r = await closedSilently(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
      expect(r.received).toBe(0);
      expect(warnings.join('\n')).toMatch(/wrong magic number: 80/);
    } finally {
      await server.close();
    }
  });

  test('bytes that are neither rpcx nor HTTP close the connection', async () => {
    const { server, port } = await serve();
    try {
      expect((await closedSilently(port, Buffer.alloc(32, 0x16))).received).toBe(0);
      expect((await closedSilently(port, 'PATCH / HTTP/1.1\r\nHost: x\r\n\r\n')).received).toBe(0);
    } finally {
      await server.close();
    }
  });

  test('a request split into one-byte chunks is still HTTP', async () => {
    const { server, port } = await serve();
    const s = connect(port, '127.0.0.1');
    try {
      const head = 'POST /Arith HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Mul\r\nX-RPCX-SerializeType: 1\r\nContent-Length: 13\r\nConnection: close\r\n\r\n';
      const all = Buffer.from(head + mul);
      let text = '';
      s.on('data', (d) => (text += d));
      const closed = new Promise((r) => s.on('close', r));
      for (const b of all) {
        s.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      await closed;
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text.endsWith('\r\n\r\n{"C":42}')).toBe(true);
    } finally {
      s.destroy();
      await server.close();
    }
  });

  test('unix sockets speak rpcx only, unless `networks` says otherwise (Go multiplexes tcp only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpcx-gw-'));
    const { Server } = await import('@rpcx/server');
    const plain = new Server({ transports: [tcpTransport()], codecs: codecs(), http: httpGateway() });
    const opted = new Server({ transports: [tcpTransport()], codecs: codecs(), http: httpGateway({ networks: ['unix'] }) });
    try {
      for (const s of [plain, opted]) await s.register(new Arith());
      await plain.listen('unix', join(dir, 'a.sock'));
      await opted.listen('unix', join(dir, 'b.sock'));
      const ask = (socketPath: string) =>
        new Promise<string>((resolve) => {
          const s = connect(socketPath);
          let text = '';
          s.on('data', (d) => (text += d));
          s.on('error', () => {});
          s.on('close', () => resolve(text));
          s.write(`POST /Arith HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Mul\r\nX-RPCX-SerializeType: 1\r\nContent-Length: 13\r\nConnection: close\r\n\r\n${mul}`);
        });
      expect(await ask(join(dir, 'a.sock'))).toBe('');
      expect(await ask(join(dir, 'b.sock'))).toMatch(/\{"C":42\}$/);
    } finally {
      await Promise.all([plain.close(), opted.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the gateway dispatches like rpcx', () => {
  test('plugin hooks run in rpcx order, with the HTTP connection', async () => {
    const seen: string[] = [];
    let accepted: Connection | undefined;
    const plugin: ServerPlugin = {
      connAccept: (c) => {
        accepted = c;
        seen.push('connAccept');
      },
      preReadRequest: () => void seen.push('preReadRequest'),
      postReadRequest: (_c, m) => void seen.push(`postReadRequest ${m?.servicePath}.${m?.serviceMethod}`),
      preHandleRequest: () => void seen.push('preHandleRequest'),
      preCall: (_ctx, _s, _m, args) => (seen.push('preCall'), args),
      postCall: (_ctx, _s, _m, _a, reply) => (seen.push('postCall'), reply),
      preWriteResponse: (_ctx, _req, res) => void seen.push(`preWriteResponse ${res ? 'res' : '-'}`),
      postWriteResponse: () => void seen.push('postWriteResponse'),
      connClose: () => void seen.push('connClose'),
    };
    const { server, port } = await serve({ plugins: [plugin] });
    try {
      let remote = '';
      server.addHandler('Probe', 'Where', (ctx) => {
        remote = ctx.remoteAddress;
        ctx.write(ctx.connection.network);
      });
      const g = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
      expect(g.status).toBe(200);
      // connClose follows the client's close of the connection, a moment after the reply.
      for (const deadline = Date.now() + 3000; !seen.includes('connClose') && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual([
        'connAccept',
        'preReadRequest',
        'postReadRequest Arith.Mul',
        'preHandleRequest',
        'preCall',
        'postCall',
        'preWriteResponse res',
        'postWriteResponse',
        'connClose',
      ]);
      expect(accepted?.network).toBe('tcp');
      // A handler (Go: AddHandler, which Go's gateway cannot reach) answers through the gateway too.
      const h = await request(port, { headers: gw('Probe', 'Where'), body: '{}' });
      expect([h.status, h.text]).toEqual([200, '"tcp"']);
      expect(remote).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });

  test('a postReadRequest refusal is a 500 with the text, as Go http.Error; preRead too', async () => {
    const { server, port } = await serve({
      plugins: [
        {
          postReadRequest: (_c, m) => {
            if (m?.serviceMethod === 'Mul') throw new Error('request reached rate limit');
          },
        },
      ],
    });
    try {
      const g = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
      expect([g.status, g.text, g.headers['content-type'], g.headers['x-content-type-options']]).toEqual([
        500,
        'request reached rate limit\n',
        'text/plain; charset=utf-8',
        'nosniff',
      ]);
    } finally {
      await server.close();
    }
  });

  test('auth sees the Authorization header as __AUTH; a refusal is 401 and keeps the connection', async () => {
    const tokens: (string | undefined)[] = [];
    const { server, port } = await serve({
      auth: (_ctx, token) => {
        tokens.push(token);
        if (token !== 'Bearer ok') throw new Error('invalid token');
      },
    });
    try {
      const denied = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
      expect([denied.status, denied.headers['x-rpcx-errormessage'], denied.headers['x-rpcx-messagestatustype']]).toEqual([401, 'invalid token', 'Error']);
      const ok = await request(port, { headers: gw('Arith', 'Mul', { Authorization: 'Bearer ok' }), body: mul });
      expect([ok.status, ok.text]).toEqual([200, '{"C":42}']);
      expect(tokens).toEqual([undefined, 'Bearer ok']);
    } finally {
      await server.close();
    }
  });

  test('service errors: 500, the error text (not errorText), no body even with a reply', async () => {
    const { server, port } = await serve({ errorText: () => 'rewritten' });
    try {
      const g = await request(port, { headers: gw('Arith', 'Fail'), body: '{"A":3}' });
      expect([g.status, g.headers['x-rpcx-errormessage'], g.body.length]).toEqual([500, 'boom 3', 0]);
      // Header values are bytes; UTF-8 in, UTF-8 out (Node's client sends a latin1 string's chars as bytes).
      const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
      const text = (h: unknown) => Buffer.from(h as string, 'latin1').toString('utf8');
      // (A Buffer body: Node writes a string body together with the head, all as UTF-8.)
      const viaHeader = await request(port, { headers: gw(utf8('Nöpe'), 'Mul'), body: Buffer.from(mul) });
      expect(text(viaHeader.headers['x-rpcx-errormessage'])).toBe("rpcx: can't find service Nöpe");
      expect(text(viaHeader.headers['x-rpcx-servicepath'])).toBe('Nöpe');
      const viaPath = await request(port, { path: '/N%C3%B6pe', headers: { 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '1' }, body: mul });
      expect(text(viaPath.headers['x-rpcx-errormessage'])).toBe("rpcx: can't find service Nöpe");
    } finally {
      await server.close();
    }
  });

  test('response metadata comes back in X-RPCX-Meta, sorted and escaped', async () => {
    const { server, port } = await serve({}, (s) =>
      s.registerFunction('Meta', (_a: unknown, ctx: RequestContext) => {
        ctx.responseMetadata['z'] = 'last one';
        ctx.responseMetadata['a'] = ctx.metadata['k'] + '&' + ctx.metadata[MetaKey.Auth];
        return 'ok';
      }, { name: 'Echo' }),
    );
    try {
      const g = await request(port, { headers: gw('Meta', 'Echo', { 'X-RPCX-Meta': 'k=v%20w', Authorization: 't' }), body: '{}' });
      expect(g.headers['x-rpcx-meta']).toBe('a=v+w%26t&z=last+one');
    } finally {
      await server.close();
    }
  });

  test('a gzip body is inflated (Go passes it on compressed); unknown or broken compression is a conversion error', async () => {
    const { server, port } = await serve();
    try {
      const ok = await request(port, { headers: gw('Arith', 'Mul', { 'X-RPCX-CompressType': '1' }), body: gzipSync(mul) });
      expect([ok.status, ok.text]).toEqual([200, '{"C":42}']);
      const unknown = await request(port, { headers: gw('Arith', 'Mul', { 'X-RPCX-CompressType': '5' }), body: mul });
      expect([unknown.status, unknown.headers['x-rpcx-errormessage']]).toEqual([200, 'unsupported compressor']);
      const broken = await request(port, { headers: gw('Arith', 'Mul', { 'X-RPCX-CompressType': '1' }), body: mul });
      expect(broken.status).toBe(200);
      expect(broken.headers['x-rpcx-errormessage']).toMatch(/^gzip: invalid payload/);
    } finally {
      await server.close();
    }
  });

  test('ctx.push and writes to ctx.connection are refused on HTTP; the call still answers', async () => {
    const outcomes: string[] = [];
    const { server, port } = await serve({}, (s) =>
      s.registerFunction('Push', async (_a: unknown, ctx: RequestContext) => {
        await ctx.push('P', 'Q', 'x').catch((e: Error) => outcomes.push(e.message));
        try {
          ctx.connection.write(new Uint8Array([8]));
        } catch (e) {
          outcomes.push((e as Error).message);
        }
        return 1;
      }, { name: 'Try' }),
    );
    try {
      const g = await request(port, { headers: gw('Push', 'Try'), body: '{}' });
      expect([g.status, g.text]).toEqual([200, '1']);
      expect(outcomes).toEqual([
        'rpcx: server push is not possible on an HTTP gateway or JSON-RPC connection',
        'rpcx: server push is not possible on an HTTP gateway or JSON-RPC connection',
      ]);
    } finally {
      await server.close();
    }
  });

  test('a client that hangs up aborts ctx.signal', async () => {
    let aborted: Promise<boolean> | undefined;
    const { server, port } = await serve({}, (s) =>
      s.registerFunction('Wait', (_a: unknown, ctx: RequestContext) => {
        aborted = new Promise((resolve) => {
          const t = setTimeout(() => resolve(false), 3000);
          ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve(true)));
        });
        return aborted;
      }, { name: 'Long' }),
    );
    try {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(`POST /Wait HTTP/1.1\r\nHost: x\r\nX-RPCX-ServiceMethod: Long\r\nX-RPCX-SerializeType: 1\r\nContent-Length: 2\r\n\r\n{}`);
      for (let i = 0; i < 100 && !aborted; i++) await new Promise((r) => setTimeout(r, 10));
      s.destroy();
      expect(await aborted).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('limits and shutdown', () => {
  test('a body over maxBodyLength is answered 413 and the connection closed', async () => {
    const { server, port } = await serve({ http: httpGateway({ maxBodyLength: 1000 }) });
    try {
      const big = await request(port, { headers: gw('Arith', 'Mul'), body: 'x'.repeat(1001) });
      expect([big.status, big.text, big.headers.connection]).toEqual([413, 'http: request body too large\n', 'close']);
      const ok = await request(port, { headers: gw('Arith', 'Mul'), body: mul });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('a request head over maxHeaderSize is answered 431, as Go does', async () => {
    const { server, port } = await serve({ http: httpGateway({ maxHeaderSize: 4096 }) });
    try {
      const s = connect(port, '127.0.0.1');
      let text = '';
      s.on('data', (d) => (text += d));
      const closed = new Promise((r) => s.on('close', r));
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(8000)}\r\n\r\n`);
      await closed;
      expect(text).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large');
    } finally {
      await server.close();
    }
  });

  test('graceful shutdown lets an in-flight gateway call answer', async () => {
    let release!: () => void;
    const { server, port } = await serve({}, (s) =>
      s.registerFunction('Slow', () => new Promise((r) => (release = () => r('done'))), { name: 'Call' }),
    );
    const pending = request(port, { headers: gw('Slow', 'Call'), body: '{}' });
    for (let i = 0; i < 100 && !release; i++) await new Promise((r) => setTimeout(r, 10));
    const shutdown = server.shutdown({ timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 30));
    release();
    const answer = await pending;
    await shutdown;
    expect([answer.status, answer.text]).toEqual([200, '"done"']);
  });
});

describe('CORS', () => {
  test('AllowAllCORSOptions: preflight answered 204, actual requests get Allow-Origin *', async () => {
    const { server, port } = await serve({ http: httpGateway({ cors: allowAllCors() }) });
    try {
      const pre = await request(port, {
        method: 'OPTIONS',
        path: '/Arith',
        headers: { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-rpcx-servicemethod' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers).toMatchObject({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'x-rpcx-servicemethod',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      });
      const actual = await request(port, { headers: gw('Arith', 'Mul', { Origin: 'https://ui.example' }), body: mul });
      expect([actual.status, actual.headers['access-control-allow-origin'], actual.headers.vary]).toEqual([200, '*', 'Origin']);
    } finally {
      await server.close();
    }
  });

  test('a list of origins with a wildcard, credentials, exposed headers and max age', async () => {
    const { server, port } = await serve({
      http: httpGateway({
        cors: {
          allowedOrigins: ['https://*.example.com', 'http://localhost:3000'],
          allowedMethods: ['POST'],
          allowedHeaders: ['X-RPCX-ServicePath', 'X-RPCX-ServiceMethod', 'X-RPCX-SerializeType'],
          exposedHeaders: ['x-rpcx-errormessage', 'x-rpcx-meta'],
          allowCredentials: true,
          maxAge: 600,
        },
      }),
    });
    try {
      const pre = (origin: string, headers = 'x-rpcx-servicemethod,x-rpcx-servicepath') =>
        request(port, { method: 'OPTIONS', path: '/', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': headers } });
      const ok = await pre('https://app.example.com');
      expect(ok.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example.com',
        'access-control-allow-credentials': 'true',
        'access-control-max-age': '600',
      });
      // Not allowed: another origin, or request headers outside the list (or unsorted, as rs/cors requires).
      for (const bad of [await pre('https://evil.test'), await pre('https://app.example.com', 'x-other'), await pre('https://app.example.com', 'x-rpcx-servicepath,x-rpcx-servicemethod')]) {
        expect(bad.status).toBe(204);
        expect(bad.headers['access-control-allow-origin']).toBeUndefined();
      }
      const actual = await request(port, { headers: gw('Arith', 'Mul', { Origin: 'http://localhost:3000' }), body: mul });
      expect(actual.headers).toMatchObject({
        'access-control-allow-origin': 'http://localhost:3000',
        'access-control-expose-headers': 'X-Rpcx-Errormessage, X-Rpcx-Meta',
        'access-control-allow-credentials': 'true',
      });
    } finally {
      await server.close();
    }
  });
});
