// Build, start and drive the Go plugins peer (interop/go-plugins: real rpcx v1.9.4 with Go's
// own serverplugin rate limiters, and a Go client that reports each call's outcome).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGoServer, type GoServer } from './go-peer.js';

export const GO_PLUGINS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go-plugins');
export const PLUGPEER = join(GO_PLUGINS_DIR, 'bin', 'plugpeer');

/** `go build` under a lock, so two jest workers never write the binary at once (a no-op when up to date). */
export function buildPlugpeer(): void {
  mkdirSync(join(GO_PLUGINS_DIR, 'bin'), { recursive: true });
  try {
    execFileSync('flock', [join(GO_PLUGINS_DIR, 'bin', '.build.lock'), 'go', 'build', '-o', 'bin/plugpeer', './cmd/plugpeer'], {
      cwd: GO_PLUGINS_DIR,
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 600_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`building interop/go-plugins failed (is Go installed?): ${(err as Error).message}\n${stderr}`);
  }
}

/** `plugpeer serve` with `args` (its rate-limit flags); stop() sends SIGTERM. */
export function startPlugpeer(args: string[]): Promise<GoServer> {
  return startGoServer(args, 'serve', '127.0.0.1:0', PLUGPEER);
}

/** One call as the Go client saw it. */
export interface GoCallResult {
  ok: boolean;
  c?: number;
  error?: string;
  /** err was a client.ServiceError: the server's `__rpcx_error__` text. */
  serviceError?: boolean;
}

/** `plugpeer call`: `calls` calls of `service.method` with args {A: i + 1, B: 2}, one at a time. */
export function goCalls(key: string, calls: number, service = 'Arith', method = 'Mul'): Promise<GoCallResult[]> {
  return new Promise((resolve, reject) => {
    const args = ['call', '--addr', key, '--service', service, '--method', method, '--calls', String(calls)];
    execFile(PLUGPEER, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`plugpeer ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      resolve((JSON.parse(stdout) as { results: GoCallResult[] }).results);
    });
  });
}
