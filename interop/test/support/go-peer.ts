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

/** A Go peer process that printed its `LISTENING network@address` line. */
export interface ListeningPeer {
  /** `network@address`, as printed. */
  key: string;
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Spawn one of the Go peers (`binary args…`) and wait up to 15 s for its `LISTENING` line;
 * a peer that does not get there is killed. `onLine` sees every stdout and stderr line.
 */
export async function startListeningPeer(
  name: string,
  binary: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStdoutLine?: (line: string) => void; onStderrLine?: (line: string) => void } = {},
): Promise<ListeningPeer> {
  const child = spawn(binary, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr += line + '\n';
    options.onStderrLine?.(line);
  });
  const key = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in 15 s: ${stderr}`));
    }, 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      options.onStdoutLine?.(line);
      const m = /^LISTENING (\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
    });
  });
  return {
    key,
    child,
    stderr: () => stderr,
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

/** Start `peer <command>` on `address` (a free port by default) and wait for its `LISTENING network@address` line. */
export async function startGoServer(args: string[] = [], command = 'serve', address = '127.0.0.1:0', binary = PEER): Promise<GoServer> {
  const peer = await startListeningPeer('Go peer', binary, [command, '--addr', address, ...args]);
  return { key: peer.key, address: peer.key.slice(peer.key.indexOf('@') + 1), process: peer.child, stop: peer.stop };
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
