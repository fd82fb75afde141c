import crypto from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import {
  ConfigError,
  ConnectionError,
  joinHostPort,
  silentLogger,
  splitHostPort,
  type Connection,
  type DialOptions,
  type Logger,
  type Transport,
} from '@rpcx/core';
import { checkNetwork, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialError, dialWithDeadline, errnoOf, goErrnoText, goSyscall, handOver, hostPort, listenError, type CountingListener } from '@rpcx/transport-kit';
import { KcpConnection, dataConv, opensConversation, type SessionSettings, type SessionWire } from './connection.js';
import { aesBlockCrypt, defaultBlockCrypt, type BlockCrypt } from './crypt.js';
import { CRYPT_HEADER_SIZE, FEC_HEADER_SIZE_PLUS2, MTU_LIMIT, TYPE_DATA, readU16 } from './fec.js';
import { CONTROL_RST, controlPacket, open } from './packet.js';
import { StatsSink, newStats, type KcpStats } from './stats.js';

/** Settings of each KCP conversation, the same for every listener and dial of the transport. */
export interface KcpSessionOptions {
  /**
   * Packet cipher: `aesBlockCrypt(key)`, `noneBlockCrypt()`, or your own. Default: AES-256
   * with rpcx's example key, `deriveKey()` — public, so only for compatibility.
   */
  crypt?: BlockCrypt;
  /** Shorthand for `crypt: aesBlockCrypt(key)` (16, 24 or 32 bytes). */
  key?: Uint8Array;
  /** FEC data shards per group. Default 10 (rpcx). */
  dataShards?: number;
  /** FEC parity shards per group. Default 3 (rpcx). */
  parityShards?: number;
  /** Largest datagram, headers included. Default 1400 (kcp-go). */
  mtu?: number;
  /** Send window in segments. Default 32 (kcp-go). */
  sndWnd?: number;
  /** Receive window in segments. Default 32 (kcp-go). */
  rcvWnd?: number;
  /** KCP nodelay mode (minimum RTO 30 ms instead of 100, gentler back-off). Default false. */
  noDelay?: boolean;
  /** Internal clock in ms, 10–5000. Default 100 (kcp-go). */
  interval?: number;
  /** Fast retransmit after this many later ACKs; 0 = off. Default 0 (kcp-go). */
  fastResend?: number;
  /** Turn congestion control off. Default false (kcp-go). */
  noCongestionWindow?: boolean;
  /** Pack writes into full segments (kcp-go `SetStreamMode(true)`, as rpcx's examples). Default true. */
  streamMode?: boolean;
  /**
   * Acknowledge received data without waiting for the KCP clock (kcp-go `SetACKNoDelay(true)`, as
   * rpcx's examples): with the reply when the handler answers in the same turn, else on their own
   * right after. `false`: at the next tick (`interval`). Default true.
   */
  ackNoDelay?: boolean;
  /** How long `close()` waits for the peer to acknowledge what was sent. Default 5000. */
  closeTimeoutMs?: number;
  /** Close a conversation that received nothing for this long; 0 = never (kcp-go). Default 0. */
  idleTimeoutMs?: number;
  /**
   * For tests: drop this fraction of outgoing datagrams (0..1), or those for which the
   * function returns true. Default 0.
   */
  simulatedLoss?: number | ((datagram: Uint8Array) => boolean);
}

export interface KcpTransportOptions extends KcpSessionOptions {
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Default 1000 (Go `ConnectTimeout`). */
  connectTimeoutMs?: number;
  /** SO_RCVBUF and SO_SNDBUF for every socket, in bytes (the kernel caps them). Default: the kernel's. */
  socketBufferBytes?: number;
  /** Socket errors of listeners (`warn`). Default: silent. */
  logger?: Logger;
}

/** Its `drained` settles once `close()` was called and every accepted conversation has ended (the socket is then closed). */
export type KcpListener = CountingListener;

export interface KcpTransport extends Transport<KcpListener, KcpConnection> {
  /** Counters summed over every conversation of this transport (kcp-go `DefaultSnmp`). */
  readonly stats: Readonly<KcpStats>;
}

const NETWORKS = ['kcp'] as const;
/** How often a dial repeats its window probe until the listener answers. */
const DIAL_PROBE_MS = 150;
/** How long a listener remembers a finished conversation, to answer its stragglers. */
const RECENT_MS = 60_000;

interface TransportSettings {
  connectTimeoutMs: number;
  socketBufferBytes: number | undefined;
  logger: Logger;
  session: SessionSettings;
}

const PACKAGE = '@rpcx/transport-kcp';

function resolveSession(o: KcpSessionOptions): SessionSettings {
  // One cipher for every conversation of the transport.
  const crypt = o.crypt ?? (o.key ? aesBlockCrypt(o.key) : defaultBlockCrypt());
  const s: SessionSettings = {
    crypt,
    dataShards: o.dataShards ?? 10,
    parityShards: o.parityShards ?? 3,
    mtu: o.mtu ?? 1400,
    reserved: CRYPT_HEADER_SIZE + FEC_HEADER_SIZE_PLUS2,
    sndWnd: o.sndWnd ?? 32,
    rcvWnd: o.rcvWnd ?? 32,
    noDelay: o.noDelay ?? false,
    interval: o.interval ?? 100,
    fastResend: o.fastResend ?? 0,
    noCongestionWindow: o.noCongestionWindow ?? false,
    stream: o.streamMode ?? true,
    ackNoDelay: o.ackNoDelay ?? true,
    closeTimeoutMs: o.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    idleTimeoutMs: o.idleTimeoutMs ?? 0,
    simulatedLoss: o.simulatedLoss ?? 0,
  };
  const positive = (name: string, v: number, max = Infinity) => {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`kcp: ${name} must be an integer from 1 to ${max}, not ${v}`);
  };
  positive('dataShards', s.dataShards, 31);
  positive('parityShards', s.parityShards, 32 - s.dataShards);
  positive('sndWnd', s.sndWnd, 65535);
  positive('rcvWnd', s.rcvWnd, 65535);
  positive('interval', s.interval, 5000);
  if (!Number.isInteger(s.mtu) || s.mtu < s.reserved + 50 || s.mtu > MTU_LIMIT) {
    throw new ConfigError(`kcp: mtu must be an integer from ${s.reserved + 50} to ${MTU_LIMIT}, not ${s.mtu}`);
  }
  if (typeof s.simulatedLoss === 'number' && !(s.simulatedLoss >= 0 && s.simulatedLoss < 1)) {
    throw new ConfigError(`kcp: simulatedLoss must be in [0, 1), not ${s.simulatedLoss}`);
  }
  return s;
}

/**
 * KCP transport, network `kcp`, as Go rpcx's (`Serve("kcp", addr)` with kcp-go, FEC 10+3 and
 * a block cipher): KCP over UDP with kcp-go's FEC and packet encryption, in TypeScript.
 */
export function kcpTransport(options: KcpTransportOptions = {}): KcpTransport {
  const { connectTimeoutMs, socketBufferBytes, logger, ...session } = options;
  const settings: TransportSettings = {
    connectTimeoutMs: connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    socketBufferBytes,
    logger: logger ?? silentLogger,
    // Bad options fail here rather than at the first connection.
    session: resolveSession(session),
  };
  const totals = newStats();
  return {
    networks: NETWORKS,
    stats: totals,
    listen: async (network, address, onConnection) => listen(settings, totals, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, totals, network, address, dialOptions),
  };
}

async function resolveHost(host: string, address: string, op: 'dial' | 'listen'): Promise<{ ip: string; family: 4 | 6 }> {
  const literal = net.isIP(host);
  if (literal !== 0) return { ip: host, family: literal as 4 | 6 };
  let all: { address: string; family: number }[];
  try {
    all = await dns.lookup(host, { all: true });
  } catch (error) {
    if (op === 'dial') throw dialError('kcp', address, `lookup ${host}: no such host`, error);
    throw new ConfigError(`listen kcp ${address}: lookup ${host}: no such host`, { cause: error });
  }
  // Like Go, a host name means one of its addresses, IPv4 first.
  const pick = all.find((a) => a.family === 4) ?? all[0];
  if (!pick) throw new ConfigError(`${op} kcp ${address}: no suitable address found`);
  return { ip: pick.address, family: pick.family as 4 | 6 };
}

function setBuffers(socket: dgram.Socket, bytes: number | undefined): void {
  if (!bytes) return;
  try {
    socket.setRecvBufferSize(bytes);
    socket.setSendBufferSize(bytes);
  } catch {
    // Best effort: the kernel may refuse; its defaults still work.
  }
}

function bind(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

async function listen(
  settings: TransportSettings,
  totals: KcpStats,
  network: string,
  address: string,
  onConnection: (connection: Connection) => void,
): Promise<KcpListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const session = settings.session;
  const { host, port } = splitHostPort(address);
  let socket: dgram.Socket;
  if (host === '') {
    // Go listens on all addresses, IPv4 and IPv6, for an empty host.
    socket = dgram.createSocket({ type: 'udp6', ipv6Only: false });
    try {
      await bind(socket, port, '::');
    } catch {
      socket.close();
      socket = dgram.createSocket('udp4');
      await bind(socket, port, '0.0.0.0').catch((error: Error) => {
        socket.close();
        throw listenError('kcp', address, error);
      });
    }
  } else {
    const { ip, family } = await resolveHost(host, address, 'listen');
    socket = dgram.createSocket(family === 6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    await bind(socket, port, ip).catch((error: Error) => {
      socket.close();
      throw listenError('kcp', address, error);
    });
  }
  setBuffers(socket, settings.socketBufferBytes);
  const bound = socket.address();
  const localAddress = joinHostPort(bound.address, bound.port);
  return new KcpListenerImpl(socket, localAddress, session, totals, settings.logger, onConnection);
}

interface Recent {
  conv: number;
  kind: number;
  expires: number;
}

class KcpListenerImpl implements KcpListener {
  readonly network = 'kcp';
  readonly address: string;
  readonly drained: Promise<void>;
  readonly #socket: dgram.Socket;
  readonly #settings: SessionSettings;
  readonly #totals: KcpStats;
  /** Counts what belongs to no conversation (bad checksums, strangers). */
  readonly #orphanStats: StatsSink;
  readonly #logger: Logger;
  readonly #onConnection: (connection: Connection) => void;
  readonly #sessions = new Map<string, KcpConnection>();
  readonly #recent = new Map<string, Recent>();
  #accepting = true;
  #socketClosed = false;
  #drainedResolve!: () => void;

  constructor(
    socket: dgram.Socket,
    address: string,
    settings: SessionSettings,
    totals: KcpStats,
    logger: Logger,
    onConnection: (connection: Connection) => void,
  ) {
    this.#socket = socket;
    this.address = address;
    this.#settings = settings;
    this.#totals = totals;
    this.#orphanStats = new StatsSink(totals);
    this.#logger = logger;
    this.#onConnection = onConnection;
    this.drained = new Promise<void>((resolve) => (this.#drainedResolve = resolve));
    socket.on('message', this.#onMessage);
    socket.on('error', (error: Error) => this.#logger.warn('rpcx transport-kcp: listener socket error', error));
    socket.on('close', () => {
      this.#socketClosed = true;
      this.#drainedResolve();
    });
  }

  async connectionCount(): Promise<number> {
    return this.#sessions.size;
  }

  close(): Promise<void> {
    // Accepted conversations share this socket: it stays open until the last one ends.
    this.#accepting = false;
    this.#closeSocketIfDone();
    return Promise.resolve();
  }

  #closeSocketIfDone(): void {
    if (this.#accepting || this.#sessions.size > 0 || this.#socketClosed) return;
    this.#socketClosed = true;
    // After this turn, so the last conversation's FIN or RST is on its way.
    setImmediate(() => this.#socket.close());
  }

  #reply(kind: number, conv: number, rinfo: dgram.RemoteInfo): void {
    if (this.#socketClosed) return;
    const datagram = controlPacket(kind, conv, this.#settings.crypt);
    this.#orphanStats.add('outPkts');
    this.#orphanStats.add('outBytes', datagram.length);
    this.#socket.send(datagram, rinfo.port, rinfo.address);
  }

  readonly #onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const body = open(msg, this.#settings.crypt);
    if (!body) {
      this.#orphanStats.add('inCsumErrors');
      return;
    }
    if (body.length < 6) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    const existing = this.#sessions.get(key);
    if (readU16(body, 4) !== TYPE_DATA) {
      // Parity and control datagrams carry no conversation id of their own to open one with.
      if (existing) existing.receive(body, msg.length);
      return;
    }
    const conv = dataConv(body);
    if (conv === undefined) return;
    if (existing) {
      if (existing.conv === conv) {
        existing.receive(body, msg.length);
        return;
      }
      // kcp-go: a new conversation from the same address replaces the old one.
      if (!this.#accepting || !opensConversation(body, this.#settings.rcvWnd)) return;
      existing.destroy(new ConnectionError(`kcp: conversation replaced by a new one from ${existing.remoteAddress}`));
    } else {
      const recent = this.#recent.get(key);
      if (recent && recent.conv === conv && recent.expires > Date.now()) {
        // A straggler of a finished conversation: repeat how it ended.
        this.#reply(recent.kind, conv, rinfo);
        return;
      }
      if (!this.#accepting || !opensConversation(body, this.#settings.rcvWnd)) {
        this.#reply(CONTROL_RST, conv, rinfo);
        return;
      }
    }
    this.#accept(key, conv, body, msg.length, rinfo);
  };

  #accept(key: string, conv: number, body: Uint8Array, wireBytes: number, rinfo: dgram.RemoteInfo): void {
    const socket = this.#socket;
    const port = rinfo.port;
    const host = rinfo.address;
    const wire: SessionWire = {
      send: (datagram) => {
        if (!this.#socketClosed) socket.send(datagram, port, host);
      },
      release: (connection, sent) => {
        if (this.#sessions.get(key) === connection) this.#sessions.delete(key);
        if (this.#recent.size > 4096) this.#pruneRecent();
        this.#recent.set(key, { conv: connection.conv, kind: sent ?? CONTROL_RST, expires: Date.now() + RECENT_MS });
        this.#closeSocketIfDone();
      },
    };
    const connection = new KcpConnection({
      conv,
      settings: this.#settings,
      wire,
      stats: this.#totals,
      remoteAddress: hostPort(host, port),
      localAddress: this.address,
    });
    this.#sessions.set(key, connection);
    if (handOver(PACKAGE, this.#logger, this.#onConnection, connection)) connection.receive(body, wireBytes);
  }

  #pruneRecent(): void {
    const now = Date.now();
    for (const [key, recent] of this.#recent) if (recent.expires <= now) this.#recent.delete(key);
    // Still too many: forget the oldest.
    for (const key of this.#recent.keys()) {
      if (this.#recent.size <= 2048) break;
      this.#recent.delete(key);
    }
  }
}

/** An open conversation's socket failed: `read kcp 127.0.0.1:5000->127.0.0.1:8972: connection refused`. */
function socketError(connection: KcpConnection, error: Error): ConnectionError {
  const text = goErrnoText(errnoOf(error)) ?? error.message;
  return new ConnectionError(`${goSyscall(error) ?? 'read'} kcp ${connection.localAddress}->${connection.remoteAddress}: ${text}`, { cause: error });
}

function dial(settings: TransportSettings, totals: KcpStats, network: string, address: string, options: DialOptions): Promise<KcpConnection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const session = settings.session;
  return dialWithDeadline({ network, address, connectTimeoutMs: settings.connectTimeoutMs }, options, async (givenUp) => {
    const { host, port } = splitHostPort(address);
    // Go dials the local system for an empty host.
    const { ip, family } = await resolveHost(host === '' ? 'localhost' : host, address, 'dial');
    if (givenUp.aborted) throw givenUp.reason;
    return new Promise<KcpConnection>((resolve, reject) => {
      const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      let connection: KcpConnection | undefined;
      let settled = false;
      let socketClosed = false;
      const orphanStats = new StatsSink(totals);

      const closeSocket = () => {
        if (socketClosed) return;
        socketClosed = true;
        // After this turn, so a last FIN or RST is on its way.
        setImmediate(() => socket.close());
      };
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        givenUp.removeEventListener('abort', onGiveUp);
        if (error) {
          if (connection && !connection.closed) connection.abandon();
          closeSocket();
          reject(error);
        } else {
          resolve(connection!);
        }
      };
      const onGiveUp = () => finish(givenUp.reason as Error);
      givenUp.addEventListener('abort', onGiveUp, { once: true });

      socket.on('error', (error: Error) => {
        if (!settled) finish(dialError(network, address, error));
        else connection?.socketFailed(socketError(connection, error));
      });
      socket.on('message', (msg: Buffer) => {
        const body = open(msg, session.crypt);
        if (!body) {
          orphanStats.add('inCsumErrors');
          return;
        }
        connection?.receive(body, msg.length);
      });
      socket.connect(port, ip, () => {
        if (settled) {
          closeSocket();
          return;
        }
        setBuffers(socket, settings.socketBufferBytes);
        const local = socket.address();
        const wire: SessionWire = {
          send: (datagram) => {
            if (!socketClosed) socket.send(datagram);
          },
          release: () => closeSocket(),
        };
        connection = new KcpConnection({
          conv: crypto.randomBytes(4).readUInt32LE(0),
          settings: session,
          wire,
          stats: totals,
          remoteAddress: joinHostPort(ip, port),
          localAddress: hostPort(local.address, local.port),
        });
        connection.startDial((error) => finish(error ? dialError(network, address, 'connection refused', error) : undefined), DIAL_PROBE_MS);
      });
    });
  });
}
