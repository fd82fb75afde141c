import type Consul from 'consul';
import { ConfigError, RegistryError } from '@rpcx/core';
import { RegistryRegisterPlugin, decodeUtf8, withRates, type RegistryRegisterPluginOptions } from '@rpcx/registry-kit';
import {
  DEFAULT_TIMEOUT_MS,
  LOCK_FLAG_VALUE,
  calls,
  createConsulClient,
  formatGoDuration,
  statusOf,
  type ConsulConnectionOptions,
  type KvPair,
} from './client.js';

export interface ConsulRegisterPluginOptions extends ConsulConnectionOptions, RegistryRegisterPluginOptions {
  /** Root of the registry; a leading `/` is dropped, as in Go (Consul keys have none). Required. */
  basePath: string;
  /**
   * Every this many ms each node is re-read, given `calls`/`connections` rates and written
   * back, and re-created if it vanished. Also sets the node's TTL (below). `0` turns the
   * refresh off and writes the node without a session: it then outlives a dead server, as in
   * Go. Default 60000.
   */
  updateIntervalMs?: number;
  /**
   * Go's `Expired`: the node's TTL is `updateIntervalMs + expiredMs`, and its session's TTL
   * half that (Consul invalidates a session after 2 × its TTL). Default: `updateIntervalMs`.
   */
  expiredMs?: number;
}

/** Consul's session TTL: what Go writes for a node TTL of `ttlMs` ("Consul multiplies the TTL by 2x"). */
export function sessionTtl(ttlMs: number): string {
  return formatGoDuration(ttlMs / 2);
}

/**
 * Publishes this server's services in Consul's KV store with the layout of rpcx-consul
 * (libkv's Consul store):
 *
 * - `<basePath>` = `rpcx_path`
 * - `<basePath>/<service>` = the service name
 * - `<basePath>/<service>/<serviceAddress>` = the metadata (URL query), held by a session
 *
 * Every key carries `Flags` = Go's `api.LockFlagValue`. With a TTL (updateIntervalMs > 0) the
 * node is lock-acquired by a session with `Behavior: delete`, TTL (updateIntervalMs +
 * expiredMs) / 2 and `LockDelay: 1ms`, renewed every half session TTL: if the process dies, Consul
 * deletes the node 2 × session TTL (= the node TTL) later. If the session is lost it is created again
 * and every node re-acquired.
 */
export class ConsulRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'consul-register';

  private readonly basePath: string;
  private readonly timeoutMs: number;
  /** The node's TTL in ms (Go `UpdateInterval + Expired`); 0 = no session. */
  private readonly ttlMs: number;
  private client: Consul | undefined;
  private sessionId: string | undefined;
  private creating: Promise<string> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Nodes that another session holds (a previous run of this server not yet expired). */
  private readonly foreign = new Set<string>();

  constructor(private readonly options: ConsulRegisterPluginOptions) {
    super('consul', options, 60_000);
    let basePath = options.basePath ?? '';
    if (basePath.startsWith('/')) basePath = basePath.slice(1);
    if (!basePath) throw new ConfigError('consul register plugin: basePath is required');
    this.basePath = basePath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const expired = options.expiredMs ?? this.updateIntervalMs;
    if (!(expired >= 0)) throw new ConfigError('consul register plugin: expiredMs must be >= 0');
    this.ttlMs = this.updateIntervalMs > 0 ? this.updateIntervalMs + expired : 0;
  }

  /** The key of this server's node for `serviceName`. */
  nodeKey(serviceName: string): string {
    return `${this.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /** The ID of the session holding the nodes (undefined without a TTL), for diagnostics. */
  get session(): string | undefined {
    return this.sessionId;
  }

  /** Connect and write `<basePath>` = `rpcx_path`. */
  protected async open(epoch: number): Promise<void> {
    this.client ??= this.options.client ?? createConsulClient(this.options);
    await this.serial(async () => {
      await this.put(this.basePath, 'rpcx_path');
      if (this.ttlMs > 0) await this.ensureSession(epoch);
    });
  }

  /** Destroying the session would delete its keys anyway; they were deleted just before. */
  protected async close(): Promise<void> {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    const client = this.client;
    this.client = undefined;
    const session = this.sessionId;
    this.sessionId = undefined;
    this.creating = undefined;
    this.foreign.clear();
    if (client && session) await calls(client).session.destroy({ id: session, timeout: this.timeoutMs }).catch(() => undefined);
    if (client && !this.options.client) client.destroy();
  }

  protected where(serviceName: string): string {
    return this.nodeKey(serviceName);
  }

  /** Go's Register: both dirs (plain puts), then the node (acquired by the session when there is a TTL). */
  protected async publish(serviceName: string, metadata: string, epoch: number): Promise<void> {
    await this.put(this.basePath, 'rpcx_path');
    await this.put(`${this.basePath}/${serviceName}`, serviceName);
    await this.putNode(serviceName, metadata, epoch);
  }

  protected async remove(serviceName: string): Promise<void> {
    this.foreign.delete(serviceName);
    if (this.client) await calls(this.client).kv.del({ key: this.nodeKey(serviceName), timeout: this.timeoutMs });
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    const pair = await this.getNode(serviceName);
    return pair ? (decodeUtf8(pair.Value) ?? '') : undefined;
  }

  protected writeNode(serviceName: string, value: string, epoch: number): Promise<void> {
    return this.putNode(serviceName, value, epoch);
  }

  /**
   * Also without a session: a refresh whose session creation failed (an agent restarted empty
   * answers "Missing node registration" for a moment) left none, and the next tick creates it.
   */
  protected override canRefresh(): boolean {
    return this.client !== undefined;
  }

  /**
   * The refresh also takes back nodes that were held by another session when registered (a
   * restarted server whose old session had not expired yet) once that session is gone.
   */
  protected override async refreshAll(epoch: number, calls: number, connections: number): Promise<void> {
    for (const [name, metadata] of this.services) {
      if (epoch !== this.epoch) return;
      const pair = await this.getNode(name);
      if (!pair) {
        this.logger.warn(`consul: ${this.nodeKey(name)} is missing, registering it again`);
        await this.publish(name, metadata, epoch);
        continue;
      }
      const current = decodeUtf8(pair.Value) ?? '';
      const value = this.metrics ? withRates(current, calls, connections) : current;
      if (this.metrics || (this.sessionId !== undefined && pair.Session !== this.sessionId)) await this.putNode(name, value, epoch);
    }
  }

  private async getNode(serviceName: string): Promise<KvPair | undefined> {
    if (!this.client) throw new ConfigError('consul register plugin is stopped');
    const pair = (await calls(this.client).kv.get({ key: this.nodeKey(serviceName), buffer: true, timeout: this.timeoutMs })) as KvPair | undefined;
    return pair ?? undefined;
  }

  /** A plain KV put with Go's flags. */
  private async put(key: string, value: string): Promise<void> {
    if (!this.client) throw new ConfigError('consul register plugin is stopped');
    const ok = await calls(this.client).kv.set({ key, value, flags: LOCK_FLAG_VALUE, timeout: this.timeoutMs });
    if (ok !== true) throw new RegistryError(`consul: put ${key} was refused`);
  }

  /**
   * Write a node. With a session, acquire it with the value in one request (Go: acquire an
   * empty key, then put): an acquire by the holder just updates it. Held by another session,
   * the value is written anyway (keeping that session) and the refresh retries the acquire.
   */
  private async putNode(serviceName: string, value: string, epoch: number): Promise<void> {
    const key = this.nodeKey(serviceName);
    if (this.ttlMs === 0) return this.put(key, value);
    let session = await this.ensureSession(epoch);
    let acquired: unknown;
    try {
      acquired = await this.acquire(key, value, session);
    } catch (error) {
      // "invalid session": it expired before the renewal noticed. One new session, one retry.
      if (statusOf(error) !== 500 || !/session/i.test(String((error as Error).message))) throw error;
      if (this.sessionId === session) this.sessionId = undefined;
      session = await this.ensureSession(epoch);
      acquired = await this.acquire(key, value, session);
    }
    if (acquired === true) {
      this.foreign.delete(serviceName);
      return;
    }
    if (!this.foreign.has(serviceName)) {
      this.logger.warn(`consul: ${key} is held by another session; writing it anyway and taking it over once that session ends`);
      this.foreign.add(serviceName);
    }
    await this.put(key, value);
  }

  private async acquire(key: string, value: string, session: string): Promise<unknown> {
    if (!this.client) throw new ConfigError('consul register plugin is stopped');
    return calls(this.client).kv.set({ key, value, flags: LOCK_FLAG_VALUE, acquire: session, timeout: this.timeoutMs });
  }

  /** The session holding our nodes: created when missing, then renewed every half TTL. */
  private async ensureSession(epoch: number): Promise<string> {
    if (this.sessionId) return this.sessionId;
    this.creating ??= (async () => {
      const client = this.client;
      if (!client || epoch !== this.epoch) throw new ConfigError('consul register plugin is stopped');
      const created = (await calls(client).session.create({
        name: `rpcx ${this.serviceAddress}`,
        behavior: 'delete',
        ttl: sessionTtl(this.ttlMs),
        lockdelay: '1ms',
        timeout: this.timeoutMs,
      })) as { ID: string };
      if (epoch !== this.epoch) {
        await calls(client).session.destroy({ id: created.ID, timeout: this.timeoutMs }).catch(() => undefined);
        throw new ConfigError('consul register plugin is stopped');
      }
      this.sessionId = created.ID;
      this.startRenewing(epoch);
      return created.ID;
    })().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private startRenewing(epoch: number): void {
    clearInterval(this.renewTimer);
    // Consul invalidates a session unrenewed for 2 × its TTL (= ttlMs); renewing every half
    // session TTL leaves four chances.
    this.renewTimer = setInterval(() => void this.renew(epoch), Math.max(this.ttlMs / 4, 100));
    this.renewTimer.unref();
  }

  private async renew(epoch: number): Promise<void> {
    const client = this.client;
    const session = this.sessionId;
    if (!client || !session || epoch !== this.epoch) return;
    try {
      await calls(client).session.renew({ id: session, timeout: this.timeoutMs });
    } catch (error) {
      if (epoch !== this.epoch || this.sessionId !== session) return;
      if (statusOf(error) === 404) {
        // Invalidated (unrenewed for 2 × TTL, or destroyed): its nodes are gone. Start over.
        this.logger.warn(`consul: session ${session} is gone, creating a new one and registering again`);
        this.sessionId = undefined;
        clearInterval(this.renewTimer);
        this.renewTimer = undefined;
        void this.recover(epoch);
      } else {
        this.logger.warn(`consul: cannot renew session ${session}:`, (error as Error).message);
      }
    }
  }
}

/** A Consul register plugin for `server.use(...)`. */
export function consulRegisterPlugin(options: ConsulRegisterPluginOptions): ConsulRegisterPlugin {
  return new ConsulRegisterPlugin(options);
}
