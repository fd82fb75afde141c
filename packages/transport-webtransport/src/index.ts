/**
 * @packageDocumentation
 * WebTransport transport for `@rpcx` servers and clients: network `webtransport`, one session
 * per rpcx connection with one bidirectional stream, on @fails-components/webtransport in its
 * HTTP/2 mode, certificates pinned by SHA-256 hash. Go rpcx has no WebTransport network: this
 * connects TypeScript peers.
 *
 * @module @rpcx/transport-webtransport
 */
export {
  webTransportTransport,
  certificateHash,
  type WebTransportTransport,
  type WebTransportTransportOptions,
  type WebTransportListener,
} from './transport.js';
