// What every section of `pnpm bench` shares: the processes it starts (servers kept warm, one
// client process per measured run), the runs' statistics, and the report being written.
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const peer = join(root, 'interop', 'go', 'bin', 'peer');
export const src = (name: string) => join(root, 'bench', 'src', name);
let bundled: string | undefined;
/** From now on, {@link node} runs scripts from this bundle directory (bundle.ts). */
export const useBundle = (dir: string) => void (bundled = dir);
/**
 * The command that runs one of the TypeScript scripts as its own process: plain node on its
 * bundle once `pnpm bench` made one, else `node --import tsx` (so the process measured is the
 * script's own either way).
 */
export const node = (script: string, args: string[] = [], nodeArgs: string[] = []): [string, string[]] =>
  bundled
    ? [process.execPath, [...nodeArgs, join(bundled, script.replace(/\.ts$/, '.mjs')), ...args]]
    : [process.execPath, [...nodeArgs, '--import', 'tsx', src(script), ...args]];

/** One measured run of a closed-loop client: what every client script prints as its last line. */
export interface Run {
  calls: number;
  errors: number;
  callsPerSec: number;
  p50us: number;
  p99us: number;
  /** The server's largest RSS seen during the run, in bytes (when the run watched the server). */
  serverRss?: number;
  /**
   * The server process's CPU time (all threads, user + system) per call in the measured
   * window, µs (when the run watched the server): its CPU rate over the window's middle 80 %
   * divided by the client's calls/s.
   */
  serverCpuUsPerCall?: number;
  firstError?: string;
}

/** The runs of one cell, summarised: the median run by calls/s, and the spread. */
export interface Cell {
  runs: Run[];
  median: number;
  min: number;
  max: number;
  /** Median p50 / p99 over the runs, in µs. */
  p50us: number;
  p99us: number;
  /** Median server CPU µs per call over the runs that watched the server. */
  serverCpuUsPerCall?: number;
  errors: number;
}

export const medianOf = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export function summarise(runs: Run[]): Cell {
  const rates = runs.map((r) => r.callsPerSec);
  return {
    runs,
    median: medianOf(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    p50us: medianOf(runs.map((r) => r.p50us)),
    p99us: medianOf(runs.map((r) => r.p99us)),
    serverCpuUsPerCall: runs.every((r) => r.serverCpuUsPerCall !== undefined) ? medianOf(runs.map((r) => r.serverCpuUsPerCall!)) : undefined,
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

export interface BenchOptions {
  quick: boolean;
  durationMs: number;
  warmupMs: number;
  /** Runs per cell (interleaved with the other cells of its table). */
  repeat: number;
  /** Idle connections of the memory section. */
  idleConnections: number;
  /** File size of the transfer section, MiB. */
  transferMiB: number;
}

/** A server process kept running for a section. */
export interface ServerProcess {
  /** `network@address`, from its `LISTENING` line. */
  key: string;
  pid: number;
  child: ChildProcess;
  stop(): void;
}

/** Who a client talks to and how: one column of a table. */
export type ClientKind = 'go' | 'ts' | 'raw' | 'grpc';

export interface ClientLoad {
  clients: number;
  inflight: number;
}

/** The context handed to every section. */
export class Bench {
  readonly lines: string[] = [];
  /** Other files of the report (charts), by name; written next to latest.md. */
  readonly files = new Map<string, string>();
  private readonly children = new Set<ChildProcess>();

  constructor(readonly options: BenchOptions) {
    process.on('exit', () => this.children.forEach((c) => c.kill('SIGKILL')));
  }

  /** Print a line of the report and keep it for bench/results. */
  say = (line = ''): void => {
    this.lines.push(line);
    console.log(line);
  };

  /** Progress on stderr only (not in the report). */
  note(line: string): void {
    process.stderr.write(`  · ${line}\n`);
  }

  /** Start a server that prints `LISTENING network@address` when ready. */
  startServer(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ServerProcess> {
    // stderr ignored: servers log their shutdown, which would interleave with the tables.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], cwd: root, env: env ?? process.env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^LISTENING (\S+)/.exec(line);
        if (m) resolve({ key: m[1], pid: child.pid!, child, stop: () => child.kill('SIGTERM') });
      });
      child.once('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)));
    });
  }

  goServer(network = 'tcp', extra: string[] = []): Promise<ServerProcess> {
    return this.startServer(peer, ['bench-serve', '--network', network, '--addr', '127.0.0.1:0', ...extra]);
  }

  tsServer(network = 'tcp', extra: string[] = []): Promise<ServerProcess> {
    const [cmd, args] = node('ts-server.ts', ['--network', network, '--addr', '127.0.0.1:0', ...extra]);
    return this.startServer(cmd, args);
  }

  /** One measured run of a client process against `servers` (see {@link ClientRunOptions}). */
  async runClient(kind: ClientKind, servers: string[], load: ClientLoad, options: ClientRunOptions = {}): Promise<Run> {
    const { durationMs, warmupMs } = this.options;
    const { args: extra = [], nodeArgs = [], watch, cpus } = options;
    const common = ['--clients', String(load.clients), '--inflight', String(load.inflight)];
    const timing = ['--duration-ms', String(durationMs), '--warmup-ms', String(warmupMs)];
    const addrs = servers.flatMap((s) => ['--addr', s]);
    const [program, programArgs] =
      kind === 'go'
        ? [peer, ['bench-client', '--addr', servers[0], ...common, '--duration', `${durationMs}ms`, '--warmup', `${warmupMs}ms`]]
        : kind === 'ts'
          ? node('ts-client.ts', [...addrs, ...common, ...timing, ...extra], nodeArgs)
          : kind === 'raw'
            ? node('raw-echo.ts', [...addrs, ...common, ...timing])
            : node('grpc-bench.ts', [...addrs, ...common, ...timing]);
    const [cmd, args] = cpus === undefined ? [program, programArgs] : pinned(cpus, program, programArgs);
    let peak = 0;
    const cpu: { at: number; seconds: number }[] = [];
    const sample = (pid: number) => {
      peak = Math.max(peak, rssOf(pid));
      cpu.push({ at: performance.now(), seconds: cpuSecondsOf(pid) });
    };
    const sampler = watch ? setInterval(() => sample(watch), 100) : undefined;
    try {
      const run = await new Promise<Run>((resolve, reject) => {
        const child = execFile(cmd, args, { cwd: root, maxBuffer: 1 << 20, timeout: durationMs + warmupMs + 120_000 }, (err, stdout, stderr) => {
          if (err) return reject(new Error(`${kind} client ${args.join(' ')} failed: ${err.message}\n${stderr}`));
          resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Run);
        });
        this.children.add(child);
        child.once('exit', () => this.children.delete(child));
      });
      if (watch) {
        sample(watch);
        run.serverRss = peak;
        run.serverCpuUsPerCall = cpuPerCall(cpu, durationMs, run.callsPerSec);
      }
      return run;
    } finally {
      if (sampler) clearInterval(sampler);
    }
  }

  stopAll(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}

/** How {@link Bench.runClient} runs a client. */
export interface ClientRunOptions {
  /** More arguments for a TS client script. */
  args?: string[];
  /** Arguments for a TS client's node (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** A server's pid: its peak RSS and its CPU per call are measured during the run. */
  watch?: number;
  /** The CPUs the client may run on (`taskset -c`, e.g. `'0'`); any by default. */
  cpus?: string;
}

/** A command run by `taskset` on the given CPUs (taskset execs it: the pid is the command's). */
export function pinned(cpus: string, cmd: string, args: string[]): [string, string[]] {
  return ['taskset', ['-c', cpus, cmd, ...args]];
}

/** Whether `taskset` (util-linux) can pin a process to these CPUs here. */
export function canPin(cpus: string): boolean {
  return spawnSync('taskset', ['-c', cpus, 'true']).status === 0;
}

/**
 * Server CPU µs per call from samples taken every 100 ms until the client exited: the CPU rate
 * between the samples that bound the middle 80 % of the measured window (the last `durationMs`
 * before the client ended; the clients print and exit right after it), over calls/s. The
 * kernel counts CPU time in 10 ms ticks: over a window of a second or more that is within 1–2 %.
 */
function cpuPerCall(samples: { at: number; seconds: number }[], durationMs: number, callsPerSec: number): number | undefined {
  const end = samples[samples.length - 1]?.at ?? 0;
  const inWindow = samples.filter((s) => s.at >= end - 0.9 * durationMs && s.at <= end - 0.1 * durationMs);
  if (inWindow.length < 2 || callsPerSec <= 0) return undefined;
  const first = inWindow[0];
  const last = inWindow[inWindow.length - 1];
  if (last.at - first.at < 0.3 * durationMs) return undefined;
  const cores = (last.seconds - first.seconds) / ((last.at - first.at) / 1000);
  return (cores * 1e6) / callsPerSec;
}

/** CPU time a process has used (all its threads, user + system), in seconds (0 once it is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    // The fields after the command name (which may hold spaces): utime and stime are the 12th
    // and 13th, in clock ticks of 1/100 s on Linux.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in bytes (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Run every cell `repeat` times, interleaved: A B C … A B C …, so that a busy moment of the
 * machine hits every cell alike. Returns each cell's runs summarised, by key.
 */
export async function interleaved<K extends string>(bench: Bench, cells: { key: K; run(): Promise<Run> }[], repeat = bench.options.repeat): Promise<Map<K, Cell>> {
  const runs = new Map<K, Run[]>(cells.map((c) => [c.key, []]));
  for (let i = 0; i < repeat; i++) {
    for (const c of cells) {
      bench.note(`${c.key} (${i + 1}/${repeat})`);
      runs.get(c.key)!.push(await c.run());
    }
  }
  return new Map(cells.map((c) => [c.key, summarise(runs.get(c.key)!)]));
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const ms = (us: number): string => (us / 1000).toFixed(2);
export const kilo = (n: number): string => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)));
/** `12,345 (11.9k–13.0k)`: the median and the spread of a cell's runs. */
export const spread = (c: Cell): string =>
  `${fmt(c.median)}${c.runs.length > 1 ? ` (${kilo(c.min)}–${kilo(c.max)})` : ''}${c.errors ? ` ⚠ ${c.errors} errors` : ''}`;
export const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '—' : (a / b).toFixed(2));
export const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0);

/** A part of the report: `pnpm bench` runs the sections listed in run.ts, in order. */
export interface Section {
  name: string;
  /** Also run by `--quick` (the smoke test). Default true. */
  quick?: boolean;
  run(bench: Bench): Promise<void>;
}
