import { RegistryError, TimeoutError, UnsupportedError, parseQuery, type ServiceDiscovery, type ServiceEntry } from '@rpcx/core';

/** One service and its servers, as the registry lists them. */
export interface ServiceView {
  name: string;
  servers: ServiceEntry[];
}

/** What the page shows: sent whole on every change (an estate is small). */
export interface EstateSnapshot {
  /** A registry URL or a server key, as given to `rpcx ui`. */
  label: string;
  kind: 'registry' | 'server';
  /** Whether servers' metadata can be changed (the registry has `updateMetadata`). */
  writable: boolean;
  /** Sorted by name; each one's servers sorted by key. Empty for a direct address. */
  services: ServiceView[];
  /** Every server key, sorted: the registry's, or the one address. */
  servers: string[];
  /** The last registry error, cleared by the next successful read. */
  error?: string;
  /**
   * Per server, the `calls` rate its register plugin last wrote (go-metrics `RateMean`: calls
   * per second since the server started), sampled as it changes: `[time ms, calls/s]`.
   */
  reportedCalls: Record<string, [number, number][]>;
}

/** How many samples of a server's reported rate are kept for the chart. */
const SAMPLES = 120;

/**
 * The live view of a registry: every service (`listAll`) with its servers. Each service is
 * watched through a clone of the registry's discovery, so servers joining and leaving show at
 * once; the whole registry is listed again every `pollMs` to find services that appeared or
 * vanished (no registry has a watch over every service).
 */
export class Estate {
  readonly #listeners = new Set<() => void>();
  readonly #watched = new Map<string, { discovery: ServiceDiscovery; stop: () => void }>();
  #services = new Map<string, ServiceEntry[]>();
  #error: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** A listing in progress: a slow registry never gets two at once. */
  #polling = false;
  readonly #reported = new Map<string, [number, number][]>();

  private constructor(
    readonly label: string,
    private readonly registry: ServiceDiscovery | undefined,
    private readonly server: string | undefined,
  ) {}

  /** A registry's estate; resolves once it was listed (rejects if it cannot be, within `timeoutMs`). */
  static async ofRegistry(label: string, registry: ServiceDiscovery, pollMs: number, timeoutMs: number): Promise<Estate> {
    if (!registry.listAll) throw new UnsupportedError(`${label}: this registry cannot list its services`);
    const estate = new Estate(label, registry, undefined);
    await estate.#poll(timeoutMs, true);
    estate.#timer = setInterval(() => void estate.#poll(timeoutMs, false), pollMs);
    estate.#timer.unref();
    return estate;
  }

  /** One server called directly: no registry, no service list. */
  static ofServer(key: string): Estate {
    return new Estate(key, undefined, key);
  }

  get writable(): boolean {
    return typeof this.registry?.updateMetadata === 'function';
  }

  /** The discovery of the registry, for clients and metadata updates; none for an address. */
  get discovery(): ServiceDiscovery | undefined {
    return this.registry;
  }

  servers(service: string): ServiceEntry[] {
    return this.#services.get(service) ?? [];
  }

  /** Called after every change of the snapshot. Returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): EstateSnapshot {
    const services = [...this.#services].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, servers]) => ({ name, servers }));
    const servers = this.server ? [this.server] : [...new Set(services.flatMap((s) => s.servers.map((e) => e.key)))].sort();
    return {
      label: this.label,
      kind: this.registry ? 'registry' : 'server',
      writable: this.writable,
      services,
      servers,
      ...(this.#error ? { error: this.#error } : {}),
      reportedCalls: Object.fromEntries([...this.#reported].filter(([key]) => servers.includes(key))),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#listeners.clear();
    const watched = [...this.#watched.values()];
    this.#watched.clear();
    await Promise.all(
      watched.map(async ({ discovery, stop }) => {
        stop();
        await discovery.close().catch(() => undefined);
      }),
    );
  }

  /** List every service; watch new ones, drop vanished ones. */
  async #poll(timeoutMs: number, first: boolean): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      await this.#list(timeoutMs, first);
    } finally {
      this.#polling = false;
    }
  }

  async #list(timeoutMs: number, first: boolean): Promise<void> {
    let listed;
    try {
      listed = await withTimeout(this.registry!.listAll!(), timeoutMs, `no answer within ${timeoutMs} ms`);
    } catch (error) {
      const text = `cannot read ${this.label}: ${(error as Error).message}`;
      if (first) throw new RegistryError(text, { cause: error });
      this.#error = text;
      this.#changed();
      return;
    }
    if (this.#closed) return;
    this.#error = undefined;
    const names = new Set(listed.map((s) => s.servicePath));
    for (const [name, watched] of this.#watched) {
      if (names.has(name)) continue;
      this.#watched.delete(name);
      watched.stop();
      void watched.discovery.close().catch(() => undefined);
    }
    this.#services = new Map(listed.map((s) => [s.servicePath, s.servers]));
    for (const name of names) if (!this.#watched.has(name)) this.#watch(name);
    this.#changed();
  }

  #watch(name: string): void {
    const discovery = this.registry!.clone(name);
    const stop = discovery.watch((servers) => {
      if (this.#closed || !this.#watched.has(name)) return;
      this.#services.set(name, servers);
      this.#changed();
    });
    this.#watched.set(name, { discovery, stop });
  }

  #changed(): void {
    this.#sampleRates();
    for (const listener of this.#listeners) listener();
  }

  /** Record each server's reported `calls` rate when it changed (a refresh wrote it). */
  #sampleRates(): void {
    const now = Date.now();
    for (const servers of this.#services.values()) {
      for (const { key, value } of servers) {
        const calls = Number(parseQuery(value).get('calls')?.[0]);
        if (!Number.isFinite(calls)) continue;
        const samples = this.#reported.get(key) ?? [];
        this.#reported.set(key, samples);
        const last = samples[samples.length - 1];
        // Every service of a server carries the same rate: one sample per refresh.
        if (last && (last[1] === calls || now - last[0] < 200)) continue;
        samples.push([now, calls]);
        if (samples.length > SAMPLES) samples.shift();
      }
    }
  }
}

/** Reject with `message` after `ms`, unless `work` settles first. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
