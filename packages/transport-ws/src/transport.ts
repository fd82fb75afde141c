import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import {
  AbortError,
  ConfigError,
  UnsupportedError,
  joinHostPort,
  silentLogger,
  splitHostPort,
  DialTimeoutError,
  type Connection,
  type DialOptions,
  type Listener,
  type ListenOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { WsConnection, type WsSocket, type WsSocketEvents } from './connection.js';
import { listenError, wsDialError } from './errors.js';
import { DEFAULT_RPC_PATH, checkRpcPath, wsUrl } from './url.js';

export interface WsTransportOptions {
  /** The HTTP path of the WebSocket endpoint (Go `RPCPath`). Default `/_rpcx_`. */
  rpcPath?: string;
  /** Dial timeout when `DialOptions.timeoutMs` is not given, in ms; 0 waits forever. Covers TCP, TLS and the upgrade. Default 1000. */
  connectTimeoutMs?: number;
  /** How long `Connection.close()` waits for the peer's close frame before dropping the connection. Default 5000. */
  closeTimeoutMs?: number;
  /**
   * Largest incoming WebSocket message, in bytes; a bigger one closes the connection with
   * code 1009. rpcx frames larger than the server's `maxMessageLength` fail anyway. Default
   * 100 MiB (the `ws` package's default).
   */
  maxPayload?: number;
  /** TCP keep-alive of accepted connections, in ms; 0 turns it off. Default 180 000. */
  serverKeepAliveMs?: number;
  /** TCP keep-alive of dialled connections, in ms; 0 turns it off. Default 60 000. */
  clientKeepAliveMs?: number;
  /** Where listener errors are reported. Default: silent. */
  logger?: Logger;
}

export interface WsListenOptions extends ListenOptions {
  /** Serve over TLS with these Node `tls.createServer` options. Required for `wss`; with `ws` it also turns TLS on, as in Go. */
  tls?: tls.TlsOptions;
  /** Overrides the transport's `rpcPath` for this listener. */
  rpcPath?: string;
  /**
   * Accept an upgrade only when this returns true for its `Origin` header (browsers send the
   * page's origin; Go's client sends `http://<server address>`). Default: every origin.
   */
  allowOrigin?: (origin: string | undefined, request: http.IncomingMessage) => boolean;
  /** Overrides `serverKeepAliveMs` for this listener. */
  keepAliveMs?: number;
  /** Length of the accept queue. Default: Node's (511). */
  backlog?: number;
}

export interface WsDialOptions extends DialOptions {
  /** Node `tls.connect` options (ca, servername, …) for `wss`. */
  tls?: tls.ConnectionOptions;
  /** Overrides the transport's `rpcPath` for this dial. */
  rpcPath?: string;
  /** The `Origin` header. Default `http://<address>` (`https://` for wss), as Go's client sends; Go's server refuses upgrades without one. */
  origin?: string;
  /** Overrides `clientKeepAliveMs` for this dial. */
  keepAliveMs?: number;
}

export interface WsListener extends Listener {
  /** The Node server underneath (`http.Server`, or `https.Server` with TLS). */
  readonly server: http.Server;
  /** Accepted TCP connections still open, upgraded or not. */
  connectionCount(): Promise<number>;
  /** Settles once `close()` was called and every accepted connection has closed. */
  readonly drained: Promise<void>;
}

export interface WsTransport extends Transport {
  listen(
    network: string,
    address: string,
    options: WsListenOptions,
    onConnection: (connection: Connection) => void,
  ): Promise<WsListener>;
  dial(network: string, address: string, options: WsDialOptions): Promise<Connection>;
}

const NETWORKS = ['ws', 'wss'] as const;

type Settings = Required<WsTransportOptions>;

/**
 * rpcx over WebSocket, networks `ws` and `wss`, as Go rpcx's `Serve("ws" | "wss", addr)` and
 * its `ws@host:port` / `wss@host:port` clients: rpcx frames travel in binary messages at
 * `/_rpcx_`. Node only; browsers use `browserWsTransport` from `@rpcx/transport-ws/browser`.
 */
export function wsTransport(options: WsTransportOptions = {}): WsTransport {
  const settings: Settings = {
    rpcPath: checkRpcPath(options.rpcPath ?? DEFAULT_RPC_PATH),
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    closeTimeoutMs: options.closeTimeoutMs ?? 5000,
    maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
    serverKeepAliveMs: options.serverKeepAliveMs ?? 180_000,
    clientKeepAliveMs: options.clientKeepAliveMs ?? 60_000,
    logger: options.logger ?? silentLogger,
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
    throw new UnsupportedError(`@rpcx/transport-ws does not serve network ${JSON.stringify(network)}`);
  }
}

/** `::ffff:1.2.3.4` as `1.2.3.4`, as Go shows IPv4 peers of a dual-stack listener. */
function hostPort(host: string | undefined, port: number | undefined): string {
  if (host === undefined || port === undefined) return '';
  return joinHostPort(host.startsWith('::ffff:') && net.isIPv4(host.slice(7)) ? host.slice(7) : host, port);
}

/** The `ws` WebSocket as the connection sees it. */
function adapt(ws: WebSocket): { socket: WsSocket; attach: (events: WsSocketEvents) => void } {
  return {
    socket: {
      send: (data, sent) => (sent ? ws.send(data, { binary: true }, () => sent()) : ws.send(data, { binary: true })),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      close: (code) => ws.close(code),
      terminate: () => ws.terminate(),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    },
    attach: (events) => {
      // `message` hands over text messages as Buffers too (Go's client sends text frames of
      // binary data; UTF-8 validation is off), unlike addEventListener, which decodes them.
      ws.on('message', (data) => events.message(data as Buffer));
      ws.on('error', (error) => events.error(error));
      ws.on('close', (code, reason) => events.close(code, reason.toString()));
    },
  };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

function plainResponse(code: number, body: string): string {
  return (
    `HTTP/1.1 ${code} ${STATUS_TEXT[code]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

async function listen(
  settings: Settings,
  network: string,
  address: string,
  options: WsListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<WsListener> {
  checkNetwork(network);
  // Go: `must set tlsconfig for wss`.
  if (network === 'wss' && !options.tls) throw new ConfigError('listen wss: must set tls options for wss');
  const rpcPath = checkRpcPath(options.rpcPath ?? settings.rpcPath);
  const { host, port } = splitHostPort(address);
  const keepAliveMs = options.keepAliveMs ?? settings.serverKeepAliveMs;
  const logger = settings.logger;

  const server: http.Server = options.tls ? https.createServer(options.tls) : http.createServer();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    // Go's client sends its binary frames as text frames.
    skipUTF8Validation: true,
    maxPayload: settings.maxPayload,
  });
  wss.on('error', (error) => logger.warn('rpcx transport-ws: server error', error));

  server.on('connection', (socket: net.Socket) => {
    socket.setNoDelay(true);
    if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
  });

  // Plain HTTP requests get what Go's mux and websocket handler answer.
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let code: number;
    let body: string;
    if (pathOf(req.url) !== rpcPath) [code, body] = [404, '404 page not found\n'];
    else if (req.method !== 'GET') [code, body] = [405, 'bad method'];
    else [code, body] = [400, 'not websocket protocol'];
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', noop);
    if (pathOf(req.url) !== rpcPath) {
      socket.end(plainResponse(404, '404 page not found\n'));
      return;
    }
    if (options.allowOrigin && !options.allowOrigin(req.headers.origin, req)) {
      socket.end(plainResponse(403, ''));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', noop);
      const { socket: wsSocket, attach } = adapt(ws);
      const connection = new WsConnection(wsSocket, {
        network,
        remoteAddress: hostPort(socket.remoteAddress, socket.remotePort),
        localAddress: hostPort(socket.localAddress, socket.localPort),
        closeTimeoutMs: settings.closeTimeoutMs,
        schedule: (fn) => process.nextTick(fn),
        attach,
      });
      try {
        onConnection(connection);
      } catch (error) {
        logger.error('rpcx transport-ws: onConnection threw', error);
        connection.destroy(error instanceof Error ? error : undefined);
      }
    });
  });
  if (options.tls) {
    server.on('tlsClientError', (error: Error) => logger.debug('rpcx transport-ws: TLS handshake failed', error));
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(listenError(address, error));
    server.once('error', onError);
    server.listen({ host: host === '' ? undefined : host, port, backlog: options.backlog }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Accept failures (EMFILE, …) are reported here; without a listener they would crash.
  server.on('error', (error: Error) => logger.warn('rpcx transport-ws: listener error', error));

  const bound = server.address() as net.AddressInfo;
  const drained = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    network,
    address: joinHostPort(bound.address, bound.port),
    server,
    drained,
    close: () => {
      // Stops accepting and closes idle HTTP connections; upgraded ones are left to their owners.
      if (server.listening) server.close();
      return Promise.resolve();
    },
    connectionCount: () =>
      new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
  };
}

function dial(settings: Settings, network: string, address: string, options: WsDialOptions): Promise<Connection> {
  checkNetwork(network);
  const secure = network === 'wss';
  const url = wsUrl(network, address, options.rpcPath ?? settings.rpcPath);
  // Go's client always sends an Origin, and Go's server refuses an upgrade without one.
  const origin = options.origin ?? `${secure ? 'https' : 'http'}://${address}`;
  const timeoutMs = options.timeoutMs ?? settings.connectTimeoutMs;
  const keepAliveMs = options.keepAliveMs ?? settings.clientKeepAliveMs;
  const signal = options.signal;

  return new Promise<Connection>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError({ cause: signal.reason }));
      return;
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let socket: net.Socket | undefined;
    let ws: WebSocket;
    try {
      // As Go's client: TLS only for wss (Go's `ws` client dials plain TCP even with a TLS config).
      ws = new WebSocket(url, {
        ...(secure ? options.tls : undefined),
        origin,
        perMessageDeflate: false,
        skipUTF8Validation: true,
        maxPayload: settings.maxPayload,
        followRedirects: false,
      });
    } catch (error) {
      // An address that makes no URL.
      reject(new ConfigError(`dial ${network} ${address}: ${(error as Error).message}`, { cause: error }));
      return;
    }

    const cleanup = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('upgrade', onUpgrade);
      ws.off('unexpected-response', onUnexpected);
    };
    const fail = (error: Error) => {
      if (settled) return;
      cleanup();
      // Late errors of the dropped socket must still find a listener.
      ws.on('error', noop);
      ws.terminate();
      reject(error);
    };
    const onUpgrade = (res: http.IncomingMessage) => {
      socket = res.socket as net.Socket;
      if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
    };
    const onOpen = () => {
      if (settled) return;
      const { socket: wsSocket, attach } = adapt(ws);
      // The connection attaches its own 'error' listener before ours comes off.
      const connection = new WsConnection(wsSocket, {
        network,
        remoteAddress: hostPort(socket?.remoteAddress, socket?.remotePort) || address,
        localAddress: hostPort(socket?.localAddress, socket?.localPort),
        closeTimeoutMs: settings.closeTimeoutMs,
        schedule: (fn) => process.nextTick(fn),
        attach,
      });
      cleanup();
      resolve(connection);
    };
    const onError = (error: Error) => fail(wsDialError(url, address, error));
    // Go: `websocket.Dial ws://…: bad status`.
    const onUnexpected = (_req: http.ClientRequest, res: http.IncomingMessage) =>
      fail(wsDialError(url, address, new Error(`bad status ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd())));
    const onAbort = () => fail(new AbortError({ cause: signal!.reason }));

    ws.on('error', onError);
    ws.on('upgrade', onUpgrade);
    ws.on('unexpected-response', onUnexpected);
    ws.once('open', onOpen);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(
        () => fail(new DialTimeoutError(`dial ${network} ${address}: i/o timeout`)),
        timeoutMs,
      );
    }
  });
}

function noop(): void {}
