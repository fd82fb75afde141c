// rpcx's side channels against the real Go rpcx v1.9.4, both ways: the stock Go XClient
// (SendFile, DownloadFile, Stream) against @rpcx/file-transfer on @rpcx/server, and
// @rpcx/file-transfer's client against Go's EnableFileTransfer / EnableStreamService.
// Files of 0 B, 1 B and 8 MiB here; the 1 GiB ones are in file-transfer-1gib.test.ts.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SerializeType, ServiceError } from '@rpcx/core';
import { downloadFile, openStream, sendFile } from '@rpcx/file-transfer';
import type { Server } from '@rpcx/server';
import { runGoPeer, startGoServer, type GoServer } from './support/go-peer.js';
import { MiB, closeXClients, fileSha256, goUpload, hashingSink, startTsTransferServer, writeRandomFile, xclient, type Upload } from './support/transfer.js';
import { generated } from '../../packages/file-transfer/test/support.js';

interface GoResult {
  ok: boolean;
  error?: string;
  bytes?: number;
  sha256?: string;
  sentSha256?: string;
  recvSha256?: string;
}

const root = mkdtempSync(join(tmpdir(), 'rpcx-interop-ft-'));
const [local, goDir, tsDir] = ['local', 'go', 'ts'].map((d) => join(root, d));
let go: GoServer;
let ts: { server: Server; key: string; uploads: Map<string, Upload> };
const files: { name: string; size: number; sha256: string }[] = [];

beforeAll(async () => {
  for (const d of [local, goDir, tsDir]) mkdirSync(d);
  for (const [name, size] of [['zero.bin', 0], ['one.bin', 1], ['eight-mib.bin', 8 * MiB]] as const) {
    files.push({ name, size, sha256: writeRandomFile(join(local, name), size) });
  }
  [go, ts] = await Promise.all([startGoServer(['--dir', goDir], 'transfer-serve'), startTsTransferServer(tsDir)]);
});
afterAll(async () => {
  await closeXClients();
  await Promise.all([go?.stop(), ts?.server.close()]);
  rmSync(root, { recursive: true, force: true });
});

const goClient = (args: string[]) => runGoPeer<GoResult>(['transfer-client', ...args], 120_000);

describe('Go client → TS server', () => {
  test.each(['msgpack', 'json'])('upload then download of 0 B, 1 B and 8 MiB (%s)', async (codec) => {
    for (const f of files) {
      const name = `${codec}-${f.name}`;
      copyFileSync(join(local, f.name), join(local, name));
      const up = await goClient(['--addr', ts.key, '--op', 'upload', '--file', join(local, name), '--codec', codec, '--meta', 'from=go']);
      expect({ name, ...up }).toMatchObject({ name, ok: true });
      // Go's SendFile returns once it has written; the TS handler finishes just after.
      for (let i = 0; i < 500 && !ts.uploads.has(name); i++) await new Promise((r) => setTimeout(r, 10));
      expect(ts.uploads.get(name)).toEqual({ args: { fileName: name, fileSize: f.size, meta: { from: 'go' } }, sha256: f.sha256, bytes: f.size });
      expect(await fileSha256(join(tsDir, name))).toBe(f.sha256);

      const down = await goClient(['--addr', ts.key, '--op', 'download', '--name', name, '--codec', codec]);
      expect({ name, ...down }).toMatchObject({ name, ok: true, bytes: f.size, sha256: f.sha256 });
    }
  });

  test('a download of a missing file fails in Go’s DownloadFile call with our text', async () => {
    const r = await goClient(['--addr', ts.key, '--op', 'download', '--name', 'missing.bin']);
    expect(r).toMatchObject({ ok: false, error: 'file not found: missing.bin' });
  });

  test('a 64 MiB stream echoed by the TS stream service, checked by digest', async () => {
    const r = await goClient(['--addr', ts.key, '--op', 'stream', '--bytes', String(64 * MiB)]);
    expect(r.ok).toBe(true);
    expect(r.bytes).toBe(64 * MiB);
    expect(r.recvSha256).toBe(r.sentSha256);
  });

  test('the TS acceptor refuses: Go’s client gets “server refused the connection”', async () => {
    const r = await goClient(['--addr', ts.key, '--op', 'stream', '--bytes', '10', '--meta', 'refuse=yes']);
    expect(r).toMatchObject({ ok: false, error: 'server refused the connection' });
  });
});

describe('TS client → Go server', () => {
  test.each([
    ['msgpack', SerializeType.MsgPack],
    ['json', SerializeType.JSON],
  ])('upload then download of 0 B, 1 B and 8 MiB (%s)', async (codec, serializeType) => {
    const ft = xclient(go.key, '_filetransfer');
    for (const f of files) {
      const name = `${codec}-${f.name}`;
      const sent = await sendFile(ft, join(local, f.name), { fileName: name, serializeType, meta: { from: 'ts' } });
      expect(sent.bytes).toBe(f.size);
      const got = await goUpload(go.key, name);
      expect(got).toMatchObject({ Announced: f.size, Received: f.size, Sha256: f.sha256, Meta: { from: 'ts' }, Error: '' });

      const sink = hashingSink();
      const down = await downloadFile(ft, name, sink, { serializeType });
      expect([down.bytes, sink.bytes, sink.sha256()]).toEqual([f.size, f.size, f.sha256]);
    }
  });

  test('a download of a missing file: Go’s server just closes, so the file arrives empty', async () => {
    const sink = hashingSink();
    expect(await downloadFile(xclient(go.key, '_filetransfer'), 'missing.bin', sink)).toEqual({ bytes: 0 });
  });

  test('a 64 MiB stream echoed by Go’s stream service, checked by digest', async () => {
    const stream = await openStream(xclient(go.key, '_streamservice'));
    const source = generated(64 * MiB);
    const back = hashingSink();
    await Promise.all([pipeline(source.stream, stream), pipeline(stream, back)]);
    expect(back.bytes).toBe(64 * MiB);
    expect(back.sha256()).toBe(source.digest());
  });

  test('Go’s acceptor refuses: ServiceError “server refused the connection”', async () => {
    const err = await openStream(xclient(go.key, '_streamservice'), { meta: { refuse: 'yes' } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as Error).message).toBe('server refused the connection');
  });

  test('an upload from a Readable of unknown size announces -1, which Go takes as is', async () => {
    await sendFile(xclient(go.key, '_filetransfer'), Readable.from([Buffer.from('hello')]), { fileName: 'unsized.txt' });
    expect(await goUpload(go.key, 'unsized.txt')).toMatchObject({ Announced: -1, Received: 5 });
  });
});
