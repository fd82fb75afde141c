// What the console's tests share: the console run as `rpcx ui` (a child process, as a user
// runs it) and a TS server in a child process that a test can kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));
const SERVER_CHILD = fileURLToPath(new URL('./fixtures/registered-server.ts', import.meta.url));

export interface Child {
  pid: number;
  /** The first line matching the start pattern's group. */
  value: string;
  output(): string;
  /** `signal` (SIGTERM by default), SIGKILL after 5 s; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `node --import tsx <args>` and wait (at most `limitMs`) for a stdout line matching `ready`. */
async function startNode(args: string[], ready: RegExp, limitMs: number): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const lines = createInterface({ input: child.stdout! });
  const value = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: not ready in ${limitMs} ms:\n${output}`));
    }, limitMs);
    lines.on('line', (line) => {
      output += `${line}\n`;
      const m = ready.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    value,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** `rpcx ui <target> --listen 127.0.0.1:0 …`; `value` is the page's URL. */
export function startRpcxUi(target: string, extra: string[] = []): Promise<Child> {
  return startNode([CLI_MAIN, 'ui', target, '--listen', '127.0.0.1:0', ...extra], /^rpcx ui: .* at (http:\/\/\S+)$/, 30_000);
}

/** A TS server registered in etcd from a child process; `value` is its key. */
export function startRegisteredTsServer(endpoint: string, basePath: string): Promise<Child> {
  return startNode([SERVER_CHILD, JSON.stringify({ endpoint, basePath })], /^LISTENING (\S+)$/, 30_000);
}
