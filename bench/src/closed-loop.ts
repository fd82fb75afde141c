// What every closed-loop benchmark client shares (ts-client, raw-echo, grpc-bench): the load
// options, the record of the measured window, and the JSON line it prints, which the harness
// reads as a `Run`.

/** The options every client takes; a client spreads them into its own `parseArgs` options. */
export const CLIENT_OPTIONS = {
  addr: { type: 'string', multiple: true },
  clients: { type: 'string', default: '1' },
  inflight: { type: 'string', default: '1' },
  'duration-ms': { type: 'string', default: '3000' },
  'warmup-ms': { type: 'string', default: '1000' },
} as const;

/** The load the {@link CLIENT_OPTIONS} describe. */
export function loadOf(values: { addr?: string[]; clients: string; inflight: string; 'duration-ms': string; 'warmup-ms': string }) {
  return {
    addrs: values.addr ?? [],
    clients: Number(values.clients),
    inflight: Number(values.inflight),
    durationMs: Number(values['duration-ms']),
    warmupMs: Number(values['warmup-ms']),
  };
}

/** Calls and latencies of the measured window, which follows a warm-up. */
export class Measurement {
  /** Inside the measured window: calls that end now are counted. */
  measuring = false;
  /** The window is over: loops stop sending. */
  stopping = false;
  private calls = 0;
  private errors = 0;
  private latencies = new Float64Array(1 << 20);
  private seconds = 0;
  private cpuMicros = 0;

  /** A call that took `us` µs ended (`ok` = with the expected answer). */
  record(us: number, ok = true): void {
    if (!this.measuring) return;
    if (!ok) this.errors++;
    if (this.calls === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.calls++] = us;
  }

  /** A call failed. */
  failed(): void {
    if (this.measuring) this.errors++;
  }

  /** Waits out the warm-up and the measured window, then tells the loops to stop. */
  async window(warmupMs: number, durationMs: number): Promise<void> {
    await new Promise((r) => setTimeout(r, warmupMs));
    this.measuring = true;
    const start = performance.now();
    const cpuAtStart = process.cpuUsage();
    await new Promise((r) => setTimeout(r, durationMs));
    this.measuring = false;
    this.seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    this.cpuMicros = cpu.user + cpu.system;
    this.stopping = true;
  }

  /** Prints the run's JSON line. CPU time per call is steadier than calls/s on a busy machine. */
  report(): void {
    const { calls, errors, seconds } = this;
    const sorted = this.latencies.subarray(0, calls).sort();
    const pct = (p: number) => (calls === 0 ? 0 : sorted[Math.min(calls - 1, Math.floor((calls * p) / 100))]);
    const run = { calls, errors, seconds, callsPerSec: calls / seconds, p50us: pct(50), p99us: pct(99), cpuUsPerCall: this.cpuMicros / calls };
    process.stdout.write(JSON.stringify(run) + '\n');
  }
}

/**
 * One of a client's `inflight` loops: the next call as soon as the last one ended. `call`
 * returns the client's own promise (no wrapper: a promise more per call is measurable here);
 * `answered` says whether a reply is the expected one.
 */
export async function callLoop<T>(m: Measurement, call: () => Promise<T>, answered: (reply: T) => boolean): Promise<void> {
  while (!m.stopping) {
    const t0 = performance.now();
    try {
      const reply = await call();
      m.record((performance.now() - t0) * 1000, answered(reply));
    } catch {
      m.failed();
    }
  }
}
