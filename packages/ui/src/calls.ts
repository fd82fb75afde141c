import { performance } from 'node:perf_hooks';
import { formatJson, jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { ServiceError, parseServerKey, type Metadata, type ServiceDiscovery, type Transport } from '@rpcx/core';
import { XClient, peer2peer } from '@rpcx/xclient';
import type { Estate } from './estate.js';

/** The payload codecs the call page offers, by name, with their serialize types. */
export const CODECS = { msgpack: 3, json: 1, raw: 0 } as const;
export type CodecName = keyof typeof CODECS;

/** A call from the page, already validated (see `validateCall`). */
export interface CallRequest {
  service: string;
  method: string;
  /** The arguments: parsed JSON for json/msgpack, the text itself (sent as bytes) for raw. */
  args: unknown;
  metadata: Metadata;
  codec: CodecName;
  /** A server key to call that server only; undefined = any, chosen by the client's selector. */
  server?: string;
  timeoutMs: number;
  /** Calls made one after another (a small load for the chart). */
  repeat: number;
}

export type CallResult =
  | {
      ok: true;
      /** The last reply, printed as JSON (raw: as text). */
      reply: string;
      responseMetadata: Metadata;
      /** The server that answered the last call (`__ServerAddress`), when it said. */
      server?: string;
      latencyMs: number;
      calls: number;
      failed: number;
      p50Ms: number;
      p99Ms: number;
      callsPerSecond: number;
      /** The first failure's text, when some of the repeated calls failed. */
      firstError?: string;
    }
  | { ok: false; error: string; code?: string; latencyMs: number };

/** Calls per second and p99 latency of the calls made from the console, per second. */
export interface CallStats {
  /** `[second (ms since epoch), calls, p99 ms]`, oldest first, the last minute. */
  seconds: [number, number, number][];
}

/** The transports that dial these networks; the command line gives its own. */
export type TransportsFor = (networks: string[]) => Promise<Transport[]>;

interface OpenClient {
  ready: Promise<{ client: XClient; discovery: ServiceDiscovery }>;
  /** The networks its transports dial. */
  networks: string[];
}

/**
 * Makes the page's calls through `XClient` (one per service, server and codec, kept open
 * while the console runs) and keeps per-second counts and latencies for the chart.
 */
export class Caller {
  readonly #clients = new Map<string, OpenClient>();
  readonly #seconds = new Map<number, number[]>();
  readonly #listeners = new Set<() => void>();
  #closed = false;

  constructor(
    private readonly estate: Estate,
    private readonly transportsFor: TransportsFor,
  ) {}

  onStats(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stats(): CallStats {
    const since = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const seconds: CallStats['seconds'] = [];
    for (const [second, latencies] of [...this.#seconds].sort(([a], [b]) => a - b)) {
      if (second < since) {
        this.#seconds.delete(second);
        continue;
      }
      seconds.push([second, latencies.length, round(percentile(latencies, 99))]);
    }
    return { seconds };
  }

  async call(req: CallRequest): Promise<CallResult> {
    const started = performance.now();
    let client: XClient;
    try {
      client = await this.#client(req);
    } catch (error) {
      return { ok: false, error: (error as Error).message, code: (error as { code?: string }).code, latencyMs: round(performance.now() - started) };
    }
    const latencies: number[] = [];
    let failed = 0;
    let firstError: unknown;
    let reply: unknown;
    let responseMetadata: Metadata = {};
    const begin = performance.now();
    for (let i = 0; i < req.repeat && !this.#closed; i++) {
      const meta: Metadata = {};
      const t0 = performance.now();
      try {
        reply = await client.call(req.method, req.args, { metadata: req.metadata, responseMetadata: meta, timeoutMs: req.timeoutMs });
        responseMetadata = meta;
        this.#record(performance.now() - t0, latencies);
      } catch (error) {
        this.#record(performance.now() - t0, undefined);
        failed++;
        firstError ??= error;
      }
    }
    this.#notify();
    if (latencies.length === 0) {
      const error = firstError as Error & { code?: string };
      const text = error instanceof ServiceError ? `${req.service}.${req.method} failed on the server: ${error.message}` : (error?.message ?? 'no call was made');
      return { ok: false, error: text, code: error?.code, latencyMs: round(performance.now() - begin) };
    }
    const seconds = (performance.now() - begin) / 1000;
    const server = responseMetadata.__ServerAddress;
    return {
      ok: true,
      reply: req.codec === 'raw' ? Buffer.from(reply as Uint8Array).toString('utf8') : formatJson(reply),
      responseMetadata,
      ...(server ? { server } : {}),
      latencyMs: round(latencies[latencies.length - 1]),
      calls: latencies.length + failed,
      failed,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      callsPerSecond: round((latencies.length + failed) / Math.max(seconds, 1e-3)),
      ...(firstError ? { firstError: (firstError as Error).message } : {}),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const open = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(
      open.map(async ({ ready }) => {
        const opened = await ready.catch(() => undefined);
        await opened?.client.close().catch(() => undefined);
        await opened?.discovery.close().catch(() => undefined);
      }),
    );
  }

  /** The client for this service, server and codec; a new one when a new network shows up. */
  async #client(req: CallRequest): Promise<XClient> {
    const target = req.server ?? this.estate.label;
    const servers = req.server ? [req.server] : this.estate.discovery ? this.estate.servers(req.service).map((e) => e.key) : [this.estate.label];
    const networks = [...new Set(servers.map((key) => parseServerKey(key).network))].sort();
    const id = `${req.service}\u0000${target}\u0000${req.codec}`;
    const open = this.#clients.get(id);
    if (open && networks.every((n) => open.networks.includes(n))) return (await open.ready).client;
    if (open) {
      this.#clients.delete(id);
      void open.ready.then(({ client, discovery }) => client.close().then(() => discovery.close())).catch(() => undefined);
    }
    // Kept as a promise, so calls that arrive together share one client.
    const ready = (async () => {
      const registry = this.estate.discovery;
      const discovery = req.server || !registry ? peer2peer(target) : registry.clone(req.service);
      const client = new XClient({
        servicePath: req.service,
        discovery,
        transports: await this.transportsFor(networks.length === 0 ? ['tcp'] : networks),
        codecs: [jsonCodec(), msgpackCodec()],
        serializeType: CODECS[req.codec],
        connectTimeoutMs: Math.min(req.timeoutMs, 5000),
      });
      return { client, discovery };
    })();
    this.#clients.set(id, { ready, networks });
    ready.catch(() => this.#clients.get(id)?.ready === ready && this.#clients.delete(id));
    return (await ready).client;
  }

  #record(ms: number, latencies: number[] | undefined): void {
    latencies?.push(ms);
    const second = Math.floor(Date.now() / 1000) * 1000;
    const bucket = this.#seconds.get(second) ?? [];
    bucket.push(ms);
    this.#seconds.set(second, bucket);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The nearest-rank percentile of `values` (0 for none). */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

