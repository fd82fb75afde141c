// The second listener of Go rpcx's file transfer and stream service: an rpcx call hands out a
// random 32-byte token, the client dials this listener and writes the token first, and the
// connection is then the handler's. Go reads the token in its accept loop (one silent client
// stalls every other); here each connection waits for its own token, with a deadline.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {
  ConfigError,
  ConnectionClosedError,
  ListenError,
  SideChannelError,
  TokenTimeoutError,
  TokenTooShortError,
  TransferResetError,
  TransferStalledError,
  UnknownTokenError,
  joinHostPort,
  splitHostPort,
} from '@rpcx/core';
import { HIGH_WATER_MARK } from './transfer-streams.js';
import { TOKEN_LENGTH } from './wire.js';

/** The options every side listener has (file transfer and stream service alike). */
export interface SideListenerOptions {
  /**
   * Go `Addr`: `host:port` the side listener binds (TCP). Port 0 picks a free port.
   * @default '127.0.0.1:0'
   */
  addr?: string;
  /**
   * Go `AdvertiseAddr`: the `host:port` clients are told to dial, when it is not `addr`
   * (behind NAT, in a container, `0.0.0.0` binds). Default: `addr` with the bound port.
   */
  advertiseAddr?: string;
  /**
   * Go `waitNum`: how many handed-out tokens wait for their connection. The oldest is
   * forgotten when a new one would pass it (Go's LRU). @default 1000
   */
  waitNum?: number;
  /**
   * Serve the side listener over TLS with these options (key, cert, …). Go's side listener
   * is plain TCP only, so Go clients cannot use a TLS side listener. Default: plain TCP.
   */
  tls?: tls.TlsOptions;
  /**
   * Close a connection that has not sent its token (and, with `tls`, finished its handshake)
   * this long after the accept (`TokenTimeoutError`). Go waits forever. @default 10000
   */
  tokenTimeoutMs?: number;
  /**
   * Close a side connection on which no byte moved, either way, for this long
   * (`TransferStalledError`). 0 = never (as Go). @default 60000
   */
  idleTimeoutMs?: number;
  /**
   * Told of every side connection that failed: a bad token (`UnknownTokenError`,
   * `TokenTooShortError`, `TokenTimeoutError`) or a handler that threw. The connection is
   * already closed. Go logs these. Default: ignored.
   */
  onError?: (error: Error, remoteAddress: string) => void;
}

/** A side connection whose token was good. */
export interface SideConnection {
  /** The byte stream: the TCP socket, or the TLS socket over it. */
  readonly socket: net.Socket;
  /** `host:port` of the client. */
  readonly remoteAddress: string;
  /** Aborted when the connection closes, with the error that closed it (if one did). */
  readonly signal: AbortSignal;
  /** Close abruptly (a TCP reset), because of `reason`: the peer learns that the transfer failed. */
  reset(reason?: Error): void;
  /**
   * Called when no byte moved for `idleTimeoutMs`. By default the socket is destroyed with
   * the error; a session that wraps the socket replaces it to fail its wrapper instead.
   */
  onStall: (error: TransferStalledError) => void;
}

/** Reset a TCP connection (RST, not FIN) so that the peer sees a failure, not an end. */
export function resetSocket(raw: net.Socket): void {
  if (raw.destroyed) return;
  try {
    raw.resetAndDestroy();
  } catch {
    raw.destroy();
  }
}

/**
 * A TCP (or TLS) listener that accepts connections carrying a token handed out by `issue`,
 * each token once, and gives each such connection with the token's value to `dispatch`.
 */
export class SideListener<T> {
  /** Tokens waiting for their connection, oldest first (a Map keeps insertion order). */
  private readonly waiting = new Map<string, T>();
  private readonly sockets = new Set<net.Socket>();
  private readonly waitNum: number;
  private readonly tokenTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly secureContext: tls.SecureContext | undefined;
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** `host:port` bound. */
    readonly addr: string,
    /** `host:port` given to clients. */
    readonly advertisedAddr: string,
    private readonly options: SideListenerOptions,
    private readonly dispatch: (connection: SideConnection, value: T) => void,
  ) {
    this.waitNum = options.waitNum ?? 1000;
    this.tokenTimeoutMs = options.tokenTimeoutMs ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.secureContext = options.tls ? tls.createSecureContext(options.tls) : undefined;
    server.on('connection', (raw) => this.accept(raw));
  }

  /** Bind `options.addr` and start accepting. */
  static async listen<T>(options: SideListenerOptions, dispatch: (connection: SideConnection, value: T) => void): Promise<SideListener<T>> {
    const addr = options.addr ?? '127.0.0.1:0';
    const { host, port } = splitHostPort(addr);
    check(options.waitNum, 'waitNum', 1);
    check(options.tokenTimeoutMs, 'tokenTimeoutMs', 1);
    check(options.idleTimeoutMs, 'idleTimeoutMs', 0);
    // Half-open: a stream's client may end its side while the handler still writes.
    const server = net.createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new ListenError(`listen tcp ${addr}: ${err.message}`, { cause: err })));
      server.listen({ host: host || undefined, port }, resolve);
    });
    const bound = (server.address() as net.AddressInfo).port;
    const bindAddr = joinHostPort(host, bound);
    return new SideListener<T>(server, bindAddr, options.advertiseAddr ?? bindAddr, options, dispatch);
  }

  /** A fresh random token for one connection, remembered with `value`. */
  issue(value: T): Buffer {
    const token = randomBytes(TOKEN_LENGTH);
    this.waiting.set(token.toString('hex'), value);
    for (const oldest of this.waiting.keys()) {
      if (this.waiting.size <= this.waitNum) break;
      this.waiting.delete(oldest);
    }
    return token;
  }

  /** Stop accepting, forget the tokens and close every side connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting.clear();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const raw of this.sockets) resetSocket(raw);
    await stopped;
  }

  /** Report a failed connection to `onError`; a throwing callback must not take the listener down. */
  report(error: Error, remoteAddress: string): void {
    try {
      this.options.onError?.(error, remoteAddress);
    } catch {
      // The callback's own failure has nowhere better to go.
    }
  }

  private accept(raw: net.Socket): void {
    if (this.closed) return resetSocket(raw);
    const remoteAddress = raw.remoteAddress ? joinHostPort(raw.remoteAddress, raw.remotePort ?? 0) : 'unknown';
    this.sockets.add(raw);
    raw.once('close', () => this.sockets.delete(raw));
    // Errors reach whoever reads the socket; this keeps an unread one from crashing the process.
    raw.on('error', () => {});
    raw.setKeepAlive(true, 180_000); // Go: SetKeepAlivePeriod(3 * time.Minute)
    const socket = this.secureContext ? new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext, requestCert: this.options.tls?.requestCert, rejectUnauthorized: this.options.tls?.rejectUnauthorized }) : raw;
    if (socket !== raw) socket.on('error', () => {});

    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      resetSocket(raw);
      this.report(error, remoteAddress);
    };
    const timer = setTimeout(() => fail(new TokenTimeoutError(this.tokenTimeoutMs)), this.tokenTimeoutMs);
    const onReadable = () => {
      const token = socket.read(TOKEN_LENGTH) as Buffer | null;
      if (token === null) return;
      // At the end of the stream `read` returns what is left, even if short.
      if (token.length < TOKEN_LENGTH) return fail(new TokenTooShortError(token.length, TOKEN_LENGTH));
      settled = true;
      cleanup();
      const key = token.toString('hex');
      const value = this.waiting.get(key);
      if (value === undefined) {
        resetSocket(raw);
        return this.report(new UnknownTokenError(remoteAddress), remoteAddress);
      }
      this.waiting.delete(key);
      this.start(socket, raw, remoteAddress, value);
    };
    const onClose = () => fail(new TokenTooShortError(socket.readableLength, TOKEN_LENGTH));
    const onError = (err: Error) => fail(new SideChannelError(`side connection failed before its token: ${err.message}`, { cause: err }));
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    socket.on('readable', onReadable);
    socket.on('close', onClose);
    socket.on('error', onError);
  }

  private start(socket: net.Socket, raw: net.Socket, remoteAddress: string, value: T): void {
    const closed = new AbortController();
    let reason: Error | undefined;
    socket.once('error', (err) => (reason ??= new TransferResetError(undefined, { cause: err })));
    socket.once('close', () => closed.abort(reason ?? new ConnectionClosedError('side connection closed')));
    const connection: SideConnection = {
      socket,
      remoteAddress,
      signal: closed.signal,
      reset: (why) => {
        reason ??= why;
        resetSocket(raw);
        socket.destroy();
      },
      onStall: (error) => {
        reason ??= error;
        socket.destroy(error);
      },
    };
    if (this.idleTimeoutMs > 0) {
      raw.setTimeout(this.idleTimeoutMs, () => connection.onStall(new TransferStalledError(this.idleTimeoutMs)));
    }
    this.dispatch(connection, value);
  }
}

/** An optional whole-number option, at least `min`. */
function check(n: number | undefined, name: string, min: number): void {
  if (n !== undefined && (!Number.isInteger(n) || n < min)) throw new ConfigError(`${name} must be a whole number of at least ${min}, got ${n}`);
}

/**
 * Run a handler and call `ok` when it resolves or `fail` when it throws or rejects: a
 * handler's returned promise is the lifetime of its side connection.
 */
export function settle(run: () => unknown, ok: () => void, fail: (error: Error) => void): void {
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    fail(asError(err));
    return;
  }
  Promise.resolve(result).then(ok, (err: unknown) => fail(asError(err)));
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
