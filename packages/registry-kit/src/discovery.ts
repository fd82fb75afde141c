import {
  ConfigError,
  RegistryError,
  UnsupportedError,
  encodeQuery,
  parseQuery,
  silentLogger,
  type Logger,
  type RegisteredService,
  type ServiceDiscovery,
  type ServiceEntry,
} from '@rpcx/core';
import { DEFAULT_NETWORKS, decodeUtf8, keyProblem, metadataProblem, sameEntries, sortEntries } from './entries.js';
import { RegistryKeyNotFoundError } from './errors.js';
import { Backoff } from './util.js';

/**
 * The longest wait before listing again after a failure. Short, because a discovery must
 * notice a registry that came back quickly; one listing a second costs a registry nothing.
 */
export const RETRY_MAX_MS = 1000;

/** What every registry discovery accepts, whatever its backend. */
export interface RegistryDiscoveryOptions {
  /** Networks a server key may use; others are skipped with a warning. Default: `DEFAULT_NETWORKS`. */
  networks?: readonly string[];
  /** Where warnings about skipped entries and lost connections go. Default: silent. */
  logger?: Logger;
}

/** One server as the registry stores it, before it is checked. */
export interface RawEntry {
  /** The server key, `network@address`. */
  key: string;
  /** The stored metadata: bytes (must be UTF-8) or text. */
  value: Uint8Array | string | null | undefined;
  /** Where it is stored (full key, znode path…), for warnings; should contain `key`. Default: `key`. */
  location?: string;
}

/**
 * One server's node as read for an update: its value and the backend's version of it (etcd
 * mod revision, ZooKeeper data version, Consul ModifyIndex), so the write can be refused
 * when the node changed in between.
 */
export interface VersionedEntry {
  value: Uint8Array | string | null | undefined;
  /** Where it is stored, for error messages. */
  location: string;
  version: number | bigint | string;
}

/** Attempts of `updateMetadata` when the node keeps changing under it (a refresh racing it). */
const UPDATE_ATTEMPTS = 5;

/**
 * The part of a registry discovery that does not depend on the backend: the current list,
 * watcher fan-out, checking and sorting entries, and keeping the last list while the registry
 * cannot be reached.
 *
 * A subclass says how to list the service once (`list`) and every service once
 * (`listServices`, for `listAll`), starts whatever tells it about changes in `onStart` (a
 * watch, a blocking query, a timer) and calls `refresh()` — or `publish()` when the change
 * itself carries the new list. Lists are only ever replaced by a successful listing: a failed
 * one keeps the last list, is logged, and is retried with back-off (250 ms doubling to 1 s,
 * so a registry that comes back is listed again within about a second).
 */
export abstract class RegistryDiscovery implements ServiceDiscovery {
  protected readonly logger: Logger;
  protected readonly networks: ReadonlySet<string>;

  readonly #listeners = new Set<(entries: ServiceEntry[]) => void>();
  #entries: ServiceEntry[] | undefined;
  #started = false;
  #closed = false;
  #refreshing: Promise<void> | undefined;
  #again = false;
  readonly #backoff = new Backoff(250, RETRY_MAX_MS);
  #retryTimer: NodeJS.Timeout | undefined;
  /** Bad entries already warned about, so each is reported once, not on every change. */
  #warned = new Set<string>();

  /**
   * @param label  prefix of log lines, e.g. `etcd`
   * @param location  what is listed, for log lines, e.g. the key prefix
   */
  protected constructor(
    protected readonly label: string,
    protected readonly location: string,
    options: RegistryDiscoveryOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.networks = new Set(options.networks ?? DEFAULT_NETWORKS);
  }

  /** The current servers. The first call waits for the first listing (and rejects if it fails). */
  async getServices(): Promise<ServiceEntry[]> {
    this.#start();
    if (!this.#entries && !this.#closed) await this.refresh();
    return this.#entries ? this.#entries.slice() : [];
  }

  /** Called with the whole sorted list on every change; identical lists are not repeated. */
  watch(listener: (entries: ServiceEntry[]) => void): () => void {
    this.#start();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  abstract clone(servicePath: string): ServiceDiscovery;

  /**
   * Every service where this discovery looks (its base path), each with its servers, sorted
   * by name; entries are checked as `getServices` checks them (a bad one is skipped with a
   * warning). Reads the registry once, whether or not the discovery is started.
   */
  async listAll(): Promise<RegisteredService[]> {
    if (this.#closed) throw new RegistryError(`${this.label}: discovery is closed`);
    const services = await this.listServices();
    return [...services]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([servicePath, raw]) => ({ servicePath, servers: this.#check(raw, new Set(), new Set()) }));
  }

  /**
   * Set (or, with `null`, delete) keys of one server's metadata, keeping the rest, and resolve
   * with the value written (`url.Values.Encode`: keys sorted, as Go's refresh writes it). The
   * node is read, changed and written back only if it did not change in between (retried
   * when it did), and only if it exists: a missing one rejects with
   * `RegistryKeyNotFoundError` and nothing is created. The write keeps the node's lease or
   * session, so it still vanishes with its server. Backends that cannot do this reject with
   * `UnsupportedError`.
   */
  async updateMetadata(servicePath: string, serverKey: string, changes: Readonly<Record<string, string | null>>): Promise<string> {
    if (this.#closed) throw new RegistryError(`${this.label}: discovery is closed`);
    if (servicePath === '' || servicePath.includes('/')) throw new ConfigError(`${this.label}: invalid service name ${JSON.stringify(servicePath)}`);
    const keyIssue = keyProblem(serverKey, this.networks);
    if (keyIssue) throw new ConfigError(`${this.label}: invalid server key ${JSON.stringify(serverKey)}: ${keyIssue}`);
    const names = Object.keys(changes);
    if (names.length === 0 || names.some((name) => name === '')) throw new ConfigError(`${this.label}: updateMetadata needs at least one non-empty key`);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.readEntry(servicePath, serverKey);
      const current = typeof entry.value === 'string' ? entry.value : decodeUtf8(entry.value);
      if (current === undefined) throw new RegistryError(`${this.label}: ${entry.location}: metadata is not UTF-8`);
      const values = parseQuery(current);
      for (const name of names) {
        const value = changes[name];
        if (value === null) values.delete(name);
        else values.set(name, [value]);
      }
      const next = encodeQuery(values);
      if (await this.writeEntry(servicePath, serverKey, next, entry.version)) return next;
      if (attempt === UPDATE_ATTEMPTS) throw new RegistryError(`${this.label}: ${entry.location} kept changing; not updated after ${attempt} attempts`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    await this.onClose();
  }

  /** True once `close()` was called. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /** The last list published, or undefined before the first successful listing. */
  protected get known(): readonly ServiceEntry[] | undefined {
    return this.#entries;
  }

  /** True while a listing runs (a poller can skip a tick rather than queue another pass). */
  protected get listing(): boolean {
    return this.#refreshing !== undefined;
  }

  /** Start following changes. Called once, on the first `getServices()` or `watch()`. */
  protected abstract onStart(): void;

  /** Stop following changes and release connections. Called once, by `close()`. */
  protected abstract onClose(): Promise<void> | void;

  /**
   * List the service once. Resolve `undefined` to leave the list as it is (e.g. a response
   * older than one already published). Throw to keep the last list and retry.
   */
  protected abstract list(): Promise<RawEntry[] | undefined>;

  /** Read every service where this discovery looks once: service name → its raw entries. */
  protected abstract listServices(): Promise<Map<string, RawEntry[]>>;

  /**
   * One server's node of `servicePath` (any service under the base path, not only this
   * discovery's); reject with `RegistryKeyNotFoundError` when it does not exist. For
   * `updateMetadata`; the default rejects with `UnsupportedError`.
   */
  protected readEntry(_servicePath: string, _serverKey: string): Promise<VersionedEntry> {
    return Promise.reject(new UnsupportedError(`${this.label}: this registry cannot update a server's metadata`));
  }

  /**
   * Write `value` into the node read with `version`, keeping its lease or session. Resolve
   * false, writing nothing, when the node changed or vanished since. For `updateMetadata`.
   */
  protected writeEntry(_servicePath: string, _serverKey: string, _value: string, _version: VersionedEntry['version']): Promise<boolean> {
    return Promise.reject(new UnsupportedError(`${this.label}: this registry cannot update a server's metadata`));
  }

  /** Errors that are final answers rather than outages: not retried. Default: key not found. */
  protected isFinal(error: unknown): boolean {
    return error instanceof RegistryKeyNotFoundError;
  }

  /** Ask the listing in progress to list once more when it is done (a change raced it). */
  protected listAgain(): void {
    this.#again = true;
  }

  /**
   * List now. Concurrent calls share one listing, and one more runs after it, so a change
   * seen during a listing is never lost.
   */
  protected refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    const run = (async () => {
      try {
        do {
          this.#again = false;
          const raw = await this.list();
          if (raw && !this.#closed) this.publish(raw);
        } while (this.#again && !this.#closed);
        this.#backoff.reset();
      } catch (error) {
        if (!this.isFinal(error)) this.#scheduleRetry(error);
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    this.#refreshing = run;
    return run;
  }

  /**
   * Make `raw` the current list: entries that no client could use are skipped (each warned
   * about once), the rest sorted by key; watchers hear of it if it differs from the last.
   */
  protected publish(raw: readonly RawEntry[]): void {
    if (this.#closed) return;
    const seen = new Set<string>();
    const next = this.#check(raw, this.#warned, seen);
    this.#warned = seen;
    if (sameEntries(this.#entries, next)) return;
    this.#entries = next;
    for (const listener of this.#listeners) {
      try {
        listener(next.slice());
      } catch (error) {
        this.logger.error(`${this.label}: discovery listener threw:`, error);
      }
    }
  }

  /**
   * The usable entries of `raw`, sorted. A bad one is skipped with a warning unless `warned`
   * has it already; every bad one is added to `seen`.
   */
  #check(raw: readonly RawEntry[], warned: ReadonlySet<string>, seen: Set<string>): ServiceEntry[] {
    const entries: ServiceEntry[] = [];
    for (const entry of raw) {
      const value = typeof entry.value === 'string' ? entry.value : decodeUtf8(entry.value);
      const problem = value === undefined ? 'metadata is not UTF-8' : (keyProblem(entry.key, this.networks) ?? metadataProblem(value));
      if (problem) {
        const id = `${entry.key}\u0000${value ?? ''}`;
        seen.add(id);
        if (!warned.has(id)) this.logger.warn(`${this.label}: skipping ${entry.location ?? entry.key}: ${problem}`);
        continue;
      }
      entries.push({ key: entry.key, value: value as string });
    }
    return sortEntries(entries);
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.onStart();
  }

  /** The registry could not be listed: keep the last list and try again later. */
  #scheduleRetry(error: unknown): void {
    if (this.#closed || this.#retryTimer) return;
    const delay = this.#backoff.next();
    this.logger.warn(`${this.label}: cannot list ${this.location}, keeping the last list, retrying in ${delay} ms:`, error);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.refresh().catch(() => undefined);
    }, delay);
    this.#retryTimer.unref();
  }
}
