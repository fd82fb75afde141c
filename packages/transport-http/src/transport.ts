import type tls from 'node:tls';
import {
  silentLogger,
  type Connection,
  type DialOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { checkNetwork, checkPath, DEFAULT_CONNECT_TIMEOUT_MS, dialWithDeadline, handOver } from '@rpcx/transport-kit';
import { tcpTransport, type TcpListener, type TcpTransport } from '@rpcx/transport-tcp';
import { HeadError, TunnelConnection, dialHttpError } from './connection.js';
import { headLines, parseRequestLine, parseStatusLine, targetPath } from './head.js';

/** Go rpcx's `share.DefaultRPCPath`. */
export const DEFAULT_RPC_PATH = '/_rpcx_';

/** What Go's server writes on a CONNECT to the RPC path, bare LFs included. */
const CONNECTED_STATUS = '200 Connected to rpcx';
const CONNECTED_RESPONSE = Buffer.from(`HTTP/1.0 ${CONNECTED_STATUS}\n\n`, 'latin1');

export interface HttpTransportOptions {
  /** The path CONNECT requests name (Go `RPCPath`), on both sides. Default `/_rpcx_`. */
  rpcPath?: string;
  /** Serve HTTPS with these Node `tls.createServer` options (key, cert, …). Default: none (plain HTTP). */
  serverTls?: tls.TlsOptions;
  /** Connect over TLS with these Node `tls.connect` options (ca, servername, …). Default: none (plain HTTP). */
  clientTls?: tls.ConnectionOptions;
  /**
   * Server: how long a new connection has to send its request head before it is dropped, in
   * ms; 0 waits forever, as Go's server does. Default 30 000.
   */
  headerTimeoutMs?: number;
  /** Largest request head (server) or response head (client) read, in bytes. Default 1 MiB (Go's `DefaultMaxHeaderBytes`). */
  maxHeaderBytes?: number;
  /**
   * Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. It covers
   * the TCP connect, the TLS handshake and the CONNECT exchange. Default 1000 (Go `ConnectTimeout`).
   */
  connectTimeoutMs?: number;
  /** TCP keep-alive of accepted connections, in ms; 0 turns it off. Default 180 000 (Go: 3 min). */
  serverKeepAliveMs?: number;
  /** TCP keep-alive of dialled connections, in ms; 0 turns it off. Default 60 000 (Go: 1 min). */
  clientKeepAliveMs?: number;
  /** How long `Connection.close()` waits for the peer to close its side. Default 5000. */
  closeTimeoutMs?: number;
  /** Length of the accept queue. Default: Node's (511). */
  backlog?: number;
  /** Where listener errors and refused requests are reported. Default: silent. */
  logger?: Logger;
}

/** Its `server` is the Node server underneath (`net.Server`, or `tls.Server` with TLS); `connectionCount` includes connections still sending their request head. */
export type HttpListener = TcpListener;

export type HttpTransport = Transport<HttpListener>;

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
    rpcPath: checkPath('rpcPath', options.rpcPath ?? DEFAULT_RPC_PATH),
    headerTimeoutMs: options.headerTimeoutMs ?? 30_000,
    maxHeaderBytes: options.maxHeaderBytes ?? 1 << 20,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    logger: options.logger ?? silentLogger,
    tcp: tcpTransport({
      serverTls: options.serverTls,
      clientTls: options.clientTls,
      backlog: options.backlog,
      serverKeepAliveMs: options.serverKeepAliveMs,
      clientKeepAliveMs: options.clientKeepAliveMs,
      connectTimeoutMs: options.connectTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs,
      logger: options.logger,
    }),
  };
  return {
    networks: NETWORKS,
    listen: async (network, address, onConnection) => listen(settings, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, network, address, dialOptions),
  };
}

const PACKAGE = '@rpcx/transport-http';

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
  onConnection: (connection: Connection) => void,
): Promise<HttpListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const { rpcPath, headerTimeoutMs, maxHeaderBytes, logger } = settings;
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
    handOver(PACKAGE, logger, onConnection, tunnel);
  };

  const listener = await settings.tcp.listen('tcp', address, (inner) => void accept(inner));
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

function dial(settings: Settings, network: string, address: string, options: DialOptions): Promise<Connection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  // Go has no timeout of its own on the CONNECT exchange: one deadline covers the TCP connect,
  // TLS and the exchange, and a timeout names the network as dialled (`dial http …: i/o
  // timeout`), whichever phase ran late.
  return dialWithDeadline({ network, address, connectTimeoutMs: settings.connectTimeoutMs }, options, async (givenUp) => {
    // Go dials plain TCP for `http` (TLS when configured), so a refused dial reads `dial tcp …`.
    const inner = await settings.tcp.dial('tcp', address, { timeoutMs: 0, signal: givenUp });
    const tunnel = new TunnelConnection(inner, network);
    const drop = () => tunnel.destroy();
    givenUp.addEventListener('abort', drop, { once: true });
    inner.write(Buffer.from(`CONNECT ${settings.rpcPath} HTTP/1.0\n\n`, 'latin1'));
    try {
      const head = await tunnel.readHead(settings.maxHeaderBytes);
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
      givenUp.removeEventListener('abort', drop);
    }
  });
}
