/**
 * Several processes serving one port: Go rpcx's `reuseport` network (SO_REUSEPORT through
 * kavu/go_reuseport) for Node. Node 20 has no SO_REUSEPORT on `net.Server`, so the workers of
 * `node:cluster` share one listening socket instead: the primary owns it and hands each
 * accepted connection to a worker in turn (Node's round-robin scheduling on Linux). To clients
 * it is one plain TCP address; like Go's reuseport servers it is registered as `tcp@…`.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { ConfigError, ListenError } from '@rpcx/core';

/** What a worker's `start` returns: where it listens and how to stop it. */
export interface ClusterServer {
  /** The bound address, e.g. `listener.address`; the same in every worker. */
  address: string;
  /** Graceful shutdown, e.g. `() => server.close()`. */
  close(): Promise<void> | void;
}

export interface ServeClusterOptions {
  /** Number of worker processes. Default: `os.availableParallelism()`. */
  workers?: number;
  /**
   * Runs in every worker: create the server, `listen('tcp', sameAddress)` and return it.
   * Listening on port 0 works: all workers get the same port.
   */
  start: (worker: { id: number }) => Promise<ClusterServer> | ClusterServer;
  /** Fork a new worker when one dies other than through `stop()`. Default true. */
  respawn?: boolean;
  /** How long `stop()` gives each worker to close before it is killed. Default 10 000 ms. */
  stopTimeoutMs?: number;
  /** How long the primary waits for all workers to report they listen. Default 30 000 ms. */
  startTimeoutMs?: number;
  /** Worker script (default: the script the primary runs, as `node:cluster` does). */
  exec?: string;
  /** Node options of the workers (default: the primary's `process.execArgv`). */
  execArgv?: string[];
}

/** The primary's handle on the running workers. */
export interface ClusterHandle {
  /** The shared address all workers listen on. */
  readonly address: string;
  /** The live workers. */
  readonly workers: readonly { id: number; pid: number }[];
  /** Stops every worker (each closes its server), killing those that do not exit in time. */
  stop(): Promise<void>;
}

type Message = { rpcxCluster: 'ready'; address: string } | { rpcxCluster: 'failed'; error: string } | { rpcxCluster: 'stop' };

const isClusterMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && 'rpcxCluster' in m;

/**
 * Call it the same way in the primary and in the workers (normally at the top of your entry
 * script). In the primary it forks the workers and resolves, once every worker listens, with
 * a `ClusterHandle`; in a worker it runs `start`, tells the primary, and resolves with
 * undefined; the worker then closes its server when the primary stops it.
 */
export async function serveCluster(options: ServeClusterOptions): Promise<ClusterHandle | undefined> {
  if (cluster.isWorker) {
    await runWorker(options);
    return undefined;
  }
  return runPrimary(options);
}

async function runWorker(options: ServeClusterOptions): Promise<void> {
  const worker = cluster.worker!;
  let server: ClusterServer;
  try {
    server = await options.start({ id: worker.id });
  } catch (error) {
    process.send!({ rpcxCluster: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Message);
    process.exitCode = 1;
    worker.disconnect();
    return;
  }
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message) || message.rpcxCluster !== 'stop') return;
    void (async () => {
      try {
        await server.close();
      } finally {
        // Leaving the cluster closes the IPC channel; the process ends once nothing else runs.
        worker.disconnect();
      }
    })();
  });
  process.send!({ rpcxCluster: 'ready', address: server.address } satisfies Message);
}

async function runPrimary(options: ServeClusterOptions): Promise<ClusterHandle> {
  const count = options.workers ?? os.availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`serveCluster: workers must be a positive integer, got ${count}`);
  const respawn = options.respawn ?? true;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  if (options.exec !== undefined || options.execArgv !== undefined) {
    cluster.setupPrimary({
      ...(options.exec !== undefined ? { exec: options.exec } : {}),
      ...(options.execArgv !== undefined ? { execArgv: options.execArgv } : {}),
    });
  }

  const live = new Map<number, Worker>();
  let stopping = false;
  let address = '';

  /** Forks one worker; resolves once it listens. */
  const fork = () =>
    new Promise<Worker>((resolve, reject) => {
      const worker = cluster.fork();
      live.set(worker.id, worker);
      let ready = false;
      const onMessage = (message: unknown) => {
        if (!isClusterMessage(message)) return;
        if (message.rpcxCluster === 'ready') {
          if (address && message.address !== address) {
            reject(new ConfigError(`serveCluster: worker ${worker.id} listens on ${message.address}, the others on ${address}`));
            return;
          }
          address = message.address;
          ready = true;
          resolve(worker);
        } else if (message.rpcxCluster === 'failed') {
          reject(new ListenError(`serveCluster: worker ${worker.id} failed to start: ${message.error}`));
        }
      };
      worker.on('message', onMessage);
      worker.once('exit', (code, signal) => {
        live.delete(worker.id);
        reject(new ListenError(`serveCluster: worker ${worker.id} exited before listening (${signal ?? `code ${code}`})`));
        // A worker lost while serving is replaced, unless we are stopping.
        if (respawn && ready && !stopping) void fork().catch(() => {});
      });
    });

  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      [...live.values()].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), stopTimeoutMs);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (worker.isConnected()) worker.send({ rpcxCluster: 'stop' } satisfies Message);
            else worker.process.kill('SIGTERM');
          }),
      ),
    );
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(Array.from({ length: count }, fork)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new ListenError(`serveCluster: workers did not all listen within ${startTimeoutMs} ms`)), startTimeoutMs);
      }),
    ]);
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    address,
    get workers() {
      return [...live.values()].filter((w) => !w.isDead()).map((w) => ({ id: w.id, pid: w.process.pid! }));
    },
    stop: stopAll,
  };
}
