// Hostile and broken side connections, written byte by byte with raw sockets: each one is
// closed on its own within a bounded time, the handler (or onError) sees a typed error, a
// used token is never good again, and the rpcx port and other transfers go on.
import { randomBytes } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  FileNotFoundError,
  FileSizeExceededError,
  TokenTimeoutError,
  TokenTooShortError,
  TransferIncompleteError,
  TransferStalledError,
  UnknownTokenError,
  splitHostPort,
} from '@rpcx/core';
import type { Server } from '@rpcx/server';
import { enableFileTransfer, sendFile, serveDirectory, type FileTransferArgs } from '../src/index.js';
import { client, closeClients, eventually, mainPortServes, startServer, tempDir } from './support.js';

const TOKEN_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 500;
/** How long a bad connection may stay open past its deadline on a loaded machine. */
const SLACK_MS = 3000;

let server: Server;
let key: string;
const store = tempDir('rpcx-ft-bad-');
const reported: Error[] = [];
const handlerErrors: Error[] = [];
const received: { args: FileTransferArgs; bytes: number }[] = [];
const signals: AbortSignal[] = [];

beforeAll(async () => {
  ({ server, key } = await startServer());
  const directory = serveDirectory(store.dir);
  await enableFileTransfer(server, {
    tokenTimeoutMs: TOKEN_TIMEOUT_MS,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    onError: (e) => reported.push(e),
    downloadHandler: directory.downloadHandler,
    uploadHandler: async (file, args, info) => {
      signals.push(info.signal);
      let bytes = 0;
      try {
        await pipeline(file, new Writable({ write: (c: Buffer, _e, cb) => ((bytes += c.length), cb()) }));
      } catch (err) {
        handlerErrors.push(err as Error);
        throw err;
      }
      received.push({ args, bytes });
    },
  });
});
afterAll(async () => {
  await closeClients();
  await server.close();
  store.remove();
});
afterEach(async () => {
  // Whatever the case did, the rpcx port and a normal upload still work.
  expect(await mainPortServes(key)).toEqual({ C: 42 });
  const before = received.length;
  await sendFile(client(key, '_filetransfer'), Readable.from([Buffer.from('fine')]), { fileName: 'after', size: 4 });
  expect(received.slice(before).map((r) => r.bytes)).toEqual([4]);
});

/** A token and side address from the real `TransferFile` / `DownloadFile` call. */
async function token(method: 'TransferFile' | 'DownloadFile', args: Record<string, unknown>): Promise<{ token: Buffer; addr: string }> {
  const reply = (await client(key, '_filetransfer').call(method, { Meta: {}, ...args })) as { Token: Uint8Array; Addr: string };
  return { token: Buffer.from(reply.Token), addr: reply.Addr };
}

interface Raw {
  socket: net.Socket;
  /** How the server ended the connection (a reset or an orderly end) and after how many ms. */
  closed: Promise<{ how: 'reset' | 'end'; ms: number }>;
}

async function dial(addr: string): Promise<Raw> {
  const { host, port } = splitHostPort(addr);
  const socket = net.connect({ host, port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const started = Date.now();
  const closed = new Promise<{ how: 'reset' | 'end'; ms: number }>((resolve) => {
    let how: 'reset' | 'end' = 'end';
    socket.on('error', () => (how = 'reset'));
    socket.on('close', () => resolve({ how, ms: Date.now() - started }));
    socket.resume();
  });
  return { socket, closed };
}

const bytesFor = (size: number) => ({ FileName: 'f.bin', FileSize: size });

test('an unknown token: reset at once, UnknownTokenError reported', async () => {
  const { addr } = await token('TransferFile', bytesFor(1));
  const raw = await dial(addr);
  raw.socket.write(randomBytes(32));
  expect((await raw.closed).how).toBe('reset');
  await eventually(() => reported.some((e) => e instanceof UnknownTokenError));
});

test('a used token is not good again, even after a complete upload', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(10));
  const first = await dial(addr);
  first.socket.end(Buffer.concat([t, Buffer.alloc(10, 7)]));
  expect((await first.closed).how).toBe('end');
  expect(received.at(-1)).toEqual({ args: { fileName: 'f.bin', fileSize: 10, meta: {} }, bytes: 10 });
  const before = received.length;
  const again = await dial(addr);
  again.socket.end(Buffer.concat([t, Buffer.alloc(10, 7)]));
  expect((await again.closed).how).toBe('reset');
  await eventually(() => reported.at(-1) instanceof UnknownTokenError);
  expect(received.length).toBe(before);
});

test('a token cut short: closed, TokenTooShortError with the bytes that came', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(1));
  const raw = await dial(addr);
  raw.socket.end(t.subarray(0, 10));
  const { ms } = await raw.closed;
  expect(ms).toBeLessThan(SLACK_MS);
  await eventually(() => reported.some((e) => e instanceof TokenTooShortError && e.received === 10));
});

test('a client that never sends its token: closed after tokenTimeoutMs (TokenTimeoutError); others are served meanwhile', async () => {
  const { addr } = await token('TransferFile', bytesFor(1));
  const silent = await dial(addr);
  // Go reads tokens in its accept loop, so one silent client stalls everyone; here others pass.
  await sendFile(client(key, '_filetransfer'), Readable.from([Buffer.from('x')]), { fileName: 'meanwhile', size: 1 });
  expect(received.at(-1)?.args.fileName).toBe('meanwhile');
  const { how, ms } = await silent.closed;
  expect(how).toBe('reset');
  expect(ms).toBeGreaterThanOrEqual(TOKEN_TIMEOUT_MS - 50);
  expect(ms).toBeLessThan(TOKEN_TIMEOUT_MS + SLACK_MS);
  await eventually(() => reported.some((e) => e instanceof TokenTimeoutError));
});

test('a client that goes away mid-file (end of stream): the handler sees TransferIncompleteError; the token is spent', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(1024 * 1024));
  const raw = await dial(addr);
  raw.socket.end(Buffer.concat([t, randomBytes(100 * 1024)]));
  expect((await raw.closed).how).toBe('reset');
  await eventually(() => handlerErrors.at(-1) instanceof TransferIncompleteError);
  const error = handlerErrors.at(-1) as TransferIncompleteError;
  expect([error.received, error.expected]).toEqual([100 * 1024, 1024 * 1024]);
  expect(reported).toContain(error);
  // The handler's signal says the same, for work it does besides reading the file.
  await eventually(() => signals.at(-1)!.aborted);
  expect(signals.at(-1)!.reason).toBe(error);

  const again = await dial(addr);
  again.socket.write(t);
  expect((await again.closed).how).toBe('reset');
});

test('a client that goes away mid-file (destroyed): the handler sees TransferIncompleteError', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(1024 * 1024));
  const raw = await dial(addr);
  const before = handlerErrors.length;
  raw.socket.write(Buffer.concat([t, randomBytes(100 * 1024)]), () => raw.socket.destroy());
  await eventually(() => handlerErrors.length > before);
  const error = handlerErrors.at(-1) as TransferIncompleteError;
  expect(error).toBeInstanceOf(TransferIncompleteError);
  expect(error.received).toBeLessThanOrEqual(100 * 1024);
});

test('more bytes than announced: the handler sees FileSizeExceededError, the client a reset', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(10));
  const raw = await dial(addr);
  raw.socket.write(Buffer.concat([t, Buffer.alloc(20, 1)]));
  const { how, ms } = await raw.closed;
  expect(how).toBe('reset');
  expect(ms).toBeLessThan(SLACK_MS);
  expect(handlerErrors.at(-1)).toBeInstanceOf(FileSizeExceededError);
  expect((handlerErrors.at(-1) as FileSizeExceededError).announced).toBe(10);
});

test('a client that stops sending mid-file: TransferStalledError after idleTimeoutMs, connection reset', async () => {
  const { token: t, addr } = await token('TransferFile', bytesFor(1000));
  const raw = await dial(addr);
  raw.socket.write(Buffer.concat([t, Buffer.alloc(100)]));
  const { how, ms } = await raw.closed;
  expect(how).toBe('reset');
  expect(ms).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
  expect(ms).toBeLessThan(IDLE_TIMEOUT_MS + SLACK_MS);
  expect(handlerErrors.at(-1)).toBeInstanceOf(TransferStalledError);
});

test('a download of a file that is gone by the time the client connects: FileNotFoundError, reset', async () => {
  writeFileSync(join(store.dir, 'brief.bin'), 'here for a moment');
  const { token: t, addr } = await token('DownloadFile', { FileName: 'brief.bin' });
  unlinkSync(join(store.dir, 'brief.bin'));
  const raw = await dial(addr);
  raw.socket.write(t);
  expect((await raw.closed).how).toBe('reset');
  await eventually(() => reported.some((e) => e instanceof FileNotFoundError && e.fileName === 'brief.bin'));
});
