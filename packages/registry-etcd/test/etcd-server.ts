/**
 * A throwaway etcd member for tests: loopback only, free ports, temp data dir.
 * Needs the Debian packages `etcd-server` (the `etcd` binary) and `etcd-client` (`etcdctl`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function findBinary(name: string, aptPackage: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`\`${name}\` not found: install it with \`apt-get install -y ${aptPackage}\``);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EtcdServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'rpcx-etcd-'));
  readonly dataDir = join(this.dir, 'data');
  readonly logFile = join(this.dir, 'etcd.log');
  private child: ChildProcess | undefined;
  private readonly binary = findBinary('etcd', 'etcd-server');

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  /** `127.0.0.1:<port>`, the form Go rpcx takes. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(await freePort(), await freePort());
    await server.start();
    return server;
  }

  /** Start (or start again, same ports and data dir) and wait until it answers /health. */
  async start(): Promise<void> {
    if (this.child) return;
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      this.binary,
      [
        '--name=test',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
        '--log-level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`etcd exited during start-up; log:\n${readFileSync(this.logFile, 'utf8').slice(-2000)}`);
      try {
        const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(500) });
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    await this.stop();
    throw new Error('etcd did not become healthy within 15 s');
  }

  /** Stop it (SIGTERM, then SIGKILL after 5 s); the data dir is kept for a restart. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Stop and throw the data away: it comes back empty on the next start(). */
  async wipe(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Freeze the process (kill -STOP): connections stay open but nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stop and remove the data dir. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Run etcdctl against this member; returns stdout. */
  etcdctl(...args: string[]): string {
    const bin = findBinary('etcdctl', 'etcd-client');
    const res = spawnSync(bin, [`--endpoints=${this.endpoint}`, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (res.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${res.stderr}`);
    return res.stdout;
  }
}
