import dns from 'node:dns/promises';
import fs from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
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
import { checkNetwork, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialError, dialWithDeadline, handOver, hostPort, listenError, type CountingListener } from '@rpcx/transport-kit';
import { SocketConnection } from './connection.js';

export interface TcpTransportOptions {
  /**
   * Serve TLS on every listener, with these Node `tls.createServer` options (key, cert, …), as
   * Go's server with a TLS config does. Default: none (plain TCP).
   */
  serverTls?: tls.TlsOptions;
  /** Dial TLS with these Node `tls.connect` options (ca, servername, …). Default: none (plain TCP). */
  clientTls?: tls.ConnectionOptions;
  /** TCP keep-alive idle time of accepted connections, in ms; 0 turns it off. Default 180 000 (Go server: 3 min). */
  serverKeepAliveMs?: number;
  /** TCP keep-alive idle time of dialled connections, in ms; 0 turns it off. Default 60 000 (Go client: 1 min). */
  clientKeepAliveMs?: number;
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Default 1000 (Go `ConnectTimeout`). */
  connectTimeoutMs?: number;
  /** How long `Connection.close()` waits for the peer to close its side before destroying. Default 5000. */
  closeTimeoutMs?: number;
  /** Length of the accept queue. Default: Node's (511). */
  backlog?: number;
  /** SO_REUSEPORT on tcp listeners: needs Node >= 22.12 or >= 23.1; listening throws a ConfigError on older versions. Default false. */
  reusePort?: boolean;
  /** Remove a unix socket file left by a dead process when listening on it. Default true. */
  unlinkStaleSocket?: boolean;
  /** Where accept and TLS handshake failures are reported. Default: silent. */
  logger?: Logger;
}

/** A listener that also tells how many of its accepted connections are still open. */
export interface TcpListener extends CountingListener {
  /** The Node server underneath. */
  readonly server: net.Server;
}

export type TcpTransport = Transport<TcpListener>;

const NETWORKS = ['tcp', 'tcp4', 'tcp6', 'unix'] as const;

/**
 * TCP, TLS and unix-socket transport: `tcp`, `tcp4`, `tcp6` and `unix`, as Go rpcx's
 * `net.Listen` / `net.DialTimeout` (or `tls.Listen` / `tls.DialWithDialer` with a TLS config).
 */
export function tcpTransport(options: TcpTransportOptions = {}): TcpTransport {
  const settings: Settings = {
    serverTls: options.serverTls,
    clientTls: options.clientTls,
    serverKeepAliveMs: options.serverKeepAliveMs ?? 180_000,
    clientKeepAliveMs: options.clientKeepAliveMs ?? 60_000,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    backlog: options.backlog,
    reusePort: options.reusePort ?? false,
    unlinkStaleSocket: options.unlinkStaleSocket ?? true,
    logger: options.logger ?? silentLogger,
  };
  return {
    networks: NETWORKS,
    // async so that argument errors arrive as rejections, never as synchronous throws.
    listen: async (network, address, onConnection) => listen(settings, network, address, onConnection),
    dial: async (network, address, dialOptions = {}) => dial(settings, network, address, dialOptions),
  };
}

type Settings = Required<Omit<TcpTransportOptions, 'serverTls' | 'clientTls' | 'backlog'>> &
  Pick<TcpTransportOptions, 'serverTls' | 'clientTls' | 'backlog'>;

const PACKAGE = '@rpcx/transport-tcp';

/**
 * Linux abstract sockets are written `@name`, as Go does; Node wants a leading NUL. An
 * unnamed unix socket (every dialling end) reads as `@`, which is also what Go reports.
 */
function unixPath(address: string): string {
  return process.platform === 'linux' && address.startsWith('@') ? '\0' + address.slice(1) : address;
}

/** Resolve the host to listen on, restricted to the family of tcp4 / tcp6. */
async function listenHost(network: string, address: string, host: string): Promise<string | undefined> {
  const family = network === 'tcp4' ? 4 : network === 'tcp6' ? 6 : 0;
  if (host === '') return family === 4 ? '0.0.0.0' : family === 6 ? '::' : undefined;
  const literal = net.isIP(host);
  if (literal !== 0) {
    if (family !== 0 && literal !== family) {
      throw new ConfigError(`listen ${network} ${address}: address ${host}: non-IPv${family} address`);
    }
    return host;
  }
  // Like Go, a host name means one of its addresses, IPv4 first for plain tcp.
  const all = await dns.lookup(host, { all: true, family });
  const pick = all.find((a) => a.family === 4) ?? all[0];
  if (!pick) throw new ConfigError(`listen ${network} ${address}: no suitable address found`);
  return pick.address;
}

/** `reusePort` on net.Server arrived in Node 22.12 and 23.1. */
function reusePortSupported(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

async function listen(
  settings: Settings,
  network: string,
  address: string,
  onConnection: (connection: Connection) => void,
): Promise<TcpListener> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const unix = network === 'unix';
  if (settings.reusePort) {
    if (unix) throw new ConfigError('reusePort applies to tcp listeners only');
    if (!reusePortSupported()) {
      throw new ConfigError(
        `reusePort needs Node.js >= 22.12 or >= 23.1 (this is ${process.version}); ` +
          'to serve one port from several processes, use the node:cluster module instead',
      );
    }
  }
  let listenOptions: net.ListenOptions & { reusePort?: boolean };
  if (unix) {
    if (address === '') throw new ConfigError('listen unix: empty socket path');
    listenOptions = { path: unixPath(address), backlog: settings.backlog };
  } else {
    const { host, port } = splitHostPort(address);
    listenOptions = {
      host: await listenHost(network, address, host),
      port,
      backlog: settings.backlog,
      ipv6Only: network === 'tcp6',
    };
    if (settings.reusePort) listenOptions.reusePort = true;
  }

  const keepAliveMs = settings.serverKeepAliveMs;
  // Nagle off and keep-alive on are set by Node on every accepted socket from these.
  const serverOptions: net.ServerOpts = {
    noDelay: true,
    keepAlive: keepAliveMs > 0,
    keepAliveInitialDelay: keepAliveMs,
  };
  const secure = settings.serverTls !== undefined;
  const server = secure ? tls.createServer({ ...settings.serverTls, ...serverOptions }) : net.createServer(serverOptions);

  let localAddress = address;
  const accept = (socket: net.Socket) => {
    const connection = new SocketConnection(socket, {
      network,
      remoteAddress: unix ? '@' : hostPort(socket.remoteAddress, socket.remotePort),
      localAddress: unix ? localAddress : hostPort(socket.localAddress, socket.localPort),
      closeTimeoutMs: settings.closeTimeoutMs,
      // Replies go out at the end of the event-loop turn, after every connection that is ready
      // has been read (a connection with 8 KiB of replies queued, or read again, sends at once;
      // the first 2 KiB after a small read leave at once anyway: transport-kit's EARLY_SEND_BYTES).
      // Go client, 100 connections × 1 call in flight, 7-round interleaved A/B on 2 shared
      // cores: 22.3k → 29.1k calls/s; one connection with 1, 16 or 256 calls in flight unchanged.
      flush: 'turn',
    });
    handOver(PACKAGE, settings.logger, onConnection, connection);
  };

  // Sockets still in the TLS handshake have no owner yet: the listener closes them itself.
  const handshaking = new Set<net.Socket>();
  if (secure) {
    server.on('connection', (raw: net.Socket) => {
      handshaking.add(raw);
      raw.once('close', () => handshaking.delete(raw));
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      // `_parent` is the raw socket the TLS socket wraps (a Node internal, checked on Node 20);
      // without it nothing is tracked, so an owned socket is never destroyed by mistake.
      const raw = (socket as unknown as { _parent?: net.Socket })._parent;
      if (raw) handshaking.delete(raw);
      else handshaking.clear();
      accept(socket);
    });
    server.on('tlsClientError', (error: Error) => settings.logger.debug('rpcx transport-tcp: TLS handshake failed', error));
  } else {
    server.on('connection', accept);
  }
  // Accept failures (EMFILE, …) are reported here; without a listener they would crash.
  server.on('error', (error: Error) => settings.logger.warn('rpcx transport-tcp: listener error', error));

  try {
    await bind(server, listenOptions);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (!(unix && e.code === 'EADDRINUSE' && settings.unlinkStaleSocket && (await removeStaleSocket(listenOptions.path!)))) {
      throw listenError(network, address, e);
    }
    try {
      await bind(server, listenOptions);
    } catch (again) {
      throw listenError(network, address, again as Error);
    }
  }

  if (!unix) {
    const bound = server.address() as net.AddressInfo;
    localAddress = joinHostPort(bound.address, bound.port);
  }
  const drained = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    network,
    address: localAddress,
    server,
    drained,
    close: () => {
      if (server.listening) {
        server.close();
        for (const raw of handshaking) raw.destroy();
      }
      return Promise.resolve();
    },
    connectionCount: () =>
      new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
  };
}

function bind(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

/**
 * A unix socket file nobody accepts on is left over from a process that died; Go's
 * listener would fail on it. Remove it only when it is a socket and a connect is refused,
 * so a live server's socket is never taken away.
 */
async function removeStaleSocket(path: string): Promise<boolean> {
  if (path.startsWith('\0')) return false;
  const stat = await fs.lstat(path).catch(() => undefined);
  if (!stat?.isSocket()) return false;
  const refused = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
  if (!refused) return false;
  await fs.unlink(path).catch(() => {});
  return true;
}

function dial(settings: Settings, network: string, address: string, options: DialOptions): Promise<Connection> {
  checkNetwork(PACKAGE, NETWORKS, network);
  const unix = network === 'unix';
  let host: string | undefined;
  let connectOptions: net.NetConnectOpts;
  const keepAliveMs = settings.clientKeepAliveMs;
  if (unix) {
    connectOptions = { path: unixPath(address) };
  } else {
    const split = splitHostPort(address);
    // Go dials the local system for an empty host.
    host = split.host === '' ? 'localhost' : split.host;
    const family = network === 'tcp4' ? 4 : network === 'tcp6' ? 6 : 0;
    const literal = net.isIP(host);
    if (family !== 0 && literal !== 0 && literal !== family) {
      throw new ConfigError(`dial ${network} ${address}: address ${host}: no suitable address found`);
    }
    connectOptions = {
      host,
      port: split.port,
      family,
      noDelay: true,
      keepAlive: keepAliveMs > 0,
      keepAliveInitialDelay: keepAliveMs,
    };
  }
  const tlsOptions = settings.clientTls;
  // Go's ConnectTimeout covers the TCP connect and, with TLS, the handshake as well.
  return dialWithDeadline(
    { network, address, connectTimeoutMs: settings.connectTimeoutMs },
    options,
    (givenUp) =>
      new Promise<Connection>((resolve, reject) => {
        let secureSocket: tls.TLSSocket | undefined;
        const raw = net.connect(connectOptions);
        const drop = () => {
          // Late errors from the dropped sockets must still find a listener.
          raw.on('error', noop);
          secureSocket?.on('error', noop);
          secureSocket?.destroy();
          raw.destroy();
        };
        const onError = (error: Error) => {
          givenUp.removeEventListener('abort', drop);
          drop();
          reject(dialError(network, address, error));
        };
        const succeed = (socket: net.Socket) => {
          givenUp.removeEventListener('abort', drop);
          // With TLS the raw socket's handle now belongs to the TLS socket, which reports its
          // failures; a stray error on the husk must not be unhandled.
          if (socket !== raw) raw.on('error', noop);
          // The connection attaches its own 'error' listener before ours comes off.
          const connection = new SocketConnection(socket, {
            network,
            remoteAddress: unix ? address : hostPort(socket.remoteAddress, socket.remotePort),
            localAddress: unix ? '@' : hostPort(socket.localAddress, socket.localPort),
            closeTimeoutMs: settings.closeTimeoutMs,
          });
          raw.off('error', onError);
          secureSocket?.off('error', onError);
          resolve(connection);
        };
        givenUp.addEventListener('abort', drop, { once: true });
        raw.on('error', onError);
        raw.once('connect', () => {
          if (givenUp.aborted) return;
          if (!tlsOptions) {
            succeed(raw);
            return;
          }
          // Node refuses an IP address as SNI name (RFC 6066); the certificate is still checked
          // against `host`, as Go checks it against the dialled host.
          const servername = tlsOptions.servername ?? (host && net.isIP(host) === 0 ? host : undefined);
          secureSocket = tls.connect({ ...tlsOptions, socket: raw, host, servername });
          secureSocket.on('error', onError);
          secureSocket.once('secureConnect', () => succeed(secureSocket!));
        });
      }),
  );
}

function noop(): void {}
