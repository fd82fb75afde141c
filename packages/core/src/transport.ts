/**
 * Transports carry the rpcx byte stream. A transport package exports a factory that returns
 * a `Transport`; servers and clients pick one by the network part of `network@address`.
 */

/** What a connection tells its owner. Set once with `Connection.setHandler`. */
export interface ConnectionHandler {
  /** A chunk of bytes as it arrived; frames may be split across or packed into chunks. */
  onData(chunk: Uint8Array): void;
  /** The connection is gone. `error` is set when it failed rather than closed cleanly. */
  onClose(error?: Error): void;
  /**
   * The network has taken queued bytes and `pendingBytes` has gone down. After `pendingBytes`
   * was `DRAIN_NOTICE_BYTES` or more, a transport calls this (again and again as the bytes go
   * out) until `pendingBytes` is below that mark, so an owner that stops reading when
   * `pendingBytes` passes a high-water mark of at least `DRAIN_NOTICE_BYTES` never waits in
   * vain: it checks `pendingBytes` here and resumes under its mark. It may be called more often.
   * A transport that cannot see its send buffer (a browser WebSocket) never calls it.
   */
  onDrain?(): void;
}

/**
 * The smallest `pendingBytes` after which every transport reports `onDrain`: a write
 * high-water mark must be at least this much (64 KiB).
 */
export const DRAIN_NOTICE_BYTES = 64 * 1024;

/** A bidirectional byte stream between a client and a server. */
export interface Connection {
  /** The network it was made on, e.g. `tcp`, `unix`, `ws`. */
  readonly network: string;
  /** `host:port` (or socket path) of the other end. */
  readonly remoteAddress: string;
  readonly localAddress: string;
  setHandler(handler: ConnectionHandler): void;
  /**
   * Queue bytes to send. Transports coalesce the writes of one event-loop turn into as few
   * system calls as they can; the caller must not reuse `frame` afterwards.
   */
  write(frame: Uint8Array): void;
  /** Bytes queued but not yet handed to the OS (for back-pressure decisions). */
  readonly pendingBytes: number;
  /**
   * Stop delivering data. What arrives meanwhile is held (by the transport, or left unread in
   * the OS so that flow control slows the peer down) and delivered after `resumeReading()`.
   * Queued writes still go out, and `close()` still completes.
   */
  pauseReading(): void;
  /** Deliver data again after `pauseReading()`, what was held first. */
  resumeReading(): void;
  /** Flush queued writes, then close. Resolves when closed. */
  close(): Promise<void>;
  /** Close now, dropping queued writes. */
  destroy(error?: Error): void;
  readonly closed: boolean;
}

/**
 * What every dial takes. Everything else a transport needs (TLS, keep-alive, paths, …) is an
 * option of its factory, e.g. `tcpTransport({ clientTls })`, so a misspelt setting is a
 * compile error and not a silently ignored property.
 */
export interface DialOptions {
  /**
   * Give up after this many milliseconds (0: wait forever). Overrides, for this dial, the
   * transport's own `connectTimeoutMs`, which applies when this is not given.
   */
  timeoutMs?: number;
  /** Abandon the dial when this fires; it then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

export interface Listener {
  /** The bound address as `host:port` (resolved port when 0 was asked) or socket path. */
  readonly address: string;
  readonly network: string;
  /** Stop accepting. Existing connections are left to their owner. */
  close(): Promise<void>;
}

/**
 * A transport: listens and dials on the networks it names. `L` and `C` let a transport say
 * what its listeners and connections offer beyond the contract (`Transport<TcpListener>`).
 */
export interface Transport<L extends Listener = Listener, C extends Connection = Connection> {
  /** The networks this transport serves, e.g. `['tcp', 'tcp4', 'tcp6', 'unix']`. */
  readonly networks: readonly string[];
  /** Accept connections on `address`; each is handed to `onConnection`, which owns it. */
  listen(network: string, address: string, onConnection: (connection: Connection) => void): Promise<L>;
  /** Connect to `address`; rejects with a `DialError`, `DialTimeoutError` or `AbortError`. */
  dial(network: string, address: string, options?: DialOptions): Promise<C>;
}
