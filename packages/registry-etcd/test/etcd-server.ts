/**
 * A throwaway etcd member for tests: loopback only, free ports, temp data dir.
 * Needs the Debian packages `etcd-server` (the `etcd` binary) and `etcd-client` (`etcdctl`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ManagedProcess, TestServer, findOnPath, freePort } from '@rpcx/registry-kit/testing';

export class EtcdServer extends TestServer {
  protected readonly process: ManagedProcess;

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
  ) {
    super('etcd');
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    this.process = new ManagedProcess(
      'etcd',
      findOnPath('etcd', 'install it with `apt-get install -y etcd-server`'),
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

  /** Run etcdctl against this member; returns stdout. */
  etcdctl(...args: string[]): string {
    const bin = findOnPath('etcdctl', 'install it with `apt-get install -y etcd-client`');
    const res = spawnSync(bin, [`--endpoints=${this.endpoint}`, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (res.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${res.stderr}`);
    return res.stdout;
  }
}
