/**
 * A throwaway standalone ZooKeeper 3.8 for tests: loopback only, a free port, a temp data
 * dir, tickTime 500 ms (so sessions may be as short as 1 s). Needs the Debian package
 * `zookeeper` (which brings a Java runtime).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ManagedProcess, TestServer, findOnPath, freePort } from '@rpcx/registry-kit/testing';

const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'];

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

export class ZooKeeperServer extends TestServer {
  protected readonly process: ManagedProcess;

  private constructor(readonly port: number) {
    super('zk');
    for (const jar of JARS) {
      if (!existsSync(jar)) throw new Error(`${jar} not found: install it with \`apt-get install -y zookeeper\``);
    }
    const config = join(this.dir, 'zoo.cfg');
    writeFileSync(
      config,
      [
        'tickTime=500',
        `dataDir=${this.dataDir}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,stat,srvr',
        '',
      ].join('\n'),
    );
    this.process = new ManagedProcess(
      'zookeeper',
      findOnPath('java', 'install ZooKeeper with `apt-get install -y zookeeper` (it brings a JRE)'),
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
}
