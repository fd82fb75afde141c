/**
 * @packageDocumentation
 * rpcx in the browser: `connect()` gives an `XClient` over the browser's WebSocket, and
 * `gatewayCall()` calls a service through the HTTP gateway with fetch. Everything here and
 * below it (`@rpcx/xclient`, `@rpcx/protocol`, `@rpcx/core`, the WebSocket client of
 * `@rpcx/transport-ws`) bundles for the browser without Node polyfills.
 *
 * @module @rpcx/browser
 */
export { connect, parseWsUrl, type ConnectOptions } from './connect.js';
export { jsonCodec, type JsonCodecOptions } from '@rpcx/codec-json';
export { gatewayCall, type GatewayCallOptions, type GatewayReply } from './gateway.js';
export { browserWsTransport, type BrowserWsTransportOptions } from '@rpcx/transport-ws/browser';
export { XClient, RpcClient, peer2peer, type CallOptions, type ServerMessage, type XClientOptions } from '@rpcx/xclient';
export type {
  ClientAttempt,
  ClientAttemptInterceptor,
  ClientCall,
  ClientCallResult,
  ClientInterceptor,
  ClientInterceptors,
} from '@rpcx/core';
export {
  AbortError,
  CompressType,
  ConnectionError,
  FailMode,
  RpcxError,
  SerializeType,
  ServiceError,
  TimeoutError,
  UnsupportedError,
  rawCodec,
  type Codec,
  type Metadata,
} from '@rpcx/core';
