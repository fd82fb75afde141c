/**
 * @packageDocumentation
 * WebSocket transport for `@rpcx` servers and clients: networks `ws` and `wss`, wire-compatible
 * with Go rpcx's `Serve("ws" | "wss", addr)` and `ws@host:port` clients. rpcx frames travel in
 * binary messages at `/_rpcx_`; incoming messages are read as one byte stream. `wsTransport()`
 * is the Node transport (server and client, on the `ws` package); `browserWsTransport()`, also
 * at `@rpcx/transport-ws/browser`, is a client on the standard WebSocket API.
 *
 * @module @rpcx/transport-ws
 */
export {
  wsTransport,
  type WsTransport,
  type WsTransportOptions,
  type WsListener,
} from './transport.js';
export { browserWsTransport, type BrowserWsTransportOptions, type WebSocketConstructor } from './browser.js';
export { DEFAULT_RPC_PATH } from './url.js';
