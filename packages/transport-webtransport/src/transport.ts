import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Http2Server, WebTransport } from '@fails-components/webtransport';
import {
  AbortError,
  ConfigError,
  UnsupportedError,
  joinHostPort,
  silentLogger,
  splitHostPort,
  DialError,
  DialTimeoutError,
  ListenError,
  type Connection,
  type DialOptions,
  type Listener,
  type ListenOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { WtConnection, type WtSession, type WtStream } from './connection.js';

export interface WebTransportTransportOptions {
  /** URL path of the WebTransport endpoint. Default `/_rpcx_` (the path Go rpcx uses for http and ws). */
  path?: string;
  /** Dial timeout when `DialOptions.timeoutMs` is not given, in ms; 0 waits forever. Covers TCP, TLS and the session handshake. Default 1000. */
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

export interface WebTransportListenOptions extends ListenOptions {
  /** Required: the server's certificate and key (PEM). Clients pin the certificate by its SHA-256 hash. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Overrides the transport's `path` for this listener. */
  path?: string;
}

export interface WebTransportDialOptions extends DialOptions {
  /**
   * SHA-256 hashes of the server certificates to accept (WebTransport's
   * `serverCertificateHashes`): 32-byte buffers or hex strings. `certificateHash(pem)` makes one.
   * Required: the library checks certificates only this way.
   */
  serverCertificateHashes?: readonly (Uint8Array | string)[];
  /** Overrides the transport's `path` for this dial. */
  path?: string;
}

export interface WebTransportListener extends Listener {
  /** Sessions (connections) not yet closed. */
  connectionCount(): Promise<number>;
  /** Settles once `close()` was called, every session has closed and the server has stopped. */
  readonly drained: Promise<void>;
}

export interface WebTransportTransport extends Transport {
  listen(
    network: string,
    address: string,
    options: WebTransportListenOptions,
    onConnection: (connection: Connection) => void,
  ): Promise<WebTransportListener>;
  dial(network: string, address: string, options: WebTransportDialOptions): Promise<Connection>;
}

const NETWORKS = ['webtransport'] as const;
const DEFAULT_PATH = '/_rpcx_';

type Settings = Required<WebTransportTransportOptions>;

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
    path: checkPath(options.path ?? DEFAULT_PATH),
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    closeTimeoutMs: options.closeTimeoutMs ?? 5000,
    streamWindowBytes: options.streamWindowBytes ?? 1024 * 1024,
    sessionWindowBytes: options.sessionWindowBytes ?? 16 * 1024 * 1024,
    logger: options.logger ?? silentLogger,
  };
  return {
    networks: NETWORKS,
    listen: async (network, address, listenOptions, onConnection) => listen(settings, network, address, listenOptions ?? {}, onConnection),
    dial: async (network, address, dialOptions) => dial(settings, network, address, dialOptions ?? {}),
  };
}

function checkNetwork(network: string): void {
  if (!(NETWORKS as readonly string[]).includes(network)) {
    throw new UnsupportedError(`@rpcx/transport-webtransport does not serve network ${JSON.stringify(network)}`);
  }
}

function checkPath(path: string): string {
  if (!path.startsWith('/') || /\s/.test(path)) throw new ConfigError(`path must start with "/" and hold no white space: ${JSON.stringify(path)}`);
  return path;
}

const errnoText: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
};

async function listen(
  settings: Settings,
  network: string,
  address: string,
  options: WebTransportListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<WebTransportListener> {
  checkNetwork(network);
  if (!options.tls?.key || !options.tls?.cert) throw new ConfigError('listen webtransport: TLS options with key and cert are required');
  const path = checkPath(options.path ?? settings.path);
  const { host, port } = splitHostPort(address);
  const server = new Http2Server({
    host: host === '' ? '::' : host,
    port,
    // Only the HTTP/3 mode uses it; the type requires one.
    secret: randomBytes(16).toString('hex'),
    cert: options.tls.cert.toString(),
    privKey: options.tls.key.toString(),
    initialStreamFlowControlWindow: settings.streamWindowBytes,
    initialSessionFlowControlWindow: settings.sessionWindowBytes,
  } as ConstructorParameters<typeof Http2Server>[0]);

  let closing = false;
  const live = new Set<WtSession>();
  let drainedResolve!: () => void;
  const drained = new Promise<void>((resolve) => (drainedResolve = resolve));
  const release = () => {
    if (!closing || live.size > 0) return;
    server.stopServer();
    void server.closed.then(() => drainedResolve(), () => drainedResolve());
  };
  // After close() the TCP listener stays for the sessions on it; new sessions are refused.
  server.setRequestCallback(async ({ header }: { header: Record<string, string> }) => {
    const requested = header[':path'];
    const status = requested !== path ? 404 : closing ? 503 : 200;
    return { status, path: requested };
  });
  const sessions = server.sessionStream(path);
  server.startServer();
  try {
    await server.ready;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ListenError(`listen tcp ${address}: ${code && errnoText[code] ? `bind: ${errnoText[code]}` : (error as Error).message}`, { cause: error });
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
      const untrack = () => {
        live.delete(s);
        release();
      };
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
      try {
        onConnection(connection);
      } catch (error) {
        settings.logger.error('rpcx transport-webtransport: onConnection threw', error);
        connection.destroy(error instanceof Error ? error : undefined);
      }
    }
  })().catch((error: unknown) => settings.logger.warn('rpcx transport-webtransport: listener error', error));

  return {
    network,
    address: localAddress,
    drained,
    close: () => {
      closing = true;
      release();
      return Promise.resolve();
    },
    connectionCount: () => Promise.resolve(live.size),
  };
}

function dial(settings: Settings, network: string, address: string, options: WebTransportDialOptions): Promise<Connection> {
  checkNetwork(network);
  const { host, port } = splitHostPort(address);
  const path = checkPath(options.path ?? settings.path);
  const hashes = (options.serverCertificateHashes ?? []).map((h) => (typeof h === 'string' ? Buffer.from(h.replace(/:/g, ''), 'hex') : h));
  if (hashes.length === 0) {
    throw new ConfigError('dial webtransport: serverCertificateHashes is required (the library checks server certificates only by hash)');
  }
  const urlHost = net.isIPv6(host) ? `[${host}]` : host === '' ? 'localhost' : host;
  const url = `https://${urlHost}:${port}${path}`;
  const timeoutMs = options.timeoutMs ?? settings.connectTimeoutMs;
  const signal = options.signal;

  return new Promise<Connection>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError({ cause: signal.reason }));
      return;
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const wt = new WebTransport(url, {
      serverCertificateHashes: hashes.map((value) => ({ algorithm: 'sha-256', value })),
      // HTTP/2 only: the HTTP/3 part of the library cannot be installed here.
      forceReliable: true,
      initialStreamFlowControlWindow: settings.streamWindowBytes,
      initialSessionFlowControlWindow: settings.sessionWindowBytes,
    } as ConstructorParameters<typeof WebTransport>[1]);
    // The session's closed promise rejects when the handshake fails; it must not go unhandled.
    wt.closed.catch(noop);
    const cleanup = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      cleanup();
      abandon(wt);
      reject(error);
    };
    const onAbort = () => fail(new AbortError({ cause: signal!.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => fail(new DialTimeoutError(`dial webtransport ${address}: i/o timeout`)), timeoutMs);
    }
    (async () => {
      await wt.ready;
      if (settled) return;
      const stream = (await wt.createBidirectionalStream()) as unknown as WtStream;
      if (settled) return;
      const connection = new WtConnection({
        network,
        remoteAddress: address,
        // The library does not tell which local port its HTTP/2 connection uses.
        localAddress: '',
        closeTimeoutMs: settings.closeTimeoutMs,
        session: wt as unknown as WtSession,
        stream,
      });
      cleanup();
      resolve(connection);
    })().catch((error: unknown) => {
      // The library gives one reason for every failure (refused, wrong certificate, wrong path).
      const text = (error as Error)?.message ?? String(error);
      fail(new DialError(`dial webtransport ${address}: ${text.replace(/\.$/, '').toLowerCase()}`, { cause: error }));
    });
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
