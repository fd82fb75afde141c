import type net from 'node:net';
import type tls from 'node:tls';
import {
  AbortError,
  ConfigError,
  TimeoutError,
  UnsupportedError,
  silentLogger,
  DialTimeoutError,
  type Connection,
  type DialOptions,
  type Listener,
  type ListenOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { tcpTransport, type TcpTransport } from '@rpcx/transport-tcp';
import { HeadError, TunnelConnection, dialHttpError } from './connection.js';
import { headLines, parseRequestLine, parseStatusLine, targetPath } from './head.js';

/** Go rpcx's `share.DefaultRPCPath`. */
export const DEFAULT_RPC_PATH = '/_rpcx_';

/** What Go's server writes on a CONNECT to the RPC path, bare LFs included. */
const CONNECTED_STATUS = '200 Connected to rpcx';
const CONNECTED_RESPONSE = Buffer.from(`HTTP/1.0 ${CONNECTED_STATUS}\n\n`, 'latin1');

export interface HttpTransportOptions {
  /** The path CONNECT requests must name (Go `RPCPath`). Default `/_rpcx_`. */
  rpcPath?: string;
  /**
   * Server: how long a new connection has to send its request head before it is dropped, in
   * ms; 0 waits forever, as Go's server does. Default 30 000.
   */
  headerTimeoutMs?: number;
  /** Largest request head (server) or response head (client) read, in bytes. Default 1 MiB (Go's `DefaultMaxHeaderBytes`). */
  maxHeaderBytes?: number;
  /**
   * Dial timeout when `DialOptions.timeoutMs` is not given, in ms; 0 waits forever. It covers
   * the TCP connect, the TLS handshake and the CONNECT exchange. Default 1000 (Go `ConnectTimeout`).
   */
  connectTimeoutMs?: number;
  /** TCP keep-alive of accepted connections, in ms; 0 turns it off. Default 180 000 (Go: 3 min). */
  serverKeepAliveMs?: number;
  /** TCP keep-alive of dialled connections, in ms; 0 turns it off. Default 60 000 (Go: 1 min). */
  clientKeepAliveMs?: number;
  /** How long `Connection.close()` waits for the peer to close its side. Default 5000. */
  closeTimeoutMs?: number;
  /** Where listener errors and refused requests are reported. Default: silent. */
  logger?: Logger;
}

export interface HttpListenOptions extends ListenOptions {
  /** Serve HTTPS with these Node `tls.createServer` options (key, cert, …). */
  tls?: tls.TlsOptions;
  /** Overrides the transport's `rpcPath` for this listener. */
  rpcPath?: string;
  /** Overrides the transport's `headerTimeoutMs` for this listener. */
  headerTimeoutMs?: number;
  /** Overrides `serverKeepAliveMs` for this listener. */
  keepAliveMs?: number;
  /** Length of the accept queue. Default: Node's (511). */
  backlog?: number;
}

export interface HttpDialOptions extends DialOptions {
  /** Connect over TLS with these Node `tls.connect` options (ca, servername, …). */
  tls?: tls.ConnectionOptions;
  /** Overrides the transport's `rpcPath` for this dial. */
  rpcPath?: string;
  /** Overrides `clientKeepAliveMs` for this dial. */
  keepAliveMs?: number;
}

export interface HttpListener extends Listener {
  /** The Node server underneath (`net.Server`, or `tls.Server` with TLS). */
  readonly server: net.Server;
  /** Accepted connections still open, those still sending their request head included. */
  connectionCount(): Promise<number>;
  /** Settles once `close()` was called and every accepted connection has closed. */
  readonly drained: Promise<void>;
}

export interface HttpTransport extends Transport {
  listen(
    network: string,
    address: string,
    options: HttpListenOptions,
    onConnection: (connection: Connection) => void,
  ): Promise<HttpListener>;
  dial(network: string, address: string, options: HttpDialOptions): Promise<Connection>;
}

const NETWORKS = ['http'] as const;

interface Settings {
  rpcPath: string;
  headerTimeoutMs: number;
  maxHeaderBytes: number;
  connectTimeoutMs: number;
  logger: Logger;
  tcp: TcpTransport;
}

/**
 * rpcx over HTTP CONNECT, network `http`, as Go rpcx's `Serve("http", addr)` and its
 * `http@host:port` client: a CONNECT to the RPC path turns the connection into a plain rpcx
 * byte stream. TCP, TLS, keep-alive and write coalescing come from @rpcx/transport-tcp.
 */
export function httpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const settings: Settings = {
    rpcPath: checkPath(options.rpcPath ?? DEFAULT_RPC_PATH),
    headerTimeoutMs: options.headerTimeoutMs ?? 30_000,
    maxHeaderBytes: options.maxHeaderBytes ?? 1 << 20,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    logger: options.logger ?? silentLogger,
    tcp: tcpTransport({
      serverKeepAliveMs: options.serverKeepAliveMs,
      clientKeepAliveMs: options.clientKeepAliveMs,
      connectTimeoutMs: options.connectTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs,
      logger: options.logger,
    }),
  };
  return {
    networks: NETWORKS,
    listen: async (network, address, listenOptions, onConnection) =>
      listen(settings, network, address, listenOptions ?? {}, onConnection),
    dial: async (network, address, dialOptions) => dial(settings, network, address, dialOptions ?? {}),
  };
}

function checkNetwork(network: string): void {
  if (!(NETWORKS as readonly string[]).includes(network)) {
    throw new UnsupportedError(`@rpcx/transport-http does not serve network ${JSON.stringify(network)}`);
  }
}

/** The path goes into a request line as it is: it must be one token starting with `/`. */
function checkPath(path: string): string {
  if (!/^\/[^\s]*$/.test(path)) throw new ConfigError(`rpcPath must start with "/" and contain no white space: ${JSON.stringify(path)}`);
  return path;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
};

/**
 * A plain-text error response, then close. Go keeps an HTTP/1.1 connection open after its
 * 404 / 405; here every non-CONNECT request ends its connection, which clients handle alike.
 */
function refuse(connection: Connection, version: string, code: number, body: string, withBody = true): void {
  const head =
    `${version} ${code} ${STATUS_TEXT[code]}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    // Go's http.Error (behind its 404) sets this; rpcx's own 405 does not.
    (code === 404 ? 'X-Content-Type-Options: nosniff\r\n' : '') +
    `Date: ${new Date().toUTCString()}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  connection.write(Buffer.from(withBody ? head + body : head, 'latin1'));
  // close() flushes, half-closes and reads until the client closes: an unread request body
  // then cannot turn into a reset that loses the response.
  void connection.close();
}

async function listen(
  settings: Settings,
  network: string,
  address: string,
  options: HttpListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<HttpListener> {
  checkNetwork(network);
  const rpcPath = checkPath(options.rpcPath ?? settings.rpcPath);
  const headerTimeoutMs = options.headerTimeoutMs ?? settings.headerTimeoutMs;
  const { maxHeaderBytes, logger } = settings;
  // Connections still sending their head have no owner yet: the listener closes them itself.
  const handshaking = new Set<TunnelConnection>();

  const accept = async (inner: Connection) => {
    const tunnel = new TunnelConnection(inner, network);
    handshaking.add(tunnel);
    const timer = headerTimeoutMs > 0 ? setTimeout(() => tunnel.destroy(), headerTimeoutMs) : undefined;
    let head: Buffer;
    try {
      head = await tunnel.readHead(maxHeaderBytes);
    } catch (error) {
      if (error instanceof HeadError && error.reason === 'too-large') {
        refuse(inner, 'HTTP/1.1', 431, '431 Request Header Fields Too Large');
      }
      return;
    } finally {
      if (timer) clearTimeout(timer);
      handshaking.delete(tunnel);
    }
    const request = parseRequestLine(headLines(head)[0] ?? '');
    if (!request) {
      logger.debug(`rpcx transport-http: malformed request from ${inner.remoteAddress}`);
      refuse(inner, 'HTTP/1.1', 400, '400 Bad Request');
      return;
    }
    // Go answers in the request's HTTP version.
    const version = request.version === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
    const withBody = request.method !== 'HEAD';
    if (targetPath(request.target) !== rpcPath) {
      // Go's ServeMux has nothing else registered on an rpcx http listener.
      refuse(inner, version, 404, '404 page not found\n', withBody);
      return;
    }
    if (request.method !== 'CONNECT') {
      refuse(inner, version, 405, '405 must CONNECT\n', withBody);
      return;
    }
    inner.write(CONNECTED_RESPONSE);
    try {
      onConnection(tunnel);
    } catch (error) {
      logger.error('rpcx transport-http: onConnection threw', error);
      tunnel.destroy(error instanceof Error ? error : undefined);
    }
  };

  const listener = await settings.tcp.listen(
    'tcp',
    address,
    { tls: options.tls, keepAliveMs: options.keepAliveMs, backlog: options.backlog },
    (inner) => void accept(inner),
  );
  return {
    network,
    address: listener.address,
    server: listener.server,
    drained: listener.drained,
    connectionCount: () => listener.connectionCount(),
    close: async () => {
      for (const tunnel of handshaking) tunnel.destroy();
      handshaking.clear();
      await listener.close();
    },
  };
}

async function dial(settings: Settings, network: string, address: string, options: HttpDialOptions): Promise<Connection> {
  checkNetwork(network);
  const path = checkPath(options.rpcPath ?? settings.rpcPath);
  const timeoutMs = options.timeoutMs ?? settings.connectTimeoutMs;
  const signal = options.signal;
  const deadline = timeoutMs > 0 && Number.isFinite(timeoutMs) ? Date.now() + timeoutMs : undefined;

  const timeoutError = () => new DialTimeoutError(`dial ${network} ${address}: i/o timeout`);
  // Go dials plain TCP for `http`, with TLS when configured, so a refused dial reads
  // `dial tcp …` as in Go. Go has no timeout on the CONNECT exchange, so for timeouts the
  // network is named as dialled: `dial http …: i/o timeout`, whichever phase ran late.
  let inner: Connection;
  try {
    inner = await settings.tcp.dial('tcp', address, { tls: options.tls, timeoutMs, signal, keepAliveMs: options.keepAliveMs });
  } catch (error) {
    if (error instanceof TimeoutError) throw timeoutError();
    throw error;
  }
  const tunnel = new TunnelConnection(inner, network);
  inner.write(Buffer.from(`CONNECT ${path} HTTP/1.0\n\n`, 'latin1'));

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    if (deadline !== undefined) {
      timer = setTimeout(() => reject(timeoutError()), Math.max(deadline - Date.now(), 1));
    }
    if (signal) {
      onAbort = () => reject(new AbortError({ cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // Whichever of the two loses the race must not end as an unhandled rejection.
  const reading = tunnel.readHead(settings.maxHeaderBytes);
  reading.catch(noop);
  stopped.catch(noop);
  try {
    const head = await Promise.race([reading, stopped]);
    const line = headLines(head)[0] ?? '';
    const status = parseStatusLine(line);
    if (status === undefined) throw dialHttpError(network, address, `malformed HTTP response ${JSON.stringify(line)}`);
    if (status !== CONNECTED_STATUS) throw dialHttpError(network, address, `unexpected HTTP response: ${status}`);
    return tunnel;
  } catch (error) {
    tunnel.destroy();
    if (error instanceof HeadError) {
      const cause = error.cause as Error | undefined;
      throw dialHttpError(network, address, cause && error.reason !== 'too-large' ? cause.message : error.message, cause ?? error);
    }
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
}

function noop(): void {}
