// Build, start and drive the Go registry peer (interop/go-registry: real rpcx with the Go
// etcd, ZooKeeper, Consul, Redis and mDNS register plugins and discoveries).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDiscovery, ServiceEntry } from '@rpcx/core';

export const GO_REGISTRY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go-registry');
/** The rpcx v1.9.4 build; with `--registry zookeeper|redis` it execs `regpeer-zk` (same PID). */
export const REGPEER = join(GO_REGISTRY_DIR, 'bin', 'regpeer');

export type Registry = 'etcd' | 'zookeeper' | 'consul' | 'redis' | 'mdns';

/**
 * Build both binaries (`regpeer`: go.mod, rpcx v1.9.4 with rpcx-etcd, rpcx-consul and mDNS;
 * `regpeer-zk`: zookeeper.mod, rpcx v1.7.5 with ZooKeeper and Redis). Go's build cache makes this a no-op when nothing changed
 * (about 0.5 s each). The build holds a lock file, so two jest workers never write a binary
 * at the same time; the second one then finds both up to date and leaves them alone.
 */
export function buildRegpeer(): void {
  const builds = [
    ['build', '-o', 'bin/regpeer', './cmd/regpeer'],
    ['build', '-modfile=zookeeper.mod', '-tags', 'zookeeper', '-o', 'bin/regpeer-zk', './cmd/regpeer'],
  ];
  mkdirSync(join(GO_REGISTRY_DIR, 'bin'), { recursive: true });
  for (const args of builds) {
    try {
      execFileSync('flock', [join(GO_REGISTRY_DIR, 'bin', '.build.lock'), 'go', ...args], {
        cwd: GO_REGISTRY_DIR,
        stdio: ['ignore', 'inherit', 'pipe'],
        timeout: 600_000,
      });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`go ${args.join(' ')} failed (is Go installed?): ${(err as Error).message}\n${stderr}`);
    }
  }
}

export interface RegistryFlags {
  registry: Registry;
  /** `host:port` of the registry server; none for mDNS. */
  endpoint?: string;
  basePath: string;
}

const flags = (f: RegistryFlags) => ['--registry', f.registry, ...(f.endpoint ? ['--endpoints', f.endpoint] : []), '--base-path', f.basePath];

export interface GoRegisteredServer {
  /** `tcp@127.0.0.1:port`, the key the Go plugin publishes. */
  key: string;
  pid: number;
  stderr(): string;
  /** SIGTERM (the peer unregisters, then exits), SIGKILL after 5 s. */
  stop(): Promise<number | null>;
}

/** `regpeer serve`: a Go rpcx server whose Arith is registered by the Go plugin. */
export async function startGoRegisteredServer(f: RegistryFlags, extra: string[] = []): Promise<GoRegisteredServer> {
  const child = spawn(REGPEER, ['serve', ...flags(f), '--addr', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const key = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`regpeer serve did not start in 15 s: ${stderr}`));
    }, 15_000);
    lines.on('line', (line) => {
      const m = /^LISTENING (\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`regpeer serve exited with ${code}: ${stderr}`));
    });
  });
  return {
    key,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

export interface GoClientCall {
  picks: string[];
  server: string;
  c: number;
  error?: string;
}

export interface GoClientResult {
  ok: boolean;
  registry: Registry;
  error?: string;
  discovered: { key: string; value: string }[];
  final: { key: string; value: string }[];
  servers: string[];
  perServer: Record<string, number>;
  results: GoClientCall[];
  failed: number;
  ms: number;
}

/**
 * `regpeer client`: the Go discovery finds Arith, then an rpcx XClient (Failover +
 * RoundRobin) calls Mul(i+1, 7) `calls` times. Killed (by its PID) after `timeoutMs`.
 */
export function runGoRegistryClient(f: RegistryFlags, calls: number, minServers = 1, timeoutMs = 30_000): Promise<GoClientResult> {
  return runRegpeerJson<GoClientResult>(['client', ...flags(f), '--service', 'Arith', '--calls', String(calls), '--min-servers', String(minServers), '--wait', '15s'], timeoutMs);
}

/**
 * `regpeer watch`: the Go discovery's lists, each distinct one in order, until it lists
 * exactly `until` servers — after first listing `after`, if given — (resolves with them all)
 * or `waitMs` passes (rejects).
 */
export function watchGoDiscovery(f: RegistryFlags, until: number, after?: number, waitMs = 15_000): Promise<{ key: string; value: string }[][]> {
  const args = ['watch', ...flags(f), '--service', 'Arith', '--until', String(until), ...(after === undefined ? [] : ['--after', String(after)]), '--wait', `${waitMs}ms`];
  return new Promise((resolve, reject) => {
    execFile(REGPEER, args, { timeout: waitMs + 10_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const lists = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { key: string; value: string }[]);
      if (err) return reject(new Error(`regpeer ${args.join(' ')} failed: ${err.message}; lists seen: ${JSON.stringify(lists)}\n${stderr}`));
      resolve(lists);
    });
  });
}

function runRegpeerJson<T>(args: string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(REGPEER, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`regpeer ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`regpeer ${args.join(' ')} printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll the discovery until its list satisfies `predicate`; resolves with that list. */
export async function waitForList(
  discovery: ServiceDiscovery,
  predicate: (entries: ServiceEntry[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<ServiceEntry[]> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const entries = await discovery.getServices();
      if (predicate(entries)) return entries;
      last = entries.map((e) => e.key);
    } catch (error) {
      last = error instanceof Error ? `${error.name}: ${error.message}` : error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

export const keysOf = (entries: ServiceEntry[]) => entries.map((e) => e.key).sort();
