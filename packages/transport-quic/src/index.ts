/**
 * @packageDocumentation
 * QUIC transport for `@rpcx` servers and clients: network `quic`, wire-compatible with Go rpcx's
 * quic transport (build tag `quic`): TLS 1.3, ALPN `rpcx`, one QUIC connection per rpcx
 * connection carrying one bidirectional stream that the client opens. On @matrixai/quic
 * (quiche, prebuilt); Node has no QUIC of its own.
 *
 * @module @rpcx/transport-quic
 */
export {
  quicTransport,
  type QuicTransport,
  type QuicTransportOptions,
  type QuicListener,
} from './transport.js';
export type { QuicServerTlsOptions, QuicClientTlsOptions } from './tls.js';
export { refusalDatagram, serverInitialKeys } from './refuse.js';
