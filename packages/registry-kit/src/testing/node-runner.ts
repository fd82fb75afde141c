import { spawn } from 'node:child_process';

/** One finished test of a child run. */
export interface ChildTestResult {
  name: string;
  nesting: number;
  suite: boolean;
  ok: boolean;
  durationMs?: number;
  error?: string;
}

export interface NodeTestRun {
  results: ChildTestResult[];
  /** Everything else the child printed (stdout and stderr). */
  output: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunNodeTestFileOptions {
  /** Node flags before the script. Default: `--import tsx` (TypeScript). */
  execArgv?: string[];
  /** Arguments after the script. */
  args?: string[];
  /**
   * Turn the command (`[node, ...flags, script]`) into the one to spawn, e.g. to run it
   * inside `unshare -n`. Default: as it is.
   */
  wrap?: (command: string[]) => string[];
  /** Kill the child (SIGKILL, by PID) after this long. Default 120000. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

// Sources run as .ts (tsx, swc), the published package as .js.
const reporter = new URL(import.meta.url.endsWith('.ts') ? './reporter.ts' : './reporter.js', import.meta.url);

/**
 * Run a file of `node:test` tests in a child process and collect each test's result. Lets a
 * jest test run the compliance suite where jest cannot (a private network namespace) and
 * report every case back.
 */
export function runNodeTestFile(file: string, options: RunNodeTestFileOptions = {}): Promise<NodeTestRun> {
  const command = [
    process.execPath,
    ...(options.execArgv ?? ['--import', 'tsx']),
    `--test-reporter=${reporter.href}`,
    '--test-reporter-destination=stdout',
    file,
    ...(options.args ?? []),
  ];
  const [bin, ...argv] = options.wrap ? options.wrap(command) : command;
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  const results: ChildTestResult[] = [];
  let output = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let parsed: (ChildTestResult & { rpcxTest?: boolean }) | undefined;
      try {
        parsed = line.startsWith('{') ? JSON.parse(line) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed?.rpcxTest) {
        delete parsed.rpcxTest;
        results.push(parsed);
      } else output += `${line}\n`;
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ results, output: output + pending, exitCode, signal });
    });
  });
}
