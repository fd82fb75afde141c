import { AssertionError } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ConfigError, type Logger, type ServiceDiscovery, type ServiceEntry } from '@rpcx/core';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
  /** Extra state for the failure message, e.g. a logger's warnings. */
  context?: () => unknown,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    try {
      // One attempt may not hang the wait.
      const value = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new AssertionError({ message: 'attempt hung' })), Math.max(timeoutMs, 1000));
        }),
      ]);
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) {
      const extra = context ? `; context: ${JSON.stringify(context())}` : '';
      throw new AssertionError({ message: `timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}${extra}` });
    }
    await sleep(50);
  }
}

/**
 * Call `fn` every 100 ms until its value satisfies `predicate` or `timeoutMs` passes; resolves
 * with the last value either way (the caller asserts on it, so a failure shows what was seen).
 */
export async function waitForValue<T>(fn: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (predicate(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

/** Resolve with the first list a watcher receives that satisfies `predicate`. */
export function nextList(
  discovery: ServiceDiscovery,
  predicate: (entries: ServiceEntry[]) => boolean,
  timeoutMs: number,
): Promise<ServiceEntry[]> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(() => {
      stop();
      reject(new AssertionError({ message: `no matching watch update within ${timeoutMs} ms; lists seen: ${JSON.stringify(seen)}` }));
    }, timeoutMs);
    const stop = discovery.watch((entries) => {
      seen.push(entries.map((e) => `${e.key}=${e.value}`).join(' | '));
      if (!predicate(entries)) return;
      clearTimeout(timer);
      stop();
      resolve(entries);
    });
  });
}

/** The keys of a list, sorted. */
export const keys = (entries: ServiceEntry[]) => entries.map((e) => e.key).sort();

/** A logger that remembers warnings (and errors) as text. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  return {
    warnings,
    debug() {},
    info() {},
    warn: (...args: unknown[]) => void warnings.push(text(args)),
    error: (...args: unknown[]) => void warnings.push(text(args)),
  };
}

/** A TCP port free on 127.0.0.1 right now. */
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

/**
 * Run a TypeScript script in its own Node process (through tsx) with `options` as JSON in
 * argv[2]; resolves once it printed `registered`. For "a server process that dies" tests.
 */
export async function startChild(
  script: string,
  options: unknown,
  { execArgv = ['--import', 'tsx'], readyText = 'registered', timeoutMs = 20_000 } = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...execArgv, script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AssertionError({ message: `child did not print "${readyText}" in ${timeoutMs} ms: ${output}` })), timeoutMs);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(readyText)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new AssertionError({ message: `child exited with ${code}: ${output}` }));
      });
    });
  } catch (error) {
    await killChild(child);
    throw error;
  }
  return child;
}

/** SIGKILL a child (by its PID) and wait for it to be gone. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/**
 * A server process a test starts and stops (etcd, ZooKeeper…): output to a log file, a
 * readiness probe, stop by PID with SIGTERM then SIGKILL after 5 s, freeze and thaw.
 */
export class ManagedProcess {
  #child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Spawn it (unless running) and poll `ready` every 50 ms until true or `timeoutMs` passes. */
  async start(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    if (this.#child) return;
    const log = openSync(this.logFile, 'a');
    const child = spawn(this.command, this.args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.#child) throw new AssertionError({ message: `${this.name} exited during start-up; log:\n${readFileSync(this.logFile, 'utf8').slice(-2000)}` });
      if (await ready().catch(() => false)) return;
      await sleep(50);
    }
    await this.stop();
    throw new AssertionError({ message: `${this.name} was not ready within ${timeoutMs} ms; log:\n${readFileSync(this.logFile, 'utf8').slice(-2000)}` });
  }

  /** SIGTERM (after SIGCONT, in case it is frozen), then SIGKILL after 5 s; waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.#child = undefined;
  }

  /** Freeze it (SIGSTOP): connections stay open but nothing answers. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}

/** The path of `name` on PATH, or a ConfigError saying how to install it. */
export function findOnPath(name: string, installHint: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(':')) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new ConfigError(`\`${name}\` not found: ${installHint}`);
}

/**
 * A registry server a test runs (etcd, ZooKeeper, Consul, Redis): one {@link ManagedProcess}
 * in a temp dir whose `data/` can be thrown away. Subclasses set `process` and `start()`.
 */
export abstract class TestServer {
  readonly dir: string;
  readonly dataDir: string;
  protected abstract readonly process: ManagedProcess;

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `rpcx-${name}-`));
    this.dataDir = join(this.dir, 'data');
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Start (or start again, same ports and data dir) and wait until it answers. */
  abstract start(): Promise<void>;

  /** SIGTERM, then SIGKILL after 5 s; the data dir is kept for a restart. */
  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Stop and throw the data away: it comes back empty on the next start(). */
  async wipe(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Freeze the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void {
    this.process.pause();
  }

  resume(): void {
    this.process.resume();
  }

  /** Stop and remove its temp dir. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
