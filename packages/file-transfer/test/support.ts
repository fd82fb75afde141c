// A real @rpcx/server on loopback with file transfer and a stream service, and XClients for
// them: what the tests of this package run against.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

export async function startServer(): Promise<{ server: Server; key: string }> {
  const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec()] });
  await server.registerFunction('Arith', (args: { A: number; B: number }) => ({ C: args.A * args.B }), { name: 'Mul' });
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, key: `tcp@${listener.address}` };
}

const clients: XClient[] = [];

/** An XClient for `servicePath` at `key`, closed by `closeClients`. */
export function client(key: string, servicePath: string): XClient {
  const c = new XClient({ servicePath, discovery: peer2peer(key), transports: [tcpTransport()], codecs: [msgpackCodec(), jsonCodec()] });
  clients.push(c);
  return c;
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
}

/** The main rpcx port still answers. */
export async function mainPortServes(key: string): Promise<unknown> {
  return client(key, 'Arith').call('Mul', { A: 6, B: 7 });
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A Writable that keeps what it is given. */
export function collector(): Writable & { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  }) as Writable & { bytes(): Buffer };
  w.bytes = () => Buffer.concat(chunks);
  return w;
}

/** `total` pseudo-random bytes, made as they are read (nothing held), with their sha256 at the end. */
export function generated(total: number, chunk = 64 * 1024): { stream: Readable; digest(): string } {
  const hash = createHash('sha256');
  let left = total;
  const block = randomBytes(chunk);
  let n = 0;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const size = Math.min(chunk, left);
      const piece = Buffer.from(block.subarray(0, size));
      // Every block differs, so that a lost, doubled or reordered block changes the digest.
      if (size >= 4) piece.writeUInt32BE(n++ >>> 0, 0);
      left -= size;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** Poll `check` until it returns true, up to `ms`. */
export async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
