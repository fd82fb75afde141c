// serveCluster: several worker processes serving one tcp port (Go's `reuseport` network,
// done with node:cluster since Node 20 has no SO_REUSEPORT). A real primary with 3 workers is
// started, connections to its one address land on more than one worker, and every process is
// stopped and checked gone by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Recorder } from '@rpcx/transport-kit/testing';
import { tcpTransport } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'cluster-server.ts');
// tsx runs the TypeScript fixture in the primary and, through execArgv, in every worker.
const tsx = createRequire(import.meta.url).resolve('tsx');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

describe('serveCluster (reuseport via node:cluster)', () => {
  let primary: ChildProcess | undefined;
  let pids: number[] = [];
  afterEach(() => {
    // Whatever a failed test left: every process by PID.
    for (const pid of [primary?.pid, ...pids]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    primary = undefined;
    pids = [];
  });

  it('serves one tcp@ address from 3 worker processes and stops them all', async () => {
    primary = spawn(process.execPath, ['--import', tsx, fixture], {
      env: { ...process.env, WORKERS: '3' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the cluster did not start in 20 s')), 20_000);
      createInterface({ input: primary!.stdout! }).on('line', (l) => {
        if (l.startsWith('WORKER ')) pids.push(Number(l.slice(7)));
        if (l.startsWith('LISTENING ')) {
          clearTimeout(timer);
          resolve(l);
        }
      });
      primary!.once('exit', (code) => reject(new Error(`the primary exited with ${code}`)));
    });
    const [, key, , pidList] = line.split(' ');
    const workers = pidList.split(',').map(Number);
    expect(key).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
    expect(workers).toHaveLength(3);
    expect(new Set(workers).size).toBe(3);
    expect(workers).not.toContain(primary.pid);
    expect(pids.sort()).toEqual([...workers].sort());

    // Twelve connections to the one address; the primary deals them out in turn.
    const address = key.slice('tcp@'.length);
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = new Recorder(await tcpTransport().dial('tcp', address));
      await r.closed;
      seen.push(Number(r.data().toString().trim()));
    }
    for (const pid of seen) expect(workers).toContain(pid);
    expect(new Set(seen).size).toBeGreaterThan(1);

    // A worker that dies is replaced; the port keeps answering meanwhile.
    process.kill(workers[0], 'SIGKILL');
    expect(await waitGone([workers[0]], 5000)).toEqual([]);
    for (let i = 0; i < 100 && pids.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pids).toHaveLength(4);
    const after: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = new Recorder(await tcpTransport().dial('tcp', address));
      await r.closed;
      after.push(Number(r.data().toString().trim()));
    }
    expect(after).not.toContain(workers[0]);
    expect(after).toContain(pids[3]);

    // SIGTERM to the primary stops each worker (its server closes), then the primary exits.
    const exited = once(primary, 'exit');
    process.kill(primary.pid!, 'SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(await waitGone(pids, 5000)).toEqual([]);
  }, 60_000);
});
