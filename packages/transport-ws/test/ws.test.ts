import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError, UnsupportedError, type Connection, type Transport } from '@rpcx/core';
import { Recorder, refusedAddress, selfSigned, silentServer, transportCompliance } from '@rpcx/transport-kit/testing';
import { browserWsTransport, wsTransport, type WebSocketConstructor, type WsTransport } from '../src/index.js';

transportCompliance({
  name: 'ws 127.0.0.1',
  transport: () => wsTransport(),
  network: 'ws',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  // Accepts TCP and never answers the upgrade request.
  stalledAddress: () => silentServer('127.0.0.1'),
});

const { key, cert } = selfSigned('rpcx-wss-');
const serverTls = { key, cert };

transportCompliance({
  name: 'wss 127.0.0.1',
  transport: () => wsTransport({ serverTls, clientTls: { ca: cert } }),
  network: 'wss',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  stalledAddress: () => silentServer('127.0.0.1'),
});

/** Listens with the Node transport and dials with the browser client, on the `ws` package's WebSocket class. */
function browserClientOverNode(): Transport {
  const node = wsTransport();
  const browser = browserWsTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor });
  return { networks: ['ws', 'wss'], listen: node.listen, dial: browser.dial };
}

transportCompliance({
  name: 'ws, browser client code on the ws package',
  transport: browserClientOverNode,
  network: 'ws',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
  stalledAddress: () => silentServer('127.0.0.1'),
  dialerLocalAddressUnknown: true,
  pauseDoesNotHoldWriter: 'a browser WebSocket cannot stop reading from the network',
});

/** GET `path` on `address` with `headers`; resolves with the status, headers and body. */
function get(address: string, urlPath: string, headers: Record<string, string> = {}, method = 'GET') {
  const [host, port] = address.split(':');
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: urlPath, headers, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('wsTransport specifics', () => {
  const transport = wsTransport();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  async function listen(onConnection: (c: Connection) => void = () => {}, t: WsTransport = transport) {
    const listener = await t.listen('ws', '127.0.0.1:0', (c) => {
      cleanups.push(() => c.destroy());
      onConnection(c);
    });
    cleanups.push(() => listener.close());
    return listener;
  }
  const echo = (c: Connection) => c.setHandler({ onData: (d) => c.write(d), onClose: () => {} });

  it('serves ws and wss only; wss needs TLS options', async () => {
    expect(transport.networks).toEqual(['ws', 'wss']);
    await expect(transport.listen('tcp', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(UnsupportedError);
    await expect(transport.dial('http', '127.0.0.1:1')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(transport.listen('wss', '127.0.0.1:0', () => {})).rejects.toBeInstanceOf(ConfigError);
    await expect(transport.dial('ws', 'bad host:1')).rejects.toBeInstanceOf(ConfigError);
  });

  it("reports a port in use as Go's listen error", async () => {
    const listener = await listen();
    const error = await transport.listen('ws', listener.address, () => {}).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ListenError', code: 'RPCX_ERR_LISTEN' });
    expect((error as Error).message).toBe(`listen tcp ${listener.address}: bind: address already in use`);
  });

  it("words a refused dial as Go's websocket.Dial error", async () => {
    const address = await refusedAddress('127.0.0.1');
    const error = await transport.dial('ws', address).catch((e: Error) => e);
    expect((error as Error).message).toBe(`websocket.Dial ws://${address}/_rpcx_: dial tcp ${address}: connect: connection refused`);
  });

  it("sends Go's Origin, no subprotocol and no compression, and each turn's writes as one binary message", async () => {
    const seen: { headers: http.IncomingHttpHeaders; url?: string; messages: { binary: boolean; data: Buffer }[] } = { headers: {}, messages: [] };
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise((r) => wss.close(r)));
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws, req) => {
      seen.headers = req.headers;
      seen.url = req.url;
      ws.on('message', (data, isBinary) => seen.messages.push({ binary: isBinary, data: data as Buffer }));
    });
    const address = `127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    const c = await transport.dial('ws', address);
    cleanups.push(() => c.destroy());
    c.write(Buffer.from('abc'));
    c.write(Buffer.from('def'));
    await new Promise((r) => setTimeout(r, 50));
    c.write(Buffer.from('g'));
    for (let i = 0; i < 100 && seen.messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.url).toBe('/_rpcx_');
    expect(seen.headers.origin).toBe(`http://${address}`);
    expect(seen.headers['sec-websocket-protocol']).toBeUndefined();
    expect(seen.headers['sec-websocket-extensions']).toBeUndefined();
    expect(seen.messages.map((m) => [m.binary, m.data.toString()])).toEqual([
      [true, 'abcdef'],
      [true, 'g'],
    ]);
  });

  it("reads text messages of binary bytes as Go's client sends them, and all messages as one stream", async () => {
    let accepted!: (r: Recorder) => void;
    const server = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)));
    const ws = new WebSocket(`ws://${listener.address}/_rpcx_`, { origin: `http://${listener.address}` });
    cleanups.push(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    const bytes = Buffer.from([0x08, 0x00, 0xff, 0xfe, 0x80]);
    ws.send(bytes, { binary: false });
    ws.send(Buffer.from('tail'), { binary: true });
    const recorder = await server;
    await recorder.waitFor(9);
    expect(recorder.data().equals(Buffer.concat([bytes, Buffer.from('tail')]))).toBe(true);
  });

  it('sends large frames alone and uncopied, small ones joined', async () => {
    const sizes: number[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise((r) => wss.close(r)));
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.on('message', (data) => sizes.push((data as Buffer).length)));
    const c = await transport.dial('ws', `127.0.0.1:${(wss.address() as net.AddressInfo).port}`, {});
    cleanups.push(() => c.destroy());
    for (const n of [10, 20, 100_000, 30, 40]) c.write(Buffer.alloc(n));
    for (let i = 0; i < 100 && sizes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sizes).toEqual([30, 100_000, 70]);
  });

  it('answers plain HTTP as Go does: 404 elsewhere, 405 / 400 at the RPC path', async () => {
    const listener = await listen();
    expect(await get(listener.address, '/other')).toMatchObject({ status: 404, body: '404 page not found\n' });
    expect(await get(listener.address, '/_rpcx_', {}, 'POST')).toMatchObject({ status: 405 });
    expect(await get(listener.address, '/_rpcx_')).toMatchObject({ status: 400, body: 'not websocket protocol' });
  });

  it('upgrades only at the RPC path, which is configurable', async () => {
    const custom = wsTransport({ rpcPath: '/custom' });
    const listener = await listen(echo, custom);
    const error = await transport.dial('ws', listener.address).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'DialError', code: 'RPCX_ERR_DIAL' });
    expect((error as Error).message).toBe(`websocket.Dial ws://${listener.address}/_rpcx_: bad status 404 Not Found`);
    const c = await custom.dial('ws', listener.address);
    cleanups.push(() => c.destroy());
    const r = new Recorder(c);
    c.write(Buffer.from('hi'));
    await r.waitFor(2);
    expect(r.data().toString()).toBe('hi');
  });

  it('allowOrigin can refuse an upgrade', async () => {
    const guarded = wsTransport({ allowOrigin: (origin: string | undefined) => origin === 'https://app.example' });
    const listener = await listen(() => {}, guarded);
    const error = await transport.dial('ws', listener.address).catch((e: Error) => e);
    expect((error as Error).message).toContain('bad status 403');
    const c = await wsTransport({ origin: 'https://app.example' }).dial('ws', listener.address);
    c.destroy();
  });

  it('a peer that drops the TCP connection without a close frame is reported as an error', async () => {
    let accepted!: (r: Recorder) => void;
    const server = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)));
    const ws = new WebSocket(`ws://${listener.address}/_rpcx_`);
    await new Promise((r) => ws.once('open', r));
    const recorder = await server;
    ws.terminate();
    const error = await recorder.closed;
    expect(error).toMatchObject({ name: 'ConnectionError', code: 'RPCX_ERR_CONNECTION' });
    expect(error!.message).toContain('closed with code 1006');
  });

  it('a message over maxPayload closes the connection with an error', async () => {
    const small = wsTransport({ maxPayload: 1024 });
    let accepted!: (r: Recorder) => void;
    const server = new Promise<Recorder>((resolve) => (accepted = resolve));
    const listener = await listen((c) => accepted(new Recorder(c)), small);
    const c = await transport.dial('ws', listener.address);
    const client = new Recorder(c);
    c.write(Buffer.alloc(2048));
    expect(await (await server).closed).toMatchObject({ name: 'ConnectionError' });
    await client.closed;
  });
});
