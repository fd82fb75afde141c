// Run by memory-1gib.test.ts in a process of its own (so that jest's heap is not measured): a
// server and a client in this one process upload the file --file and download it back, while
// RSS is sampled every 20 ms. The server hashes what it receives and serves downloads from the
// file's directory; the client hashes what it downloads. Prints one JSON line.
import { createHash } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { downloadFile, enableFileTransfer, sendFile, serveDirectory } from '../src/index.js';
import { client, closeClients, startServer } from './support.js';

const { values } = parseArgs({ options: { file: { type: 'string' } } });
const file = values.file!;

function hashing(): Writable & { digest(): string } {
  const hash = createHash('sha256');
  const w = new Writable({ write: (c: Buffer, _e, cb) => (hash.update(c), cb()) }) as Writable & { digest(): string };
  w.digest = () => hash.digest('hex');
  return w;
}

const { server, key } = await startServer();
const uploads: string[] = [];
await enableFileTransfer(server, {
  ...serveDirectory(dirname(file)),
  uploadHandler: async (stream) => {
    const sink = hashing();
    await pipeline(stream, sink);
    uploads.push(sink.digest());
  },
});
const ft = client(key, '_filetransfer');
// Warm up: the first transfers load code and grow the heap to its working size.
const warmUp = join(dirname(file), 'warm-up.bin');
writeFileSync(warmUp, Buffer.alloc(4 * 1024 * 1024));
await sendFile(ft, warmUp);
await downloadFile(ft, 'warm-up.bin', hashing());
unlinkSync(warmUp);
global.gc?.();

const startRss = process.memoryUsage.rss();
let peakRss = startRss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
const t0 = performance.now();
const up = await sendFile(ft, file);
const t1 = performance.now();
const back = hashing();
const down = await downloadFile(ft, basename(file), back);
const t2 = performance.now();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());

await closeClients();
await server.close();
console.log(JSON.stringify({ startRss, peakRss, upBytes: up.bytes, downBytes: down.bytes, upMs: t1 - t0, downMs: t2 - t1, uploaded: uploads.at(-1), downloaded: back.digest() }));
