// Throughput of rpcx's side channels (file transfer): a 256 MiB file uploaded and downloaded
// TS → TS, Go → TS, TS → Go and Go → Go, each client and server in its own process, next to
// a plain Node socket copy of the same file (the limit). Uploads are dropped by both servers
// (Go's `peer transfer-serve --discard --hash=false`), downloads by both clients, so the
// disk is read (from the page cache after the first run) and never written.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { node, peer } from './harness.js';

const MiB = 1024 * 1024;

export interface TransferBenchOptions {
  /** Runs per cell; the median is kept. */
  repeat: number;
  /** File size in MiB. @default 256 */
  sizeMiB?: number;
  /** Print (and keep) a line of the report. */
  say(line?: string): void;
}

interface Run {
  bytes: number;
  ms: number;
}

function start(cmd: string, args: string[], children: ChildProcess[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^LISTENING (\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as Run & { ok?: boolean; error?: string };
      if (r.ok === false) return reject(new Error(`${cmd} ${args.join(' ')}: ${r.error}`));
      resolve(r);
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function runTransferBench(options: TransferBenchOptions): Promise<void> {
  const size = (options.sizeMiB ?? 256) * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'rpcx-bench-transfer-'));
  const children: ChildProcess[] = [];
  try {
    const file = join(dir, 'bench.bin');
    const fd = openSync(file, 'w');
    const block = Buffer.alloc(8 * MiB);
    for (let n = 0; n < size; n += block.length) writeSync(fd, randomFillSync(block), 0, Math.min(block.length, size - n));
    closeSync(fd);

    const [goKey, tsKey, rawKey] = await Promise.all([
      start(peer, ['transfer-serve', '--addr', '127.0.0.1:0', '--dir', dir, '--discard', '--hash=false'], children),
      start(...node('transfer-server.ts', ['--dir', dir]), children),
      start(...node('raw-copy.ts', ['--serve']), children),
    ]);
    const client = (kind: 'ts' | 'go', key: string, op: 'upload' | 'download') => () =>
      kind === 'ts'
        ? run(...node('transfer-client.ts', ['--addr', key, '--op', op, ...(op === 'upload' ? ['--file', file] : ['--name', 'bench.bin'])]))
        : run(peer, ['transfer-client', '--addr', key, '--op', op, ...(op === 'upload' ? ['--file', file] : ['--name', 'bench.bin', '--hash=false'])]);
    // Warm the page cache and both servers once.
    await client('ts', tsKey, 'download')();

    const pairs = [
      ['TS → TS', 'ts', tsKey],
      ['Go → TS', 'go', tsKey],
      ['TS → Go', 'ts', goKey],
      ['Go → Go', 'go', goKey],
    ] as const;
    const cells = new Map<string, () => Promise<Run>>([['raw', () => run(...node('raw-copy.ts', ['--addr', rawKey, '--file', file]))]]);
    for (const op of ['upload', 'download'] as const) for (const [name, kind, key] of pairs) cells.set(`${op} ${name}`, client(kind, key, op));
    // Round-robin over the cells, so that a busy moment of the machine hits them all alike.
    const rates = new Map<string, number[]>();
    for (let i = 0; i < options.repeat; i++) {
      for (const [cell, once] of cells) {
        const r = await once();
        if (r.bytes !== size) throw new Error(`${cell}: moved ${r.bytes} bytes, not ${size}`);
        rates.set(cell, [...(rates.get(cell) ?? []), size / MiB / (r.ms / 1000)]);
      }
    }
    const rate = (cell: string) => median(rates.get(cell)!);
    const raw = rate('raw');

    const { say } = options;
    say(`Side-channel throughput (file transfer, a ${size / MiB} MiB file, MiB/s, median of ${options.repeat} round-robin runs; client and server in separate processes; raw = the same file over a plain Node socket, 1 MiB reads as ours):`);
    say();
    say(`| direction | ${pairs.map((p) => p[0]).join(' | ')} | raw Node socket | TS → TS ÷ raw | TS → TS ÷ Go → Go |`);
    say(`|---|${pairs.map(() => '---:').join('|')}|---:|---:|---:|`);
    for (const op of ['upload', 'download'] as const) {
      const row = pairs.map(([name]) => rate(`${op} ${name}`));
      const [tsTs, , , goGo] = row;
      say(`| ${op} | ${row.map((c) => c.toFixed(0)).join(' | ')} | ${raw.toFixed(0)} | ${(tsTs / raw).toFixed(2)} | ${(tsTs / goGo).toFixed(2)} |`);
    }
    say();
    say('Goal: TS → TS ≥ 0.8 × raw and ≥ Go → Go. Go\'s SendFile writes 1 KiB at a time and returns without waiting for the server; ours waits for the server to close.');
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
