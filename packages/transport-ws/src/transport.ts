import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import {
  ConfigError,
  joinHostPort,
  silentLogger,
  splitHostPort,
  type Connection,
  type DialOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { checkNetwork, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialWithDeadline, handOver, hostPort, listenError, type CountingListener } from '@rpcx/transport-kit';
import { WsConnection, type WsSocket, type WsSocketEvents } from './connection.js';
import { wsDialError } from './errors.js';
import { DEFAULT_RPC_PATH, checkRpcPath, wsUrl } from './url.js';

export interface WsTransportOptions {
  /** The HTTP path of the WebSocket endpoint (Go `RPCPath`), on both sides. Default `/_rpcx_`. */
  rpcPath?: string;
  /**
   * Serve over TLS with these Node `tls.createServer` options. Required for `wss`; with `ws` it
   * also turns TLS on, as in Go. Default: none.
   */
  serverTls?: tls.TlsOptions;
  /** Node `tls.connect` options (ca, servername, …) for `wss` dials. Default: Node's defaults. */
  clientTls?: tls.ConnectionOptions;
  /**
   * Accept an upgrade only when this returns true for its `Origin` header (browsers send the
   * page's origin; Go's client sends `http://<server address>`). Default: every origin.
   */
  allowOrigin?: (origin: string | undefined, request: http.IncomingMessage) => boolean;
  /**
   * The `Origin` header of dials. Default `http://<address>` (`https://` for wss), as Go's
   * client sends; Go's server refuses upgrades without one.
   */
  origin?: string;
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Covers TCP, TLS and the upgrade. Default 1000. */
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
  /** Length of the accept queue. Default: Node's (511). */
  backlog?: number;
  /** Where listener errors are reported. Default: silent. */
  logger?: Logger;
}

export interface WsListener extends CountingListener {
  /** The Node server underneath (`http.Server`, or `https.Server` with TLS). */
  readonly server: http.Server;
}

export type WsTransport = Transport<WsListener>;

const NETWORKS = ['ws', 'wss'] as const;

type Settings = Required<Omit<WsTransportOptions, 'serverTls' | 'clientTls' | 'allowOrigin' | 'origin' | 'backlog'>> &
  Pick<WsTransportOptions, 'serverTls' | 'clientTls' | 'allowOrigin' | 'origin' | 'backlog'>;

const PACKAGE = '@rpcx/transport-ws';

/**
 * rpcx over WebSocket, networks `ws` and `wss`, as Go rpcx's `Serve("ws" | "wss", addr)` and
 * its `ws@host:port` / `wss@host:port` clients: rpcx frames travel in binary messages at
 * `/_rpcx_`. Node only; browsers use `browserWsTransport` from `@rpcx/transport-ws/browser`.
 */
export function wsTransport(options: WsTransportOptions = {}): WsTransport {
  const settings: Settings = {
    rpcPath: checkRpcPath(options.rpcPath ?? DEFAULT_RPC_PATH),
    serverTls: options.serverTls,
    clientTls: options.clientTls,
    allowOrigin: options.allowOrigin,
    origin: options.origin,
    backlog: options.backlog,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
    serverKeepAliveMs: options.serverKeepAliveMs ?? 180_000,
    clientKeepAliveMs: options.clientKeepAliveMs ?? 60_000,
    logger: options.logger ?? silentLogger,
  };
  return {
    networks: NETWORKS,
    listen: async (network, address, onConnection) => listen(settings, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, network, address, dialOptions),
  };
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
  onConnection: (connection: Connection) => void,
): Promise<WsListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  // Go: `must set tlsconfig for wss`.
  if (network === 'wss' && !settings.serverTls) throw new ConfigError('listen wss: must set the serverTls option for wss');
  const { rpcPath, logger } = settings;
  const { host, port } = splitHostPort(address);
  const keepAliveMs = settings.serverKeepAliveMs;

  const server: http.Server = settings.serverTls ? https.createServer(settings.serverTls) : http.createServer();
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
    if (settings.allowOrigin && !settings.allowOrigin(req.headers.origin, req)) {
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
        attach,
      });
      handOver(PACKAGE, logger, onConnection, connection);
    });
  });
  if (settings.serverTls) {
    server.on('tlsClientError', (error: Error) => logger.debug('rpcx transport-ws: TLS handshake failed', error));
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(listenError('tcp', address, error));
    server.once('error', onError);
    server.listen({ host: host === '' ? undefined : host, port, backlog: settings.backlog }, () => {
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

function dial(settings: Settings, network: string, address: string, options: DialOptions): Promise<Connection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const secure = network === 'wss';
  const url = wsUrl(network, address, settings.rpcPath);
  // Go's client always sends an Origin, and Go's server refuses an upgrade without one.
  const origin = settings.origin ?? `${secure ? 'https' : 'http'}://${address}`;
  const keepAliveMs = settings.clientKeepAliveMs;
  return dialWithDeadline(
    { network, address, connectTimeoutMs: settings.connectTimeoutMs },
    options,
    (givenUp) =>
      new Promise<Connection>((resolve, reject) => {
        let socket: net.Socket | undefined;
        let ws: WebSocket;
        try {
          // As Go's client: TLS only for wss (Go's `ws` client dials plain TCP even with a TLS config).
          ws = new WebSocket(url, {
            ...(secure ? settings.clientTls : undefined),
            origin,
            perMessageDeflate: false,
            skipUTF8Validation: true,
            maxPayload: settings.maxPayload,
            followRedirects: false,
          });
        } catch (error) {
          // An address that makes no URL.
          throw new ConfigError(`dial ${network} ${address}: ${(error as Error).message}`, { cause: error });
        }
        const cleanup = () => {
          givenUp.removeEventListener('abort', drop);
          ws.off('open', onOpen);
          ws.off('error', onError);
          ws.off('upgrade', onUpgrade);
          ws.off('unexpected-response', onUnexpected);
        };
        const drop = () => {
          cleanup();
          // Late errors of the dropped socket must still find a listener.
          ws.on('error', noop);
          ws.terminate();
        };
        const fail = (error: Error) => {
          drop();
          reject(error);
        };
        const onUpgrade = (res: http.IncomingMessage) => {
          socket = res.socket as net.Socket;
          if (keepAliveMs > 0) socket.setKeepAlive(true, keepAliveMs);
        };
        const onOpen = () => {
          const { socket: wsSocket, attach } = adapt(ws);
          // The connection attaches its own 'error' listener before ours comes off.
          const connection = new WsConnection(wsSocket, {
            network,
            remoteAddress: hostPort(socket?.remoteAddress, socket?.remotePort) || address,
            localAddress: hostPort(socket?.localAddress, socket?.localPort),
            closeTimeoutMs: settings.closeTimeoutMs,
            attach,
          });
          cleanup();
          resolve(connection);
        };
        const onError = (error: Error) => fail(wsDialError(url, address, error));
        // Go: `websocket.Dial ws://…: bad status`.
        const onUnexpected = (_req: http.ClientRequest, res: http.IncomingMessage) =>
          fail(wsDialError(url, address, `bad status ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()));

        givenUp.addEventListener('abort', drop, { once: true });
        ws.on('error', onError);
        ws.on('upgrade', onUpgrade);
        ws.on('unexpected-response', onUnexpected);
        ws.once('open', onOpen);
      }),
  );
}

function noop(): void {}
