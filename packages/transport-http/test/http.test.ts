import net from 'node:net';
import { UnsupportedError, type Connection } from '@rpcx/core';
import { Recorder, refusedAddress, selfSigned, silentServer, transportCompliance } from '@rpcx/transport-kit/testing';
import { httpTransport, type HttpTransport } from '../src/index.js';

transportCompliance({
  name: 'http CONNECT 127.0.0.1',
  transport: () => httpTransport(),
  network: 'http',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  // A TCP server that accepts and never answers the CONNECT.
  stalledAddress: () => silentServer('127.0.0.1'),
});

const { key, cert } = selfSigned('rpcx-http-tls-');
const serverTls = { key, cert };

transportCompliance({
  name: 'http CONNECT over TLS 127.0.0.1',
  transport: () => httpTransport({ serverTls, clientTls: { ca: cert } }),
  network: 'http',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  stalledAddress: () => silentServer('127.0.0.1'),
});

/** Send raw bytes to `address` and collect everything until the server closes (or `untilBytes`). */
async function rawExchange(address: string, request: string | Buffer, untilBytes = Infinity): Promise<Buffer> {
  const [host, port] = address.split(':');
  const socket = net.connect({ host, port: Number(port) });
  socket.write(request);
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer in 5 s; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, 5000);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (total >= untilBytes) done();
    });
    socket.on('error', () => {});
    socket.on('close', done);
  });
}

/** A raw TCP server that records what a client sends and answers with `reply`. */
async function fakeServer(reply: string | Buffer) {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => socket.write(reply));
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    received: () => Buffer.concat(received).toString('latin1'),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('httpTransport specifics', () => {
  const transport = httpTransport();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function listen(onConnection: (c: Connection) => void = () => {}, t: HttpTransport = transport) {
    const listener = await t.listen('http', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      onConnection(c);
    });
    cleanups.push(() => listener.close());
    return listener;
  }
  /** A listener whose connections echo what they receive. */
  const echo = (c: Connection) => c.setHandler({ onData: (d) => c.write(d), onClose: () => {} });

  it('serves network http only', async () => {
    expect(transport.networks).toEqual(['http']);
    await expect(transport.listen('tcp', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(transport.dial('ws', '127.0.0.1:1')).rejects.toBeInstanceOf(UnsupportedError);
  });

  it("answers Go's bare-LF CONNECT with Go's exact bytes, and bytes sent along reach rpcx", async () => {
    const listener = await listen(echo);
    const reply = await rawExchange(listener.address, 'CONNECT /_rpcx_ HTTP/1.0\n\nping', 36);
    expect(reply.toString('latin1')).toBe('HTTP/1.0 200 Connected to rpcx\n\nping');
  });

  it('accepts a CRLF CONNECT with headers and a query string too', async () => {
    const listener = await listen(echo);
    const reply = await rawExchange(listener.address, 'CONNECT /_rpcx_?x=1 HTTP/1.1\r\nHost: a\r\n\r\nab', 34);
    expect(reply.toString('latin1')).toBe('HTTP/1.0 200 Connected to rpcx\n\nab');
  });

  it('accepts a head split across many small packets', async () => {
    const listener = await listen(echo);
    const [host, port] = listener.address.split(':');
    const socket = net.connect({ host, port: Number(port) });
    cleanups.push(() => socket.destroy());
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    for (const byte of 'CONNECT /_rpcx_ HTTP/1.0\r\n\r\nz') {
      socket.write(byte);
      await new Promise((r) => setTimeout(r, 2));
    }
    for (let i = 0; i < 100 && Buffer.concat(got).length < 33; i++) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(got).toString('latin1')).toBe('HTTP/1.0 200 Connected to rpcx\n\nz');
  });

  it("answers other methods with Go's 405, and then closes", async () => {
    const listener = await listen();
    const reply = (await rawExchange(listener.address, 'GET /_rpcx_ HTTP/1.1\r\nHost: x\r\n\r\n')).toString('latin1');
    const [head, body] = reply.split('\r\n\r\n');
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(lines).toContain('Content-Type: text/plain; charset=utf-8');
    expect(lines).toContain('Content-Length: 17');
    expect(body).toBe('405 must CONNECT\n');
    const v10 = (await rawExchange(listener.address, 'POST /_rpcx_ HTTP/1.0\n\n')).toString('latin1');
    expect(v10.startsWith('HTTP/1.0 405 Method Not Allowed\r\n')).toBe(true);
  });

  it('answers other paths with 404 and junk with 400', async () => {
    const listener = await listen();
    const notFound = (await rawExchange(listener.address, 'CONNECT /other HTTP/1.0\n\n')).toString('latin1');
    expect(notFound.startsWith('HTTP/1.0 404 Not Found\r\n')).toBe(true);
    expect(notFound.endsWith('\r\n\r\n404 page not found\n')).toBe(true);
    const bad = (await rawExchange(listener.address, 'HELLO\n\n')).toString('latin1');
    expect(bad.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
  });

  it('serves and dials a configured rpcPath', async () => {
    const custom = httpTransport({ rpcPath: '/custom' });
    const listener = await custom.listen('http', '127.0.0.1:0', echo);
    cleanups.push(() => listener.close());
    const reply = await rawExchange(listener.address, 'CONNECT /custom HTTP/1.0\n\n', 32);
    expect(reply.toString('latin1')).toBe('HTTP/1.0 200 Connected to rpcx\n\n');
    const refused = await transport.dial('http', listener.address).catch((e: Error) => e);
    expect(refused).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL' });
    expect((refused as Error).message).toBe(`dial-http http ${listener.address}: unexpected HTTP response: 404 Not Found`);
    const c = await custom.dial('http', listener.address);
    cleanups.push(() => c.destroy());
    const r = new Recorder(c);
    c.write(Buffer.from('hi'));
    await r.waitFor(2);
    expect(r.data().toString()).toBe('hi');
  });

  it("sends Go's exact CONNECT bytes and keeps bytes that follow the response head", async () => {
    const fake = await fakeServer('HTTP/1.0 200 Connected to rpcx\n\nearly');
    cleanups.push(() => fake.close());
    const c = await transport.dial('http', fake.address);
    cleanups.push(() => c.destroy());
    expect(c.network).toBe('http');
    expect(fake.received()).toBe('CONNECT /_rpcx_ HTTP/1.0\n\n');
    await new Promise((r) => setTimeout(r, 30));
    const r = new Recorder(c);
    await r.waitFor(5);
    expect(r.data().toString()).toBe('early');
  });

  it('requires the status "200 Connected to rpcx"', async () => {
    const fake = await fakeServer('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    cleanups.push(() => fake.close());
    const error = await transport.dial('http', fake.address).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL' });
    expect((error as Error).message).toBe(`dial-http http ${fake.address}: unexpected HTTP response: 200 OK`);
  });

  it('reports a server that closes before answering as EOF', async () => {
    // Reading too, so that the client's FIN is seen and the socket closes.
    const server = net.createServer((s) => s.resume().end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const error = await transport.dial('http', address).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL', message: `dial-http http ${address}: EOF` });
  });

  it('drops a connection that never finishes its head after headerTimeoutMs', async () => {
    const listener = await listen(() => {}, httpTransport({ headerTimeoutMs: 100 }));
    const started = Date.now();
    const reply = await rawExchange(listener.address, 'CONNECT /_rpcx_ HTTP/1.0\n');
    expect(reply.length).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 20));
    expect(await listener.connectionCount()).toBe(0);
  });

  it('refuses a head larger than maxHeaderBytes with 431', async () => {
    const small = httpTransport({ maxHeaderBytes: 1024 });
    const listener = await small.listen('http', '127.0.0.1:0', () => {});
    cleanups.push(() => listener.close());
    const reply = (await rawExchange(listener.address, `CONNECT /_rpcx_ HTTP/1.0\nX: ${'a'.repeat(2000)}\n\n`)).toString('latin1');
    expect(reply.startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')).toBe(true);
  });

  it('closing the listener drops connections still sending their head', async () => {
    const listener = await transport.listen('http', '127.0.0.1:0', () => {});
    const [host, port] = listener.address.split(':');
    const stuck = net.connect({ host, port: Number(port) });
    stuck.on('error', () => {});
    stuck.write('CONNECT /_rpcx_');
    await new Promise((r) => stuck.once('connect', r));
    await new Promise((r) => setTimeout(r, 30));
    expect(await listener.connectionCount()).toBe(1);
    await listener.close();
    await listener.drained;
    expect(await listener.connectionCount()).toBe(0);
    stuck.destroy();
  });
});
