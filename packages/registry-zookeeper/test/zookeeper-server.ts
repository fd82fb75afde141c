/**
 * A throwaway standalone ZooKeeper 3.8 for tests: loopback only, a free port, a temp data
 * dir, tickTime 500 ms (so sessions may be as short as 1 s). Needs the Debian package
 * `zookeeper` (which brings a Java runtime).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'];

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ZooKeeperServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'rpcx-zk-'));
  readonly logFile = join(this.dir, 'zookeeper.log');
  private child: ChildProcess | undefined;
  private readonly java: string;

  private constructor(readonly port: number) {
    this.java = findJava();
    for (const jar of JARS) {
      if (!existsSync(jar)) throw new Error(`${jar} not found: install it with \`apt-get install -y zookeeper\``);
    }
    writeFileSync(
      join(this.dir, 'zoo.cfg'),
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

  /** Start (or start again, same port and data dir) and wait for `ruok` → `imok`. */
  async start(): Promise<void> {
    if (this.child) return;
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      this.java,
      ['-Xmx256m', '-cp', JARS.join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', join(this.dir, 'zoo.cfg')],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`zookeeper exited during start-up; log:\n${readFileSync(this.logFile, 'utf8').slice(-2000)}`);
      if ((await fourLetter(this.port, 'ruok')) === 'imok') return;
      await sleep(50);
    }
    await this.stop();
    throw new Error('zookeeper did not answer ruok within 20 s');
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
    rmSync(join(this.dir, 'data'), { recursive: true, force: true });
  }

  /** Freeze the process (kill -STOP). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
