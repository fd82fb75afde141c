import { ConfigError, UnsupportedError, joinHostPort, type Connection, type Listener, type Logger } from '@rpcx/core';

/**
 * A listener that knows its accepted connections: how many are open, and when the last is
 * gone after `close()` (what a graceful shutdown waits for).
 */
export interface CountingListener extends Listener {
  /** Accepted connections still open (those still in a handshake included). */
  connectionCount(): Promise<number>;
  /** Settles once `close()` was called and every accepted connection has closed. */
  readonly drained: Promise<void>;
}

/** Throws an `UnsupportedError` unless `network` is one of `networks` (e.g. `dial('udp', …)` on tcp). */
export function checkNetwork(packageName: string, networks: readonly string[], network: string): void {
  if (!networks.includes(network)) {
    throw new UnsupportedError(`${packageName} does not serve network ${JSON.stringify(network)}`);
  }
}

const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * `host:port` of a socket end, as Go shows it: an IPv4 peer of a dual-stack socket
 * (`::ffff:1.2.3.4`) as `1.2.3.4`. '' when the socket no longer knows.
 */
export function hostPort(host: string | undefined, port: number | undefined): string {
  if (host === undefined || port === undefined) return '';
  return joinHostPort(V4_MAPPED.exec(host)?.[1] ?? host, port);
}

/** A path that goes into a URL or request line as it is: one token starting with `/`. */
export function checkPath(option: string, path: string): string {
  if (!/^\/\S*$/.test(path)) {
    throw new ConfigError(`${option} must start with "/" and contain no white space: ${JSON.stringify(path)}`);
  }
  return path;
}

/**
 * Gives an accepted connection to its owner. An owner that throws does not take the listener
 * down with it: the error is logged (`<packageName>: onConnection threw`) and the connection
 * destroyed with it. Returns whether the owner took the connection.
 */
export function handOver(packageName: string, logger: Logger, onConnection: (connection: Connection) => void, connection: Connection): boolean {
  try {
    onConnection(connection);
    return true;
  } catch (error) {
    logger.error(`${packageName}: onConnection threw`, error);
    connection.destroy(error instanceof Error ? error : undefined);
    return false;
  }
}
