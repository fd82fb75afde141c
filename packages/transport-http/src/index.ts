/**
 * @packageDocumentation
 * HTTP CONNECT transport for `@rpcx` servers and clients: network `http`, wire-compatible with
 * Go rpcx's `Serve("http", addr)` and `http@host:port` clients. A client connects, sends
 * `CONNECT /_rpcx_ HTTP/1.0`, and after the `200 Connected to rpcx` answer the connection
 * carries the rpcx byte stream unchanged. TLS is optional on both sides.
 *
 * @module @rpcx/transport-http
 */
export {
  httpTransport,
  DEFAULT_RPC_PATH,
  type HttpTransport,
  type HttpTransportOptions,
  type HttpListener,
} from './transport.js';
