// The tee on a real TCP server: the sink gets exactly the bytes the server read (rpcx frames
// and HTTP alike), a sink over its high-water mark loses bytes instead of growing, and a
// failing sink stops the copy without touching the connections.
import { PassThrough, Writable } from 'node:stream';
import { jsonCodec } from '@rpcx/codec-json';
import { SerializeType } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import http from 'node:http';
import { teePlugin, type TeeOptions } from '../src/index.js';

class Echo {
  Say(s: string) {
    return s;
  }
}

async function serve(sink: Writable | undefined, options?: TeeOptions) {
  const server = new Server({ transports: [tcpTransport()], codecs: [jsonCodec()], http: httpGateway() });
  await server.register(new Echo());
  const tee = teePlugin(sink, options);
  await server.use(tee);
  const listener = await server.listen('tcp', '127.0.0.1:0');
  const client = new XClient({
    servicePath: 'Echo',
    discovery: peer2peer(`tcp@${listener.address}`),
    transports: [tcpTransport()],
    codecs: [jsonCodec()],
    serializeType: SerializeType.JSON,
  });
  return { server, client, tee, port: Number(listener.address.split(':')[1]) };
}

/** A sink that keeps every byte written to it. */
function collector() {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

test('the sink gets the raw bytes of every connection: rpcx frames and HTTP requests', async () => {
  const { sink, bytes } = collector();
  const { server, client, tee, port } = await serve(sink);
  try {
    expect(await client.call('Say', 'hello tee')).toBe('hello tee');
    await new Promise<void>((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port, method: 'POST', agent: false, headers: { 'X-RPCX-SerializeType': '1', 'X-RPCX-ServicePath': 'Echo', 'X-RPCX-ServiceMethod': 'Say' } },
        (res) => res.resume().on('end', resolve),
      );
      r.on('error', reject);
      r.end('"over http"');
    });
    const copied = bytes();
    expect(copied[0]).toBe(0x08); // rpcx's magic byte: the frame as sent
    expect(copied.includes(Buffer.from('"hello tee"'))).toBe(true);
    expect(copied.includes(Buffer.from('X-RPCX-ServiceMethod: Say'))).toBe(true);
    expect(copied.includes(Buffer.from('"over http"'))).toBe(true);
    expect(tee.copiedBytes).toBe(copied.length);
    expect(tee.droppedBytes).toBe(0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a sink that does not drain holds at most highWaterMark bytes; the rest is dropped and counted', async () => {
  // Never reads: everything written stays in its buffer.
  const stuck = new PassThrough({ highWaterMark: 1 });
  const warnings: string[] = [];
  const { server, client, tee } = await serve(stuck, { highWaterMark: 4096, logger: { warn: (m: unknown) => warnings.push(String(m)) } });
  try {
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 20; i++) expect(await client.call('Say', big)).toBe(big);
    expect(stuck.writableLength).toBeLessThanOrEqual(4096);
    expect(tee.droppedBytes).toBeGreaterThan(20 * 2000 - 4096 - 1);
    expect(tee.copiedBytes + tee.droppedBytes).toBeGreaterThan(20 * 2000);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a failing sink stops the copy and the calls go on; update() starts a new one', async () => {
  const failing = new Writable({
    write(_chunk, _enc, done) {
      done(new Error('disk full'));
    },
  });
  const warnings: string[] = [];
  const { server, client, tee } = await serve(failing, { logger: { warn: (m: unknown) => warnings.push(String(m)) } });
  try {
    expect(await client.call('Say', 'one')).toBe('one');
    expect(await client.call('Say', 'two')).toBe('two');
    expect(warnings.some((w) => w.includes('disk full'))).toBe(true);
    const { sink, bytes } = collector();
    tee.update(sink);
    expect(await client.call('Say', 'three')).toBe('three');
    expect(bytes().includes(Buffer.from('"three"'))).toBe(true);
    tee.update(undefined);
    const before = bytes().length;
    expect(await client.call('Say', 'four')).toBe('four');
    expect(bytes().length).toBe(before);
  } finally {
    await client.close();
    await server.close();
  }
});
