// Uploads, downloads and streams between @rpcx/xclient and @rpcx/server through this
// package, over real sockets on loopback: bytes, progress, codecs, rate limit, TLS, aborts.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, ConfigError, FileNotFoundError, ServiceError, SerializeType, TransferIncompleteError, TransferResetError } from '@rpcx/core';
import type { Server } from '@rpcx/server';
import { selfSigned } from '@rpcx/transport-kit/testing';
import { downloadFile, enableFileTransfer, enableStreamService, openStream, sendFile, serveDirectory, type Progress, type SideService } from '../src/index.js';
import { client, closeClients, collector, eventually, generated, mainPortServes, sha256, startServer, tempDir } from './support.js';

let server: Server;
let key: string;
let files: SideService;
let streams: SideService;
const store = tempDir('rpcx-ft-store-');
const local = tempDir('rpcx-ft-local-');
const sideErrors: Error[] = [];

beforeAll(async () => {
  ({ server, key } = await startServer());
  files = await enableFileTransfer(server, { ...serveDirectory(store.dir), onError: (e) => sideErrors.push(e) });
  streams = await enableStreamService(server, {
    handler: (stream) => pipeline(stream, stream),
    acceptor: (args) => args.meta.refuse !== 'yes',
  });
});
afterAll(async () => {
  await closeClients();
  await server.close();
  store.remove();
  local.remove();
});

describe('upload (sendFile) and download (downloadFile)', () => {
  test.each([
    ['0 bytes', 0],
    ['1 byte', 1],
    ['3 MiB', 3 * 1024 * 1024],
  ])('%s: uploaded from a path, stored, downloaded back byte for byte', async (_name, size) => {
    const data = randomBytes(size);
    const path = join(local.dir, `up-${size}.bin`);
    writeFileSync(path, data);
    const progress: Progress[] = [];
    const ft = client(key, '_filetransfer');
    const sent = await sendFile(ft, path, { onProgress: (p) => progress.push({ ...p }) });
    expect(sent.bytes).toBe(size);
    expect(sha256(readFileSync(join(store.dir, `up-${size}.bin`)))).toBe(sha256(data));
    if (size > 0) expect(progress.at(-1)).toEqual({ bytes: size, total: size });
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytes).toBeGreaterThan(progress[i - 1].bytes);

    const out = collector();
    const downloads: number[] = [];
    const got = await downloadFile(ft, `up-${size}.bin`, out, { onProgress: (p) => downloads.push(p.bytes) });
    expect(got.bytes).toBe(size);
    expect(sha256(out.bytes())).toBe(sha256(data));
    expect(downloads.at(-1) ?? 0).toBe(size);
  });

  test('JSON calls (Go json tags on the wire) work as msgpack ones do', async () => {
    const ft = client(key, '_filetransfer');
    const data = randomBytes(1000);
    await sendFile(ft, Readable.from([data]), { fileName: 'json.bin', size: data.length, serializeType: SerializeType.JSON, meta: { k: 'v' } });
    const out = collector();
    await downloadFile(ft, 'json.bin', out, { serializeType: SerializeType.JSON });
    expect(out.bytes().equals(data)).toBe(true);
    await expect(sendFile(ft, Readable.from([data]), { fileName: 'x', serializeType: SerializeType.ProtoBuffer })).rejects.toThrow(ConfigError);
  });

  test('a Readable of unknown size is announced as -1 and stored whole', async () => {
    const ft = client(key, '_filetransfer');
    const { stream, digest } = generated(2 * 1024 * 1024 + 5);
    const progress: Progress[] = [];
    await sendFile(ft, stream, { fileName: 'unknown-size.bin', onProgress: (p) => progress.push(p) });
    expect(sha256(readFileSync(join(store.dir, 'unknown-size.bin')))).toBe(digest());
    expect(progress.at(-1)).toEqual({ bytes: 2 * 1024 * 1024 + 5, total: undefined });
  });

  test('a download of a missing file fails in its call with FileNotFoundError’s text; the ports keep serving', async () => {
    const ft = client(key, '_filetransfer');
    const err = await downloadFile(ft, 'no-such-file', collector()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toBe(new FileNotFoundError('no-such-file').message);
    // A name with a directory in it is refused the same way, before any side connection.
    await expect(sendFile(ft, Readable.from([Buffer.from('x')]), { fileName: '../escape' })).rejects.toThrow('invalid file name "../escape"');
    expect(await mainPortServes(key)).toEqual({ C: 42 });
    const out = collector();
    await downloadFile(ft, 'json.bin', out);
    expect(out.bytes().length).toBe(1000);
  });

  test('the upload rate limit holds the rate after the first second’s burst, as Go’s token bucket', async () => {
    const ft = client(key, '_filetransfer');
    const rate = 256 * 1024;
    const started = performance.now();
    await sendFile(ft, Readable.from([randomBytes(3 * rate)]), { fileName: 'limited.bin', size: 3 * rate, rateBytesPerSecond: rate });
    // 1 s of burst, then 2 s at the rate: at least 2 s (a lower bound only: the box may be slow).
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(readFileSync(join(store.dir, 'limited.bin')).length).toBe(3 * rate);
  });

  test('aborting an upload rejects with AbortError; the server’s handler sees the file cut short and nothing is stored', async () => {
    const ft = client(key, '_filetransfer');
    const controller = new AbortController();
    const before = sideErrors.length;
    const upload = sendFile(ft, generated(64 * 1024 * 1024).stream, {
      fileName: 'aborted.bin',
      size: 64 * 1024 * 1024,
      signal: controller.signal,
      onProgress: (p) => p.bytes > 1024 * 1024 && controller.abort(),
    });
    await expect(upload).rejects.toBeInstanceOf(AbortError);
    await eventually(() => sideErrors.length > before);
    expect(sideErrors.at(-1)).toBeInstanceOf(TransferIncompleteError);
    expect(() => readFileSync(join(store.dir, 'aborted.bin'))).toThrow();
  });

  test('a server whose handler fails resets the connection: the client gets TransferResetError', async () => {
    const { server: s2, key: k2 } = await startServer();
    try {
      await enableFileTransfer(s2, {
        downloadHandler: async () => {
          throw new Error('disk on fire');
        },
      });
      const out = collector();
      const err = await downloadFile(client(k2, '_filetransfer'), 'f', out).catch((e: Error) => e);
      expect(err).toBeInstanceOf(TransferResetError);
      expect(await mainPortServes(k2)).toEqual({ C: 42 });
    } finally {
      await s2.close();
    }
  });
});

describe('back-pressure: a slow reader slows the sender instead of buffering', () => {
  const MiB = 1024 * 1024;
  /** Bytes that may sit in socket buffers and stream queues between a paused reader and its writer. */
  const IN_FLIGHT = 32 * MiB;

  /** A Writable that holds its first write until `release()`, then takes everything. */
  function heldWriter() {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        held.then(() => cb());
      },
    });
    return { sink, release, bytes: () => bytes };
  }

  test('download: while the client’s writer is stuck, the server’s handler is held back too', async () => {
    const { server: s2, key: k2 } = await startServer();
    let source!: ReturnType<typeof generated>;
    let produced = 0;
    try {
      await enableFileTransfer(s2, {
        downloadHandler: (out) => {
          source = generated(128 * MiB);
          source.stream.on('data', (c: Buffer) => (produced += c.length));
          return pipeline(source.stream, out);
        },
      });
      const writer = heldWriter();
      const digest = createHash('sha256');
      const download = downloadFile(client(k2, '_filetransfer'), 'big', new Writable({
        write(chunk: Buffer, e, cb) {
          digest.update(chunk);
          writer.sink.write(chunk, e, cb);
        },
      }));
      await eventually(() => produced > 0);
      await new Promise((r) => setTimeout(r, 1000));
      expect(produced).toBeLessThan(IN_FLIGHT);
      writer.release();
      expect((await download).bytes).toBe(128 * MiB);
      expect(digest.digest('hex')).toBe(source.digest());
    } finally {
      await s2.close();
    }
  });

  test('upload: while the server’s handler does not read, sendFile is held back too', async () => {
    const { server: s2, key: k2 } = await startServer();
    const writer = heldWriter();
    try {
      await enableFileTransfer(s2, { uploadHandler: (file) => pipeline(file, writer.sink) });
      let sent = 0;
      const source = generated(128 * MiB);
      const upload = sendFile(client(k2, '_filetransfer'), source.stream, { fileName: 'big', size: 128 * MiB, onProgress: (p) => (sent = p.bytes) });
      await eventually(() => sent > 0);
      await new Promise((r) => setTimeout(r, 1000));
      expect(sent).toBeLessThan(IN_FLIGHT);
      writer.release();
      expect((await upload).bytes).toBe(128 * MiB);
      expect(writer.bytes()).toBe(128 * MiB);
    } finally {
      await s2.close();
    }
  });
});

describe('streams (openStream)', () => {
  test('8 MiB echoed back through the stream handler, checked by digest', async () => {
    const stream = await openStream(client(key, '_streamservice'));
    const { stream: source, digest } = generated(8 * 1024 * 1024);
    const back = collector();
    await Promise.all([pipeline(source, stream), pipeline(stream, back)]);
    expect(sha256(back.bytes())).toBe(digest());
  });

  test('an acceptor that says no: Go’s “server refused the connection”', async () => {
    const err = await openStream(client(key, '_streamservice'), { meta: { refuse: 'yes' } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toBe('server refused the connection');
  });

  test('aborting an open stream destroys it with AbortError', async () => {
    const controller = new AbortController();
    const stream = await openStream(client(key, '_streamservice'), { signal: controller.signal });
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    controller.abort();
    expect(await failed).toBeInstanceOf(AbortError);
  });
});

describe('TLS side listeners', () => {
  const { key: tlsKey, cert } = selfSigned('rpcx-ft-tls-');
  test('upload, download and a stream echo over TLS; a plain client cannot use the TLS listener', async () => {
    const { server: s2, key: k2 } = await startServer();
    const dir = tempDir('rpcx-ft-tls-store-');
    try {
      await enableFileTransfer(s2, { tls: { key: tlsKey, cert }, ...serveDirectory(dir.dir) });
      await enableStreamService(s2, { tls: { key: tlsKey, cert }, handler: (stream) => pipeline(stream, stream) });
      const ft = client(k2, '_filetransfer');
      const data = randomBytes(1024 * 1024);
      await sendFile(ft, Readable.from([data]), { fileName: 'tls.bin', size: data.length, tls: { ca: cert } });
      const out = collector();
      await downloadFile(ft, 'tls.bin', out, { tls: { ca: cert } });
      expect(out.bytes().equals(data)).toBe(true);

      const stream = await openStream(client(k2, '_streamservice'), { tls: { ca: cert } });
      const back = collector();
      await Promise.all([pipeline(Readable.from([data]), stream), pipeline(stream, back)]);
      expect(back.bytes().equals(data)).toBe(true);

      // Without TLS the token is read as a TLS record and refused.
      await expect(downloadFile(ft, 'tls.bin', collector(), { idleTimeoutMs: 5000 })).rejects.toBeInstanceOf(TransferResetError);
    } finally {
      await s2.close();
      dir.remove();
    }
  });
});

test('the server’s close stops its side listeners', async () => {
  const { server: s2 } = await startServer();
  const side = await enableFileTransfer(s2, { downloadHandler: () => {} });
  const [host, port] = [side.addr.slice(0, side.addr.lastIndexOf(':')), Number(side.addr.slice(side.addr.lastIndexOf(':') + 1))];
  await s2.close();
  const net = await import('node:net');
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => resolve('connected'));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  expect(refused).toBe('ECONNREFUSED');
  expect(files.addr).not.toBe(side.addr);
  expect(streams.advertisedAddr).toBe(streams.addr);
});
