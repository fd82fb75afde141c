/**
 * @packageDocumentation
 * The `@rpcx` client. `XClient` is Go's service-governance client: discovery, selection, one
 * connection per server, fail modes, fan-out calls, breakers, plugins and interceptors.
 * `RpcClient` is a single connection to one server. Both speak to Go rpcx servers and
 * `@rpcx/server` alike.
 *
 * @module @rpcx/xclient
 */
export { XClient, type XClientOptions, type XClientEvents, type ServiceClient } from './xclient.js';
export type { Receipt } from './fan-out.js';
export type { InterceptorList } from './interceptors.js';
export { RpcClient, type CallOptions, type RpcClientConfig, type ServerMessage } from './rpc-client.js';
export { XClientPool, OneClient, OneClientPool, type OneClientOptions } from './client-pool.js';
export { Emitter, events, type EventMap } from './emitter.js';
export { peer2peer, multipleServers, type MultipleServersDiscovery } from './discovery.js';
export { FailMode, SelectMode } from '@rpcx/core';
export { selectorFor, type SelectorForOptions } from '@rpcx/selector';
