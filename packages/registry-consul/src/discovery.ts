import type { IncomingMessage } from 'node:http';
import { Backoff, RETRY_MAX_MS, RegistryDiscovery, RegistryKeyNotFoundError, servicesUnder, sleep, type RawEntry, type RegistryDiscoveryOptions, type VersionedEntry } from '@rpcx/registry-kit';
import {
  DEFAULT_TIMEOUT_MS,
  LOCK_FLAG_VALUE,
  RequestContext,
  SharedClient,
  calls,
  consulIndex,
  formatGoDuration,
  type ConsulConnectionOptions,
  type KvPair,
} from './client.js';

export interface ConsulDiscoveryOptions extends ConsulConnectionOptions, RegistryDiscoveryOptions {
  /** The register plugin's basePath (a leading `/` is optional, as in Go). Required. */
  basePath: string;
  /** The service to find. Required. */
  servicePath: string;
  /** How long one blocking query may wait for a change, in ms (libkv: 15 s). Default 15000. */
  waitTimeMs?: number;
}

interface Listing {
  index: number;
  entries: RawEntry[];
}

/**
 * Client-side discovery over Consul's KV store, reading the layout rpcx-consul writes: every
 * key under `<basePath>/<servicePath>/` is a server, the rest of the key its
 * `network@address`, the value its metadata. It follows changes with blocking queries on
 * `<basePath>/<servicePath>` (`?recurse&index=…&wait=15s`), as libkv's `WatchTree` does.
 *
 * A service with no key at all is an empty list, as in Go (rpcx-consul tolerates
 * `ErrKeyNotFound`). While Consul is unreachable the last list is kept, never emptied; the
 * blocking query is retried with back-off (250 ms doubling to 5 s) and starts afresh.
 */
export class ConsulDiscovery extends RegistryDiscovery {
  private readonly dir: string;
  private readonly prefix: string;
  /** `<basePath>/` as a Consul key: no leading `/`. */
  private readonly basePrefix: string;
  private readonly timeoutMs: number;
  private readonly waitTimeMs: number;
  /** X-Consul-Index of the list last published: an older answer never replaces a newer one. */
  private applied = 0;
  private request: RequestContext | undefined;

  constructor(
    private readonly options: ConsulDiscoveryOptions,
    private readonly shared: SharedClient = SharedClient.from(options),
  ) {
    // Go: `basePath + "/" + servicePath`, one leading and one trailing `/` trimmed.
    let dir = `${options.basePath}/${options.servicePath}`;
    if (dir.startsWith('/')) dir = dir.slice(1);
    if (dir.length > 1 && dir.endsWith('/')) dir = dir.slice(0, -1);
    super('consul', `${dir}/`, options);
    this.dir = dir;
    this.prefix = `${dir}/`;
    this.basePrefix = `${options.basePath.replace(/^\//, '').replace(/\/$/, '')}/`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.waitTimeMs = options.waitTimeMs ?? 15_000;
  }

  clone(servicePath: string): ConsulDiscovery {
    return new ConsulDiscovery({ ...this.options, servicePath }, this.shared.acquire());
  }

  protected onStart(): void {
    void this.follow();
  }

  protected onClose(): void {
    this.request?.cancel();
    this.shared.release();
  }

  protected async list(): Promise<RawEntry[] | undefined> {
    const listing = await this.fetch(0);
    if (listing.index < this.applied) return undefined; // the watch already saw something newer
    this.applied = listing.index;
    return listing.entries;
  }

  /** `GET /v1/kv/<basePath>/?recurse`, grouped by service. */
  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const pairs = (await calls(this.shared.client).kv.get({ key: this.basePrefix, recurse: true, buffer: true, timeout: this.timeoutMs })) as KvPair[] | undefined;
    return servicesUnder(this.basePrefix, (pairs ?? []).map((pair) => ({ key: pair.Key, value: pair.Value })));
  }

  /** The node `<basePath>/<service>/<serverKey>`, with its ModifyIndex. */
  protected override async readEntry(servicePath: string, serverKey: string): Promise<VersionedEntry> {
    const key = `${this.basePrefix}${servicePath}/${serverKey}`;
    const pair = (await calls(this.shared.client).kv.get({ key, buffer: true, timeout: this.timeoutMs })) as KvPair | undefined;
    if (!pair) throw new RegistryKeyNotFoundError(key);
    return { value: pair.Value, location: key, version: pair.ModifyIndex };
  }

  /**
   * `PUT ?cas=<ModifyIndex>`: written only if unchanged. A put that neither acquires nor
   * releases keeps the node's session (Consul changes `Session` only on acquire/release), so
   * the node is still deleted with it. Flags are rpcx-consul's, as on every key it writes.
   */
  protected override async writeEntry(servicePath: string, serverKey: string, value: string, version: VersionedEntry['version']): Promise<boolean> {
    const key = `${this.basePrefix}${servicePath}/${serverKey}`;
    const ok = await calls(this.shared.client).kv.set({ key, value, cas: String(version), flags: LOCK_FLAG_VALUE, timeout: this.timeoutMs });
    return ok === true;
  }

  /** The blocking-query loop (libkv `WatchTree`), for as long as the discovery is open. */
  private async follow(): Promise<void> {
    const backoff = new Backoff(250, RETRY_MAX_MS);
    let index = 0; // what the next query blocks on; 0 = answer at once
    let last = 0; // the index of the last answer, kept across errors
    while (!this.closed) {
      let listing: Listing;
      try {
        listing = await this.fetch(index);
      } catch (error) {
        if (this.closed) return;
        const delay = backoff.next();
        this.logger.warn(`consul: watch of ${this.prefix} failed, keeping the last list, retrying in ${delay} ms:`, error);
        await sleep(delay);
        index = 0; // start afresh: the first answer is the current list
        continue;
      }
      backoff.reset();
      if (listing.index === index) continue; // the wait ran out, nothing changed
      // An index that went backwards means a different (restored, wiped) store: trust it.
      if (listing.index >= this.applied || listing.index < last) {
        this.applied = listing.index;
        this.publish(listing.entries);
      }
      last = listing.index;
      // Consul's advice: never block on index 0, which would return at once, forever.
      index = Math.max(listing.index, 1);
    }
  }

  /** `GET /v1/kv/<dir>?recurse`, blocking when `index` > 0. */
  private async fetch(index: number): Promise<Listing> {
    const ctx = new RequestContext();
    const blocking = index > 0;
    if (blocking) this.request = ctx;
    try {
      const result = (await calls(this.shared.client).kv.get({
        key: this.dir,
        recurse: true,
        buffer: true,
        ctx,
        // Consul adds up to wait/16 of jitter to a blocking query.
        timeout: blocking ? this.waitTimeMs + this.waitTimeMs / 16 + this.timeoutMs : this.timeoutMs,
        ...(blocking ? { index: String(index), wait: formatGoDuration(this.waitTimeMs) } : {}),
      })) as [IncomingMessage, KvPair[] | undefined];
      const [res, pairs] = result;
      const entries: RawEntry[] = [];
      for (const pair of pairs ?? []) {
        // A recursive listing of `a/Arith` also returns `a/ArithX/…`: keep `a/Arith/…` only.
        if (!pair.Key.startsWith(this.prefix)) continue;
        const key = pair.Key.slice(this.prefix.length);
        if (key !== '') entries.push({ key, value: pair.Value, location: pair.Key });
      }
      return { index: consulIndex(res), entries };
    } finally {
      if (this.request === ctx) this.request = undefined;
    }
  }
}

/** A Consul discovery for an xclient. Connects on first use. */
export function consulDiscovery(options: ConsulDiscoveryOptions): ConsulDiscovery {
  return new ConsulDiscovery(options);
}
