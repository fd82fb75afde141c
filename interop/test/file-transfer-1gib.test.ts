// Slower test: a 1 GiB file (random, written under os.tmpdir(), deleted after) uploaded and
// downloaded between Go rpcx v1.9.4 and @rpcx/file-transfer in both directions, checked by
// sha256. Both servers hash uploads instead of storing them and serve downloads from the
// directory the file is in, so the only gigabyte written to disk is the file itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, sendFile } from '@rpcx/file-transfer';
import type { Server } from '@rpcx/server';
import { runGoPeer, startGoServer, type GoServer } from './support/go-peer.js';
import { MiB, closeXClients, goUpload, hashingSink, startTsTransferServer, writeRandomFile, xclient, type Upload } from './support/transfer.js';

const GiB = 1024 * MiB;
const dir = mkdtempSync(join(tmpdir(), 'rpcx-interop-1gib-'));
const file = join(dir, 'big.bin');
let digest: string;
let go: GoServer;
let ts: { server: Server; key: string; uploads: Map<string, Upload> };

beforeAll(async () => {
  digest = writeRandomFile(file, GiB);
  [go, ts] = await Promise.all([startGoServer(['--dir', dir, '--discard'], 'transfer-serve'), startTsTransferServer(dir, { discard: true })]);
}, 120_000);
afterAll(async () => {
  await closeXClients();
  await Promise.all([go?.stop(), ts?.server.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test('Go client → TS server: 1 GiB up and down', async () => {
  const up = await runGoPeer<{ ok: boolean; error?: string }>(['transfer-client', '--addr', ts.key, '--op', 'upload', '--file', file], 180_000);
  expect(up).toMatchObject({ ok: true });
  for (let i = 0; i < 1000 && !ts.uploads.has('big.bin'); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ts.uploads.get('big.bin')).toMatchObject({ bytes: GiB, sha256: digest, args: { fileSize: GiB } });

  const down = await runGoPeer(['transfer-client', '--addr', ts.key, '--op', 'download', '--name', 'big.bin'], 180_000);
  expect(down).toMatchObject({ ok: true, bytes: GiB, sha256: digest });
}, 300_000);

test('TS client → Go server: 1 GiB up and down', async () => {
  const ft = xclient(go.key, '_filetransfer');
  expect(await sendFile(ft, file, { fileName: 'uploaded.bin' })).toEqual({ bytes: GiB });
  expect(await goUpload(go.key, 'uploaded.bin')).toMatchObject({ Announced: GiB, Received: GiB, Sha256: digest, Error: '' });

  const sink = hashingSink();
  expect(await downloadFile(ft, 'big.bin', sink)).toEqual({ bytes: GiB });
  expect(sink.sha256()).toBe(digest);
}, 300_000);
