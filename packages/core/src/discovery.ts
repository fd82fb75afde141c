/**
 * Discovery (client side) and registration (server side). Registry packages implement both
 * halves; the xclient only ever sees `ServiceDiscovery`.
 */

/** One server of a service: Go's `KVPair`. */
export interface ServiceEntry {
  /** `network@address`, e.g. `tcp@127.0.0.1:8972`. */
  key: string;
  /** The server's metadata as a URL query string, e.g. `weight=10&group=g1`. */
  value: string;
}

/** One service of a registry and its servers: an item of `ServiceDiscovery.listAll()`. */
export interface RegisteredService {
  /** The service name, e.g. `Arith`. */
  servicePath: string;
  /** Its servers, sorted by key (empty when the registry keeps the service with none). */
  servers: ServiceEntry[];
}

export interface ServiceDiscovery {
  /** The current servers. The first call may wait for the registry's initial answer. */
  getServices(): Promise<ServiceEntry[]>;
  /**
   * Be told of every later change with the whole new list. Returns the function that stops
   * watching. Static discoveries may never call the listener.
   */
  watch(listener: (entries: ServiceEntry[]) => void): () => void;
  /** The same registry, for another service (Go `Clone`, used by the one-client form). */
  clone(servicePath: string): ServiceDiscovery;
  /** Release watches and registry connections. */
  close(): Promise<void>;
  /**
   * Every service the registry holds where this discovery looks (its base path; for mDNS,
   * every server that answers), each with its servers, sorted by service name. Go rpcx has
   * no such call; `rpcx list <registry>` uses it. Optional: the registry packages implement
   * it, static discoveries (`peer2peer`, `multipleServers`) do not, and DNS discovery rejects
   * with `UnsupportedError` (one name has no list of services). Rejects when the registry
   * cannot be read.
   */
  listAll?(): Promise<RegisteredService[]>;
  /**
   * Set (or, with `null`, delete) keys of one server's metadata in the registry, keeping the
   * others, and resolve with the value written (Go's `url.Values.Encode`: keys sorted). Only
   * an entry that exists is changed, and it stays bound to its server's lease or session, so
   * it still vanishes with the server; a missing one rejects with `RegistryKeyNotFoundError`.
   * Operators use it to set `state=inactive` (Go and `@rpcx` clients then skip the server) or
   * a new `weight`. Go rpcx has no such call (rpcx-ui writes the node). Optional: the etcd,
   * ZooKeeper and Consul discoveries implement it; others reject with `UnsupportedError`.
   */
  updateMetadata?(servicePath: string, serverKey: string, changes: Readonly<Record<string, string | null>>): Promise<string>;
}

/**
 * Server side: called by the server as services come and go. A registry's register plugin
 * also implements `Startable` so the server starts and stops it with itself.
 */
export interface Registrar {
  /** Publish `serviceName` at this server's address with `metadata` (URL query). */
  register(serviceName: string, metadata: string): Promise<void> | void;
  /** Remove this server's entry for `serviceName`. */
  unregister(serviceName: string): Promise<void> | void;
}
