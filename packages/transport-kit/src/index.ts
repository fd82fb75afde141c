/**
 * @packageDocumentation
 * Building blocks for `@rpcx` transport packages: one connection life cycle for every transport
 * (`AbstractConnection`; `StreamConnection` over a web-streams bidirectional stream, as QUIC and
 * WebTransport carry rpcx), one dial helper (`dialWithDeadline`: deadline, abort, settle once),
 * Go's words for dial and listen failures, and small network helpers. No Node API here, so the
 * browser WebSocket client uses it too. The transport compliance suite is at
 * `@rpcx/transport-kit/testing`.
 *
 * @module @rpcx/transport-kit
 */
export {
  AbstractConnection,
  asError,
  coalesce,
  joinAdjacent,
  JOIN_LIMIT,
  concatBytes,
  DEFAULT_CLOSE_TIMEOUT_MS,
  EAGER_FLUSH_BYTES,
  EARLY_SEND_BYTES,
  FULL_READ_BYTES,
  type BaseConnectionOptions,
  type ConnectionState,
} from './connection.js';
export { StreamConnection, COALESCE_LIMIT, type BidiStream, type StreamConnectionOptions } from './stream-connection.js';
export { dialWithDeadline, DEFAULT_CONNECT_TIMEOUT_MS, type DialTarget } from './dial.js';
export {
  dialError,
  dialFailureText,
  dialTimeoutError,
  errnoOf,
  goErrnoText,
  goSyscall,
  listenError,
  socketErrorText,
} from './errors.js';
export { checkNetwork, checkPath, handOver, hostPort, type CountingListener } from './network.js';
export { AcceptedConnections } from './accepted.js';
