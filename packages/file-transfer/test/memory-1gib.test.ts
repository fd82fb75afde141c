// Slower test (about 15-30 s here): 1 GiB up and down through a server and a client in one
// child process, whose RSS must stay within 64 MiB of its value before the transfers (the
// bound the issue sets). The child is a process of its own so that jest's memory is not in it.
import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

test('1 GiB uploaded and downloaded back: same bytes, RSS within 64 MiB of its start', async () => {
  const dir = tempDir('rpcx-ft-1gib-');
  try {
    const file = join(dir.dir, 'big.bin');
    const hash = createHash('sha256');
    const fd = openSync(file, 'w');
    const block = Buffer.alloc(8 * MiB);
    for (let written = 0; written < GiB; written += block.length) {
      randomFillSync(block);
      hash.update(block);
      writeSync(fd, block);
    }
    closeSync(fd);
    const digest = hash.digest('hex');

    const stdout = await new Promise<string>((resolve, reject) => {
      // Killed (by its PID, through execFile) if it runs past 4 minutes.
      execFile(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, '--file', file], { cwd: join(CHILD, '..', '..'), timeout: 240_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      );
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { startRss: number; peakRss: number; upBytes: number; downBytes: number; uploaded: string; downloaded: string };
    expect([r.upBytes, r.downBytes]).toEqual([GiB, GiB]);
    expect([r.uploaded, r.downloaded]).toEqual([digest, digest]);
    expect(r.peakRss - r.startRss).toBeLessThan(64 * MiB);
  } finally {
    dir.remove();
  }
}, 300_000);
