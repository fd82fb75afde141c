/**
 * @packageDocumentation
 * The `@rpcx` server. Register classes, functions or raw handlers; listen on any installed
 * transport; Go rpcx clients and `@rpcx/xclient` call it alike. Same error texts, plugin
 * hooks, auth, heartbeat, oneway, compression and server push as Go rpcx; interceptors around
 * every call; and a hook for protocols served on the same port (`@rpcx/server-http` plugs Go's
 * HTTP gateway and JSON-RPC 2.0 into it).
 *
 * @module @rpcx/server
 */
export { Server, type ServerOptions, type ShutdownOptions } from './server.js';
export type { AuthFunction, ErrorTextFunction } from './dispatch.js';
export type { CallOrigin, ConnectionWatcher, HandlerContext } from './context.js';
export { ConnectionWatchers } from './context.js';
export type { BufferBudget, ServerLimits } from './limits.js';
export type {
  CallDispatcher,
  ConnectionOutlet,
  ForeignConnectionSink,
  ForeignProtocol,
  ForeignProtocolHandler,
  ProtocolHost,
} from './protocol.js';
export type { Handler, RegisterFunctionOptions, RegisterOptions, ServiceMethod } from './service.js';
export type { RequestContext, ServerCall, ServerCallResult, ServerInterceptor } from '@rpcx/core';
