// Runs the examples as a user runs them (`tsx <file>` from examples/): child processes on
// loopback with a deadline, killed by PID if they overrun.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEADLINE_MS = 60_000;

/** Start `tsx <file> <args>` in examples/; the caller collects its output. */
export function start(file: string, args: string[] = [], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: EXAMPLES, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, output: () => (stderr ? `${stdout}\n[stderr]\n${stderr}` : stdout) };
}

export function stop(child: ChildProcess) {
  if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
}

/** Run an example to its end; resolves with its exit code and output. */
export async function runToEnd(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: unknown; output: string }> {
  const { child, output } = start(file, args, env);
  const timer = setTimeout(() => stop(child), DEADLINE_MS);
  try {
    const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
    return { code, output: output() };
  } finally {
    clearTimeout(timer);
    stop(child);
  }
}

/** Run an example to its end; resolves with its stdout lines once it exited 0. */
export async function run(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<string[]> {
  const { code, output } = await runToEnd(file, args, env);
  if (code !== 0) throw new Error(`${file} exited with ${code}:\n${output}`);
  return output.trimEnd().split('\n');
}

/** SIGTERM a server example; resolves with its exit code. */
export async function terminate(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  process.kill(child.pid!, 'SIGTERM');
  return exited;
}

/** Start a long-running example server and wait for the line matching `ready`. */
export async function serve(file: string, args: string[], ready: RegExp) {
  const server = start(file, args);
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} printed no ${ready} in ${DEADLINE_MS} ms:\n${server.output()}`)), DEADLINE_MS);
    server.child.stdout!.on('data', () => {
      const m = ready.exec(server.output());
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    server.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}:\n${server.output()}`));
    });
  });
  return { ...server, match };
}
