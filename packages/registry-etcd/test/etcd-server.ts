/**
 * A throwaway etcd member for tests: loopback only, free ports, temp data dir.
 * Needs the Debian packages `etcd-server` (the `etcd` binary) and `etcd-client` (`etcdctl`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, freePort } from '@rpcx/registry-kit/testing';

function findBinary(name: string, aptPackage: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`\`${name}\` not found: install it with \`apt-get install -y ${aptPackage}\``);
}

export class EtcdServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'rpcx-etcd-'));
  readonly dataDir = join(this.dir, 'data');
  private readonly process: ManagedProcess;

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
  ) {
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    this.process = new ManagedProcess(
      'etcd',
      findBinary('etcd', 'etcd-server'),
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
      join(this.dir, 'etcd.log'),
    );
  }

  /** `127.0.0.1:<port>`, the form Go rpcx takes. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(await freePort(), await freePort());
    await server.start();
    return server;
  }

  /** Start (or start again, same ports and data dir) and wait until it answers /health. */
  async start(): Promise<void> {
    await this.process.start(async () => {
      const res = await fetch(`http://${this.endpoint}/health`, { signal: AbortSignal.timeout(500) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }, 15_000);
  }

  /** Stop it (SIGTERM, then SIGKILL after 5 s); the data dir is kept for a restart. */
  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Stop and throw the data away: it comes back empty on the next start(). */
  async wipe(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Freeze the process (kill -STOP): connections stay open but nothing answers. */
  pause(): void {
    this.process.pause();
  }

  resume(): void {
    this.process.resume();
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
