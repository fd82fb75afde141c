import { ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';

/** How to reach etcd; shared by the register plugin and the discovery. */
export interface EtcdConnectionOptions {
  /**
   * etcd client URLs, with or without `http://` (Go takes `host:port`).
   * Default `['127.0.0.1:2379']`. Ignored when `client` is given.
   */
  endpoints?: readonly string[];
  /**
   * An existing etcd3 client to use instead of creating one. It is never closed by this
   * package, and its own fault-handling settings apply.
   */
  client?: Etcd3;
  /** Extra etcd3 client options (TLS, auth, gRPC options…) for the client created here. */
  etcdOptions?: Omit<IOptions, 'hosts'>;
  /** Deadline of each etcd request, in ms (Go libkv: 10 s). Default 10000. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Watch-stream reconnect delays: 50 ms doubling to 1 s. etcd3's default grows to 30 s, which
 * would leave a discovery blind for that long after etcd comes back.
 */
class CappedBackoff {
  constructor(
    readonly duration: number,
    private readonly max: number,
  ) {}
  next(): CappedBackoff {
    return new CappedBackoff(Math.min(this.duration * 2, this.max), this.max);
  }
}

function withScheme(endpoint: string): string {
  return /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

/**
 * Every delay before talking to an etcd that came back is capped at 1 s, so a discovery
 * resumes within about a second: the watch stream's reconnect (above), gRPC's own channel
 * reconnect (grpc-js: 1 s growing to 120 s), and each host's circuit breaker, which etcd3
 * opens for 5 s after three failed calls (here for 1 s).
 */
export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const endpoints = options.endpoints && options.endpoints.length > 0 ? options.endpoints : ['127.0.0.1:2379'];
  const extra = options.etcdOptions ?? {};
  return new Etcd3({
    ...extra,
    hosts: endpoints.map(withScheme),
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000, ...extra.grpcOptions },
    faultHandling: {
      watchBackoff: new CappedBackoff(50, 1000),
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      ...extra.faultHandling,
    },
  });
}

/** One etcd client used by a discovery and its clones; closed with the last of them. */
export class SharedClient {
  private refs = 1;
  constructor(
    readonly client: Etcd3,
    private readonly owned: boolean,
  ) {}

  static from(options: EtcdConnectionOptions): SharedClient {
    return options.client ? new SharedClient(options.client, false) : new SharedClient(createEtcdClient(options), true);
  }

  acquire(): SharedClient {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.owned) this.client.close();
  }
}

/** gRPC call options giving a request `timeoutMs` to finish. */
export function deadline(timeoutMs: number): { deadline: Date } {
  return { deadline: new Date(Date.now() + timeoutMs) };
}
