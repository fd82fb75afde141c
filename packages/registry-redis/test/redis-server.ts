/**
 * A throwaway redis-server for tests (Debian package `redis-server`): loopback only, a free
 * port, a temp dir. It saves its data when stopped (SIGTERM) and loads it when started again,
 * so a restart keeps the keys; `wipe()` throws them away.
 */
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ManagedProcess, TestServer, findOnPath, freePort } from '@rpcx/registry-kit/testing';

/** One RESP command on a fresh socket; resolves with the raw reply ('' on failure). */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(''));
  });
}

export class RedisServer extends TestServer {
  protected readonly process: ManagedProcess;

  private constructor(
    readonly port: number,
    private readonly cluster: boolean,
  ) {
    super('redis');
    // A one-node cluster (all slots on this node) is what Go clients built on go-redis's
    // ClusterClient need, e.g. Go rpcx's RedisRateLimitingPlugin.
    const clusterArgs = cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf')] : [];
    this.process = new ManagedProcess(
      'redis',
      findOnPath('redis-server', 'install it with `apt-get install -y redis-server`'),
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dataDir, '--save', '3600 1', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...clusterArgs],
      join(this.dir, 'redis.log'),
    );
  }

  /** `127.0.0.1:<port>`, the form Go rpcx and the registry package take. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * A new server on a free port. A port found free can be taken by another process before
   * Redis binds it (other tests run at the same time): then it is tried again on a new one.
   */
  static async start(options: { cluster?: boolean } = {}): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort(), options.cluster ?? false);
      try {
        await server.start();
        return server;
      } catch (error) {
        await server.destroy();
        if (attempt === 3 || !/address already in use/i.test(String(error))) throw error;
      }
    }
  }

  /** Start (or start again: same port and data dir) and wait until it answers PING. */
  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    await this.process.start(async () => (await redisCommand(this.port, 'PING')) === '+PONG\r\n', 15_000);
    if (!this.cluster) return;
    await redisCommand(this.port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    const deadline = Date.now() + 15_000;
    while (!(await redisCommand(this.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error('redis cluster did not reach cluster_state:ok in 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
