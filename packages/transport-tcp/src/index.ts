/**
 * @packageDocumentation
 * TCP, TLS and unix-socket transport for `@rpcx` servers and clients, wire-compatible with Go
 * rpcx's `tcp`, `tcp4`, `tcp6` and `unix` networks. `tcpTransport()` returns a `Transport`:
 * `listen` accepts connections (TLS with `serverTls`), `dial` connects (TLS with `clientTls`)
 * with a timeout and an AbortSignal. Nagle is off, keep-alive follows Go (3 min server, 1 min
 * client), and the writes of one event-loop turn leave in one system call.
 *
 * @module @rpcx/transport-tcp
 */
export {
  tcpTransport,
  type TcpTransport,
  type TcpTransportOptions,
  type TcpListener,
} from './transport.js';
export { SocketConnection, type SocketConnectionOptions } from './connection.js';
export { serveCluster, type ServeClusterOptions, type ClusterHandle, type ClusterServer } from './cluster.js';
