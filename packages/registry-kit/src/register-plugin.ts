import {
  ConfigError,
  parseServerKey,
  silentLogger,
  type Connection,
  type Logger,
  type RequestContext,
  type ServerPlugin,
  type Startable,
} from '@rpcx/core';
import { RateMeter, withRates } from './metrics.js';
import { sleep } from './util.js';

/** What every registry register plugin accepts, whatever its backend. */
export interface RegistryRegisterPluginOptions {
  /** This server's key, `network@host:port`, e.g. `tcp@10.0.0.1:8972`. Required. */
  serviceAddress: string;
  /**
   * Every this many ms each node is re-read, given `calls`/`connections` rates and written
   * back, and re-created if it vanished. `0` turns the refresh off. Default: the backend's.
   */
  updateIntervalMs?: number;
  /** Add `calls` and `connections` rates on refresh (Go: when `Metrics` is set). Default true. */
  metrics?: boolean;
  /** Where warnings go. Default: silent. */
  logger?: Logger;
}

/**
 * The part of a registry register plugin that does not depend on the backend: the registered
 * services and their metadata, one-at-a-time registry writes, the `UpdateInterval` refresh
 * with Go's `calls`/`connections` rates, re-registering everything after the registry lost
 * it, and the server hooks (`register`, `unregister`, `registerFunction`, `connAccept`,
 * `preCall`, `start`, `stop`).
 *
 * A subclass connects in `open`, writes one service's keys in `publish`, deletes one in
 * `remove`, reads and writes a node for the refresh (`readNode`, `writeNode`) and disconnects
 * in `close`. All of them run inside `serial`, so they never race each other.
 */
export abstract class RegistryRegisterPlugin implements ServerPlugin, Startable {
  abstract readonly name: string;

  protected readonly serviceAddress: string;
  protected readonly updateIntervalMs: number;
  protected readonly metrics: boolean;
  protected readonly logger: Logger;
  /** Registered services: name → metadata as given to `register`. */
  protected readonly services = new Map<string, string>();
  protected readonly calls = new RateMeter();
  protected readonly connections = new RateMeter();

  #starting: Promise<void> | undefined;
  #opened = false;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #recovering = false;
  /** Bumped by stop(); background work from an older epoch quits. */
  #epoch = 0;
  /** Registry writes run one at a time so a refresh never races a register or unregister. */
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param label  prefix of log lines and errors, e.g. `etcd`
   * @param defaultUpdateIntervalMs  the refresh period when the options give none
   */
  protected constructor(
    protected readonly label: string,
    options: RegistryRegisterPluginOptions,
    defaultUpdateIntervalMs: number,
  ) {
    if (!options.serviceAddress) throw new ConfigError(`${label} register plugin: serviceAddress is required`);
    parseServerKey(options.serviceAddress);
    this.serviceAddress = options.serviceAddress;
    this.updateIntervalMs = options.updateIntervalMs ?? defaultUpdateIntervalMs;
    if (!(this.updateIntervalMs >= 0)) throw new ConfigError(`${label} register plugin: updateIntervalMs must be >= 0`);
    this.metrics = options.metrics ?? true;
    this.logger = options.logger ?? silentLogger;
  }

  /** Connect and write what Go's `Start` writes. Called by the server, or by the first `register`. */
  start(): Promise<void> {
    this.#starting ??= this.#doStart().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  /** Remove this server's nodes and disconnect (Go `Stop`). */
  async stop(): Promise<void> {
    this.#epoch++;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#opened) return;
    await this.#starting?.catch(() => undefined);
    try {
      await this.serial(async () => {
        await this.withdraw([...this.services.keys()]);
        this.services.clear();
      });
      await this.close();
    } finally {
      this.#opened = false;
      this.#starting = undefined;
    }
  }

  async register(serviceName: string, _service: unknown, metadata: string): Promise<void> {
    if (serviceName.trim() === '') throw new ConfigError("Register service `name` can't be empty");
    this.checkServiceName(serviceName);
    await this.start();
    const epoch = this.#epoch;
    await this.serial(async () => {
      const previous = this.services.get(serviceName);
      this.services.set(serviceName, metadata);
      try {
        await this.publish(serviceName, metadata, epoch);
      } catch (error) {
        if (previous === undefined) this.services.delete(serviceName);
        else this.services.set(serviceName, previous);
        throw error;
      }
    });
  }

  /** Go registers the function's service name with the same metadata. */
  registerFunction(serviceName: string, _methodName: string, fn: unknown, metadata: string): Promise<void> {
    return this.register(serviceName, fn, metadata);
  }

  async unregister(serviceName: string): Promise<void> {
    if (!this.services.has(serviceName)) return;
    await this.serial(async () => {
      this.services.delete(serviceName);
      await this.remove(serviceName);
    });
  }

  connAccept(_connection: Connection): void {
    this.connections.mark();
  }

  preCall(_ctx: RequestContext, _serviceName: string, _methodName: string, args: unknown): unknown {
    this.calls.mark();
    return args;
  }

  /** The current epoch; `stop()` moves it on, which retires work started before. */
  protected get epoch(): number {
    return this.#epoch;
  }

  /** Connect and write the base entry. Runs once per start, with the epoch it belongs to. */
  protected abstract open(epoch: number): Promise<void>;

  /** Disconnect; the nodes were already withdrawn. Must cope with an `open` that failed. */
  protected abstract close(): Promise<void> | void;

  /** Write every key of one service (Go's `Register`). */
  protected abstract publish(serviceName: string, metadata: string, epoch: number): Promise<void>;

  /** Delete this server's node of one service; a no-op when not connected. */
  protected abstract remove(serviceName: string): Promise<void>;

  /** Where this server's node of `serviceName` lives (key, path…), for log lines. */
  protected abstract where(serviceName: string): string;

  /** The node's current value, or undefined when it is missing. Used by the default refresh. */
  protected abstract readNode(serviceName: string): Promise<string | undefined>;

  /** Write a present node's new value. Used by the default refresh. */
  protected abstract writeNode(serviceName: string, value: string, epoch: number): Promise<void>;

  /** Refuse service names the backend cannot store. Default: all accepted. */
  protected checkServiceName(_serviceName: string): void {}

  /** Whether a refresh tick may run now (e.g. a session or lease is in place). Default true. */
  protected canRefresh(): boolean {
    return true;
  }

  /** On stop: remove every node, warning about (not failing on) the ones that cannot be. */
  protected async withdraw(serviceNames: string[]): Promise<void> {
    await Promise.all(
      serviceNames.map((name) =>
        this.remove(name).catch((error: unknown) => this.logger.warn(`${this.label}: cannot delete ${this.where(name)}:`, error)),
      ),
    );
  }

  /**
   * Go's UpdateInterval tick: re-create missing nodes, write the rates into present ones. With
   * `metrics: false` a present node is left as it is.
   */
  protected async refreshAll(epoch: number, calls: number, connections: number): Promise<void> {
    for (const [name, metadata] of this.services) {
      if (epoch !== this.#epoch) return;
      const current = await this.readNode(name);
      if (current === undefined) {
        this.logger.warn(`${this.label}: ${this.where(name)} is missing, registering it again`);
        await this.publish(name, metadata, epoch);
      } else if (this.metrics) {
        await this.writeNode(name, withRates(current, calls, connections), epoch);
      }
    }
  }

  /** Write every service again (after a lost lease or session). Default: `publish` each. */
  protected async republish(epoch: number): Promise<void> {
    for (const [name, metadata] of this.services) await this.publish(name, metadata, epoch);
  }

  /**
   * The registry forgot us (lease or session gone): write everything again, retrying every
   * 250 ms doubling to 2 s until it works or the plugin stops. One recovery at a time.
   */
  protected async recover(epoch: number): Promise<void> {
    if (this.#recovering) return;
    this.#recovering = true;
    try {
      let delay = 250;
      while (epoch === this.#epoch) {
        try {
          await this.serial(async () => {
            if (epoch === this.#epoch) await this.republish(epoch);
          });
          if (epoch === this.#epoch) this.logger.info(`${this.label}: registered again`);
          return;
        } catch (error) {
          if (epoch !== this.#epoch) return;
          this.logger.warn(`${this.label}: cannot register again, retrying in ${delay} ms:`, error);
          await sleep(delay);
          delay = Math.min(delay * 2, 2000);
        }
      }
    } finally {
      this.#recovering = false;
    }
  }

  /** Run registry writes one at a time, in call order; a failure does not block later ones. */
  protected serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #doStart(): Promise<void> {
    const epoch = this.#epoch;
    this.#opened = true;
    await this.open(epoch);
    if (this.updateIntervalMs > 0 && !this.#timer && epoch === this.#epoch) {
      this.#timer = setInterval(() => this.#tick(epoch), this.updateIntervalMs);
      this.#timer.unref();
    }
  }

  #tick(epoch: number): void {
    if (this.#refreshing || this.#recovering || epoch !== this.#epoch || !this.canRefresh()) return;
    this.#refreshing = true;
    void this.serial(async () => {
      if (epoch === this.#epoch) await this.refreshAll(epoch, this.calls.rateMean(), this.connections.rateMean());
    })
      .catch((error: unknown) => this.logger.warn(`${this.label}: refresh failed:`, error))
      .finally(() => {
        this.#refreshing = false;
      });
  }
}
