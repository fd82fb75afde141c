// Start and drive the Go rpcx peer (interop/go, real github.com/smallnest/rpcx).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PEER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go', 'bin', 'peer');

export interface GoServer {
  /** `tcp@127.0.0.1:port` */
  key: string;
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Start `peer <command>` on `address` (a free port by default) and wait for its `LISTENING network@address` line. */
export async function startGoServer(args: string[] = [], command = 'serve', address = '127.0.0.1:0', binary = PEER): Promise<GoServer> {
  const child = spawn(binary, [command, '--addr', address, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const key = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Go peer did not start in 15 s: ${stderr}`)), 15_000);
    lines.on('line', (line) => {
      const m = /^LISTENING (\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Go peer exited with ${code}: ${stderr}`));
    });
  });
  return {
    key,
    address: key.slice(key.indexOf('@') + 1),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Run `peer <args>` to completion and parse the JSON object it prints. */
export function runGoPeer<T = Record<string, unknown>>(args: string[], timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(PEER, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`peer ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`peer ${args.join(' ')} printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}
