/**
 * @packageDocumentation
 * The @rpcx server. Register classes, functions or raw handlers; listen on any installed
 * transport; Go rpcx clients and `@rpcx/xclient` call it alike. Same error texts, plugin
 * hooks, auth, heartbeat, oneway, compression and server push as Go rpcx.
 */
export { Server, type ServerOptions, type ShutdownOptions } from './server.js';
export type { HandlerContext } from './context.js';
export type { Handler, RegisterFunctionOptions, RegisterOptions, ServiceMethod } from './service.js';
export type { RequestContext } from '@rpcx/core';
