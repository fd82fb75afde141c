import { EventEmitter } from 'node:events';
import { types } from 'node:util';
import Consul from 'consul';
import { ConfigError } from '@rpcx/core';

/** How to reach Consul; shared by the register plugin and the discovery. */
export interface ConsulConnectionOptions {
  /**
   * The agent's HTTP address, `host:port`, optionally with `http://` or `https://` (Go takes
   * one `host:port`: libkv's Consul store refuses several). Default `127.0.0.1:8500`.
   * Ignored when `client` is given.
   */
  address?: string;
  /**
   * An existing `consul` (npm, 2.x) client to use instead of creating one. It is never
   * destroyed by this package.
   */
  client?: Consul;
  /** ACL token, sent as `X-Consul-Token`. Default: none. */
  token?: string;
  /** Extra options for the `consul` client created here (e.g. an `https.Agent` with TLS settings). */
  consulOptions?: Omit<ConstructorParameters<typeof Consul>[0] & object, 'host' | 'port' | 'secure' | 'defaults'>;
  /** Deadline of each non-blocking request, in ms. Default 10000. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Go `api.LockFlagValue` (`0x2ddccbc058a50c18`), set on every key rpcx-consul writes. It is
 * above 2^53, so it only ever travels as a decimal string, never as a JS number.
 */
export const LOCK_FLAG_VALUE = 0x2ddccbc058a50c18n.toString();

export function createConsulClient(options: ConsulConnectionOptions): Consul {
  let address = options.address ?? '127.0.0.1:8500';
  let secure = false;
  const scheme = /^([a-z]+):\/\//i.exec(address);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'http' && scheme[1].toLowerCase() !== 'https') {
      throw new ConfigError(`consul: unsupported scheme in address ${address}`);
    }
    secure = scheme[1].toLowerCase() === 'https';
    address = address.slice(scheme[0].length).replace(/\/+$/, '');
  }
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon) : address;
  const port = colon > 0 ? Number(address.slice(colon + 1)) : secure ? 443 : 8500;
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new ConfigError(`consul: bad address ${options.address}`);
  return new Consul({
    ...options.consulOptions,
    host: host.replace(/^\[(.*)\]$/, '$1'),
    port,
    secure,
    ...(options.token ? { defaults: { token: options.token } } : {}),
  });
}

/** One Consul client used by a discovery and its clones; destroyed with the last of them. */
export class SharedClient {
  private refs = 1;
  constructor(
    readonly client: Consul,
    private readonly owned: boolean,
  ) {}

  static from(options: ConsulConnectionOptions): SharedClient {
    return options.client ? new SharedClient(options.client, false) : new SharedClient(createConsulClient(options), true);
  }

  acquire(): SharedClient {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.owned) this.client.destroy();
  }
}

/** One KV pair as the HTTP API returns it (`Value` decoded to bytes). */
export interface KvPair {
  Key: string;
  Value: Buffer | null;
  Session?: string;
  ModifyIndex: number;
}

/**
 * A `consul` request context: lets us read response headers (`X-Consul-Index`) and abort a
 * request in flight (papi listens for `cancel`).
 */
export class RequestContext extends EventEmitter {
  readonly includeResponse = true;
  canceled = false;

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.emit('cancel');
  }
}

/** `X-Consul-Index` of a response, 0 when absent or unparseable. */
export function consulIndex(res: { headers?: Record<string, string | string[] | undefined> } | undefined): number {
  const raw = res?.headers?.['x-consul-index'];
  const index = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isSafeInteger(index) && index > 0 ? index : 0;
}

/** The HTTP status of a failed `consul` request, if it got a response. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

const NS_PER_MS = 1_000_000;

/**
 * Go `time.Duration.String()` of `ms` milliseconds: `10s`, `1m0s`, `1.5s`, `500ms`. Consul
 * parses session TTLs with Go's `time.ParseDuration`; this writes them as Go does.
 */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * NS_PER_MS);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const frac = (v: number, digits: number) => {
    const p = 10 ** digits;
    const fraction = String(v % p)
      .padStart(digits, '0')
      .replace(/0+$/, '');
    return fraction ? `${Math.floor(v / p)}.${fraction}` : `${Math.floor(v / p)}`;
  };
  if (ns < 1e9) return sign + (ns < 1e3 ? `${ns}ns` : ns < 1e6 ? `${frac(ns, 3)}µs` : `${frac(ns, 6)}ms`);
  const seconds = frac(ns % 60e9, 9);
  const minutes = Math.floor(ns / 60e9);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return sign + (h > 0 ? `${h}h${m}m${seconds}s` : m > 0 ? `${m}m${seconds}s` : `${seconds}s`);
}

type Call = (options: Record<string, unknown>) => Promise<unknown>;

/**
 * The `consul` calls this package makes, with the options it passes. The library accepts
 * `timeout`, `ctx`, `buffer` and a string `flags` (a uint64), which its typings leave out.
 */
export interface ConsulCalls {
  kv: { get: Call; set: Call; del: Call };
  session: { create: Call; renew: Call; destroy: Call };
}

/**
 * papi settles a failed request by `instanceof Error`, which is false for an error from
 * another realm (a test runner's VM context): it then *resolves* with the error. Reject it.
 */
function strict(fn: Call, self: unknown): Call {
  return async (options) => {
    const value = await fn.call(self, options);
    if (types.isNativeError(value)) throw value;
    return value;
  };
}

const wrapped = new WeakMap<Consul, ConsulCalls>();

export function calls(client: Consul): ConsulCalls {
  let c = wrapped.get(client);
  if (!c) {
    const loose = client as unknown as ConsulCalls;
    c = {
      kv: { get: strict(loose.kv.get, loose.kv), set: strict(loose.kv.set, loose.kv), del: strict(loose.kv.del, loose.kv) },
      session: {
        create: strict(loose.session.create, loose.session),
        renew: strict(loose.session.renew, loose.session),
        destroy: strict(loose.session.destroy, loose.session),
      },
    };
    wrapped.set(client, c);
  }
  return c;
}
