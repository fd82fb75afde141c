// Run the `rpcx` command as a user does: a child process of bin/rpcx.js.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'rpcx.js');

export interface RpcxResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run `rpcx …` to completion (killed, by PID, after `limitMs`). */
export function rpcx(args: string[], options: { stdin?: string; limitMs?: number } = {}): Promise<RpcxResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rpcx ${args.join(' ')} still running after ${options.limitMs ?? 20_000} ms\n${stderr}`));
    }, options.limitMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
