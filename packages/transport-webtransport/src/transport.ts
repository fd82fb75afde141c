import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Http2Server, WebTransport } from '@fails-components/webtransport';
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
import { AcceptedConnections, checkNetwork, checkPath, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialError, dialWithDeadline, handOver, listenError, type CountingListener } from '@rpcx/transport-kit';
import { WtConnection, type WtSession, type WtStream } from './connection.js';

export interface WebTransportTransportOptions {
  /** URL path of the WebTransport endpoint, on both sides. Default `/_rpcx_` (the path Go rpcx uses for http and ws). */
  path?: string;
  /** Required to listen: the server's certificate and key (PEM). Clients pin the certificate by its SHA-256 hash. */
  serverTls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Required to dial: SHA-256 hashes of the server certificates to accept (WebTransport's
   * `serverCertificateHashes`), 32-byte buffers or hex strings; `certificateHash(pem)` makes
   * one. The library checks certificates only this way.
   */
  serverCertificateHashes?: readonly (Uint8Array | string)[];
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Covers TCP, TLS and the session handshake. Default 1000. */
  connectTimeoutMs?: number;
  /** How long `Connection.close()` waits for the peer to end its stream before closing the session. Default 5000. */
  closeTimeoutMs?: number;
  /**
   * Initial flow-control windows of each stream and of each session, in bytes, on both sides.
   * The library's own defaults (16 KiB) stall transfers on Node 20 after the first window (its
   * HTTP/2 settings exchange needs Node >= 21.7); these larger ones do not. Defaults 1 MiB and 16 MiB.
   */
  streamWindowBytes?: number;
  sessionWindowBytes?: number;
  /** Where listener problems go. Default: silent. */
  logger?: Logger;
}

/** Its `drained` settles once `close()` was called, every session has closed and the server has stopped. */
export type WebTransportListener = CountingListener;

export type WebTransportTransport = Transport<WebTransportListener>;

const NETWORKS = ['webtransport'] as const;
const DEFAULT_PATH = '/_rpcx_';

type Settings = Required<Omit<WebTransportTransportOptions, 'serverTls' | 'serverCertificateHashes'>> & {
  serverTls: WebTransportTransportOptions['serverTls'];
  serverCertificateHashes: Uint8Array[];
};

const PACKAGE = '@rpcx/transport-webtransport';

/** The SHA-256 hash of a PEM certificate, as `serverCertificateHashes` takes it. */
export function certificateHash(pem: string | Buffer): Buffer {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest();
}

/**
 * rpcx over WebTransport (network `webtransport`): one WebTransport session per rpcx
 * connection, one bidirectional stream in it, opened by the client. On
 * @fails-components/webtransport in its HTTP/2 mode; Go rpcx has no WebTransport network, so
 * this talks to TypeScript peers only.
 */
export function webTransportTransport(options: WebTransportTransportOptions = {}): WebTransportTransport {
  const settings: Settings = {
    path: checkPath('path', options.path ?? DEFAULT_PATH),
    serverTls: options.serverTls,
    serverCertificateHashes: (options.serverCertificateHashes ?? []).map((h) =>
      typeof h === 'string' ? Buffer.from(h.replace(/:/g, ''), 'hex') : h,
    ),
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    streamWindowBytes: options.streamWindowBytes ?? 1024 * 1024,
    sessionWindowBytes: options.sessionWindowBytes ?? 16 * 1024 * 1024,
    logger: options.logger ?? silentLogger,
  };
  return {
    networks: NETWORKS,
    listen: async (network, address, onConnection) => listen(settings, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, network, address, dialOptions),
  };
}

async function listen(
  settings: Settings,
  network: string,
  address: string,
  onConnection: (connection: Connection) => void,
): Promise<WebTransportListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const tls = settings.serverTls;
  if (!tls?.key || !tls?.cert) throw new ConfigError('listen webtransport: the serverTls option with key and cert is required');
  const path = settings.path;
  const { host, port } = splitHostPort(address);
  const server = new Http2Server({
    host: host === '' ? '::' : host,
    port,
    // Only the HTTP/3 mode uses it; the type requires one.
    secret: randomBytes(16).toString('hex'),
    cert: tls.cert.toString(),
    privKey: tls.key.toString(),
    initialStreamFlowControlWindow: settings.streamWindowBytes,
    initialSessionFlowControlWindow: settings.sessionWindowBytes,
  } as ConstructorParameters<typeof Http2Server>[0]);

  // The server stays up after close() for the sessions still on it.
  const live = new AcceptedConnections<WtSession>(() => {
    server.stopServer();
    return server.closed.then(noop, noop);
  });
  // After close() the TCP listener stays for the sessions on it; new sessions are refused.
  server.setRequestCallback(async ({ header }: { header: Record<string, string> }) => {
    const requested = header[':path'];
    const status = requested !== path ? 404 : live.closing ? 503 : 200;
    return { status, path: requested };
  });
  const sessions = server.sessionStream(path);
  server.startServer();
  try {
    await server.ready;
  } catch (error) {
    throw listenError('tcp', address, error);
  }
  const bound = server.address()!;
  const localAddress = joinHostPort(bound.host, bound.port);

  void (async () => {
    const reader = sessions.getReader();
    for (;;) {
      const { value: session, done } = await reader.read();
      if (done) return;
      const s = session as unknown as WtSession & {
        ready: Promise<void>;
        peerAddress?: string;
        incomingBidirectionalStreams: ReadableStream<WtStream>;
      };
      s.closed.catch(noop);
      live.add(s);
      const untrack = () => live.delete(s);
      s.closed.then(untrack, untrack);
      try {
        await s.ready;
      } catch {
        continue;
      }
      const connection = new WtConnection({
        network,
        remoteAddress: s.peerAddress ?? '',
        localAddress,
        closeTimeoutMs: settings.closeTimeoutMs,
        session: s,
      });
      void (async () => {
        const streams = s.incomingBidirectionalStreams.getReader();
        try {
          for (;;) {
            const { value, done: end } = await streams.read();
            if (end) return;
            connection.attachStream(value);
          }
        } catch {
          // The session ended.
        }
      })();
      handOver(PACKAGE, settings.logger, onConnection, connection);
    }
  })().catch((error: unknown) => settings.logger.warn('rpcx transport-webtransport: listener error', error));

  return live.listener(network, localAddress);
}

function dial(settings: Settings, network: string, address: string, options: DialOptions): Promise<Connection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const { host, port } = splitHostPort(address);
  const hashes = settings.serverCertificateHashes;
  if (hashes.length === 0) {
    throw new ConfigError('dial webtransport: the serverCertificateHashes option is required (the library checks server certificates only by hash)');
  }
  const urlHost = net.isIPv6(host) ? `[${host}]` : host === '' ? 'localhost' : host;
  const url = `https://${urlHost}:${port}${settings.path}`;
  return dialWithDeadline({ network, address, connectTimeoutMs: settings.connectTimeoutMs }, options, async (givenUp) => {
    const wt = new WebTransport(url, {
      serverCertificateHashes: hashes.map((value) => ({ algorithm: 'sha-256', value })),
      // HTTP/2 only: the HTTP/3 part of the library cannot be installed here.
      forceReliable: true,
      initialStreamFlowControlWindow: settings.streamWindowBytes,
      initialSessionFlowControlWindow: settings.sessionWindowBytes,
    } as ConstructorParameters<typeof WebTransport>[1]);
    // The session's closed promise rejects when the handshake fails; it must not go unhandled.
    wt.closed.catch(noop);
    const drop = () => abandon(wt);
    givenUp.addEventListener('abort', drop, { once: true });
    try {
      await wt.ready;
      const stream = (await wt.createBidirectionalStream()) as unknown as WtStream;
      return new WtConnection({
        network,
        remoteAddress: address,
        // The library does not tell which local port its HTTP/2 connection uses.
        localAddress: '',
        closeTimeoutMs: settings.closeTimeoutMs,
        session: wt as unknown as WtSession,
        stream,
      });
    } catch (error) {
      if (givenUp.aborted) throw error;
      abandon(wt);
      // The library gives one reason for every failure (refused, wrong certificate, wrong path).
      const text = (error as Error)?.message ?? String(error);
      throw dialError(network, address, text.replace(/\.$/, '').toLowerCase(), error);
    } finally {
      givenUp.removeEventListener('abort', drop);
    }
  });
}

/**
 * Drops a dial that has not completed. The session's close() only asks the HTTP/2 session to
 * close, which leaves a connection stuck in its TLS handshake open; the HTTP/2 session sits
 * three objects down (WebTransport → session → HttpClient → Http2 client → ClientHttp2Session).
 */
function abandon(wt: WebTransport): void {
  const http2 = (wt as unknown as { sessionint?: { parentobj?: { transportInt?: { clientInt?: { destroy?: () => void } } } } }).sessionint
    ?.parentobj?.transportInt?.clientInt;
  if (typeof http2?.destroy === 'function') {
    http2.destroy();
    return;
  }
  try {
    wt.close();
  } catch {
    // Not open yet.
  }
}

function noop(): void {}
