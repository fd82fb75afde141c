// node:net on Node; in a bundle built with the `browser` condition, a stand-in whose probe fails.
import { connect, isIP, type NetConnectOpts } from '#net';
import {
  ConfigError,
  DialError,
  DialTimeoutError,
  parseServerKey,
  splitHostPort,
  type SelectRequest,
  type Selector,
  type Startable,
} from '@rpcx/core';
import { SmoothWeighted } from './weighted.js';

/**
 * Go's `CalculateWeight`: round-trip time in milliseconds (truncated to an integer, as Go's
 * `int(AvgRtt) / 1e6`) to a weight. 0–10 ms → 191; 10 < rtt ≤ 200 → 201 − rtt;
 * 200 < rtt < 1000 → 1; 1000 or more, negative or NaN → 0 (never selected).
 */
export function rttToWeight(rttMs: number): number {
  const t = Math.trunc(rttMs);
  if (t >= 0 && t <= 10) return 191;
  if (t > 10 && t <= 200) return 201 - t;
  if (t > 200 && t < 1000) return 1;
  return 0;
}

/** What a probe measures: one server. */
export interface ProbeTarget {
  /** The server key, `network@address`. */
  key: string;
  network: string;
  address: string;
}

/**
 * Measures one round trip to a server in milliseconds. Reject (or return a negative or
 * non-finite number) when the server cannot be reached; resolve `undefined` when this probe
 * cannot measure that kind of server at all. `signal` aborts when the probe times out.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<number | undefined>;

const TCP_NETWORKS = new Set(['tcp', 'tcp4', 'tcp6', 'http', 'ws', 'wss']);

/**
 * The default probe: the time a TCP handshake with the server's own listener takes (for
 * `unix@` servers, a socket connect). The server sees a connection open and close at once.
 * DNS lookup time is excluded. Networks without a TCP listener (kcp, quic, …) resolve
 * `undefined`: they are not measurable this way. A failed connect rejects with `DialError` (the
 * socket error as `cause`); an aborted one with the signal's reason.
 *
 * Why not ICMP like Go: raw ICMP sockets need root or a native addon in Node, and a TCP
 * handshake costs one round trip, so it measures the same thing through the port in use.
 */
export const tcpConnectProbe: Probe = (target, signal) => {
  let options: NetConnectOpts;
  if (target.network === 'unix') {
    options = { path: target.address };
  } else if (TCP_NETWORKS.has(target.network)) {
    let hostPort: { host: string; port: number };
    try {
      hostPort = splitHostPort(target.address);
    } catch {
      return Promise.resolve(undefined);
    }
    const family = target.network === 'tcp4' ? 4 : target.network === 'tcp6' ? 6 : 0;
    options = { host: hostPort.host, port: hostPort.port, family };
  } else {
    return Promise.resolve(undefined);
  }
  return new Promise<number>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let start = performance.now();
    const socket = connect(options);
    socket.setNoDelay(true);
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
    };
    const onAbort = (): void => {
      done();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Start the clock after name resolution: only the handshake is a network round trip.
    if (!('path' in options) && isIP(options.host ?? '') === 0) socket.once('lookup', () => (start = performance.now()));
    socket.once('connect', () => {
      const rtt = performance.now() - start;
      done();
      resolve(rtt);
    });
    socket.once('error', (err) => {
      done();
      reject(new DialError(`probe ${target.network} ${target.address}: ${err.message}`, { cause: err }));
    });
  });
};

export interface NetworkQualityOptions {
  /** How a round trip is measured. Default {@link tcpConnectProbe}. */
  probe?: Probe;
  /** Probes per server per measurement; their successful results are averaged. Default 3 (Go's ping count). */
  probes?: number;
  /** Time limit of each probe in ms; a probe over it counts as lost. Default 1000. */
  timeoutMs?: number;
  /** Re-measure every server this often, in ms. Default 0: only new servers are measured. */
  reprobeIntervalMs?: number;
  /** Weight of a server the probe cannot measure (it resolved `undefined`). Default 1. */
  unmeasuredWeight?: number;
}

/** The network-quality selector, with controls for its background measurements. */
export interface NetworkQualitySelector extends Selector, Startable {
  /** Measure every current server now; resolves once the new weights are in use. */
  refresh(): Promise<void>;
  /** Resolves when every measurement started so far has finished and been applied. */
  idle(): Promise<void>;
  /** The weight each current server has now. */
  weights(): Map<string, number>;
  /** Resumes measuring after `stop()`. Not needed otherwise: measuring starts with the first update. */
  start(): void;
  /**
   * Stops measuring: no periodic re-measuring, no probes for servers added later (they keep
   * weight 1), and results of measurements still running are dropped.
   */
  stop(): void;
}

/** Go's unreachable-server round trip: ping failures count as 1000 ms. */
const FAILED_RTT_MS = 1000;

/**
 * Go's `WeightedICMP` (SelectMode 3): smooth weighted round robin whose weights come from the
 * round-trip time to each server (see {@link rttToWeight}).
 *
 * Unlike Go, measuring never blocks: Go pings every server synchronously inside
 * `UpdateServer`; here new servers start with weight 1 (all equal at first) and are
 * re-weighted when their probes finish. Known servers keep their weights across updates.
 */
export function networkQualitySelector(options: NetworkQualityOptions = {}): NetworkQualitySelector {
  const probe = options.probe ?? tcpConnectProbe;
  const probes = options.probes ?? 3;
  const timeoutMs = options.timeoutMs ?? 1000;
  const intervalMs = options.reprobeIntervalMs ?? 0;
  const unmeasuredWeight = options.unmeasuredWeight ?? 1;
  if (!Number.isInteger(probes) || probes < 1) throw new ConfigError('networkQualitySelector: probes must be an integer ≥ 1');
  if (!(timeoutMs > 0)) throw new ConfigError('networkQualitySelector: timeoutMs must be > 0');
  if (!(intervalMs >= 0)) throw new ConfigError('networkQualitySelector: reprobeIntervalMs must be ≥ 0');

  const engine = new SmoothWeighted();
  let keys: string[] = [];
  const measured = new Map<string, number>(); // key → weight from its last measurement
  const pending = new Set<Promise<void>>();
  const inFlight = new Map<string, number>(); // key → measurements of it running
  let stopped = false;
  let epoch = 0; // bumped by stop(): measurements from before are dropped
  let timer: ReturnType<typeof setInterval> | undefined;

  const currentWeights = (): number[] => keys.map((k) => measured.get(k) ?? 1);
  const rebuild = (): void => engine.reset(keys, currentWeights());

  async function probeOnce(target: ProbeTarget): Promise<number | undefined> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new DialTimeoutError('probe timeout')), timeoutMs);
    t.unref();
    try {
      // Race the signal too, so a probe that ignores it still counts as lost after timeoutMs.
      return await new Promise<number | undefined>((resolve, reject) => {
        ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
        probe(target, ac.signal).then(resolve, reject);
      });
    } finally {
      clearTimeout(t);
      ac.abort();
    }
  }

  async function measure(key: string): Promise<number> {
    let target: ProbeTarget;
    try {
      target = { key, ...parseServerKey(key) };
    } catch {
      return unmeasuredWeight;
    }
    let sum = 0;
    let count = 0;
    // Sequential like ping's packets: concurrent probes to one host would queue behind each other.
    for (let i = 0; i < probes; i++) {
      try {
        const rtt = await probeOnce(target);
        if (rtt === undefined) return unmeasuredWeight;
        if (Number.isFinite(rtt) && rtt >= 0) {
          sum += rtt;
          count++;
        }
      } catch {
        // A lost probe: left out of the average, as ping leaves out lost packets.
      }
    }
    return rttToWeight(count > 0 ? sum / count : FAILED_RTT_MS);
  }

  function measureAll(targets: readonly string[]): Promise<void> {
    if (targets.length === 0) return Promise.resolve();
    const started = epoch;
    for (const k of targets) inFlight.set(k, (inFlight.get(k) ?? 0) + 1);
    const run = Promise.all(targets.map(async (k) => [k, await measure(k)] as const)).then((results) => {
      for (const k of targets) {
        const left = (inFlight.get(k) ?? 1) - 1;
        if (left > 0) inFlight.set(k, left);
        else inFlight.delete(k);
      }
      if (started !== epoch) return;
      const present = new Set(keys);
      let changed = false;
      for (const [k, w] of results) {
        if (!present.has(k)) continue;
        if (measured.get(k) !== w) changed = true;
        measured.set(k, w);
      }
      // One rebuild per batch; unchanged weights keep the sequence position.
      if (changed) rebuild();
    });
    pending.add(run);
    void run.finally(() => pending.delete(run));
    return run;
  }

  function startTimer(): void {
    if (timer !== undefined || stopped || intervalMs === 0) return;
    timer = setInterval(() => void measureAll(keys), intervalMs);
    // Background work must not keep the process alive.
    timer.unref();
  }

  return {
    select(_request: SelectRequest): string | undefined {
      return engine.next();
    },
    updateServers(servers: ReadonlyMap<string, string>): void {
      keys = [...servers.keys()];
      const present = new Set(keys);
      for (const k of measured.keys()) if (!present.has(k)) measured.delete(k);
      rebuild();
      if (stopped) return;
      void measureAll(keys.filter((k) => !measured.has(k) && !inFlight.has(k)));
      startTimer();
    },
    refresh(): Promise<void> {
      return measureAll(keys);
    },
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    weights(): Map<string, number> {
      const w = currentWeights();
      return new Map(keys.map((k, i) => [k, w[i]]));
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      void measureAll(keys.filter((k) => !measured.has(k) && !inFlight.has(k)));
      startTimer();
    },
    stop(): void {
      stopped = true;
      epoch++;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
