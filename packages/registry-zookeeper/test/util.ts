import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger, ServiceDiscovery, ServiceEntry } from '@rpcx/core';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
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
    try {
      // One attempt may not hang the wait.
      const value = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('attempt hung')), Math.max(timeoutMs, 1000)).unref()),
      ]);
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const extra = context ? `; context: ${JSON.stringify(context())}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}${extra}`);
    }
    await sleep(50);
  }
}

/** Resolve with the first list a watcher receives that satisfies `predicate`. */
export function nextList(
  discovery: ServiceDiscovery,
  predicate: (entries: ServiceEntry[]) => boolean,
  timeoutMs: number,
): Promise<ServiceEntry[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching watch update within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = discovery.watch((entries) => {
      if (!predicate(entries)) return;
      clearTimeout(timer);
      stop();
      resolve(entries);
    });
  });
}

export const keys = (entries: ServiceEntry[]) => entries.map((e) => e.key).sort();

/** A logger that remembers warnings. */
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

/** Start `fixtures/<name>.ts` in its own Node process; resolves once it printed `registered`. */
export async function startChild(name: string, options: unknown): Promise<ChildProcess> {
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not register in 20 s: ${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('registered')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${output}`));
    });
  });
  return child;
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
