import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import Logger, { Handler, LogLevel, type LogRecord } from '@matrixai/logger';
import {
  QUICClient,
  QUICServer,
  QUICSocket,
  errors as quicErrors,
  events,
  native,
  type QUICConfig,
  type QUICConnection,
  type QUICStream,
} from '@matrixai/quic';
import {
  AbortError,
  ConfigError,
  ConnectionError,
  DialError,
  joinHostPort,
  silentLogger,
  splitHostPort,
  type Connection,
  type DialOptions,
  type Logger as RpcxLogger,
  type Transport,
} from '@rpcx/core';
import { AcceptedConnections, checkNetwork, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialError, dialWithDeadline, errnoOf, handOver, listenError, type CountingListener } from '@rpcx/transport-kit';
import { CLOSE_OK, QuicConnection } from './connection.js';
import { speedUp } from './fast-path.js';
import { describeClose, udpErrorText, type QuicCloseInfo } from './errors.js';
import { CONNECTION_REFUSED, refusalDatagram } from './refuse.js';
import { checkAlpn, pemList, verifyServerChain, type QuicClientTlsOptions, type QuicServerTlsOptions, type VerifyResult } from './tls.js';

export interface QuicTransportOptions {
  /** Required to listen: the server's certificate and key (Go: "TLSConfig must be configured in server.Options"). */
  serverTls?: QuicServerTlsOptions;
  /**
   * TLS client options. Without them the server certificate is not verified, as Go rpcx's
   * quic client does (`InsecureSkipVerify` when no TLS config is set); with them it is,
   * unless `rejectUnauthorized: false`.
   */
  clientTls?: QuicClientTlsOptions;
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Covers the QUIC and TLS handshake. Default 1000. */
  connectTimeoutMs?: number;
  /** How long `Connection.close()` waits for the peer to end its stream before closing the QUIC connection. Default 5000. */
  closeTimeoutMs?: number;
  /** QUIC idle timeout in ms (the smaller of both sides' applies); 0 = none. Default 30 000, quic-go's default. */
  maxIdleTimeoutMs?: number;
  /** Send a PING this often when idle, in ms, so the idle timeout never fires; 0 = off. Must be below `maxIdleTimeoutMs`. Default 0, as Go. */
  keepAliveIntervalMs?: number;
  /** SO_RCVBUF / SO_SNDBUF of every UDP socket, in bytes (the kernel caps it at net.core.rmem_max / wmem_max). Default 4 MiB. */
  udpBufferBytes?: number;
  /** Advanced: @matrixai/quic settings merged over the ones this transport chooses. */
  quicConfig?: Partial<QUICConfig>;
  /** Where listener problems and @matrixai/quic's warnings go. Default: silent. */
  logger?: RpcxLogger;
}

/** Its `drained` settles once `close()` was called, every accepted connection has closed and the UDP socket is released. */
export type QuicListener = CountingListener;

export type QuicTransport = Transport<QuicListener>;

const NETWORKS = ['quic'] as const;

interface Settings {
  serverTls: QuicServerTlsOptions | undefined;
  clientTls: QuicClientTlsOptions | undefined;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  maxIdleTimeoutMs: number;
  keepAliveIntervalMs: number;
  udpBufferBytes: number;
  quicConfig: Partial<QUICConfig>;
  logger: RpcxLogger;
}

/**
 * rpcx over QUIC (network `quic`), as Go rpcx's quic transport (build tag `quic`,
 * smallnest/quick over quic-go): TLS 1.3 with ALPN `rpcx`, one QUIC connection per rpcx
 * connection and one bidirectional stream on it, opened by the client. Built on
 * @matrixai/quic (quiche). Listening requires a certificate.
 */
export function quicTransport(options: QuicTransportOptions = {}): QuicTransport {
  const settings: Settings = {
    serverTls: options.serverTls,
    clientTls: options.clientTls,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    maxIdleTimeoutMs: options.maxIdleTimeoutMs ?? 30_000,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? 0,
    udpBufferBytes: options.udpBufferBytes ?? 4 * 1024 * 1024,
    quicConfig: options.quicConfig ?? {},
    logger: options.logger ?? silentLogger,
  };
  if (settings.keepAliveIntervalMs > 0 && settings.maxIdleTimeoutMs > 0 && settings.keepAliveIntervalMs >= settings.maxIdleTimeoutMs) {
    throw new ConfigError('keepAliveIntervalMs must be below maxIdleTimeoutMs');
  }
  return {
    networks: NETWORKS,
    // async so that argument errors arrive as rejections, never as synchronous throws.
    listen: async (network, address, onConnection) => listen(settings, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, network, address, dialOptions),
  };
}

const PACKAGE = '@rpcx/transport-quic';

/** @matrixai/quic's log records, WARN and above, sent to the rpcx logger. */
class ForwardHandler extends Handler {
  constructor(private readonly target: RpcxLogger) {
    super();
  }
  override handle(record: LogRecord): void {
    const text = `rpcx transport-quic: ${record.keys}: ${record.msg ?? ''}`;
    if (record.level >= LogLevel.ERROR) this.target.error(text);
    else this.target.warn(text);
  }
  emit(): void {}
}

function quicLogger(settings: Settings): Logger {
  return new Logger('quic', LogLevel.WARN, [new ForwardHandler(settings.logger)]);
}

/**
 * UDP payload size on loopback, where the MTU is 64 KiB: every datagram costs a system call
 * and a trip through @matrixai/quic on both sides, so fewer, larger ones are much cheaper.
 * Elsewhere the library's 1350 bytes stay (quiche does no path MTU discovery here). Each side
 * sends at most what the other announces (max_udp_payload_size): quic-go announces 1452.
 */
const LOOPBACK_UDP_PAYLOAD = 16 * 1024;

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** The library's settings shared by both sides; `loopback` when every peer is on this machine. */
function baseConfig(settings: Settings, alpn: string[], loopback: boolean): Partial<QUICConfig> {
  return {
    applicationProtos: alpn,
    maxIdleTimeout: settings.maxIdleTimeoutMs,
    keepAliveIntervalTime: settings.keepAliveIntervalMs > 0 ? settings.keepAliveIntervalMs : undefined,
    // Larger reads when data queues up; each read is a promise and a copy.
    readableChunkSize: 16 * 1024,
    ...(loopback ? { maxSendUdpPayloadSize: LOOPBACK_UDP_PAYLOAD, maxRecvUdpPayloadSize: LOOPBACK_UDP_PAYLOAD } : {}),
    ...settings.quicConfig,
  };
}

/**
 * Bursts of datagrams overflow Linux's default 208 KiB receive buffer on loopback and the
 * losses throttle the congestion window (measured: 4 % of packets lost, a third of the
 * throughput). The library keeps its dgram socket in a field.
 */
function tuneSocket(socket: QUICSocket, bytes: number): void {
  if (bytes <= 0) return;
  const udp = (socket as unknown as { socket?: dgram.Socket }).socket;
  try {
    udp?.setRecvBufferSize(bytes);
    udp?.setSendBufferSize(bytes);
  } catch {
    // Not permitted here; the defaults still work.
  }
}

/**
 * The FIFO mutex @matrixai/quic puts around each received datagram (`recvLock.withF`) is a
 * general-purpose lock that builds a timer, an AbortController and an Error object on every
 * acquisition: 40 % of the CPU time of a bulk transfer. This one orders the same way with a
 * promise chain; throughput roughly doubled (see README).
 */
class SerialLock {
  #tail: Promise<unknown> = Promise.resolve();
  withF<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(noop);
    return run;
  }
}

/**
 * The library registers every connection in its socket's map before starting it: the place
 * to swap its receive lock, put in the faster send and receive paths (fast-path.ts) and, for
 * a client, to watch the handshake.
 */
function onConnectionRegistered(socket: QUICSocket, callback?: (connection: QUICConnection) => void): void {
  const map = (socket as unknown as { connectionMap?: Map<unknown, QUICConnection> }).connectionMap;
  if (!map) return;
  const set = map.set.bind(map);
  map.set = (id, connection) => {
    const internal = connection as unknown as { recvLock?: { withF?: unknown } };
    if (typeof internal.recvLock?.withF === 'function') internal.recvLock = new SerialLock();
    speedUp(connection);
    callback?.(connection);
    return set(id, connection);
  };
}

/** Like Go, a host name means one of its addresses, IPv4 first; undefined when it has none. */
async function resolveHost(host: string): Promise<string | undefined> {
  if (net.isIP(host)) return host;
  const all = await dns.lookup(host, { all: true }).catch(() => []);
  return (all.find((a) => a.family === 4) ?? all[0])?.address;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

/** The server signs its retry tokens and derived connection IDs with HMAC-SHA256. */
function serverCrypto() {
  const hmac = (key: ArrayBuffer, data: ArrayBuffer) => createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
  return {
    key: toArrayBuffer(randomBytes(32)),
    ops: {
      sign: async (key: ArrayBuffer, data: ArrayBuffer) => toArrayBuffer(hmac(key, data)),
      verify: async (key: ArrayBuffer, data: ArrayBuffer, sig: ArrayBuffer) => {
        const expected = hmac(key, data);
        const got = Buffer.from(sig);
        return got.length === expected.length && timingSafeEqual(got, expected);
      },
    },
  };
}

const clientCrypto = { ops: { randomBytes: async (data: ArrayBuffer) => void randomFillSync(new Uint8Array(data)) } };

async function hasIPv6(): Promise<boolean> {
  const probe = dgram.createSocket('udp6');
  return new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(0, '::', () => probe.close(() => resolve(true)));
  });
}

async function listen(
  settings: Settings,
  network: string,
  address: string,
  onConnection: (connection: Connection) => void,
): Promise<QuicListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const tls = settings.serverTls;
  if (!tls?.key || !tls?.cert) {
    throw new ConfigError('listen quic: the serverTls option with key and cert is required (Go: "TLSConfig must be configured in server.Options")');
  }
  const alpn = checkAlpn(tls.ALPNProtocols);
  const { host, port } = splitHostPort(address);
  // ":port" listens on every address, dual-stack where the machine has IPv6 (Go's "udp").
  const bindHost = host === '' ? ((await hasIPv6()) ? '::' : '0.0.0.0') : await resolveHost(host);
  if (bindHost === undefined) throw new ConfigError(`listen quic ${address}: lookup ${host}: no such host`);
  const logger = quicLogger(settings);
  const socket = new QUICSocket({ logger: logger.getChild('socket') });
  try {
    await socket.start({ host: bindHost, port, ipv6Only: false });
  } catch (error) {
    throw listenError('udp', address, (error as Error).cause ?? error);
  }
  tuneSocket(socket, settings.udpBufferBytes);
  // Go's client sends its first request right behind its handshake Finished, often in the
  // same datagram. @matrixai/quic looks for new streams while it receives that datagram, but
  // its connection counts as running only after start() has returned, and it resets every
  // stream it finds before that (code 0: Go reads "stream 0 canceled by remote"). So the
  // server's connections look for streams only once they are handed over: the data waits in
  // quiche meanwhile, and the first look happens right after the hand-over.
  const openStreams = new WeakMap<QUICConnection, () => void>();
  onConnectionRegistered(socket, (quic) => {
    const internal = quic as unknown as { processStreams?: () => void };
    const processStreams = internal.processStreams;
    if (typeof processStreams !== 'function') return;
    let open = false;
    internal.processStreams = function (this: unknown) {
      if (open) processStreams.call(this);
    };
    openStreams.set(quic, () => {
      open = true;
      processStreams.call(quic);
    });
  });

  const server = new QUICServer({
    crypto: serverCrypto(),
    socket,
    config: {
      ...baseConfig(settings, alpn, isLoopback(bindHost)),
      key: pemList(tls.key)!,
      cert: pemList(tls.cert)!,
      ca: pemList(tls.ca),
      verifyPeer: tls.requestCert === true,
    },
    logger: logger.getChild('server'),
  });
  await server.start();
  const localAddress = joinHostPort(socket.host, socket.port);

  // The socket stays open after close() for the connections still on it.
  const live = new AcceptedConnections<QUICConnection>(async () => {
    await server.stop({ force: true }).catch((e: unknown) => settings.logger.warn('rpcx transport-quic: stopping the server failed', e));
    await socket.stop({ force: true }).catch((e: unknown) => settings.logger.warn('rpcx transport-quic: closing the socket failed', e));
  });

  // After close() the socket stays open for the connections still on it; new clients are
  // told CONNECTION_REFUSED straight away instead of waiting for a handshake that never comes.
  const accept = (server as unknown as { acceptConnection: AcceptConnection }).acceptConnection.bind(server);
  (server as unknown as { acceptConnection: AcceptConnection }).acceptConnection = async (remoteInfo, header, dcid, data) => {
    if (!live.closing) return accept(remoteInfo, header, dcid, data);
    if (header.ty !== native.quiche.Type.Initial || !header.scid) return undefined;
    const datagram = refusalDatagram(header.version, header.dcid, header.scid, 'server closed');
    if (datagram) await socket.send_(datagram, 0, datagram.length, remoteInfo.port, remoteInfo.host).catch(noop);
    return undefined;
  };

  server.addEventListener(events.EventQUICServerConnection.name, (event: Event) => {
    const quic = (event as events.EventQUICServerConnection).detail;
    if (live.closing) {
      // Its handshake was under way when the listener closed.
      void quic.stop({ isApp: false, errorCode: CONNECTION_REFUSED, force: true }).catch(noop);
      return;
    }
    live.add(quic);
    quic.addEventListener(
      events.EventQUICConnectionStopped.name,
      () => live.delete(quic),
      { once: true },
    );
    const connection = new QuicConnection({
      network,
      remoteAddress: joinHostPort(quic.remoteHost, quic.remotePort),
      localAddress,
      closeTimeoutMs: settings.closeTimeoutMs,
      quic,
      teardown: (errorCode) => quic.stop({ isApp: true, errorCode, force: true }).catch(noop),
    });
    quic.addEventListener(events.EventQUICConnectionStream.name, (e: Event) => {
      const stream = (e as events.EventQUICConnectionStream).detail;
      if (stream.type === 'bidi') connection.attachStream(stream);
      else stream.cancel(new ConnectionError('rpcx uses one bidirectional stream'));
    });
    handOver(PACKAGE, settings.logger, onConnection, connection);
    openStreams.get(quic)?.();
  });
  server.addEventListener(events.EventQUICServerError.name, (event: Event) =>
    settings.logger.warn('rpcx transport-quic: listener error', (event as events.EventQUICServerError).detail),
  );

  return live.listener(network, localAddress);
}

type AcceptConnection = (
  remoteInfo: { host: string; port: number },
  header: { ty: number; version: number; dcid: Uint8Array; scid?: Uint8Array },
  dcid: unknown,
  data: Uint8Array,
) => Promise<unknown>;

function dial(settings: Settings, network: string, address: string, options: DialOptions): Promise<Connection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const split = splitHostPort(address);
  // Go dials the local system for an empty host.
  const host = split.host === '' ? 'localhost' : split.host;
  const port = split.port;
  const tls = settings.clientTls;
  const alpn = checkAlpn(tls?.ALPNProtocols);
  const servername = tls?.servername ?? host;
  const verify = tls !== undefined && tls.rejectUnauthorized !== false;
  const logger = quicLogger(settings);
  return dialWithDeadline(
    { network, address, connectTimeoutMs: settings.connectTimeoutMs },
    options,
    (givenUp) =>
      new Promise<Connection>((resolve, reject) => {
        let done = false;
        let probe: dgram.Socket | undefined;
        let socket: QUICSocket | undefined;
        let creating: Promise<QUICClient> | undefined;
        let verdict: VerifyResult | undefined;
        // Cancels the library's handshake when the dial gives up.
        const handshake = new AbortController();

        const finish = () => {
          done = true;
          givenUp.removeEventListener('abort', onGiveUp);
          probe?.close();
          probe = undefined;
        };
        const fail = (error: Error) => {
          if (done) return;
          finish();
          handshake.abort(error);
          // The library winds its half-made connection down (closing, then draining for three
          // probe timeouts) and must still be able to send meanwhile: a socket stopped under it
          // makes it throw an uncaught internal error. The socket is released after that.
          const s = socket;
          const c = creating;
          void (async () => {
            const client = await c?.catch(() => undefined);
            await client?.destroy({ isApp: true, errorCode: CLOSE_OK, force: true }).catch(noop);
            await s?.stop({ force: true }).catch(noop);
          })();
          reject(error);
        };
        const onGiveUp = () => fail(givenUp.reason as Error);
        givenUp.addEventListener('abort', onGiveUp, { once: true });

        const run = async () => {
          const ip = await resolveHost(host);
          if (ip === undefined) throw dialError(network, address, `lookup ${host}: no such host`);
          if (done) return;
          // A connected UDP socket learns of an ICMP "port unreachable" (nothing listens there):
          // an empty datagram, which QUIC endpoints drop, turns a dead port into "connection
          // refused" at once, as with TCP, instead of a handshake timeout. The same socket tells
          // which local address the route to the server uses.
          const udp = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
          probe = udp;
          udp.on('error', (error) => fail(dialError(network, address, udpErrorText(error), error)));
          await new Promise<void>((res) => udp.connect(port, ip, () => res()));
          if (done) return;
          const localHost = udp.address().address;
          udp.send(new Uint8Array(0));

          const quicSocket = new QUICSocket({ logger: logger.getChild('socket') });
          socket = quicSocket;
          await quicSocket.start({ host: localHost, port: 0 });
          if (done) return;
          tuneSocket(quicSocket, settings.udpBufferBytes);
          // A failed handshake is known here as soon as it happens; the library itself would
          // report it only after the connection's draining period (seconds when no RTT is known).
          onConnectionRegistered(quicSocket, (connection) =>
            connection.addEventListener(events.EventQUICConnectionError.name, (event: Event) => {
              if (!done) fail(handshakeError(address, (event as events.EventQUICConnectionError).detail, verdict));
            }),
          );
          const config: Partial<QUICConfig> = {
            ...baseConfig(settings, alpn, isLoopback(ip)),
            verifyPeer: verify,
            key: pemList(tls?.key),
            cert: pemList(tls?.cert),
          };
          if (verify) {
            const ca = pemList(tls!.ca);
            config.verifyCallback = async (certs) => {
              verdict = verifyServerChain(certs, servername, { ca, checkServerIdentity: tls!.checkServerIdentity });
              return verdict.code as never;
            };
          }
          creating = QUICClient.createQUICClient(
            { host: ip, port, serverName: servername, socket: quicSocket, crypto: clientCrypto, config, logger: logger.getChild('client') },
            { signal: handshake.signal },
          );
          const client = await creating;
          if (done) return;
          const quic = client.connection;
          // Streams the server opens are not rpcx's.
          quic.addEventListener(events.EventQUICConnectionStream.name, (e: Event) =>
            (e as events.EventQUICConnectionStream).detail.cancel(new ConnectionError('rpcx uses one client-opened stream')),
          );
          const stream: QUICStream = quic.newStream('bidi');
          const connection = new QuicConnection({
            network,
            remoteAddress: joinHostPort(ip, port),
            localAddress: joinHostPort(quicSocket.host, quicSocket.port),
            closeTimeoutMs: settings.closeTimeoutMs,
            quic,
            stream,
            teardown: async (errorCode) => {
              await client.destroy({ isApp: true, errorCode, force: true }).catch(noop);
              await quicSocket.stop({ force: true }).catch(noop);
            },
          });
          finish();
          resolve(connection);
        };
        run().catch((error: unknown) => fail(handshakeError(address, error, verdict)));
      }),
  );
}

/** A failed handshake in Go-like words. */
function handshakeError(address: string, error: unknown, verdict: VerifyResult | undefined): Error {
  if (error instanceof AbortError || error instanceof DialError) return error as Error;
  const info = (error as { data?: QuicCloseInfo }).data;
  if (error instanceof quicErrors.ErrorQUICConnectionPeer && info && !info.isApp && info.errorCode === CONNECTION_REFUSED) {
    return dialError('quic', address, 'connection refused', error);
  }
  if (error instanceof quicErrors.ErrorQUICConnectionLocalTLS) {
    return dialError('quic', address, `tls: ${verdict?.reason ?? 'certificate verification failed'}`, error);
  }
  const fromPeer = error instanceof quicErrors.ErrorQUICConnectionPeer || error instanceof quicErrors.ErrorQUICConnectionPeerTLS;
  if ((fromPeer || error instanceof quicErrors.ErrorQUICConnectionLocal) && info) {
    return dialError('quic', address, describeClose(info, fromPeer ? 'remote' : 'local'), error);
  }
  if (error instanceof Error && errnoOf(error)) return dialError('quic', address, udpErrorText(error), error);
  return dialError('quic', address, error instanceof Error ? error.message || error.constructor.name : String(error), error);
}

function noop(): void {}
