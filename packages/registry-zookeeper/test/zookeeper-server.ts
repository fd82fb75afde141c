/**
 * A throwaway standalone ZooKeeper 3.8 for tests: loopback only, a free port, a temp data
 * dir, tickTime 500 ms (so sessions may be as short as 1 s). Needs the Debian package
 * `zookeeper` (which brings a Java runtime).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, freePort } from '@rpcx/registry-kit/testing';

const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'];

function findJava(): string {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) {
    const path = join(dir, 'java');
    if (existsSync(path)) return path;
  }
  throw new Error('`java` not found: install ZooKeeper with `apt-get install -y zookeeper` (it brings a JRE)');
}

/** Send a four-letter command; resolves with the reply (empty on failure). */
function fourLetter(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.end(command));
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(''));
  });
}

export class ZooKeeperServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'rpcx-zk-'));
  private readonly process: ManagedProcess;

  private constructor(readonly port: number) {
    for (const jar of JARS) {
      if (!existsSync(jar)) throw new Error(`${jar} not found: install it with \`apt-get install -y zookeeper\``);
    }
    const config = join(this.dir, 'zoo.cfg');
    writeFileSync(
      config,
      [
        'tickTime=500',
        `dataDir=${join(this.dir, 'data')}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,stat,srvr',
        '',
      ].join('\n'),
    );
    this.process = new ManagedProcess(
      'zookeeper',
      findJava(),
      ['-Xmx256m', '-cp', JARS.join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', config],
      join(this.dir, 'zookeeper.log'),
    );
  }

  /** `127.0.0.1:<port>`. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ZooKeeperServer> {
    const server = new ZooKeeperServer(await freePort());
    await server.start();
    return server;
  }

  /**
   * Start (or start again, same port and data dir) and wait until it serves: `srvr` reports a
   * `Mode:` only then (`ruok` answers `imok` before the server takes sessions).
   */
  async start(): Promise<void> {
    await this.process.start(async () => (await fourLetter(this.port, 'srvr')).includes('Mode:'), 20_000);
  }

  /** Stop it (SIGTERM, then SIGKILL after 5 s); the data dir is kept for a restart. */
  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Stop and throw the data away: it comes back empty on the next start(). */
  async wipe(): Promise<void> {
    await this.stop();
    rmSync(join(this.dir, 'data'), { recursive: true, force: true });
  }

  /** Freeze the process (kill -STOP). */
  pause(): void {
    this.process.pause();
  }

  resume(): void {
    this.process.resume();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
