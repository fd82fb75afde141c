// Both ends of rpcx's side channels for the interop tests: a TS server with file transfer and
// an echoing stream service (as `peer transfer-serve` has them), XClients, digests.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { enableFileTransfer, enableStreamService, serveDirectory, type FileTransferArgs, type FileTransferOptions } from '@rpcx/file-transfer';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

export const MiB = 1024 * 1024;

/** What the TS server's upload handler saw, by file name. */
export interface Upload {
  args: FileTransferArgs;
  sha256: string;
  bytes: number;
}

/**
 * A TS rpcx server like `peer transfer-serve`: downloads from `dir`; uploads stored in `dir`
 * (or, with `discard`, only hashed); the stream service echoes, refusing `refuse=yes`.
 */
export async function startTsTransferServer(dir: string, options: { discard?: boolean } = {}) {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec()] });
  await server.registerFunction('Arith', (a: { A: number; B: number }) => ({ C: a.A * a.B }), { name: 'Mul' });
  const uploads = new Map<string, Upload>();
  const directory = serveDirectory(dir);
  const uploadHandler: FileTransferOptions['uploadHandler'] = async (file, args, info) => {
    const hash = createHash('sha256');
    let bytes = 0;
    file.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    if (options.discard) await pipeline(file, new Writable({ write: (_c, _e, cb) => cb() }));
    else await directory.uploadHandler(file, args, info);
    uploads.set(args.fileName, { args, sha256: hash.digest('hex'), bytes });
  };
  await enableFileTransfer(server, { ...directory, uploadHandler });
  await enableStreamService(server, {
    handler: (stream) => pipeline(stream, stream),
    acceptor: (args) => args.meta.refuse !== 'yes',
  });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, key: `tcp@${listener.address}`, uploads };
}

const clients: XClient[] = [];

export function xclient(key: string, servicePath: string): XClient {
  const c = new XClient({ servicePath, discovery: peer2peer(key), transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec()] });
  clients.push(c);
  return c;
}

export async function closeXClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
}

/** Write `size` random bytes to `path` and return their sha256. */
export function writeRandomFile(path: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    const block = Buffer.alloc(Math.min(size, 8 * MiB));
    for (let left = size; left > 0; left -= block.length) {
      const piece = block.subarray(0, Math.min(block.length, left));
      randomFillSync(piece);
      hash.update(piece);
      writeSync(fd, piece);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** A Writable that hashes and counts what it is given. */
export function hashingSink(): Writable & { sha256(): string; bytes: number } {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      sink.bytes += chunk.length;
      cb();
    },
  }) as Writable & { sha256(): string; bytes: number };
  sink.bytes = 0;
  sink.sha256 = () => hash.digest('hex');
  return sink;
}

/** What `peer transfer-serve` received for `fileName` (its Uploads.Get), once it has ended. */
export async function goUpload(key: string, fileName: string, timeoutMs = 10_000): Promise<{ Announced: number; Received: number; Sha256: string; Meta: Record<string, string> | null; Error: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = (await xclient(key, 'Uploads').call('Get', { FileName: fileName })) as { Found: boolean; Announced: number; Received: number; Sha256: string; Meta: Record<string, string> | null; Error: string };
    if (r.Found) return r;
    if (Date.now() > until) throw new Error(`the Go server has not finished an upload of ${fileName} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
