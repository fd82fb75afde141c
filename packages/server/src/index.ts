/**
 * @packageDocumentation
 * The @rpcx server. Register classes, functions or raw handlers; listen on any installed
 * transport; Go rpcx clients and `@rpcx/xclient` call it alike. Same error texts, plugin
 * hooks, auth, heartbeat, oneway, compression and server push as Go rpcx, and Go's HTTP
 * gateway and JSON-RPC 2.0 on the same TCP port.
 */
export { Server, type ServerOptions, type ShutdownOptions } from './server.js';
export type { HttpOptions } from './http/front.js';
export { allowAllCors, type CorsOptions } from './http/cors.js';
export type { HandlerContext } from './context.js';
export type { Handler, RegisterFunctionOptions, RegisterOptions, ServiceMethod } from './service.js';
export type { RequestContext } from '@rpcx/core';
